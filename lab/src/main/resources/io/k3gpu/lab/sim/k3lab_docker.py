#!/usr/bin/python3 -S
"""Simulated Docker of a k3gpu lab node: `dockerd` and the `docker` CLI (links to k3lab-tool;
argv[0] selects the tool).

dockerd does what the real daemon does with its configuration and nothing else (no containers):
  * reads /etc/docker/daemon.json (or --config-file) at start; absent = defaults; refuses what the real one refuses
    (JSON syntax errors with Go's wording, unknown directives, a default-runtime that is not defined) and exits 1;
  * otherwise writes the effective configuration (default runtime, runtimes incl. the built-in runc ones) to
    /run/k3gpu-lab/docker/state.json, its pid to /run/docker.pid, creates /run/docker.sock and idles (as a tiny
    shell loop named dockerd) until SIGTERM.
The docker CLI answers from that state (the RUNNING daemon's view, not daemon.json), or fails like the real client
when the daemon is not running.

Fault injection: /etc/k3gpu-lab/faults/dockerd-fail-starts holding N > 0 makes the next start fail ("injected
fault") and decrements N; /etc/k3gpu-lab/faults/dockerd-start-delay-ms delays readiness by that many milliseconds;
/etc/k3gpu-lab/faults/dockerd-hang-starts holding N > 0 makes the next start wedge (decrementing N): the daemon
SIGSTOPs itself before it reports ready, and, as with a real stopped dockerd whose socket nobody reads, every docker
CLI call then waits for as long as the daemon stays stopped.
Versions and the machine identity come from /etc/k3gpu-lab/node.json.
"""
import json
import os
import socket
import sys
import time

FSROOT = os.environ.get("K3GPU_LAB_FSROOT", "")


def P(path):
    return FSROOT + path


NODE_JSON = "/etc/k3gpu-lab/node.json"
STATE_DIR = "/run/k3gpu-lab/docker"
STATE = STATE_DIR + "/state.json"
PIDFILE = "/run/docker.pid"
SOCK = "/run/docker.sock"
FAULT_FAIL = "/etc/k3gpu-lab/faults/dockerd-fail-starts"
FAULT_DELAY = "/etc/k3gpu-lab/faults/dockerd-start-delay-ms"
FAULT_HANG = "/etc/k3gpu-lab/faults/dockerd-hang-starts"
IDLE_SHELL = "/usr/local/lib/k3gpu-lab/shared/libexec/dockerd"  # a copy of /bin/dash, so that comm is "dockerd"
IDLE_SCRIPT = "/usr/local/lib/k3gpu-lab/shared/dockerd-idle.sh"
NOT_RUNNING = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"

# daemon.json directives the real dockerd (20.10 .. 27.x, Linux) knows; anything else is refused.
KNOWN_DIRECTIVES = set("""
allow-nondistributable-artifacts api-cors-header authorization-plugins bip bip6 bridge builder cdi-spec-dirs
cgroup-parent cluster-advertise cluster-store cluster-store-opts containerd containerd-namespace
containerd-plugins-namespace cpu-rt-period cpu-rt-runtime credential-spec data-root debug default-address-pools
default-cgroupns-mode default-gateway default-gateway-v6 default-ipc-mode default-network-opts default-runtime
default-shm-size default-ulimits dns dns-opts dns-search exec-opts exec-root experimental features fixed-cidr
fixed-cidr-v6 firewall-backend graph group host-gateway-ip host-gateway-ips hosts http-proxy https-proxy icc init
init-path insecure-registries ip ip-forward ip-forward-no-drop ip-masq ip6tables iptables ipv6 labels live-restore
log-driver log-format log-level log-opts max-concurrent-downloads max-concurrent-uploads max-download-attempts
metrics-addr min-api-version mtu no-new-privileges no-proxy node-generic-resources oom-score-adjust pidfile proxies
raw-logs registry-mirrors runtimes seccomp-profile selinux-enabled shutdown-timeout storage-driver storage-opts
swarm-default-advertise-addr tls tlscacert tlscert tlskey tlsverify userland-proxy userland-proxy-path userns-remap
""".split())


