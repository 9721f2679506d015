#!/usr/bin/env python3
"""k3gpu MNIST / Fashion-MNIST trainer.

Trains a small CNN on the IDX files of MNIST or Fashion-MNIST (gzip or not) and
reports progress as JSON lines on stdout, one per epoch and a final one:

  {"event":"start","framework":"torch","device":"cuda:0 (NVIDIA H200)",...}
  {"event":"epoch","epoch":1,"epochs":5,"loss":0.52,"accuracy":0.81,"samplesPerSecond":41000.0,...}
  {"event":"done","testAccuracy":0.91,"durationSeconds":12.3,"framework":"torch","device":...}
  {"event":"error","message":"..."}          (then a non-zero exit)

Human-readable text goes to stderr (TensorFlow's own log lines, such as
"Adding visible gpu devices: 0", go there too).

Frameworks (--framework auto picks the first importable one in this order):
  tensorflow  Keras (tf.keras, TensorFlow 2), as the seed's example-mnist-training does;
  torch       PyTorch, on CUDA when available;
  numpy       no framework at all, CPU only (a lab node runs real training):
              conv 3x3 (8 filters, im2col) -> ReLU -> 2x2 max-pool -> dense 10,
              softmax cross-entropy, Adam; float32.
The torch and tensorflow models are the same CNN:
  conv 3x3x32 (same padding) -> batch-norm -> ReLU -> 2x2 max-pool -> conv 3x3x64 -> batch-norm -> ReLU ->
  2x2 max-pool -> dense 128 -> ReLU -> dropout 0.25 -> dense 10; Adam (lr 1e-3), batch 128.

Distributed (WORLD_SIZE > 1 in the environment, as torchrun sets it): PyTorch only,
DistributedDataParallel over --backend (gloo, or nccl where every worker has it), a
DistributedSampler gives each rank its shard of the training images, --batch-size
stays the global batch (each rank takes batch-size / N images a step, so N ranks take
the steps one process would), gradients are all-reduced (averaged) after every step, the test
accuracy is counted over the whole test set (each rank a shard, all-reduced), and
rank 0 writes the "done" line with the world size, backend, samples/s overall and
per rank, and the time per step spent waiting for the all-reduce. Every line then
carries "rank" and "node" (K3GPU_NODE, else the hostname). BatchNorm statistics
stay per rank, as DDP keeps them without SyncBatchNorm.

Data: --data-dir (the four IDX files, or a sub-folder named after the dataset),
else /usr/share/datasets/<dataset> (Debian's dataset-fashion-mnist), else the
framework's downloader (keras.datasets, torchvision), else a plain HTTPS download.
Runs on Python 3.6+.
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
MIRRORS = {
    "mnist": "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}


class TrainError(Exception):
    pass


def log(msg):
    prefix = "mnist-train[%d@%s]: " % (DIST["rank"], DIST["node"]) if DIST else "mnist-train: "
    sys.stderr.write(prefix + msg + "\n")
    sys.stderr.flush()


def finite(obj):
    """NaN and infinities as null: the JSON lines stay strict JSON."""
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    return obj


DIST = {}  # rank, node, worldSize when distributed: added to every JSON line


def emit(obj):
    if DIST:
        obj = dict(obj)
        obj["rank"] = DIST["rank"]
        obj["node"] = DIST["node"]
    sys.stdout.write(json.dumps(finite(obj), separators=(",", ":")) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------- data

def read_idx(path):
    """An IDX file (gzip or not) as a numpy uint8 array."""
    import numpy as np
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise TrainError("%s: not an IDX file" % path)
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise TrainError("%s: not an unsigned-byte IDX file (magic %02x%02x)" % (path, dtype, ndim))
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    count = 1
    for d in dims:
        count *= d
    body = data[4 + 4 * ndim:]
    if len(body) != count:
        raise TrainError("%s: expected %d bytes of data, found %d" % (path, count, len(body)))
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def find_idx_dir(base, dataset):
    if not base:
        return None
    for d in (base, os.path.join(base, dataset), os.path.join(base, dataset.replace("-", "_"))):
        if all(idx_path(d, name) for name in FILES.values()):
            return d
    return None


def idx_path(directory, name):
    for candidate in (name, name + ".gz", name.replace("-idx", ".idx"), name.replace("-idx", ".idx") + ".gz"):
        p = os.path.join(directory, candidate)
        if os.path.isfile(p):
            return p
    return None


def load_from_dir(directory):
    arrays = {key: read_idx(idx_path(directory, name)) for key, name in FILES.items()}
    return arrays["train_images"], arrays["train_labels"], arrays["test_images"], arrays["test_labels"]


def download(dataset, framework):
    """The framework's own downloader, else the dataset's public mirror."""
    import numpy as np
    if framework == "tensorflow":
        from tensorflow import keras
        mod = keras.datasets.fashion_mnist if dataset == "fashion-mnist" else keras.datasets.mnist
        (xtr, ytr), (xte, yte) = mod.load_data()
        return np.asarray(xtr), np.asarray(ytr), np.asarray(xte), np.asarray(yte), "keras.datasets"
    root = os.path.join(os.path.expanduser("~"), ".cache", "k3gpu", dataset)
    if framework == "torch":
        try:
            import torchvision
            cls = torchvision.datasets.FashionMNIST if dataset == "fashion-mnist" else torchvision.datasets.MNIST
            tr = cls(root, train=True, download=True)
            te = cls(root, train=False, download=True)
            return (tr.data.numpy(), tr.targets.numpy(), te.data.numpy(), te.targets.numpy(),
                    "torchvision.datasets")
        except ImportError:
            pass
    try:
        from urllib.request import urlopen
    except ImportError:  # pragma: no cover
        raise TrainError("no data directory and no downloader")
    if not os.path.isdir(root):
        os.makedirs(root)
    for name in FILES.values():
        target = os.path.join(root, name + ".gz")
        if not os.path.isfile(target):
            url = MIRRORS[dataset] + name + ".gz"
            log("downloading %s" % url)
            with urlopen(url, timeout=60) as r, open(target + ".part", "wb") as f:
                f.write(r.read())
            os.rename(target + ".part", target)
    xtr, ytr, xte, yte = load_from_dir(root)
    return xtr, ytr, xte, yte, MIRRORS[dataset]


def load_data(args, framework):
    for base in (args.data_dir, os.path.join("/usr/share/datasets", args.dataset)):
        d = find_idx_dir(base, args.dataset)
        if d:
            xtr, ytr, xte, yte = load_from_dir(d)
            return xtr, ytr, xte, yte, os.path.abspath(d)
        if base == args.data_dir and base:
            log("no %s IDX files in %s; trying other sources" % (args.dataset, base))
    try:
        return download(args.dataset, framework)
    except TrainError:
        raise
    except Exception as e:
        where = "--data-dir %s" % args.data_dir if args.data_dir else "no --data-dir"
        raise TrainError("no %s IDX files (%s, none in /usr/share/datasets/%s) and the download failed: %s: %s" % (
            args.dataset, where, args.dataset, type(e).__name__, e))


# --------------------------------------------------------------------------- NumPy

def train_numpy(args, data, report):
    import numpy as np
    from numpy.lib.stride_tricks import as_strided
    xtr, ytr, xte, yte = data
    rng = np.random.RandomState(args.seed)
    f32 = np.float32
    filters, pooled = 8, 13
    flat = pooled * pooled * filters
    params = {
        "wc": (rng.randn(9, filters) * np.sqrt(2.0 / 9)).astype(f32),
        "bc": np.zeros(filters, f32),
        "wd": (rng.randn(flat, 10) * np.sqrt(1.0 / flat)).astype(f32),
        "bd": np.zeros(10, f32),
    }
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    lr, b1, b2, eps = args.lr or 2e-3, 0.9, 0.999, 1e-8

    def im2col(x):  # (B,28,28) -> (B*26*26, 9)
        b = x.shape[0]
        s0, s1, s2 = x.strides
        win = as_strided(x, shape=(b, 26, 26, 3, 3), strides=(s0, s1, s2, s1, s2))
        return win.reshape(b * 676, 9)

    def forward(x):
        b = x.shape[0]
        cols = im2col(x)
        conv = np.dot(cols, params["wc"]) + params["bc"]                       # (B*676, F)
        np.maximum(conv, 0, out=conv)
        conv = conv.reshape(b, 13, 2, 13, 2, filters)
        pool = conv.max(axis=(2, 4))                                           # (B,13,13,F)
        logits = np.dot(pool.reshape(b, flat), params["wd"]) + params["bd"]
        return cols, conv, pool, logits

    def softmax_xent(logits, y):
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(len(y)), y] + 1e-12).mean()
        return p, float(loss)

    def evaluate(x, y):
        correct, total_loss = 0, 0.0
        for i in range(0, len(x), 1000):
            _, _, _, logits = forward(x[i:i + 1000])
            p, loss = softmax_xent(logits, y[i:i + 1000])
            correct += int((logits.argmax(axis=1) == y[i:i + 1000]).sum())
            total_loss += loss * len(logits)
        return correct / float(len(x)), total_loss / len(x)

    xtr = (xtr.astype(f32) / 255.0)
    xte = (xte.astype(f32) / 255.0)
    ytr = ytr.astype(np.int64)
    yte = yte.astype(np.int64)
    n = len(xtr)
    step = 0
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        order = rng.permutation(n)
        seen, correct, loss_sum = 0, 0, 0.0
        for i in range(0, n, args.batch_size):
            idx = order[i:i + args.batch_size]
            x, y = xtr[idx], ytr[idx]
            b = len(idx)
            cols, conv, pool, logits = forward(x)
            p, loss = softmax_xent(logits, y)
            correct += int((logits.argmax(axis=1) == y).sum())
            loss_sum += loss * b
            seen += b
            dlogits = p
            dlogits[np.arange(b), y] -= 1.0
            dlogits /= b
            grads = {"wd": np.dot(pool.reshape(b, flat).T, dlogits), "bd": dlogits.sum(axis=0)}
            dpool = np.dot(dlogits, params["wd"].T).reshape(b, 13, 1, 13, 1, filters)
            # max-pool backward: the gradient goes to the maximum (ReLU zeros get none: conv > 0)
            mask = (conv == pool.reshape(b, 13, 1, 13, 1, filters)) & (conv > 0)
            dconv = (mask * dpool).reshape(b * 676, filters)
            grads["wc"] = np.dot(cols.T, dconv)
            grads["bc"] = dconv.sum(axis=0)
            step += 1
            c1, c2 = 1 - b1 ** step, 1 - b2 ** step
            for k in params:
                g = grads[k].astype(f32)
                m[k] *= b1
                m[k] += (1 - b1) * g
                v[k] *= b2
                v[k] += (1 - b2) * g * g
                params[k] -= (lr * (m[k] / c1) / (np.sqrt(v[k] / c2) + eps)).astype(f32)
        dt = time.time() - t0
        report.epoch(epoch, loss_sum / seen, correct / float(seen), seen / dt, dt)
    acc, loss = evaluate(xte, yte)
    return acc, loss


# --------------------------------------------------------------------------- PyTorch

def train_torch(args, data, report):
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    xtr, ytr, xte, yte = data
    torch.manual_seed(args.seed)
    world = DIST.get("worldSize", 1)
    if world > 1:
        dist = init_distributed(args, torch)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        # the GPU whatever the backend: gloo all-reduces CUDA tensors too (PyTorch's distributed docs), so a Jetson
        # over gloo still trains on its GPU. One worker per node has LOCAL_RANK 0; more ranks than GPUs on a machine
        # share them round-robin (gloo copes; NCCL refuses two ranks on one GPU with its own error).
        index = local % torch.cuda.device_count() if world > 1 else 0
        dev = torch.device("cuda", index)
        torch.cuda.set_device(dev)
        report.device = "cuda:%d (%s)" % (index, torch.cuda.get_device_name(index))
        torch.backends.cudnn.benchmark = True
    else:
        dev = torch.device("cpu")
        report.device = "cpu"
    report.start()

    model = build_model(nn).to(dev)
    comm = {"seconds": 0.0, "steps": 0}
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel
        model = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
        model.register_comm_hook(comm, timed_allreduce_hook(dist, world))
    kwargs = {}
    if dev.type == "cuda":
        try:
            torch.optim.Adam([torch.zeros(1, device=dev, requires_grad=True)], fused=True)
            kwargs["fused"] = True
        except (TypeError, RuntimeError):
            pass
    opt = torch.optim.Adam(model.parameters(), lr=args.lr or 1e-3, **kwargs)

    def tensor_images(x):
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32) / 255.0).unsqueeze(1).to(dev)

    xtr_t, ytr_t = tensor_images(xtr), torch.from_numpy(ytr.astype(np.int64)).to(dev)
    xte_t, yte_t = tensor_images(xte), torch.from_numpy(yte.astype(np.int64)).to(dev)
    gen = torch.Generator(device="cpu")
    gen.manual_seed(args.seed)
    n = len(xtr_t)
    sampler = None
    if world > 1:
        from torch.utils.data.distributed import DistributedSampler
        sampler = DistributedSampler(range(n), num_replicas=world, rank=DIST["rank"], shuffle=True, seed=args.seed)
    steps, train_seconds, samples = 0, 0.0, 0
    batch = max(1, args.batch_size // world)  # the global batch stays --batch-size
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.time()
        if sampler is not None:
            sampler.set_epoch(epoch)
            order = torch.tensor(list(sampler), dtype=torch.int64).to(dev)
        else:
            order = torch.randperm(n, generator=gen).to(dev)
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev, dtype=torch.int64)
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            x, y = xtr_t[idx], ytr_t[idx]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * len(idx)
            correct += (logits.argmax(1) == y).sum()
            steps += 1
        loss_v, correct_v = float(loss_sum), int(correct)  # synchronizes
        dt = time.time() - t0
        m = len(order)
        train_seconds += dt
        samples += m
        report.epoch(epoch, loss_v / m, correct_v / float(m), m / dt, dt)
    model.eval()
    # Each rank tests its shard (every world-th image); the sums are all-reduced: the whole test set once.
    shard = slice(DIST.get("rank", 0), len(xte_t), world)
    xs, ys = xte_t[shard], yte_t[shard]
    with torch.no_grad():
        correct, loss_sum = 0, 0.0
        for i in range(0, len(xs), 1000):
            logits = model(xs[i:i + 1000])
            loss_sum += float(F.cross_entropy(logits, ys[i:i + 1000], reduction="sum"))
            correct += int((logits.argmax(1) == ys[i:i + 1000]).sum())
    if world == 1:
        return correct / float(len(xte_t)), loss_sum / len(xte_t)
    totals = torch.tensor([float(correct), loss_sum, float(len(xs))], dtype=torch.float64)
    dist.all_reduce(totals)
    mine = {"rank": DIST["rank"], "node": DIST["node"], "samplesPerSecond": round(samples / train_seconds, 1),
            "steps": steps, "allreduceSecondsPerStep": round(comm["seconds"] / max(comm["steps"], 1), 5),
            "stepSeconds": round(train_seconds / max(steps, 1), 5)}
    ranks = [None] * world
    dist.all_gather_object(ranks, mine)
    wall = torch.tensor([train_seconds], dtype=torch.float64)
    dist.all_reduce(wall, op=dist.ReduceOp.MAX)
    report.distributed = {
        "worldSize": world, "backend": args.backend, "interface": os.environ.get("GLOO_SOCKET_IFNAME"),
        # every rank trains its shard at once: the run's rate is all images over the slowest rank's time
        "samplesPerSecond": round(samples * world / float(wall[0]), 1) if float(wall[0]) > 0 else None,
        "ranks": ranks,
        "allreduceSecondsPerStep": round(sum(r["allreduceSecondsPerStep"] for r in ranks) / world, 5),
        "stepSeconds": round(sum(r["stepSeconds"] for r in ranks) / world, 5),
    }
    dist.barrier()
    dist.destroy_process_group()
    return float(totals[0]) / float(totals[2]), float(totals[1]) / float(totals[2])


def build_model(nn):
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10),
    )


def timed_allreduce_hook(dist, world):
    """DDP's default hook (average the bucket with an all-reduce), timed from the bucket's launch to its result:
    the time a step spends waiting for the network (the buckets of this small CNN are one or two)."""
    def hook(state, bucket):
        t0 = time.time()
        tensor = bucket.buffer() if hasattr(bucket, "buffer") else bucket.get_tensor()
        tensor.div_(world)
        fut = dist.all_reduce(tensor, async_op=True).get_future()

        def done(f):
            state["seconds"] += time.time() - t0
            if bucket.is_last():
                state["steps"] += 1
            return f.value()[0]
        return fut.then(done)
    return hook


def is_jetson():
    return os.path.exists("/etc/nv_tegra_release") or os.path.exists("/sys/module/tegra_fuse")


def init_distributed(args, torch):
    """init_process_group from torchrun's environment, after checking that the backend can work here."""
    import datetime
    try:
        import torch.distributed as dist
    except ImportError:
        dist = None
    if dist is None or not dist.is_available():
        raise TrainError("this PyTorch (%s) is built without torch.distributed; use an image with distributed "
                         "PyTorch (--image)" % torch.__version__)
    if args.backend == "nccl":
        if is_jetson():
            raise TrainError("NCCL is not supported on Jetson (%s): NVIDIA's Jetson PyTorch has no NCCL and "
                             "NCCL does not run on AGX Orin; use --backend gloo" % DIST["node"])
        if not dist.is_nccl_available():
            raise TrainError("this PyTorch (%s) is built without NCCL on %s; use --backend gloo"
                             % (torch.__version__, DIST["node"]))
        if not torch.cuda.is_available():
            raise TrainError("NCCL needs a CUDA GPU and %s has none visible to PyTorch; use --backend gloo"
                             % DIST["node"])
    elif not dist.is_gloo_available():
        raise TrainError("this PyTorch (%s) is built without gloo on %s" % (torch.__version__, DIST["node"]))
    t0 = time.time()
    dist.init_process_group(args.backend, timeout=datetime.timedelta(seconds=args.rendezvous_timeout))
    log("joined %d ranks over %s in %.1f s (master %s:%s, interface %s)" % (
        dist.get_world_size(), args.backend, time.time() - t0, os.environ.get("MASTER_ADDR"),
        os.environ.get("MASTER_PORT"), os.environ.get("GLOO_SOCKET_IFNAME", "-")))
    return dist


