#!/usr/bin/python3 -S
"""systemctl and journalctl of a k3gpu lab node (lab nodes run no systemd).

Installed as /usr/local/bin/systemctl and /usr/local/bin/journalctl (links to k3lab-tool, which runs
this module compiled; argv[0] selects the tool).

Services are small KEY=VALUE files, /etc/k3gpu-lab/services/<name>.service-sh (shell syntax, no code):
  DESCRIPTION="Docker Application Container Engine"   # for the journal and `status`
  EXEC_START="/usr/local/bin/dockerd"                  # command line started, detached, as the main process
  NOTIFY=1                                             # optional, Type=notify: start succeeds once the service
                                                       # sends READY=1 to $NOTIFY_SOCKET (sd_notify), as dockerd does
  READY_FILE="/run/k3gpu-lab/services/k3s/ready"       # optional: start succeeds once this exists
  START_TIMEOUT=20                                     # seconds (default 20)
  STOP_TIMEOUT=10                                      # seconds before SIGKILL (default 10)
  UNIT_FILE="/lib/systemd/system/docker.service"       # only shown by `status` / `enable`
A service is enabled when /etc/k3gpu-lab/services/enabled/<name> exists; the node's init starts the enabled ones at
boot (`systemctl k3gpu-lab-boot`). The main process writes its output to /var/log/k3gpu-lab/<name>.log, which is
also where this systemctl writes its own journal lines; `journalctl -u <name>` shows that file. Run state lives in
/run/k3gpu-lab/services/<name>/ (pid, failed marker). No Restart= emulation: a failed start stays failed.
Environment given to services: K3GPU_LAB_JOURNAL=1 (the daemon then writes journal-style lines itself).
"""
# Only what every call needs is imported here: nodes call systemctl often (facts, install script, runtime checks),
# and shlex, subprocess and signal would double the cost of a state query. The rest is imported where it is used.
import os
import sys
import time

FSROOT = os.environ.get("K3GPU_LAB_FSROOT", "")


def P(path):
    return FSROOT + path


SERVICES_DIR = "/etc/k3gpu-lab/services"
ENABLED_DIR = SERVICES_DIR + "/enabled"
RUN_DIR = "/run/k3gpu-lab/services"
LOG_DIR = "/var/log/k3gpu-lab"


def hostname():
    try:
        with open("/proc/sys/kernel/hostname") as f:
            return f.read().strip()
    except OSError:
        return "localhost"


def journal_line(ident, pid, msg):
    return "%s %s %s[%d]: %s\n" % (time.strftime("%b %d %H:%M:%S"), hostname(), ident, pid, msg)


def log(name, msg):
    os.makedirs(P(LOG_DIR), exist_ok=True)
    with open(P(LOG_DIR) + "/" + name + ".log", "a") as f:
        f.write(journal_line("systemd", 1, msg))


def unit(arg):
    return arg[:-len(".service")] if arg.endswith(".service") else arg


def load(name):
    path = P(SERVICES_DIR) + "/" + name + ".service-sh"
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    svc = {"DESCRIPTION": name + ".service", "START_TIMEOUT": "20", "STOP_TIMEOUT": "10",
           "UNIT_FILE": "/lib/systemd/system/" + name + ".service"}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        import shlex
        parts = shlex.split(value, comments=True)
        svc[key.strip()] = parts[0] if len(parts) == 1 else " ".join(parts)
    return svc


def defined(name):
    return os.path.isfile(P(SERVICES_DIR) + "/" + name + ".service-sh")


def run_dir(name):
    return P(RUN_DIR) + "/" + name


def read_pid(name):
    try:
        with open(run_dir(name) + "/pid") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def alive(pid):
    if pid is None or pid <= 0:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def state(name):
    pid = read_pid(name)
    if alive(pid):
        return "active"
    if os.path.exists(run_dir(name) + "/failed") or pid is not None:
        return "failed"  # start failed, or the main process died without `stop`
    return "inactive"


def rm(path):
    try:
        os.remove(path)
    except OSError:
        pass


