#!/usr/bin/env bash
# CPU and memory of an idle lab cluster (docs/benchmarks.md, issue 12 §2): a lab of two cpu-only nodes, K3s's server
# on node1 (embedded agent) and an agent on node2, both installed as K3s's quick start does; after SETTLE seconds,
# every process in the nodes' network namespaces (pods included) is sampled twice, SECONDS apart: CPU (utime+stime
# from /proc/PID/stat, in ticks of 1/100 s) and RSS, summed by program. Extra arguments go to the server, e.g.
#   sudo scripts/lab-idle-cpu.sh la8idle 202 60 60 --disable traefik --disable servicelb --disable metrics-server
# Needs root and lab-cli/target/k3gpu-lab.jar; the lab is removed at the end.
set -euo pipefail
id=$1 subnet=$2 settle=$3 secs=$4
shift 4
server_exec="server $*"
cd "$(dirname "$0")/.."
lab() { java -jar lab-cli/target/k3gpu-lab.jar lab "$@"; }
lab down --id "$id" >/dev/null 2>&1 || true
trap 'lab down --id "$id" >/dev/null 2>&1 || true' EXIT
lab up --id "$id" --subnet "$subnet" --profile cpu-only --nodes 2 >/dev/null
st=/run/k3gpu-lab/$id
on() { local ip=$1; shift; ssh -F /dev/null -i "$st/id_ed25519" -o UserKnownHostsFile="$st/known_hosts" \
  -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR root@"$ip" "$@"; }
s=10.213.$subnet.11 a=10.213.$subnet.12
on "$s" "curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC='$server_exec' sh -" >/dev/null
token=$(on "$s" cat /var/lib/rancher/k3s/server/node-token)
echo "$token" | on "$a" "read -r K3S_TOKEN && export K3S_TOKEN && curl -sfL https://get.k3s.io | K3S_URL=https://$s:6443 sh -" >/dev/null
sleep "$settle"
on "$s" "k3s kubectl get pods -A --no-headers" | awk '{print "pod:", $1, $2, $3, $4}'
netns=$(python3 -c "import json,os;print(' '.join(os.readlink('/proc/%d/ns/net' % n['pid']) for n in json.load(open('$st/state.json'))['nodes']))")
sample() {
  for p in /proc/[0-9]*; do
    n=$(readlink "$p/ns/net" 2>/dev/null) || continue
    case " $netns " in *" $n "*) ;; *) continue ;; esac
    read -r stat < "$p/stat" 2>/dev/null || continue
    rest=${stat##*) }; set -- $rest
    cmd=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null | cut -c1-60)
    rss=$(awk '/^VmRSS/ {print $2}' "$p/status" 2>/dev/null)
    echo "${p#/proc/} $(( ${12} + ${13} )) ${rss:-0} $cmd"
  done
}
sample > /tmp/"$id".t0
sleep "$secs"
sample > /tmp/"$id".t1
python3 - "$secs" /tmp/"$id".t0 /tmp/"$id".t1 <<'PY'
import sys, collections
secs = float(sys.argv[1])
def read(f):
    out = {}
    for line in open(f):
        pid, ticks, rss, cmd = (line.rstrip("\n").split(" ", 3) + [""])[:4]
        out[pid] = (int(ticks), int(rss), cmd)
    return out
t0, t1 = read(sys.argv[2]), read(sys.argv[3])
by = collections.defaultdict(lambda: [0, 0, 0])
for pid, (ticks, rss, cmd) in t1.items():
    name = cmd.split(" ")[0].rsplit("/", 1)[-1] or "?"
    if name in ("java", "python3", "sh") and len(cmd.split(" ")) > 1:
        name += " " + " ".join(a.rsplit("/", 1)[-1] for a in cmd.split(" ")[1:3])
    d = ticks - t0[pid][0] if pid in t0 else 0
    by[name][0] += d; by[name][1] += rss; by[name][2] += 1
total = [sum(v[0] for v in by.values()), sum(v[1] for v in by.values()), sum(v[2] for v in by.values())]
for name, (d, rss, n) in sorted(by.items(), key=lambda kv: -kv[1][0]):
    print("%6d ticks %8.1f MB %3d x %s" % (d, rss / 1024, n, name))
print("total: %d ticks in %.0f s (%.1f%% of one core), %.1f MB RSS, %d processes"
      % (total[0], secs, total[0] / secs, total[1] / 1024, total[2]))
PY