# --------------------------------------------------------------------------- TensorFlow / Keras

def train_tensorflow(args, data, report):
    import numpy as np
    import tensorflow as tf
    from tensorflow import keras
    xtr, ytr, xte, yte = data
    tf.random.set_seed(args.seed)
    try:
        gpus = tf.config.list_physical_devices("GPU")
    except AttributeError:  # TensorFlow 2.0
        gpus = tf.config.experimental.list_physical_devices("GPU")
    for g in gpus:
        try:
            tf.config.experimental.set_memory_growth(g, True)  # Jetsons share memory with the CPU
        except Exception:
            pass
    if gpus:
        name = None
        try:
            name = tf.config.experimental.get_device_details(gpus[0]).get("device_name")
        except Exception:
            pass
        report.device = "cuda:0 (%s)" % name if name else "cuda:0"
    else:
        report.device = "cpu"
    report.start()

    layers = keras.layers
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        # momentum 0.9 (PyTorch's 0.1): Keras' default 0.99 leaves the moving statistics far off after a short run
        layers.Conv2D(32, 3, padding="same"), layers.BatchNormalization(momentum=0.9), layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, padding="same"), layers.BatchNormalization(momentum=0.9), layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dropout(0.25), layers.Dense(10),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.lr or 1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    xtr_f = (xtr.astype(np.float32) / 255.0)[..., None]
    xte_f = (xte.astype(np.float32) / 255.0)[..., None]
    n = len(xtr_f)

    class Progress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.time()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            dt = time.time() - self.t0
            acc = logs.get("accuracy", logs.get("acc"))
            report.epoch(epoch + 1, float(logs.get("loss", float("nan"))),
                         None if acc is None else float(acc), n / dt, dt)

    model.fit(xtr_f, ytr.astype(np.int64), batch_size=args.batch_size, epochs=args.epochs,
              shuffle=True, verbose=0, callbacks=[Progress()])
    result = model.evaluate(xte_f, yte.astype(np.int64), batch_size=1000, verbose=0)
    loss, acc = float(result[0]), float(result[1])
    return acc, loss