def job_failed(name, why):
    sys.stderr.write('Job for %s.service failed because %s.\nSee "systemctl status %s.service" and '
                     '"journalctl -xeu %s.service" for details.\n' % (name, why, name, name))


def start(name, svc):
    import shlex
    import signal
    import subprocess
    if state(name) == "active":
        return 0
    d = run_dir(name)
    os.makedirs(d, exist_ok=True)
    rm(d + "/failed")
    rm(d + "/pid")
    ready = svc.get("READY_FILE")
    if ready:
        rm(P(ready))
    notify = None
    if svc.get("NOTIFY") == "1":
        # Type=notify: systemd's notification socket (any process of the service may send READY=1 here)
        import socket
        path = d + "/notify"
        rm(path)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
        notify.bind(path)
    desc = svc["DESCRIPTION"]
    log(name, "Starting %s..." % desc)
    os.makedirs(P(LOG_DIR), exist_ok=True)
    out = open(P(LOG_DIR) + "/" + name + ".log", "ab")
    env = dict(os.environ)
    env["K3GPU_LAB_JOURNAL"] = "1"
    if notify:
        env["NOTIFY_SOCKET"] = d + "/notify"
    try:
        p = subprocess.Popen(shlex.split(svc["EXEC_START"]), stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                             start_new_session=True, close_fds=True, cwd="/", env=env)
    except OSError as e:
        out.close()
        log(name, "%s.service: Failed to execute %s: %s" % (name, svc["EXEC_START"], e.strerror))
        log(name, "%s.service: Failed with result 'exit-code'." % name)
        log(name, "Failed to start %s." % desc)
        open(d + "/failed", "w").close()
        job_failed(name, "the control process exited with error code")
        return 1
    out.close()
    with open(d + "/pid", "w") as f:
        f.write("%d\n" % p.pid)
    deadline = time.monotonic() + float(svc["START_TIMEOUT"])
    delay = 0.002
    while True:
        rc = p.poll()
        if rc is not None:
            if rc == 0 and not ready and not notify:
                break  # Type=oneshot-like: exited successfully
            rm(d + "/pid")
            open(d + "/failed", "w").close()
            status = "%d/%s" % (rc, "FAILURE" if rc > 0 else signal.Signals(-rc).name)
            log(name, "%s.service: Main process exited, code=exited, status=%s" % (name, status))
            log(name, "%s.service: Failed with result 'exit-code'." % name)
            log(name, "Failed to start %s." % desc)
            job_failed(name, "the control process exited with error code")
            return 1
        if notify:
            if notified(notify):
                break
        elif not ready or os.path.exists(P(ready)):
            break
        if time.monotonic() > deadline:
            log(name, "%s.service: start operation timed out. Terminating." % name)
            p.kill()
            p.wait()
            rm(d + "/pid")
            open(d + "/failed", "w").close()
            log(name, "%s.service: Failed with result 'timeout'." % name)
            log(name, "Failed to start %s." % desc)
            job_failed(name, "a timeout was exceeded")
            return 1
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    if notify:
        notify.close()
        rm(d + "/notify")
    with open(d + "/started", "w") as f:
        f.write(time.strftime("%a %Y-%m-%d %H:%M:%S %Z") + "\n")
    log(name, "Started %s." % desc)
    return 0


def notified(sock):
    """Whether READY=1 came on the notification socket (sd_notify's newline-separated assignments)."""
    while True:
        try:
            msg = sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return False
        if b"READY=1" in msg.split(b"\n"):
            return True


def stop(name, svc):
    import signal
    d = run_dir(name)
    pid = read_pid(name)
    if alive(pid):
        log(name, "Stopping %s..." % svc["DESCRIPTION"])
        try:
            os.kill(pid, signal.SIGTERM)
            os.kill(pid, signal.SIGCONT)  # as systemd does, so that a stopped (SIGSTOP) main process ends too
        except OSError:
            pass
        deadline = time.monotonic() + float(svc["STOP_TIMEOUT"])
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        if alive(pid):
            log(name, "%s.service: State 'stop-sigterm' timed out. Killing." % name)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            while alive(pid):
                time.sleep(0.01)
        log(name, "%s.service: Deactivated successfully." % name)
        log(name, "Stopped %s." % svc["DESCRIPTION"])
    rm(d + "/pid")
    rm(d + "/failed")
    rm(d + "/started")
    return 0


