#!/usr/bin/env bash
# stats parse end to end (JVM start included) against jetson-stats' decoder, on the same 200,000 tegrastats lines:
# the 27 fixture lines (every JetPack format) cycled. Wall time and peak RSS of each, median of RUNS runs.
# Usage: bench/scripts/stats-parse-e2e.sh JETSON_STATS_CHECKOUT [RUNS]   (after: mvn -B -o -DskipTests package -pl cli -am)
# K3GPU_CP replaces the classpath (e.g. an older k3gpu.jar, to measure before and after in the same run).
# k3gpu runs three ways: `java -cp` with the JVM's defaults (as ./k3gpu ran stats before issue 16), with the options
# ./k3gpu now gives `stats parse` (C1, serial GC) on the java on PATH, and through ./k3gpu itself (the newest JDK it
# finds, with its class cache: one run first makes the cache; K3GPU_LAUNCHER names another, e.g. a distribution's
# bin/k3gpu). Each line: wall and CPU (user + sys, all threads)
# medians, max RSS, and the load average before the runs (a shared machine: compare CPU, wall only when quiet).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
checkout=$1 runs=${2:-5} lines=${LINES_N:-200000}
input=$(mktemp --suffix=.tegrastats) ; trap 'rm -f "$input"' EXIT
grep -v '^#' "$here/core/src/test/resources/telemetry/tegrastats/samples.txt" | grep -v '^[[:space:]]*$' > "$input.one"
python3 -c "import itertools,sys; l=open(sys.argv[1]).read().splitlines(); sys.stdout.write(''.join(x+'\n' for x in itertools.islice(itertools.cycle(l), int(sys.argv[2]))))" "$input.one" "$lines" > "$input"
rm -f "$input.one"
measure() { # label, command...: median wall and CPU seconds and max RSS (KiB) over $runs runs
  local label=$1; shift
  local walls=() cpus=() rss=0 load
  load=$(cut -d' ' -f1 /proc/loadavg)
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %U %S %M' -o /tmp/stats-e2e.time "$@" > /dev/null 2>/tmp/stats-e2e.err || true
    read -r w u s m < /tmp/stats-e2e.time
    walls+=("$w"); cpus+=("$(echo "$u + $s" | bc)"); [ "$m" -gt "$rss" ] && rss=$m
  done
  median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  printf '%-44s wall median %6.2f s (%s)  CPU median %6.2f s (%s)  max RSS %d MiB  load %s\n' "$label" \
    "$(median "${walls[@]}")" "${walls[*]}" "$(median "${cpus[@]}")" "${cpus[*]}" $((rss / 1024)) "$load"
}
cp=${K3GPU_CP:-$here/cli/target/k3gpu.jar}
parse=(io.k3gpu.cli.K3gpu stats parse "$input" --source tegrastats)
launcher=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC) # what ./k3gpu gives stats parse
[ "${JETSON_RUNS:-$runs}" = 0 ] || runs=${JETSON_RUNS:-$runs} \
  measure "jetson-stats decoder -> JSON" python3 "$here/bench/scripts/jetson-stats-decode.py" "$checkout" "$input"
# ROWS=defaults or ROWS=options: only those k3gpu rows (and no ./k3gpu rows), e.g. for an older jar
for o in json text; do
  [ "${ROWS:-all}" = options ] || measure "k3gpu -o $o, JVM defaults" java -cp "$cp" "${parse[@]}" -o "$o"
  [ "${ROWS:-all}" = defaults ] || measure "k3gpu -o $o, ./k3gpu's options, $(java -version 2>&1 | head -1 | cut -d'"' -f2)" \
    java "${launcher[@]}" -cp "$cp" "${parse[@]}" -o "$o"
done
k3gpu=${K3GPU_LAUNCHER:-$here/k3gpu} # or a distribution's bin/k3gpu
if [ -z "${K3GPU_CP:-}" ] && [ "${ROWS:-all}" = all ]; then
  "$k3gpu" stats parse "$input" --source tegrastats -o json > /dev/null # makes the class cache (JDK 25: AOT)
  sleep 20 # JDK 25 assembles its AOT cache in the background
  for o in json text; do
    measure "k3gpu -o $o, ./k3gpu (cache made)" "$k3gpu" stats parse "$input" --source tegrastats -o "$o"
  done
fi