# --------------------------------------------------------------------------- main

class Report(object):
    def __init__(self, args, framework, info):
        self.args = args
        self.framework = framework
        self.info = info
        self.device = "cpu"
        self.started = False
        self.distributed = None

    def start(self):
        if self.started:
            return
        self.started = True
        event = {"event": "start", "framework": self.framework, "device": self.device}
        event.update(self.info)
        if DIST:
            event.update({"worldSize": DIST["worldSize"], "backend": self.args.backend,
                          "interface": os.environ.get("GLOO_SOCKET_IFNAME")})
        emit(event)
        log("training a CNN on %s (%d train / %d test images) with %s on %s" % (
            self.args.dataset, self.info["trainSamples"], self.info["testSamples"], self.framework, self.device))

    def epoch(self, epoch, loss, accuracy, samples_per_second, seconds):
        emit({"event": "epoch", "epoch": epoch, "epochs": self.args.epochs,
              "loss": round(loss, 5), "accuracy": None if accuracy is None else round(accuracy, 5),
              "samplesPerSecond": round(samples_per_second, 1), "durationSeconds": round(seconds, 3),
              "device": self.device})
        log("epoch %d/%d: loss %.4f, accuracy %s, %.0f samples/s" % (
            epoch, self.args.epochs, loss, "n/a" if accuracy is None else "%.4f" % accuracy, samples_per_second))


