#!/usr/bin/env bash
# One device-tool run for the shipped workloads (docs/benchmarks.md, "GPU workloads"):
#   run(command="bash scripts/device_workloads.sh", carry=[".data"])
# .data/fashion-mnist/ holds Debian's dataset-fashion-mnist files (git-ignored through .git/info/exclude).
# Writes under $OUT (8 files, the tool's limit): env.txt, reference.jsonl, probe.jsonl, probe.err,
# train-torch.jsonl, train-numpy.jsonl, train-error.jsonl, train.err; the summary table goes to stdout.
set -u
OUT=${OUT:-/tmp/k3gpu-workloads}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 TIMEFORMAT="wall %R s"
W=core/src/main/resources/io/k3gpu/workloads
{
  date -u; nvidia-smi; python3 --version
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "devices", torch.cuda.device_count())'
  python3 -c 'import tensorflow' 2>&1 | tail -1
} > "$OUT/env.txt" 2>&1
: > "$OUT/probe.jsonl"; : > "$OUT/reference.jsonl"; : > "$OUT/probe.err"; : > "$OUT/train.err"
# reference, probe, probe, reference: two of each, interleaved, to see the spread
python3 scripts/workloads_reference.py >> "$OUT/reference.jsonl" 2>> "$OUT/probe.err"
for i in 1 2; do
  { time python3 $W/gpu_probe.py >> "$OUT/probe.jsonl" 2>> "$OUT/probe.err"; echo "probe rc=$?" >> "$OUT/probe.err"; } 2>> "$OUT/probe.err"
done
python3 scripts/workloads_reference.py >> "$OUT/reference.jsonl" 2>> "$OUT/probe.err"
# other probe outcomes, for the parsers' golden tests
python3 $W/gpu_probe.py --skip-benchmarks >> "$OUT/probe.jsonl" 2>> "$OUT/probe.err"
CUDA_VISIBLE_DEVICES= python3 $W/gpu_probe.py >> "$OUT/probe.jsonl" 2>> "$OUT/probe.err"
python3 $W/gpu_probe.py --framework tensorflow >> "$OUT/probe.jsonl" 2>> "$OUT/probe.err"
# trainer: PyTorch on the GPU (the target) with the defaults (5 epochs) and with 10 epochs; then NumPy on the
# machine's CPUs, and an error case (a missing data set with no network)
python3 $W/mnist_train.py --data-dir .data --dataset fashion-mnist --framework torch --epochs 5 \
  > "$OUT/train-torch.jsonl" 2>> "$OUT/train.err"; echo "train torch rc=$?" >> "$OUT/train.err"
python3 $W/mnist_train.py --data-dir .data --dataset fashion-mnist --framework torch --epochs 10 \
  >> "$OUT/train-torch.jsonl" 2>> "$OUT/train.err"; echo "train torch 10 rc=$?" >> "$OUT/train.err"
HOME=/tmp/nohome timeout 60 python3 $W/mnist_train.py --data-dir /nonexistent --dataset mnist --framework torch \
  > "$OUT/train-error.jsonl" 2>> "$OUT/train.err"; echo "train error rc=$?" >> "$OUT/train.err"
python3 $W/mnist_train.py --data-dir .data --dataset fashion-mnist --framework numpy --epochs 3 --limit-train 20000 \
  > "$OUT/train-numpy.jsonl" 2>> "$OUT/train.err"; echo "train numpy rc=$?" >> "$OUT/train.err"
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,power.draw,temperature.gpu,memory.used --format=csv >> "$OUT/env.txt" 2>&1
python3 scripts/workloads_summary.py "$OUT"
