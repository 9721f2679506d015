#!/usr/bin/env python3
"""jetson-stats' own tegrastats decoder over a file, end to end: one JSON object per line on stdout.

The reference for `k3gpu stats parse` (docs/benchmarks.md, "stats parse end to end"). It runs exactly the steps of
jtop/core/tegrastats.py's Tegrastats._decode (DATE, VALS, MTS, RAM, SWAP, IRAM, CPUS, TEMPS, WATTS from
jtop/core/tegra_parse.py) on each line and prints the dict as JSON, as k3gpu prints its sample.
Usage: jetson-stats-decode.py JETSON_STATS_CHECKOUT FILE  (the checkout is not vendored: jetson-stats is AGPL-3.0).
"""
import importlib.util
import json
import sys

checkout, path = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("tegra_parse", checkout + "/jtop/core/tegra_parse.py")
tp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tp)


def decode(text):  # jtop/core/tegrastats.py, Tegrastats._decode, step for step
    text = tp.DATE(text)
    stats = tp.VALS(text)
    mts = tp.MTS(text)
    if mts:
        stats['MTS'] = mts
    stats['RAM'] = tp.RAM(text)
    swap = tp.SWAP(text)
    if swap:
        stats['SWAP'] = swap
    iram = tp.IRAM(text)
    if iram:
        stats['IRAM'] = iram
    stats['CPU'] = tp.CPUS(text)
    stats['TEMP'] = tp.TEMPS(text)
    stats['WATT'] = tp.WATTS(text)
    return stats


out = sys.stdout
errors = 0
with open(path, encoding="utf-8") as f:
    for n, line in enumerate(f, 1):
        try:
            out.write(json.dumps(decode(line.rstrip("\n")), default=str))
        except Exception as e:  # a line its regexes do not fit
            errors += 1
            out.write(json.dumps({"error": str(e), "line": n}))
        out.write("\n")
print(f"{errors} lines not decoded", file=sys.stderr)