def enabled(name):
    return os.path.exists(P(ENABLED_DIR) + "/" + name)


def status(name, svc):
    st = state(name)
    pid = read_pid(name)
    dot = {"active": "\u25cf", "failed": "\u00d7"}.get(st, "\u25cb")
    print("%s %s.service - %s" % (dot, name, svc["DESCRIPTION"]))
    print("     Loaded: loaded (%s; %s; vendor preset: enabled)"
          % (svc["UNIT_FILE"], "enabled" if enabled(name) else "disabled"))
    if st == "active":
        try:
            with open(run_dir(name) + "/started") as f:
                since = f.read().strip()
        except OSError:
            since = "?"
        print("     Active: active (running) since %s" % since)
        comm = "?"
        try:
            with open("/proc/%d/comm" % pid) as f:
                comm = f.read().strip()
        except OSError:
            pass
        print("   Main PID: %d (%s)" % (pid, comm))
    elif st == "failed":
        print("     Active: failed (Result: exit-code)")
    else:
        print("     Active: inactive (dead)")
    lines = tail(name, 10)
    if lines:
        print()
        sys.stdout.write("".join(lines))
    return 0 if st == "active" else 3


def tail(name, n):
    try:
        with open(P(LOG_DIR) + "/" + name + ".log", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return []
    return lines if n is None else lines[-n:] if n > 0 else []


def systemctl(argv):
    flags = [a for a in argv if a.startswith("-")]
    args = [a for a in argv if not a.startswith("-")]
    quiet = "-q" in flags or "--quiet" in flags
    now = "--now" in flags
    if not args:
        sys.stderr.write("systemctl (k3gpu lab): a command is required\n")
        return 1
    cmd, units = args[0], [unit(a) for a in args[1:]]
    if cmd == "daemon-reload":
        return 0
    if cmd == "is-system-running":
        print("running")
        return 0
    if cmd == "k3gpu-lab-boot":
        rc = 0
        names = sorted(f for f in os.listdir(P(ENABLED_DIR))) if os.path.isdir(P(ENABLED_DIR)) else []
        for name in names:
            svc = load(name)
            if svc is not None:
                rc |= start(name, svc)
        return rc
    if cmd not in ("start", "stop", "restart", "try-restart", "reload-or-restart", "status", "is-active",
                   "is-failed", "is-enabled", "enable", "disable"):
        sys.stderr.write("systemctl (k3gpu lab): unsupported command '%s'\n" % cmd)
        return 1
    if not units:
        sys.stderr.write("Too few arguments.\n")
        return 1
    rc = 0
    for name in units:
        # a state query needs to know only that the service is defined, not what it runs
        svc = (defined(name) or None) if cmd in ("is-active", "is-failed", "is-enabled") else load(name)
        if cmd == "is-active":
            st = state(name) if svc else "inactive"
            if not quiet:
                print(st)
            rc = rc or (0 if st == "active" else 3)
            continue
        if cmd == "is-failed":
            st = state(name) if svc else "inactive"
            if not quiet:
                print(st)
            rc = rc or (0 if st == "failed" else 1)
            continue
        if svc is None:
            if cmd == "status":
                sys.stderr.write("Unit %s.service could not be found.\n" % name)
                rc = 4
            elif cmd == "is-enabled":
                sys.stderr.write("Failed to get unit file state for %s.service: No such file or directory\n" % name)
                rc = 1
            elif cmd in ("enable", "disable"):
                sys.stderr.write("Failed to %s unit: Unit file %s.service does not exist.\n" % (cmd, name))
                rc = 1
            else:
                verb = {"try-restart": "try-restart", "reload-or-restart": "reload-or-restart"}.get(cmd, cmd)
                sys.stderr.write("Failed to %s %s.service: Unit %s.service not found.\n" % (verb, name, name))
                rc = 5
            continue
        if cmd == "start":
            rc = rc or start(name, svc)
        elif cmd == "stop":
            rc = rc or stop(name, svc)
        elif cmd in ("restart", "reload-or-restart"):
            stop(name, svc)
            rc = rc or start(name, svc)
        elif cmd == "try-restart":
            if state(name) == "active":
                stop(name, svc)
                rc = rc or start(name, svc)
        elif cmd == "status":
            rc = rc or status(name, svc)
        elif cmd == "is-enabled":
            e = enabled(name)
            if not quiet:
                print("enabled" if e else "disabled")
            rc = rc or (0 if e else 1)
        elif cmd == "enable":
            if not enabled(name):
                os.makedirs(P(ENABLED_DIR), exist_ok=True)
                open(P(ENABLED_DIR) + "/" + name, "w").close()
                sys.stderr.write("Created symlink /etc/systemd/system/multi-user.target.wants/%s.service \u2192 %s.\n"
                                 % (name, svc["UNIT_FILE"]))
            if now:
                rc = rc or start(name, svc)
        elif cmd == "disable":
            if enabled(name):
                rm(P(ENABLED_DIR) + "/" + name)
                sys.stderr.write("Removed /etc/systemd/system/multi-user.target.wants/%s.service.\n" % name)
            if now:
                rc = rc or stop(name, svc)
    return rc


def journalctl(argv):
    units, n, follow = [], None, False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--unit="):
            units.append(unit(a.split("=", 1)[1]))
        elif a == "--unit":
            i += 1
            units.append(unit(argv[i]))
        elif a.startswith("--lines="):
            n = int(a.split("=", 1)[1])
        elif a == "--lines":
            i += 1
            n = int(argv[i])
        elif a == "--follow":
            follow = True
        elif a.startswith("--"):
            pass  # --no-pager, --boot, --since ... accepted and ignored
        elif a.startswith("-") and len(a) > 1:
            letters = a[1:]
            j = 0
            while j < len(letters):
                c = letters[j]
                if c in "un":
                    value = letters[j + 1:] or (argv[i + 1] if i + 1 < len(argv) else "")
                    if not letters[j + 1:]:
                        i += 1
                    if c == "u":
                        units.append(unit(value))
                    else:
                        n = int(value)
                    break
                if c == "f":
                    follow = True
                if c == "e" and n is None:
                    n = 1000
                j += 1
        i += 1
    if not units:
        sys.stderr.write("journalctl (k3gpu lab): only -u UNIT is supported\n")
        return 1
    lines = []
    for name in units:
        lines.extend(tail(name, None))
    if n is not None:
        lines = lines[-n:] if n > 0 else []
    if not lines and not follow:
        print("-- No entries --")
        return 0
    sys.stdout.write("".join(lines))
    sys.stdout.flush()
    if follow and len(units) == 1:
        path = P(LOG_DIR) + "/" + units[0] + ".log"
        pos = os.path.getsize(path) if os.path.exists(path) else 0
        try:
            while True:
                time.sleep(0.2)
                if os.path.exists(path) and os.path.getsize(path) > pos:
                    with open(path, errors="replace") as f:
                        f.seek(pos)
                        sys.stdout.write(f.read())
                        pos = f.tell()
                    sys.stdout.flush()
        except (KeyboardInterrupt, BrokenPipeError):
            return 0
    return 0


def main():
    tool = os.path.basename(sys.argv[0])
    try:
        if tool == "journalctl":
            return journalctl(sys.argv[1:])
        return systemctl(sys.argv[1:])
    except BrokenPipeError:
        return 0


def run():
    import _signal  # the C module: signal's enums cost more than a whole state query
    for s in (_signal.SIGTERM, _signal.SIGHUP):
        _signal.signal(s, lambda *_: sys.exit(143))
    sys.exit(main())


if __name__ == "__main__":
    run()
