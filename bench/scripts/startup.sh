#!/usr/bin/env bash
# Start-up benchmark (docs/benchmarks.md, "Start-up"): runs each given command N times (default 11) after one
# unmeasured run (which also makes the launcher's class cache), and prints the median wall time and the median CPU
# time (user + system) of each. Usage:
#   bench/scripts/startup.sh [-n N] 'label=command' ...
#   bench/scripts/startup.sh -n 11 'kubectl=kubectl get nodes -o wide --kubeconfig K' 'k3gpu=./k3gpu nodes -o wide --kubeconfig K'
set -euo pipefail
n=11
if [ "${1:-}" = -n ]; then n=$2; shift 2; fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf '%-44s %10s %10s %s\n' "what" "wall (s)" "CPU (s)" "runs"
for spec in "$@"; do
  label=${spec%%=*}
  cmd=${spec#*=}
  bash -c "$cmd" >/dev/null 2>&1 || true
  sleep 1   # a JDK 25 AOT cache is assembled in the background after the first run
  walls=() cpus=()
  for _ in $(seq "$n"); do
    /usr/bin/time -o "$tmp" -f '%e %U %S' bash -c "$cmd" >/dev/null 2>&1 || true
    read -r wall user sys < <(tail -1 "$tmp")
    walls+=("$wall")
    cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')")
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
  printf '%-44s %10s %10s %s\n' "$label" "$(median "${walls[@]}")" "$(median "${cpus[@]}")" "$n"
done