def check_framework(fw):
    """Imports fw and makes sure it can train: a module of that name is not enough (the k3gpu lab's images
    provide simulated tensorflow / torch packages that only print what the real ones print on import)."""
    module = __import__(fw)
    if getattr(module, "__k3gpu_simulated__", False):
        raise ImportError("%s %s is simulated (k3gpu lab), not a framework"
                          % (fw, getattr(module, "__version__", "")))
    if fw == "tensorflow":
        from tensorflow import keras
        if not hasattr(keras, "Sequential"):
            raise ImportError("tensorflow has no usable tf.keras")
    elif fw == "torch":
        import torch.nn  # noqa: F401


def pick_framework(choice):
    if DIST and choice in ("auto", "torch"):
        try:
            check_framework("torch")
            return "torch"
        except ImportError as e:
            raise TrainError("multi-node training needs PyTorch with torch.distributed and this image has none "
                             "(torch: %s); pass a PyTorch image with --image" % e)
    if DIST:
        raise TrainError("multi-node training runs on PyTorch only, not --framework %s" % choice)
    order = {"auto": ["tensorflow", "torch", "numpy"], "torch": ["torch"],
             "tensorflow": ["tensorflow"], "numpy": ["numpy"]}[choice]
    errors = []
    for fw in order:
        try:
            if fw == "tensorflow":
                os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
            check_framework(fw)
            return fw
        except ImportError as e:
            errors.append("%s: %s" % (fw, e))
    raise TrainError("no usable framework (%s)" % "; ".join(errors))


