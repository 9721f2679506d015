#!/usr/bin/env python3
"""Plain-PyTorch ceilings that gpu_probe.py is compared against (docs/benchmarks.md, "GPU workloads").

- matmul: torch.matmul on 8192x8192 random bf16 / fp16 / fp32 (TF32 off) inputs, timed with CUDA events
  after a warm-up: 15 trials of 10 products each, the median trial gives TFLOP/s (2*n^3 per product).
- copy: dst.copy_(src) of 1 GiB and 4 GiB float32 tensors on one device, events, median of 15 trials of
  10 copies; GB/s counts bytes read + bytes written (2 x size per copy), the probe's convention.
Prints one JSON line on stdout.
"""
import json
import statistics
import sys

import torch


def trials(fn, per_trial=10, count=15, warmup=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(count):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        for _ in range(per_trial):
            fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) / 1000.0 / per_trial)
    return statistics.median(times), min(times), max(times)


def main():
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):  # PyTorch >= 2.9: do not mix with allow_tf32
        torch.backends.cuda.matmul.fp32_precision = "ieee"
    else:
        torch.backends.cuda.matmul.allow_tf32 = False
    dev = torch.device("cuda", 0)
    out = {"event": "reference", "torch": torch.__version__, "cuda": torch.version.cuda,
           "device": torch.cuda.get_device_name(0)}
    n = 8192
    for name, dtype in (("bf16", torch.bfloat16), ("fp16", torch.float16), ("fp32", torch.float32)):
        a = torch.randn(n, n, device=dev, dtype=dtype)
        b = torch.randn(n, n, device=dev, dtype=dtype)
        med, lo, hi = trials(lambda: torch.matmul(a, b))
        out["matmul%sTflops" % name.capitalize()] = round(2 * n ** 3 / med / 1e12, 2)
        out["matmul%sTflopsRange" % name.capitalize()] = [round(2 * n ** 3 / hi / 1e12, 2),
                                                           round(2 * n ** 3 / lo / 1e12, 2)]
        del a, b
    for gib in (1, 4):
        nbytes = gib << 30
        src = torch.rand(nbytes // 4, device=dev)
        dst = torch.empty_like(src)
        med, lo, hi = trials(lambda: dst.copy_(src))
        assert torch.equal(src[:1024], dst[:1024])
        out["copy%dGiBGBps" % gib] = round(2 * nbytes / med / 1e9, 1)
        out["copy%dGiBGBpsRange" % gib] = [round(2 * nbytes / hi / 1e9, 1), round(2 * nbytes / lo / 1e9, 1)]
        del src, dst
    out["copyBandwidthCountsReadAndWrite"] = True
    print(json.dumps(out, separators=(",", ":")))
    print("reference: %s" % out, file=sys.stderr)


if __name__ == "__main__":
    main()
