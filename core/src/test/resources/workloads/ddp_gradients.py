"""Two gloo processes on localhost: DDP's averaged gradients equal one process's gradients on the same global batch.

usage: python3 ddp_gradients.py TRAINER_DIR PORT
Prints one JSON line (rank 0): maxDiff (DDP vs one process), maxLocalDiff (a rank's own gradients before the
all-reduce vs the global ones: must be far larger, or the comparison proves nothing), parameters compared.
The trainer's CNN in eval mode: dropout off and BatchNorm on its running statistics, so a sample's gradient does
not depend on the other samples in its rank's batch (in train mode BatchNorm's statistics are per rank under DDP).
"""
import datetime
import json
import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

GLOBAL_BATCH = 32


def batch():
    g = torch.Generator().manual_seed(11)
    return torch.rand(GLOBAL_BATCH, 1, 28, 28, generator=g), torch.randint(0, 10, (GLOBAL_BATCH,), generator=g)


def model(trainer):
    torch.manual_seed(3)
    m = trainer.build_model(nn)
    m.eval()
    return m


def worker(rank, trainer_dir, port, out):
    sys.path.insert(0, trainer_dir)
    import mnist_train
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "GLOO_SOCKET_IFNAME": "lo"})
    # a deadline on the rendezvous and on every collective: a lost peer fails the run instead of hanging it
    dist.init_process_group("gloo", rank=rank, world_size=2, timeout=datetime.timedelta(seconds=60))
    x, y = batch()
    half = GLOBAL_BATCH // 2
    xs, ys = x[rank * half:(rank + 1) * half], y[rank * half:(rank + 1) * half]
    local = model(mnist_train)
    F.cross_entropy(local(xs), ys).backward()
    ddp = nn.parallel.DistributedDataParallel(model(mnist_train))
    ddp.register_comm_hook({"seconds": 0.0, "steps": 0}, mnist_train.timed_allreduce_hook(dist, 2))
    F.cross_entropy(ddp(xs), ys).backward()
    if rank == 0:
        single = model(mnist_train)
        F.cross_entropy(single(x), y).backward()
        diff, local_diff, n = 0.0, 0.0, 0
        for d, s, l in zip(ddp.module.parameters(), single.parameters(), local.parameters()):
            diff = max(diff, float((d.grad - s.grad).abs().max()))
            local_diff = max(local_diff, float((l.grad - s.grad).abs().max()))
            n += 1
        with open(out, "w") as f:
            json.dump({"maxDiff": diff, "maxLocalDiff": local_diff, "parameters": n}, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    out = os.path.join(sys.argv[1], "result.json")
    mp.spawn(worker, args=(sys.argv[1], int(sys.argv[2]), out), nprocs=2, join=True)
    with open(out) as f:
        print(f.read())