def main(argv=None):
    parser = argparse.ArgumentParser(description="train a small CNN on (Fashion-)MNIST; JSON lines on stdout")
    parser.add_argument("--data-dir", help="folder with the four IDX files (gzip or not)")
    parser.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--framework", choices=["auto", "torch", "tensorflow", "numpy"], default="auto")
    parser.add_argument("--limit-train", type=int, default=0, help="train on the first N images only (0: all)")
    parser.add_argument("--limit-test", type=int, default=0, help="test on the first N images only (0: all)")
    parser.add_argument("--lr", type=float, default=0.0, help="learning rate (default: per framework)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", choices=["gloo", "nccl"], default="gloo",
                        help="torch.distributed backend when WORLD_SIZE > 1 (default: gloo)")
    parser.add_argument("--rendezvous-timeout", type=float, default=300.0,
                        help="seconds the ranks may take to find each other (default: 300)")
    args = parser.parse_args(argv)
    t0 = time.time()
    world = int(os.environ.get("WORLD_SIZE", "1") or "1")
    if world > 1:
        import socket
        DIST.update({"rank": int(os.environ.get("RANK", "0")), "worldSize": world,
                     "node": os.environ.get("K3GPU_NODE") or socket.gethostname()})
    try:
        if args.epochs < 1 or args.batch_size < 1:
            raise TrainError("--epochs and --batch-size must be at least 1")
        framework = pick_framework(args.framework)
        import numpy as np
        np.random.seed(args.seed)
        xtr, ytr, xte, yte, source = load_data(args, framework)
        if args.limit_train > 0:
            xtr, ytr = xtr[:args.limit_train], ytr[:args.limit_train]
        if args.limit_test > 0:
            xte, yte = xte[:args.limit_test], yte[:args.limit_test]
        info = {"dataset": args.dataset, "dataSource": source, "trainSamples": int(len(xtr)),
                "testSamples": int(len(xte)), "epochs": args.epochs, "batchSize": args.batch_size}
        report = Report(args, framework, info)
        if framework == "numpy":
            report.start()
            acc, loss = train_numpy(args, (xtr, ytr, xte, yte), report)
        elif framework == "torch":
            acc, loss = train_torch(args, (xtr, ytr, xte, yte), report)
        else:
            acc, loss = train_tensorflow(args, (xtr, ytr, xte, yte), report)
        duration = time.time() - t0
        if DIST and DIST["rank"] != 0:
            log("done: rank 0 reports the test accuracy")
            return 0
        done = {"event": "done", "testAccuracy": round(acc, 5), "testLoss": round(loss, 5),
                "durationSeconds": round(duration, 2), "framework": framework, "device": report.device,
                "dataset": args.dataset, "epochs": args.epochs, "trainSamples": int(len(xtr)),
                "testSamples": int(len(xte))}
        if report.distributed:
            done.update(report.distributed)
        emit(done)
        log("done: test accuracy %.4f in %.1f s" % (acc, duration))
        return 0
    except KeyboardInterrupt:
        emit({"event": "error", "message": "interrupted"})
        return 130
    except Exception as e:
        message = str(e) if isinstance(e, TrainError) else "%s: %s" % (type(e).__name__, e)
        emit({"event": "error", "message": message})
        log("error: " + message)
        return 1


if __name__ == "__main__":
    sys.exit(main())
