#!/usr/bin/env python3
"""CPU used by every process of this machine, summed by program, while it runs (stop it with Ctrl-C or SIGTERM).

Usage: python3 scripts/cpu-by-program.py > cpu.txt &  ...  kill %1
Every 0.4 s it reads utime and stime of each process in /proc; at the end it prints the CPU each program used since
the start (user and system), with how many processes it saw. Programs: java by main class or jar, python and sh by
script, the rest by executable. Processes that live less than 0.4 s are partly or wholly missed, so the total is
below what vmstat shows. Used for the CI breakdown in docs/benchmarks.md.
"""
import collections
import os
import signal
import sys
import time

JAVA_MARKERS = ("K3sServerMain", "surefire", "failsafe", "plexus-classworlds", "k3gpu.jar", "k3gpu-lab.jar")


def program(pid):
    try:
        cmd = [c.decode(errors="replace") for c in open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0") if c]
    except OSError:
        return None
    if not cmd:
        try:
            return "kthread:" + open("/proc/%s/comm" % pid).read().strip()
        except OSError:
            return None
    line, exe = " ".join(cmd), os.path.basename(cmd[0])
    if exe == "java":
        return "java:" + next((m for m in JAVA_MARKERS if m in line), "other")
    if exe.startswith("python") or exe in ("sh", "bash", "dash"):
        args = [c for c in cmd[1:] if not c.startswith("-")]
        return exe.rstrip("0123456789.") + ":" + (os.path.basename(args[0]) if args else "?")
    return exe


def main():
    seen = {}  # (pid, start time) -> [utime, stime, program, utime at start, stime at start]

    def sample():
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                fields = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            key, utime, stime = (pid, fields[19]), int(fields[11]), int(fields[12])
            if key in seen:
                seen[key][0], seen[key][1] = utime, stime
            else:
                name = program(pid)
                if name is not None:
                    seen[key] = [utime, stime, name, utime, stime]

    sample()
    for v in seen.values():
        v[3], v[4] = v[0], v[1]
    start = time.time()
    hz = os.sysconf("SC_CLK_TCK")

    def report(*_):
        user, system, count = collections.Counter(), collections.Counter(), collections.Counter()
        for u, s, name, u0, s0 in seen.values():
            user[name] += u - u0
            system[name] += s - s0
            count[name] += 1
        total = collections.Counter({n: user[n] + system[n] for n in user})
        print("total user %.1f s, system %.1f s over %.0f s" % (sum(user.values()) / hz, sum(system.values()) / hz,
                                                              time.time() - start))
        for name, t in total.most_common(45):
            print("%8.1f s  user %7.1f  system %6.1f  processes %5d  %s" % (
                t / hz, user[name] / hz, system[name] / hz, count[name], name))
        sys.stdout.flush()
        os._exit(0)

    signal.signal(signal.SIGTERM, report)
    signal.signal(signal.SIGINT, report)
    while True:
        time.sleep(0.4)
        sample()


if __name__ == "__main__":
    main()
