#!/usr/bin/env python3
"""Summarise a device run of the shipped workloads: probe vs plain-PyTorch reference, trainer result.

usage: workloads_summary.py DIR   (DIR holds reference.jsonl, probe.jsonl, train-torch.jsonl as written
by scripts/device_workloads.sh); prints a table and checks the targets of docs/benchmarks.md.
"""
import json
import os
import sys


def lines(path):
    if not os.path.isfile(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
    return out


def main(d):
    refs = [r for r in lines(os.path.join(d, "reference.jsonl")) if r.get("event") == "reference"]
    # probes that measured (the run also holds --skip-benchmarks and no-GPU probes, for the parsers' tests)
    probes = [p for p in lines(os.path.join(d, "probe.jsonl")) if p.get("cudaVisible") and p.get("matmulSize")]
    ok = True
    if refs and probes:
        ref_mm = {k: max(r[k] for r in refs) for k in ("matmulBf16Tflops", "matmulFp16Tflops", "matmulFp32Tflops")}
        ref_copy = max(max(r["copy1GiBGBps"], r["copy4GiBGBps"]) for r in refs)
        print("%-22s %12s %12s %8s" % ("figure", "probe", "reference", "ratio"))
        for key in ("matmulBf16Tflops", "matmulFp16Tflops", "matmulFp32Tflops"):
            for i, p in enumerate(probes):
                r = p[key] / ref_mm[key] if p.get(key) else float("nan")
                print("%-22s %12.1f %12.1f %8.3f" % ("%s #%d" % (key, i + 1), p[key] or 0, ref_mm[key], r))
                if key == "matmulBf16Tflops" and not r >= 0.8:
                    ok = False
        for i, p in enumerate(probes):
            r = p["copyBandwidthGBps"] / ref_copy if p.get("copyBandwidthGBps") else float("nan")
            print("%-22s %12.1f %12.1f %8.3f" % ("copyBandwidthGBps #%d" % (i + 1), p["copyBandwidthGBps"] or 0,
                                                ref_copy, r))
            if not r >= 0.8:
                ok = False
        for i, p in enumerate(probes):
            print("probe #%d took %.2f s (tf32 %.1f TFLOP/s), errors %s" % (
                i + 1, p["durationSeconds"], p.get("matmulTf32Tflops") or 0, p["errors"]))
    else:
        print("missing reference or probe lines")
        ok = False
    for name in sorted(os.listdir(d)):
        if name.startswith("train-") and name.endswith(".jsonl"):
            done = [e for e in lines(os.path.join(d, name)) if e.get("event") in ("done", "error")]
            for e in done:
                print("%s: %s" % (name, json.dumps(e)))
                if name == "train-torch.jsonl" and not (e.get("testAccuracy") or 0) >= 0.9:
                    ok = False
    print("TARGETS MET" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
