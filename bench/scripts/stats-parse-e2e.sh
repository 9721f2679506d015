#!/usr/bin/env bash
# stats parse end to end (JVM start included) against jetson-stats' decoder, on the same 200,000 tegrastats lines:
# the 27 fixture lines (every JetPack format) cycled. Wall time and peak RSS of each, median of RUNS runs.
# Usage: bench/scripts/stats-parse-e2e.sh JETSON_STATS_CHECKOUT [RUNS]   (after: mvn -B -o -DskipTests package -pl cli -am)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
checkout=$1 runs=${2:-5} lines=${LINES_N:-200000}
input=$(mktemp --suffix=.tegrastats) ; trap 'rm -f "$input"' EXIT
grep -v '^#' "$here/core/src/test/resources/telemetry/tegrastats/samples.txt" | grep -v '^[[:space:]]*$' > "$input.one"
python3 -c "import itertools,sys; l=open(sys.argv[1]).read().splitlines(); sys.stdout.write(''.join(x+'\n' for x in itertools.islice(itertools.cycle(l), int(sys.argv[2]))))" "$input.one" "$lines" > "$input"
rm -f "$input.one"
measure() { # label, command...: median wall seconds and max RSS (KiB) over $runs runs
  local label=$1; shift
  local walls=() rss=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o /tmp/stats-e2e.time "$@" > /dev/null 2>/tmp/stats-e2e.err || true
    read -r w m < /tmp/stats-e2e.time
    walls+=("$w"); [ "$m" -gt "$rss" ] && rss=$m
  done
  printf '%-40s median %6.2f s  (runs: %s)  max RSS %d MiB\n' "$label" \
    "$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "${walls[*]}" $((rss / 1024))
}
jar="$here/cli/target/k3gpu.jar"
measure "jetson-stats decoder -> JSON" python3 "$here/bench/scripts/jetson-stats-decode.py" "$checkout" "$input"
measure "k3gpu stats parse -o json" "$here/k3gpu" stats parse "$input" --source tegrastats -o json
measure "k3gpu stats parse -o text" "$here/k3gpu" stats parse "$input" --source tegrastats -o text
