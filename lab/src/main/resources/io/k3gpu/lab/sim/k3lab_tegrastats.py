#!/usr/bin/python3 -S
"""tegrastats of a k3gpu lab Jetson node: replays recorded real tegrastats lines of the node's board.

Lines come from /usr/local/lib/k3gpu-lab/tegrastats/root.txt (when run as root: real tegrastats adds frequencies,
IRAM, APE... then) or user.txt, cycling; a leading "MM-DD-YYYY HH:MM:SS " timestamp (JetPack 5+) is replaced by the
current time. Options as the real tool: --interval MS (default 1000), --logfile F, --start (daemonize; needs
--logfile to keep the output), --stop (stop every running tegrastats), --verbose, --help. Exits 0 on
SIGTERM/SIGINT/SIGHUP and when its output is closed.
"""
import os
import re
import signal
import sys
import time

FSROOT = os.environ.get("K3GPU_LAB_FSROOT", "")
DATA = FSROOT + "/usr/local/lib/k3gpu-lab/tegrastats"
STAMP = re.compile(r"^\d\d-\d\d-\d{4} \d\d:\d\d:\d\d ")

USAGE = """Usage: tegrastats [-option]
Options:
	--help                 : print this help screen
	--interval <millisec>  : sample the information in <milliseconds>
	--logfile  <filename>  : dump the output of tegrastats to <filename>
	--load_cfg <filename>  : load the information from <filename>
	--readall              : collect all stats including performance intensive stats
	--save_cfg <filename>  : save the information to <filename>
	--start                : run tegrastats as a daemon process in the background
	--stop                 : stop any running instances of tegrastats
	--verbose              : print verbose message
"""


def lines():
    names = ["root.txt", "user.txt"] if os.geteuid() == 0 else ["user.txt", "root.txt"]
    for name in names:
        try:
            with open(os.path.join(DATA, name)) as f:
                found = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
            if found:
                return found
        except OSError:
            pass
    sys.stderr.write("tegrastats: no recorded samples for this board\n")
    sys.exit(1)


def stop_others():
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() == "tegrastats":
                    os.kill(int(pid), signal.SIGTERM)
        except OSError:
            pass


def quit_clean(*_):
    try:
        sys.stdout.flush()
    except Exception:
        pass
    os._exit(0)


def main(argv):
    interval, logfile, start, verbose = 1000, None, False, False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--help", "-h"):
            sys.stdout.write(USAGE)
            return 0
        if a == "--interval" and i + 1 < len(argv):
            i += 1
            try:
                interval = max(1, int(argv[i]))
            except ValueError:
                sys.stderr.write(USAGE)
                return 1
        elif a == "--logfile" and i + 1 < len(argv):
            i += 1
            logfile = argv[i]
        elif a == "--start":
            start = True
        elif a == "--stop":
            stop_others()
            return 0
        elif a == "--verbose":
            verbose = True
        elif a in ("--load_cfg", "--save_cfg") and i + 1 < len(argv):
            i += 1
        elif a == "--readall":
            pass
        else:
            sys.stderr.write(USAGE)
            return 1
        i += 1
    samples = lines()
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, quit_clean)
    if start:
        if os.fork() > 0:
            return 0
        os.setsid()
        if os.fork() > 0:
            os._exit(0)
        fd = os.open(logfile if logfile else "/dev/null", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(os.open("/dev/null", os.O_RDWR), 0)
        os.dup2(os.open("/dev/null", os.O_WRONLY), 2)
        out = sys.stdout
    elif logfile:
        out = open(logfile, "a")
    else:
        out = sys.stdout
    if verbose:
        sys.stderr.write("tegrastats: sampling every %d ms (k3gpu lab replay)\n" % interval)
    n = 0
    try:
        while True:
            line = samples[n % len(samples)]
            if STAMP.match(line):
                line = time.strftime("%m-%d-%Y %H:%M:%S ") + line[20:]
            out.write(line + "\n")
            out.flush()
            n += 1
            time.sleep(interval / 1000.0)
    except (BrokenPipeError, OSError):
        try:
            os.dup2(os.open("/dev/null", os.O_WRONLY), 1)
        except OSError:
            pass
        return 0


def run():
    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":
    run()
