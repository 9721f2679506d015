#!/usr/bin/env bash
# stats parse end to end (JVM start included) against jetson-stats' decoder, on the same 200,000 tegrastats lines:
# the 27 fixture lines (every JetPack format) cycled. Wall time and peak RSS of each, median of RUNS runs.
# Usage: bench/scripts/stats-parse-e2e.sh JETSON_STATS_CHECKOUT [RUNS]   (after: mvn -B -o -DskipTests package -pl cli -am)
# K3GPU_CP replaces the classpath (e.g. a directory of other parser classes before the jar, to compare parsers).
# stats is run as ./k3gpu runs it: the JVM's default options.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
checkout=$1 runs=${2:-5} lines=${LINES_N:-200000}
input=$(mktemp --suffix=.tegrastats) ; trap 'rm -f "$input"' EXIT
grep -v '^#' "$here/core/src/test/resources/telemetry/tegrastats/samples.txt" | grep -v '^[[:space:]]*$' > "$input.one"
python3 -c "import itertools,sys; l=open(sys.argv[1]).read().splitlines(); sys.stdout.write(''.join(x+'\n' for x in itertools.islice(itertools.cycle(l), int(sys.argv[2]))))" "$input.one" "$lines" > "$input"
rm -f "$input.one"
measure() { # label, command...: median wall seconds and max RSS (KiB) over $runs runs
  local label=$1; shift
  local walls=() cpus=() rss=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %U %S %M' -o /tmp/stats-e2e.time "$@" > /dev/null 2>/tmp/stats-e2e.err || true
    read -r w u s m < /tmp/stats-e2e.time
    walls+=("$w"); cpus+=("$(echo "$u + $s" | bc)"); [ "$m" -gt "$rss" ] && rss=$m
  done
  median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  printf '%-34s wall median %6.2f s (%s)  CPU median %6.2f s (%s)  max RSS %d MiB\n' "$label" \
    "$(median "${walls[@]}")" "${walls[*]}" "$(median "${cpus[@]}")" "${cpus[*]}" $((rss / 1024))
}
cp=${K3GPU_CP:-$here/cli/target/k3gpu.jar}
measure "jetson-stats decoder -> JSON" python3 "$here/bench/scripts/jetson-stats-decode.py" "$checkout" "$input"
measure "k3gpu stats parse -o json" java -cp "$cp" io.k3gpu.cli.K3gpu stats parse "$input" --source tegrastats -o json
measure "k3gpu stats parse -o text" java -cp "$cp" io.k3gpu.cli.K3gpu stats parse "$input" --source tegrastats -o text
