#!/usr/bin/env bash
# Fan-in over real SSH: `k3gpu exporter` following the first N nodes of a running lab at 1 Hz.
# Prints the exporter JVM's CPU time over 30 s (after 12 s of start-up) as a share of one core, its peak RSS, how many
# nodes the scrape shows up, and how many tegrastats/nvidia-smi processes are left on the lab's nodes 1 s after it stops.
# Usage (as root): bench/scripts/fanin-lab.sh JAR LAB_ID SUBNET N
#   java -jar JAR lab up --id fanlab --subnet 251 --nodes 30 --profile jetson-nano,orin-nano,dgpu
#   bench/scripts/fanin-lab.sh /tmp/k3gpu.jar fanlab 251 30
set -euo pipefail
jar=$1 id=$2 subnet=$3 n=$4
ips=$(seq 11 $((10 + n)) | sed "s/^/10.213.$subnet./" | paste -sd,)
java -jar "$jar" exporter --ip "$ips" --ssh-key "/run/k3gpu-lab/$id/id_ed25519" \
    --known-hosts "/run/k3gpu-lab/$id/known_hosts" --listen 127.0.0.1:19400 --interval 1000 --duration 60s \
    2>"/tmp/fanin-lab-$n.err" &
pid=$!
sleep 12
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
c0=$(cpu) t0=$(date +%s.%N)
for _ in 1 2; do sleep 15; curl -s http://127.0.0.1:19400/metrics >/tmp/fanin-lab-scrape.txt; done
c1=$(cpu) t1=$(date +%s.%N)
hwm=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
up=$(grep -c '^k3gpu_node_up{.*} 1' /tmp/fanin-lab-scrape.txt || true)
kill -INT "$pid"
wait "$pid" || true
sleep 1
left=0
for ns in $(ip netns list | awk -v p="^$id-" '$1 ~ p {print $1}'); do
  for p in $(ip netns pids "$ns"); do
    if grep -qaE 'tegrastats|nvidia-smi' "/proc/$p/cmdline" 2>/dev/null; then left=$((left + 1)); fi
  done
done
python3 -c "print(f'nodes=$n up=$up cpu={($c1 - $c0) / $tck / ($t1 - $t0) * 100:.2f}% of one core, peak RSS $hwm MiB, scrape $(wc -c </tmp/fanin-lab-scrape.txt) bytes, tools left on the nodes: $left')"