def node():
    try:
        with open(P(NODE_JSON)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def docker_info_of_node():
    d = node().get("docker") or {}
    return {"version": d.get("version", "27.5.1"), "apiVersion": d.get("apiVersion", "1.47"),
            "goVersion": d.get("goVersion", "go1.22.11"), "gitCommit": d.get("gitCommit", "4c9b3b0"),
            "clientBuild": d.get("clientBuild", "9f9e405")}


def major(version):
    try:
        return int(version.split(".")[0])
    except ValueError:
        return 0


# ---------------------------------------------------------------------------------------------- Go-style JSON check
class GoJsonError(Exception):
    pass


def quote_char(c):
    """Go's encoding/json quoteChar."""
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    esc = {"\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
           "\v": "\\v"}
    if c in esc:
        return "'" + esc[c] + "'"
    if ord(c) < 0x20 or ord(c) == 0x7f:
        return "'\\x%02x'" % ord(c)
    return "'" + c + "'"


def go_json_check(s):
    """Validates like Go's encoding/json scanner and raises GoJsonError with its exact message."""
    n = len(s)
    ws = " \t\r\n"

    def eof():
        raise GoJsonError("unexpected end of JSON input")

    def bad(i, ctx):
        raise GoJsonError("invalid character %s %s" % (quote_char(s[i]), ctx))

    def skip(i):
        while i < n and s[i] in ws:
            i += 1
        return i

    def string(i):  # s[i] == '"'
        i += 1
        while True:
            if i >= n:
                eof()
            c = s[i]
            if c == '"':
                return i + 1
            if c == "\\":
                i += 1
                if i >= n:
                    eof()
                if s[i] == "u":
                    for k in range(1, 5):
                        if i + k >= n:
                            eof()
                        if s[i + k] not in "0123456789abcdefABCDEF":
                            bad(i + k, "in \\u hexadecimal character escape")
                    i += 5
                    continue
                if s[i] not in '"\\/bfnrt':
                    bad(i, "in string escape code")
                i += 1
                continue
            if ord(c) < 0x20:
                bad(i, "in string literal")
            i += 1

    def number(i):
        if s[i] == "-":
            i += 1
            if i >= n:
                eof()
            if not s[i].isdigit():
                bad(i, "in numeric literal")
        if s[i] == "0":
            i += 1
        else:
            while i < n and s[i].isdigit():
                i += 1
        if i < n and s[i] == ".":
            i += 1
            if i >= n:
                eof()
            if not s[i].isdigit():
                bad(i, "after decimal point in numeric literal")
            while i < n and s[i].isdigit():
                i += 1
        if i < n and s[i] in "eE":
            i += 1
            if i < n and s[i] in "+-":
                i += 1
            if i >= n:
                eof()
            if not s[i].isdigit():
                bad(i, "in exponent of numeric literal")
            while i < n and s[i].isdigit():
                i += 1
        return i

    def literal(i, word):
        for k, ch in enumerate(word):
            if i + k >= n:
                eof()
            if s[i + k] != ch:
                bad(i + k, "in literal %s (expecting %s)" % (word, quote_char(ch)))
        return i + len(word)

    def value(i):
        i = skip(i)
        if i >= n:
            eof()
        c = s[i]
        if c == "{":
            i = skip(i + 1)
            if i >= n:
                eof()
            if s[i] == "}":
                return i + 1
            while True:
                if i >= n:
                    eof()
                if s[i] != '"':
                    bad(i, "looking for beginning of object key string")
                i = skip(string(i))
                if i >= n:
                    eof()
                if s[i] != ":":
                    bad(i, "after object key")
                i = skip(value(i + 1))
                if i >= n:
                    eof()
                if s[i] == ",":
                    i = skip(i + 1)
                    continue
                if s[i] == "}":
                    return i + 1
                bad(i, "after object key:value pair")
        if c == "[":
            i = skip(i + 1)
            if i >= n:
                eof()
            if s[i] == "]":
                return i + 1
            while True:
                i = skip(value(i))
                if i >= n:
                    eof()
                if s[i] == ",":
                    i += 1
                    continue
                if s[i] == "]":
                    return i + 1
                bad(i, "after array element")
        if c == '"':
            return string(i)
        if c == "-" or c.isdigit():
            return number(i)
        for word in ("true", "false", "null"):
            if c == word[0]:
                return literal(i, word)
        bad(i, "looking for beginning of value")

    i = skip(value(0))
    if i < n:
        bad(i, "after top-level value")


def go_type(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


class ConfigError(Exception):
    pass


def load_config(path):
    """Returns the daemon.json object ({} when absent or empty); raises ConfigError with dockerd's message."""
    prefix = "unable to configure the Docker daemon with file %s: " % path
    try:
        with open(P(path), "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(prefix + "open %s: %s" % (path, e.strerror.lower()))
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        return {}
    try:
        go_json_check(text)
    except GoJsonError as e:
        raise ConfigError(prefix + str(e))
    cfg = json.loads(text)
    if cfg is None:
        return {}
    if not isinstance(cfg, dict):
        raise ConfigError(prefix + "json: cannot unmarshal %s into Go value of type map[string]interface {}"
                          % go_type(cfg))
    unknown = sorted(k for k in cfg if k not in KNOWN_DIRECTIVES)
    if unknown:
        raise ConfigError(prefix + "the following directives don't match any configuration option: "
                          + ", ".join(unknown))
    rts = cfg.get("runtimes")
    if rts is not None:
        if not isinstance(rts, dict):
            raise ConfigError(prefix + "json: cannot unmarshal %s into Go struct field Config.runtimes of type "
                                       "map[string]types.Runtime" % go_type(rts))
        for name, rt in rts.items():
            if not isinstance(rt, dict):
                raise ConfigError(prefix + "json: cannot unmarshal %s into Go struct field Config.runtimes of "
                                           "type types.Runtime" % go_type(rt))
            if "path" in rt and not isinstance(rt["path"], str):
                raise ConfigError(prefix + "json: cannot unmarshal %s into Go struct field Runtime.runtimes.path "
                                           "of type string" % go_type(rt["path"]))
            for key in ("runtimeArgs", "args"):
                if key in rt and not (isinstance(rt[key], list) and all(isinstance(a, str) for a in rt[key])):
                    raise ConfigError(prefix + "json: cannot unmarshal %s into Go struct field Runtime.runtimes.%s "
                                               "of type []string" % (go_type(rt[key]), key))
    dr = cfg.get("default-runtime")
    if dr is not None and not isinstance(dr, str):
        raise ConfigError(prefix + "json: cannot unmarshal %s into Go struct field Config.default-runtime of type "
                                   "string" % go_type(dr))
    return cfg


def effective(cfg, version):
    """The runtimes map and default runtime the daemon runs with; raises ConfigError like the real validation."""
    configured = cfg.get("runtimes") or {}
    v = major(version)
    builtin = {"io.containerd.runc.v2": {"path": "runc"}, "runc": {"path": "runc"}}
    if v < 23:
        builtin["io.containerd.runtime.v1.linux"] = {"path": "runc"}
    for name in configured:
        if name in ("runc",) or (v >= 23 and name in builtin):
            raise ConfigError("failed to start daemon: runtime name '%s' is reserved" % name)
    runtimes = dict(builtin)
    for name, rt in configured.items():
        entry = {}
        if rt.get("path"):
            entry["path"] = rt["path"]
        args = rt.get("runtimeArgs") or rt.get("args")
        if args:
            entry["runtimeArgs"] = list(args)
        if not entry.get("path") and not rt.get("runtimeType"):
            if v >= 23:
                raise ConfigError("failed to start daemon: runtime %s: either a runtimeType or a path must be "
                                  "configured" % name)
        if rt.get("runtimeType"):
            entry["runtimeType"] = rt["runtimeType"]
        runtimes[name] = entry
    default = cfg.get("default-runtime") or "runc"
    if default not in runtimes:
        if v >= 23:
            raise ConfigError("failed to start daemon: specified default runtime '%s' does not exist" % default)
        raise ConfigError("unable to configure the Docker daemon with file %s: configuration validation from file "
                          "failed: specified default runtime '%s' does not exist" % (cfg.get("__file__"), default))
    return runtimes, default


# ----------------------------------------------------------------------------------------------------------- dockerd
def hostname():
    try:
        with open("/proc/sys/kernel/hostname") as f:
            return f.read().strip()
    except OSError:
        return "localhost"


def dlog(msg, level=None, **fields):
    """One daemon log line on stderr (journal-formatted when started by the lab's systemctl)."""
    if level is None:
        line = msg
    else:
        now = time.time()
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%09dZ" % int((now % 1) * 1e9)
        line = 'time="%s" level=%s msg="%s"' % (ts, level, msg.replace('"', '\\"'))
        for k, v in fields.items():
            line += " %s=%s" % (k, v)
    if os.environ.get("K3GPU_LAB_JOURNAL"):
        line = "%s %s dockerd[%d]: %s" % (time.strftime("%b %d %H:%M:%S"), hostname(), os.getpid(), line)
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def rm(path):
    try:
        os.remove(P(path))
    except OSError:
        pass


def read_int(path):
    try:
        with open(P(path)) as f:
            return int(f.read().strip() or "0")
    except (OSError, ValueError):
        return 0


def os_pretty_name():
    try:
        with open(P("/etc/os-release")) as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def mem_total():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def dockerd(argv):
    config_file = "/etc/docker/daemon.json"
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--config-file="):
            config_file = a.split("=", 1)[1]
        elif a == "--config-file":
            i += 1
            config_file = argv[i]
        elif a in ("-v", "--version"):
            d = docker_info_of_node()
            print("Docker version %s, build %s" % (d["version"], d["gitCommit"]))
            return 0
        i += 1
    d = docker_info_of_node()
    rm(STATE)
    failures = read_int(FAULT_FAIL)
    if failures > 0:
        with open(P(FAULT_FAIL), "w") as f:
            f.write("%d\n" % (failures - 1))
        dlog("failed to start daemon: injected fault (k3gpu lab: %s said %d)" % (FAULT_FAIL, failures))
        return 1
    try:
        cfg = load_config(config_file)
        cfg["__file__"] = config_file
        runtimes, default = effective(cfg, d["version"])
        del cfg["__file__"]
    except ConfigError as e:
        dlog(str(e))
        return 1
    dlog("Starting up", "info")
    delay = read_int(FAULT_DELAY)
    if delay > 0:
        time.sleep(delay / 1000.0)
    n = node()
    info = {
        "ID": n.get("dockerId", "K3GP:U0LA:B000:0000:0000:0000:0000:0000:0000:0000:0000:0000"),
        "Containers": 0, "ContainersRunning": 0, "ContainersPaused": 0, "ContainersStopped": 0, "Images": 0,
        "Driver": cfg.get("storage-driver", "overlay2"),
        "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"], ["Native Overlay Diff", "true"],
                         ["userxattr", "false"]],
        "LoggingDriver": cfg.get("log-driver", "json-file"), "CgroupDriver": "cgroupfs", "CgroupVersion": "1",
        "KernelVersion": n.get("kernelRelease") or os.uname().release,
        "OperatingSystem": os_pretty_name(), "OSType": "linux",
        "Architecture": n.get("arch") or os.uname().machine,
        "NCPU": n.get("cpus") or os.cpu_count(), "MemTotal": n.get("memTotal") or mem_total(),
        "DockerRootDir": cfg.get("data-root", "/var/lib/docker"), "Name": hostname(),
        "ServerVersion": d["version"], "Runtimes": runtimes, "DefaultRuntime": default,
        "LiveRestoreEnabled": bool(cfg.get("live-restore", False)), "ExperimentalBuild": bool(cfg.get("experimental", False)),
        "Labels": cfg.get("labels", []), "InsecureRegistries": ["127.0.0.0/8"] + cfg.get("insecure-registries", []),
        "Debug": bool(cfg.get("debug", False)), "Swarm": {"LocalNodeState": "inactive"},
    }
    state = {"pid": os.getpid(), "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "configFile": config_file, "config": cfg, "version": d, "info": info}
    os.makedirs(P(STATE_DIR), exist_ok=True)
    with open(P(PIDFILE), "w") as f:
        f.write("%d" % os.getpid())
    rm(SOCK)
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(P(SOCK))
        s.close()  # the file stays: `test -S /var/run/docker.sock` holds while the daemon runs
    except OSError:
        pass
    tmp = P(STATE) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1, sort_keys=True)
    dlog("Loading containers: start.", "info")
    dlog("Loading containers: done.", "info")
    dlog("Docker daemon", "info", commit=d["gitCommit"], graphdriver=info["Driver"], version=d["version"])
    dlog("Daemon has completed initialization", "info")
    dlog("API listen on /run/docker.sock", "info")
    hangs = read_int(FAULT_HANG)
    if hangs > 0:
        with open(P(FAULT_HANG), "w") as f:
            f.write("%d\n" % (hangs - 1))
        wedge(tmp)
    else:
        os.rename(tmp, P(STATE))  # readiness: systemctl waits for this file
    sys.stdout.flush()
    sys.stderr.flush()
    shell = P(IDLE_SHELL)
    if os.path.exists(shell):
        os.execv(shell, ["/usr/local/bin/dockerd", P(IDLE_SCRIPT)])
    # fallback: idle in Python
    import signal

    def on_term(signum, _frame):
        dlog("Processing signal '%s'" % ("terminated" if signum == signal.SIGTERM else "interrupt"), "info")
        for path in (STATE, PIDFILE, SOCK):
            rm(path)
        dlog("Daemon shutdown complete", "info")
        sys.exit(0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_term)
    while True:
        signal.pause()


def proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def wedge(tmp):
    """Stops this daemon for good (until SIGCONT); a child reports it ready once it is stopped, so that nobody
    can talk to it in between."""
    import signal
    me = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    if os.fork() == 0:
        while proc_state(me) not in ("T", "t", None):
            time.sleep(0.01)
        os.rename(tmp, P(STATE))
        os._exit(0)
    os.kill(me, signal.SIGSTOP)


# -------------------------------------------------------------------------------------------------------- docker CLI
def running_state():
    try:
        with open(P(STATE)) as f:
            st = json.load(f)
    except (OSError, ValueError):
        return None
    pid = st.get("pid", 0)
    try:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return None
    except (OSError, IndexError):
        if not FSROOT:
            return None
    return st


def may_use_socket():
    if os.geteuid() == 0 or FSROOT:
        return True
    try:
        import grp
        gid = grp.getgrnam("docker").gr_gid
        return gid in os.getgroups() or gid == os.getegid()
    except (KeyError, ImportError):
        return False


def go_print(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "<no value>"
    if isinstance(v, dict):
        return "map[" + " ".join("%s:%s" % (k, go_print(v[k])) for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(go_print(x) for x in v) + "]"
    return str(v)


def render(template, data, type_name):
    out, i = [], 0
    while True:
        j = template.find("{{", i)
        if j < 0:
            out.append(template[i:])
            break
        out.append(template[i:j])
        k = template.find("}}", j)
        if k < 0:
            raise ValueError('template: :1: unclosed action')
        expr = template[j + 2:k].strip().strip("-").strip()
        as_json = False
        if expr.startswith("json "):
            as_json, expr = True, expr[5:].strip()
        v = data
        if expr != ".":
            for part in expr.lstrip(".").split("."):
                if isinstance(v, dict) and part in v:
                    v = v[part]
                else:
                    raise ValueError('template: :1:%d: executing "" at <%s>: can\'t evaluate field %s in type %s'
                                     % (j + 2, expr, part, type_name))
        out.append(json.dumps(v, separators=(",", ":"), sort_keys=True) if as_json else go_print(v))
        i = k + 2
    return "".join(out)


def client_version(d):
    n = node()
    return {"Platform": {"Name": ""}, "Version": d["version"], "ApiVersion": d["apiVersion"],
            "DefaultAPIVersion": d["apiVersion"], "GitCommit": d["clientBuild"], "GoVersion": d["goVersion"],
            "Os": "linux", "Arch": {"aarch64": "arm64", "x86_64": "amd64"}.get(n.get("arch") or os.uname().machine,
                                                                              "amd64"),
            "BuildTime": "", "Context": "default"}


def docker(argv):
    d = docker_info_of_node()
    args = [a for a in argv]
    if not args or args[0] in ("-h", "--help", "help"):
        print("Usage:  docker [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers (k3gpu lab simulation:"
              " info, version, ps, images)")
        return 0
    if args[0] in ("-v", "--version"):
        print("Docker version %s, build %s" % (d["version"], d["clientBuild"]))
        return 0
    cmd, rest = args[0], args[1:]
    fmt = None
    for idx, a in enumerate(rest):
        if a.startswith("--format="):
            fmt = a.split("=", 1)[1]
        elif a in ("--format", "-f") and idx + 1 < len(rest):
            fmt = rest[idx + 1]
    if cmd not in ("info", "version", "ps", "images", "system"):
        sys.stderr.write("docker: '%s' is not simulated in the k3gpu lab (info, version, ps, images are).\n" % cmd)
        return 1
    if cmd == "system" and rest[:1] == ["info"]:
        cmd = "info"
    st = running_state()
    while st is not None and proc_state(st.get("pid", 0)) in ("T", "t"):
        time.sleep(0.1)  # a stopped daemon never answers: the client waits, as the real one does (no timeout)
        st = running_state()
    denied = not may_use_socket()
    err = None
    if denied:
        err = ('permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock:'
               ' Get "http://%%2Fvar%%2Frun%%2Fdocker.sock/v%s/%s": dial unix /var/run/docker.sock: connect: '
               'permission denied' % (d["apiVersion"], cmd if cmd != "ps" else "containers/json"))
        if major(d["version"]) < 23:
            err = "Got " + err
    elif st is None:
        err = NOT_RUNNING
    if cmd == "version":
        client = client_version(d)
        if fmt:
            if err and ".Server" in fmt:
                sys.stderr.write(err + "\n")
                return 1
            server = None if err else {"Version": d["version"], "ApiVersion": d["apiVersion"],
                                       "MinAPIVersion": "1.12", "GitCommit": d["gitCommit"],
                                       "GoVersion": d["goVersion"], "Os": "linux", "Arch": client["Arch"],
                                       "KernelVersion": st["info"]["KernelVersion"]}
            try:
                print(render(fmt, {"Client": client, "Server": server}, "types.Version"))
            except ValueError as e:
                sys.stderr.write(str(e) + "\n")
                return 1
            return 0
        print("Client:\n Version:           %s\n API version:       %s\n Go version:        %s\n Git commit:        %s\n"
              " OS/Arch:           linux/%s\n Context:           default"
              % (d["version"], d["apiVersion"], d["goVersion"], d["clientBuild"], client["Arch"]))
        if err:
            sys.stdout.flush()
            sys.stderr.write(err + "\n")
            return 1
        print("\nServer:\n Engine:\n  Version:          %s\n  API version:      %s (minimum version 1.12)\n"
              "  Go version:       %s\n  Git commit:       %s\n  OS/Arch:          linux/%s\n  Experimental:     false"
              % (d["version"], d["apiVersion"], d["goVersion"], d["gitCommit"], client["Arch"]))
        return 0
    if err:
        if cmd == "info" and not fmt:
            print("Client:\n Context:    default\n Debug Mode: false\n\nServer:")
            sys.stdout.flush()
            sys.stderr.write("ERROR: " + err + "\nerrors pretty printing info\n")
            return 1
        sys.stderr.write(err + "\n")
        return 1
    info = st["info"]
    if cmd in ("ps", "images"):
        if cmd == "ps":
            print("CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES")
        else:
            print("REPOSITORY   TAG       IMAGE ID   CREATED   SIZE")
        return 0
    if fmt:
        try:
            print(render(fmt, info, "types.Info"))
        except ValueError as e:
            sys.stderr.write(str(e) + "\n")
            return 1
        return 0
    mem = info["MemTotal"] / (1024.0 ** 3)
    lines = ["Client:", " Context:    default", " Debug Mode: false", "", "Server:",
             " Containers: 0", "  Running: 0", "  Paused: 0", "  Stopped: 0", " Images: 0",
             " Server Version: %s" % info["ServerVersion"], " Storage Driver: %s" % info["Driver"]]
    lines += ["  %s: %s" % (k, v) for k, v in info["DriverStatus"]]
    lines += [" Logging Driver: %s" % info["LoggingDriver"], " Cgroup Driver: %s" % info["CgroupDriver"],
              " Cgroup Version: %s" % info["CgroupVersion"], " Plugins:", "  Volume: local",
              "  Network: bridge host ipvlan macvlan null overlay",
              "  Log: awslogs fluentd gcplogs gelf journald json-file local logentries splunk syslog",
              " Swarm: inactive",
              " Runtimes: %s" % " ".join(sorted(info["Runtimes"])),
              " Default Runtime: %s" % info["DefaultRuntime"], " Init Binary: docker-init",
              " Security Options:", "  seccomp", "   Profile: default",
              " Kernel Version: %s" % info["KernelVersion"], " Operating System: %s" % info["OperatingSystem"],
              " OSType: linux", " Architecture: %s" % info["Architecture"], " CPUs: %s" % info["NCPU"],
              " Total Memory: %.4gGiB" % mem, " Name: %s" % info["Name"], " ID: %s" % info["ID"],
              " Docker Root Dir: %s" % info["DockerRootDir"], " Debug Mode: %s" % go_print(info["Debug"]),
              " Registry: https://index.docker.io/v1/", " Labels:",
              " Experimental: %s" % go_print(info["ExperimentalBuild"]), " Insecure Registries:"]
    lines += ["  %s" % r for r in info["InsecureRegistries"]]
    lines += [" Live Restore Enabled: %s" % go_print(info["LiveRestoreEnabled"]), ""]
    print("\n".join(lines))
    return 0


def main():
    tool = os.path.basename(sys.argv[0])
    try:
        if tool == "dockerd":
            return dockerd(sys.argv[1:])
        return docker(sys.argv[1:])
    except BrokenPipeError:
        return 0


def run():
    sys.exit(main())


if __name__ == "__main__":
    run()
