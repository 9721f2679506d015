#!/usr/bin/env python3
"""k3gpu GPU probe.

Reports, as ONE JSON line on stdout, what a container sees of the GPU: the
framework it found (PyTorch or TensorFlow 2), whether CUDA is visible, the
device's name, compute capability, memory, CUDA/cuDNN versions, the CUDA
libraries this process actually loaded, and measured figures: dense
matrix-multiply throughput (bf16, fp16, tf32, fp32 in TFLOP/s) and
device-to-device copy bandwidth (GB/s, counting bytes read + bytes written).

Human-readable progress goes to stderr; stdout carries the JSON line only.
With no framework installed it reports "framework": null and
"cudaVisible": false and exits 0; so it does with the k3gpu lab's simulated
frameworks (modules marked __k3gpu_simulated__), saying so in "errors". It
exits 0 whenever it printed its JSON line; problems with single measurements
are listed in "errors".

Works on Python 3.6+ (L4T images) and needs nothing but the framework.
Sizes its problems from the device (SM count, memory) and caps the time each
measurement takes (--seconds), so it takes a few seconds on a data-centre GPU
and stays sane on a Jetson Nano.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time

PROBE_VERSION = 1
DTYPES = ("bf16", "fp16", "tf32", "fp32")
MIN_MATMUL = 256


def log(msg):
    sys.stderr.write("gpu-probe: " + msg + "\n")
    sys.stderr.flush()


def round_or_none(value, digits):
    if value is None:
        return None
    return round(float(value), digits)


# --------------------------------------------------------------------------- host facts

def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except (IOError, OSError):
        return None


def driver_version():
    text = read_text("/proc/driver/nvidia/version")
    if text:
        m = re.search(r"Kernel Module\s+(?:for\s+\S+\s+)?([0-9]+\.[0-9.]+)", text)
        if m:
            return m.group(1)
    try:
        out = subprocess.check_output(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            stderr=subprocess.DEVNULL, timeout=10)
        line = out.decode("utf-8", "replace").strip().splitlines()
        if line:
            return line[0].strip()
    except Exception:
        pass
    return None


def jetson_release():
    text = read_text("/etc/nv_tegra_release")
    if text:
        return text.splitlines()[0].strip()
    return None


def host_memory_bytes():
    text = read_text("/proc/meminfo")
    if text:
        m = re.search(r"^MemTotal:\s+(\d+)\s+kB", text, re.M)
        if m:
            return int(m.group(1)) * 1024
    return None


def nvidia_smi_memory_bytes(index):
    try:
        out = subprocess.check_output(
            ["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits", "-i", str(index)],
            stderr=subprocess.DEVNULL, timeout=10)
        return int(float(out.decode().strip().splitlines()[0])) * 1024 * 1024
    except Exception:
        return None


LIB_PATTERN = re.compile(r"/(lib(?:cuda|cudart|cublas|cublasLt|cudnn|nvrtc|nvinfer|nvToolsExt)\.so[0-9.]*)$")


def loaded_cuda_libraries():
    """CUDA libraries mapped into this process (what a user looks for in the logs)."""
    text = read_text("/proc/self/maps")
    found = {}
    if not text:
        return []
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6:
            continue
        path = parts[5].strip()
        m = LIB_PATTERN.search(path)
        if m and m.group(1) not in found:
            found[m.group(1)] = path
    return [{"name": name, "path": found[name]} for name in sorted(found)]


# --------------------------------------------------------------------------- sizing

def matmul_size(sm_count, memory_bytes):
    """Square size for the matmul benchmark: big enough to fill the chip, small enough for a Nano."""
    if sm_count is None:
        n = 2048
    elif sm_count >= 64:
        n = 8192
    elif sm_count >= 16:
        n = 4096
    else:
        n = 2048
    if memory_bytes:
        # a, b, c in fp32 must stay under 1/8 of the device memory
        while n > MIN_MATMUL and 3 * n * n * 4 > memory_bytes // 8:
            n //= 2
    return n


def copy_size(memory_bytes):
    """Bytes of the copy source: 1/32 of device memory, between 16 MiB and 1 GiB (L2 is tens of MB)."""
    if not memory_bytes:
        return 64 << 20
    size = memory_bytes // 32
    size = max(16 << 20, min(1 << 30, size))
    return (size // (1 << 20)) * (1 << 20)


def plan_iterations(seconds_per_iter, budget):
    if seconds_per_iter <= 0:
        return 1000
    return int(max(3, min(1000, budget / seconds_per_iter)))


# --------------------------------------------------------------------------- PyTorch

def probe_torch(result, args):
    import torch
    result["framework"] = "torch"
    result["frameworkVersion"] = torch.__version__
    result["cudaVersion"] = torch.version.cuda
    try:
        v = torch.backends.cudnn.version()
        if v:
            result["cudnnVersion"] = format_cudnn(v)
    except Exception:
        pass
    if not torch.cuda.is_available():
        log("PyTorch %s found, but CUDA is not available" % torch.__version__)
        result["cudaVisible"] = False
        result["deviceCount"] = 0
        return
    result["cudaVisible"] = True
    result["deviceCount"] = torch.cuda.device_count()
    index = args.device
    dev = torch.device("cuda", index)
    torch.cuda.set_device(dev)
    props = torch.cuda.get_device_properties(index)
    result["deviceName"] = props.name
    cc = (props.major, props.minor)
    result["computeCapability"] = "%d.%d" % cc
    result["multiProcessorCount"] = props.multi_processor_count
    result["memoryTotalBytes"] = int(props.total_memory)
    log("PyTorch %s, CUDA %s, device %d: %s (compute capability %s, %d SMs, %.1f GiB)" % (
        torch.__version__, torch.version.cuda, index, props.name, result["computeCapability"],
        props.multi_processor_count, props.total_memory / 2.0 ** 30))
    if args.skip_benchmarks:
        return
    result["benchmarkDevice"] = "cuda:%d" % index

    def elapsed(fn, iters):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000.0

    budget = args.seconds
    n = matmul_size(props.multi_processor_count, props.total_memory)
    types = {"bf16": torch.bfloat16, "fp16": torch.float16, "tf32": torch.float32, "fp32": torch.float32}
    old_tf32 = torch_tf32(torch, None)
    try:
        for name in DTYPES:
            key = "matmul%sTflops" % name.capitalize()
            if name in ("bf16", "tf32") and cc[0] < 8:
                result[key] = None  # no bf16/tf32 tensor cores before Ampere
                continue
            torch_tf32(torch, name == "tf32")
            size = n
            while True:
                try:
                    a = torch.randn(size, size, device=dev, dtype=types[name])
                    b = torch.randn(size, size, device=dev, dtype=types[name])
                    c = torch.empty(size, size, device=dev, dtype=types[name])

                    def step():
                        torch.matmul(a, b, out=c)

                    step()  # warm-up, untimed: cuBLAS handle, kernel load, heuristics
                    torch.cuda.synchronize()
                    t1 = elapsed(step, 1)
                    if t1 > budget / 2 and size > MIN_MATMUL:
                        size //= 2
                        del a, b, c
                        continue
                    per = elapsed(step, 3) / 3
                    iters = plan_iterations(per, budget)
                    t = elapsed(step, iters)
                    tflops = 2.0 * size ** 3 * iters / t / 1e12
                    check_product(torch, a, b, c, name)
                    result[key] = round(tflops, 2)
                    result["matmulSize"] = max(result.get("matmulSize") or 0, size)
                    log("matmul %s %dx%dx%d: %.1f TFLOP/s (%d iterations, %.3f s)" % (
                        name, size, size, size, tflops, iters, t))
                    del a, b, c
                    break
                except RuntimeError as e:  # out of memory, unsupported dtype
                    torch.cuda.empty_cache()
                    if "out of memory" in str(e) and size > MIN_MATMUL:
                        size //= 2
                        continue
                    result[key] = None
                    result["errors"].append("matmul %s: %s" % (name, first_line(e)))
                    break
    finally:
        torch_tf32(torch, old_tf32)
    torch.cuda.empty_cache()

    nbytes = copy_size(props.total_memory)
    try:
        src = torch.randint(0, 255, (nbytes,), device=dev, dtype=torch.uint8)
        dst = torch.empty_like(src)

        def copy():
            dst.copy_(src)

        elapsed(copy, 3)
        per = elapsed(copy, 3) / 3
        iters = plan_iterations(per, budget)
        t = elapsed(copy, iters)
        if not torch.equal(src[:4096], dst[:4096]):
            raise RuntimeError("copy check failed")
        record_copy(result, nbytes, iters, t, "torch.Tensor.copy_")
        del src, dst
    except RuntimeError as e:
        result["errors"].append("copy: %s" % first_line(e))
    torch.cuda.empty_cache()


def torch_tf32(torch, enable):
    """Reads (enable None) or sets whether fp32 matmuls may use TF32; PyTorch >= 2.9 has a new API that must
    not be mixed with the old one in one process."""
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):
        if enable is None:
            return matmul.fp32_precision
        matmul.fp32_precision = enable if isinstance(enable, str) else ("tf32" if enable else "ieee")
        return None
    if enable is None:
        return matmul.allow_tf32
    matmul.allow_tf32 = enable if isinstance(enable, bool) else enable == "tf32"
    return None


def check_product(torch, a, b, c, name):
    """The timed product must be right: a corner of it against float64 on the device."""
    k = min(64, a.shape[0])
    ref = a[:k].double() @ b[:, :k].double()
    err = float((c[:k, :k].double() - ref).norm() / ref.norm())
    limit = {"bf16": 2e-2, "fp16": 5e-3, "tf32": 5e-3, "fp32": 1e-4}[name]
    if not err <= limit:
        raise RuntimeError("wrong product: relative error %.3g > %.3g" % (err, limit))


def check_product_tf(tf, a, b, name):
    """The timed product must be right: a corner of a @ b against float64."""
    k = min(64, int(a.shape[0]))
    c = tf.matmul(a, b)[:k, :k]
    ref = tf.matmul(tf.cast(a[:k], tf.float64), tf.cast(b[:, :k], tf.float64))
    err = float(tf.norm(tf.cast(c, tf.float64) - ref) / tf.norm(ref))
    limit = {"bf16": 2e-2, "fp16": 5e-3, "tf32": 5e-3, "fp32": 1e-4}[name]
    if not err <= limit:
        raise RuntimeError("wrong product: relative error %.3g > %.3g" % (err, limit))


def format_cudnn(v):
    """cuDNN packs its version as MAJOR*1000+MINOR*100+PATCH (< 9) or MAJOR*10000+MINOR*100+PATCH (>= 9)."""
    v = int(v)
    if v >= 90000:
        return "%d.%d.%d" % (v // 10000, (v % 10000) // 100, v % 100)
    return "%d.%d.%d" % (v // 1000, (v % 1000) // 100, v % 100)


def first_line(e):
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__


def record_copy(result, nbytes, iters, seconds, method):
    gbps = 2.0 * nbytes * iters / seconds / 1e9
    result["copyBytes"] = int(nbytes)
    result["copyBandwidthGBps"] = round(gbps, 1)
    result["copyMethod"] = method
    log("device-to-device copy of %d MiB (%s): %.1f GB/s read+write (%d iterations, %.3f s)" % (
        nbytes >> 20, method, gbps, iters, seconds))


# --------------------------------------------------------------------------- TensorFlow 2

def probe_tensorflow(result, args):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")  # keep TF's "Successfully opened dynamic library" lines
    import tensorflow as tf
    result["framework"] = "tensorflow"
    result["frameworkVersion"] = tf.__version__
    try:
        info = tf.sysconfig.get_build_info()
        result["cudaVersion"] = info.get("cuda_version")
        result["cudnnVersion"] = info.get("cudnn_version")
    except Exception:
        pass
    gpus = tf_gpus(tf)
    if not gpus:
        log("TensorFlow %s found, but it sees no GPU" % tf.__version__)
        result["cudaVisible"] = False
        result["deviceCount"] = 0
        if args.cpu:  # exercise the measurement code on the CPU (tests of this probe)
            benchmark_tensorflow(tf, result, args, "/CPU:0", (8, 0), 1, host_memory_bytes())
        return
    for g in gpus:
        try:
            tf.config.experimental.set_memory_growth(g, True)  # Jetsons share memory with the CPU
        except Exception:
            pass
    result["cudaVisible"] = True
    result["deviceCount"] = len(gpus)
    index = args.device
    gpu = gpus[min(index, len(gpus) - 1)]
    cc = None
    try:
        details = tf.config.experimental.get_device_details(gpu)
        result["deviceName"] = details.get("device_name")
        if details.get("compute_capability"):
            cc = tuple(details["compute_capability"])
            result["computeCapability"] = "%d.%d" % cc
    except Exception:
        pass
    mem = None
    try:
        from tensorflow.python.client import device_lib  # noqa
        for d in device_lib.list_local_devices():
            if d.device_type == "GPU":
                m = re.search(r"name: ([^,]+), pci bus id", d.physical_device_desc or "")
                if m and not result.get("deviceName"):
                    result["deviceName"] = m.group(1).strip()
                m = re.search(r"compute capability: (\d+)\.(\d+)", d.physical_device_desc or "")
                if m and cc is None:
                    cc = (int(m.group(1)), int(m.group(2)))
                    result["computeCapability"] = "%d.%d" % cc
                break
    except Exception:
        pass
    if jetson_release():
        mem = host_memory_bytes()  # integrated GPU: the memory is the board's
    if mem is None:
        mem = nvidia_smi_memory_bytes(index)
    result["memoryTotalBytes"] = mem
    sms = None
    if cc is not None and cc[0] < 6:
        sms = 1  # size like a Maxwell Jetson; a bigger Maxwell card just runs a smaller problem
    elif result.get("deviceName") and re.search(r"A100|H100|H200|H800|A800|B200|GH200|GB200", result["deviceName"]):
        sms = 108
    elif result.get("deviceName") and re.search(r"Orin|Xavier|TX2", result["deviceName"] or ""):
        sms = 16
    else:
        sms = 32
    log("TensorFlow %s, CUDA %s, device %s (compute capability %s)" % (
        tf.__version__, result.get("cudaVersion"), result.get("deviceName"), result.get("computeCapability")))
    if args.skip_benchmarks:
        return
    benchmark_tensorflow(tf, result, args, "/GPU:%d" % min(index, len(gpus) - 1), cc, sms, mem)


def tf_gpus(tf):
    try:
        return tf.config.list_physical_devices("GPU")
    except AttributeError:  # TensorFlow 2.0
        return tf.config.experimental.list_physical_devices("GPU")


def benchmark_tensorflow(tf, result, args, device_name, cc, sms, mem):
    result["benchmarkDevice"] = device_name
    try:
        tf.get_logger().setLevel("ERROR")  # no retracing warnings: each dtype and size traces once
    except Exception:
        pass
    budget = args.seconds
    n = matmul_size(sms, mem)
    types = {"bf16": tf.bfloat16, "fp16": tf.float16, "tf32": tf.float32, "fp32": tf.float32}
    try:
        old_tf32 = tf.config.experimental.tensor_float_32_execution_enabled()
    except Exception:
        old_tf32 = None

    def make_loop():
        @tf.function
        def loop(a, b, iters):
            acc = tf.zeros((), dtype=a.dtype)
            for _ in tf.range(iters):
                acc += tf.reduce_sum(tf.matmul(a, b)[:1, :1])
            return acc
        return loop

    def timed(fn, *fn_args):
        t0 = time.perf_counter()
        out = fn(*fn_args)
        _ = out.numpy()  # waits for the device
        return time.perf_counter() - t0

    with tf.device(device_name):
        for name in DTYPES:
            key = "matmul%sTflops" % name.capitalize()
            if name in ("bf16", "tf32") and (cc is None or cc[0] < 8):
                result[key] = None
                continue
            if old_tf32 is not None:
                tf.config.experimental.enable_tensor_float_32_execution(name == "tf32")
            size = n
            while True:
                try:
                    a = tf.cast(tf.random.normal((size, size)), types[name])
                    b = tf.cast(tf.random.normal((size, size)), types[name])
                    loop = make_loop()
                    timed(loop, a, b, tf.constant(1))  # trace + warm-up
                    t1 = timed(loop, a, b, tf.constant(1))
                    if t1 > budget / 2 and size > MIN_MATMUL:
                        size //= 2
                        continue
                    t3 = timed(loop, a, b, tf.constant(3))
                    iters = plan_iterations(t3 / 3, budget)
                    t = timed(loop, a, b, tf.constant(iters))
                    tflops = 2.0 * size ** 3 * iters / t / 1e12
                    check_product_tf(tf, a, b, name)
                    result[key] = round(tflops, 2)
                    result["matmulSize"] = max(result.get("matmulSize") or 0, size)
                    log("matmul %s %dx%dx%d: %.2f TFLOP/s (%d iterations, %.3f s)" % (
                        name, size, size, size, tflops, iters, t))
                    break
                except Exception as e:  # ResourceExhaustedError, no kernel for this dtype
                    if "OOM" in str(e) or "ResourceExhausted" in type(e).__name__:
                        if size > MIN_MATMUL:
                            size //= 2
                            continue
                    result[key] = None
                    result["errors"].append("matmul %s: %s" % (name, first_line(e)))
                    break
        if old_tf32 is not None:
            tf.config.experimental.enable_tensor_float_32_execution(old_tf32)

        nbytes = copy_size(mem)
        try:
            x = tf.random.uniform((nbytes // 4,), dtype=tf.float32)

            @tf.function
            def copy_loop(x, iters):
                for _ in tf.range(iters):
                    x = tf.raw_ops.DeepCopy(x=x)
                return x[:1]

            method = "tf.raw_ops.DeepCopy"
            try:
                timed(copy_loop, x, tf.constant(2))
            except Exception:
                one = tf.Variable(1.0)

                @tf.function
                def copy_loop(x, iters):  # noqa: F811  read + write per element, like a copy
                    for _ in tf.range(iters):
                        x = x * one
                    return x[:1]

                method = "elementwise multiply"
                timed(copy_loop, x, tf.constant(2))
            t3 = timed(copy_loop, x, tf.constant(3))
            iters = plan_iterations(t3 / 3, budget)
            t = timed(copy_loop, x, tf.constant(iters))
            record_copy(result, (nbytes // 4) * 4, iters, t, method)
        except Exception as e:
            result["errors"].append("copy: %s" % first_line(e))


# --------------------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(description="k3gpu GPU probe: one JSON line on stdout")
    parser.add_argument("--framework", choices=["auto", "torch", "tensorflow", "none"], default="auto")
    parser.add_argument("--device", type=int, default=0, help="CUDA device index (default 0)")
    parser.add_argument("--seconds", type=float, default=0.4,
                        help="timed seconds per measurement (6 measurements; default 0.4)")
    parser.add_argument("--skip-benchmarks", action="store_true", help="report facts only")
    parser.add_argument("--cpu", action="store_true",
                        help="TensorFlow without a GPU: run the measurements on the CPU (to test this probe)")
    args = parser.parse_args(argv)

    t0 = time.time()
    result = {
        "event": "probe",
        "probeVersion": PROBE_VERSION,
        "framework": None,
        "frameworkVersion": None,
        "python": platform.python_version(),
        "cudaVisible": False,
        "deviceCount": 0,
        "deviceName": None,
        "computeCapability": None,
        "multiProcessorCount": None,
        "memoryTotalBytes": None,
        "cudaVersion": None,
        "cudnnVersion": None,
        "driverVersion": driver_version(),
        "jetsonRelease": jetson_release(),
        "libraries": [],
        "matmulSize": None,
        "matmulBf16Tflops": None,
        "matmulFp16Tflops": None,
        "matmulTf32Tflops": None,
        "matmulFp32Tflops": None,
        "copyBytes": None,
        "copyBandwidthGBps": None,
        "copyBandwidthCountsReadAndWrite": True,
        "copyMethod": None,
        "benchmarkDevice": None,
        "durationSeconds": None,
        "errors": [],
    }

    order = {"auto": ["torch", "tensorflow"], "torch": ["torch"], "tensorflow": ["tensorflow"], "none": []}
    for fw in order[args.framework]:
        try:
            module = __import__(fw)
        except ImportError:
            continue
        except Exception as e:  # a broken install: say so, try the next one
            result["errors"].append("import %s: %s" % (fw, first_line(e)))
            continue
        if getattr(module, "__k3gpu_simulated__", False):
            # the k3gpu lab's stand-in, which only prints what the framework prints: nothing to measure
            message = "%s %s is simulated (k3gpu lab): not probed" % (fw, getattr(module, "__version__", ""))
            result["errors"].append(message)
            log(message)
            continue
        try:
            if fw == "torch":
                probe_torch(result, args)
            else:
                probe_tensorflow(result, args)
        except Exception as e:
            result["errors"].append("%s: %s: %s" % (fw, type(e).__name__, first_line(e)))
        break
    if result["framework"] is None:
        log("no GPU framework found (neither PyTorch nor TensorFlow is importable)")

    result["libraries"] = loaded_cuda_libraries()
    for lib in result["libraries"]:
        log("loaded %s from %s" % (lib["name"], lib["path"]))
    result["durationSeconds"] = round(time.time() - t0, 2)
    for key, value in result.items():
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            result[key] = None  # strict JSON
    sys.stdout.write(json.dumps(result, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
