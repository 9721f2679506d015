#!/bin/bash
# On a real NVIDIA GPU machine (the device tool), as root: runs the commands DeviceCommands.java wrote into
# this folder (facts script, tool probe, the streaming nvidia-smi of stats/exporter with its end-on-EOF wrapper)
# and writes what they print to $OUT. Usage: cp bench/scripts/device-captures.sh devrun/run.sh; bash devrun/run.sh
set -u
cd "$(dirname "$0")"
nvidia-smi --version | head -3 > $OUT/version.txt
sh -s < facts.sh > $OUT/h200-facts.out 2>$OUT/h200-facts.err; echo "facts rc=$?"
eval "$(cat probe.cmd)" > $OUT/probe.out; echo "probe: $(cat $OUT/probe.out)"
# a busy GPU for part of the capture
python3 - <<'PY' &
import torch, time
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
t = time.time()
while time.time() - t < 9:
    b = a @ a
torch.cuda.synchronize()
PY
load=$!
sleep 4
start=$(date +%s.%N)
(sleep 5) | eval "$(cat stream.cmd)" > $OUT/h200-stream.csv 2>$OUT/h200-stream.err
rc=$?
end=$(date +%s.%N)
sleep 0.5
left=$(pgrep -c -f 'nvidia-smi --query-gpu' || true)
wait $load
python3 -c "print(f'stream rc=$rc, ran {($end-$start):.2f} s (its input closed after 5 s), rows={sum(1 for _ in open(\"$OUT/h200-stream.csv\"))}, nvidia-smi left={int(\"$left\")}')"
head -3 $OUT/h200-stream.csv; tail -2 $OUT/h200-stream.csv; cat $OUT/h200-stream.err | head -3
