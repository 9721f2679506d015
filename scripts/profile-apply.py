#!/usr/bin/env python3
"""Where the CPU of one `k3gpu apply` on a lab goes (docs/benchmarks.md, "Fleet"). As root, on a cgroup-v1 host.

    scripts/profile-apply.py JAR AGENTS [--runs R] [--java-opts "OPTS"] [--perf]

Brings up the bench's lab (id benchfleet, subnet 250: 1 server + AGENTS agents cycling jetson-nano, orin-nano, dgpu,
with the lab scripts of JAR), does an unmeasured apply and reset, then R rounds of: apply, reset. Each apply's CPU
time is counted exactly, per group, by cgroup v1 cpuacct: the controller JVM ("ctl"), the first server's node
("server": its sshd, scripts and the simulated K3s server's JVM), the agents' nodes ("agents", also shown per agent),
the install mirror ("mirror"); every process a node starts stays in its node's group. Other work on the machine is
not counted (but shares its cores: "wall" grows under load). With --perf, `perf record -a` samples at 4 kHz and the
samples are attributed to the groups by perf's fork events, by program name (comm), as CPU seconds.
The lab is left up (k3gpu lab down --id benchfleet); the groups stay under /sys/fs/cgroup/cpuacct/k3gpu-profile.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

LAB = "benchfleet"
STATE = "/run/k3gpu-lab/" + LAB
CG = "/sys/fs/cgroup/cpuacct/k3gpu-profile"
GROUPS = ("ctl", "server", "agents", "mirror")
PROFILES = ("jetson-nano", "orin-nano", "dgpu")
HZ = 4000


def k3gpu(jar, *args, java_opts=()):
    return subprocess.run(["java", *java_opts, "-jar", jar, *args], capture_output=True, text=True)


def pid_ns_members(pid):
    ns = os.readlink("/proc/%d/ns/pid" % pid)
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.readlink("/proc/%s/ns/pid" % d) == ns:
                    out.append(int(d))
            except OSError:
                pass
    return out


def move(pid, group):
    try:
        with open("%s/%s/cgroup.procs" % (CG, group), "w") as f:
            f.write(str(pid))
    except OSError:
        pass  # the process just ended


def usage():
    return {g: int(open("%s/%s/cpuacct.usage" % (CG, g)).read()) / 1e9 for g in GROUPS}


def cluster_file(state, path):
    lines = ["cluster:", "  installUrl: http://%s:8090/install.sh" % state["bridgeIp"], "  readyTimeout: 5m",
             "  kubeconfig: {path: kubeconfig, context: bench}", "ssh:", "  key: " + state["keyFile"],
             "  knownHosts: " + state["knownHostsFile"], "  sshConfig: /dev/null", "  strictHostKeyChecking: yes",
             "  connectTimeout: 30s", "hosts:"]
    for i, n in enumerate(state["nodes"]):
        lines.append("  - {name: %s, address: %s, role: %s}"
                     % (n["name"], n["ip"], "server, gpu: none" if i == 0 else "agent, gpu: auto"))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def breakdown(data, roots):
    """CPU seconds per (group, program) from perf samples; a process belongs to the group of its first known ancestor."""
    text = subprocess.run(["perf", "script", "-i", data, "--show-task-events", "-F", "comm,pid,tid"],
                          capture_output=True, text=True).stdout
    parent, samples = {}, collections.Counter()
    for line in text.splitlines():
        m = re.search(r"PERF_RECORD_FORK\((\d+):(\d+)\):\((\d+):\d+\)", line)
        if m:
            if m.group(1) == m.group(2):  # a new process (a new thread has a tid of its own)
                parent[int(m.group(1))] = int(m.group(3))
        elif "PERF_RECORD" not in line:
            m = re.match(r"\s*(.+?)\s+(\d+)/\d+\s*$", line)
            if m:
                samples[(m.group(1), int(m.group(2)))] += 1
    result = collections.Counter()
    for (comm, pid), n in samples.items():
        p, hops = pid, 0
        while p is not None and p not in roots and hops < 100:
            p, hops = parent.get(p), hops + 1
        if p in roots:
            result[(roots[p], comm)] += n / HZ
    return result


def main():
    a = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    a.add_argument("jar")
    a.add_argument("agents", type=int)
    a.add_argument("--runs", type=int, default=2)
    a.add_argument("--java-opts", default="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
                   help="the measured apply's JVM options (default: the ./k3gpu launcher's)")
    a.add_argument("--perf", action="store_true")
    o = a.parse_args()
    if not os.path.isdir("/sys/fs/cgroup/cpuacct"):
        sys.exit("needs cgroup v1's cpuacct controller at /sys/fs/cgroup/cpuacct")
    profiles = ["cpu-only"] + [PROFILES[i % len(PROFILES)] for i in range(o.agents)]
    k3gpu(o.jar, "lab", "down", "--id", LAB)
    up = k3gpu(o.jar, "lab", "up", "--id", LAB, "--subnet", "250", "--nodes", str(len(profiles)), "--profile",
               ",".join(profiles), "-o", "json")
    if up.returncode != 0:
        sys.exit("lab up failed: " + up.stderr)
    state = json.loads(up.stdout)
    for g in GROUPS:
        os.makedirs("%s/%s" % (CG, g), exist_ok=True)
    roots = {}
    for i, n in enumerate(state["nodes"]):
        for p in pid_ns_members(n["pid"]):
            move(p, "server" if i == 0 else "agents")
            roots[p] = "server" if i == 0 else "agent"
    mirror = int(open(STATE + "/k3s-mirror.pid").read())
    move(mirror, "mirror")
    roots[mirror] = "mirror"
    work = "/tmp/k3gpu-profile-apply"
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    cluster_file(state, "cluster.yaml")
    for verb in ("apply", "reset"):  # unmeasured: the first K3s server start pays for cold caches
        k3gpu(o.jar, verb, "-f", "cluster.yaml", "-o", "json")
    java_opts = o.java_opts.split()
    for r in range(1, o.runs + 1):
        perf = None
        if o.perf:
            perf = subprocess.Popen(["perf", "record", "-a", "-F", str(HZ), "-e", "cpu-clock", "-o", "perf.data"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        load = open("/proc/loadavg").read().split()[0]
        before, t0 = usage(), time.time()
        p = subprocess.Popen(["sh", "-c", 'echo $$ > %s/ctl/cgroup.procs; exec "$@"' % CG, "sh", "java", *java_opts,
                              "-jar", o.jar, "apply", "-f", "cluster.yaml", "-o", "json"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        out = p.communicate()[0]
        wall, after = time.time() - t0, usage()
        if perf:
            perf.send_signal(2)
            perf.wait()
        cpu = {g: after[g] - before[g] for g in GROUPS}
        summary = json.loads(out.strip().splitlines()[-1])
        print("run %d (load %s): apply %.1f s (process %.1f s), CPU s: ctl %.2f, server %.2f, agents %.2f "
              "(%.3f per agent), mirror %.3f" % (r, load, summary["elapsedMs"] / 1000, wall, cpu["ctl"], cpu["server"],
                                                cpu["agents"], cpu["agents"] / o.agents, cpu["mirror"]))
        if perf:
            roots[p.pid] = "ctl"
            for (group, comm), s in sorted(breakdown("perf.data", roots).items(), key=lambda kv: -kv[1]):
                if s >= 0.005:
                    print("  %-7s %-16s %6.3f" % (group, comm, s / o.agents if group == "agent" else s)
                          + (" per agent" if group == "agent" else ""))
        k3gpu(o.jar, "reset", "-f", "cluster.yaml", "-o", "json")


if __name__ == "__main__":
    main()
