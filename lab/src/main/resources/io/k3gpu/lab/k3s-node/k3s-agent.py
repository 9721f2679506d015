#!/usr/bin/python3 -S
"""`k3s agent` of the k3gpu lab: what the lab's k3s program runs for `k3s agent ARGS` (python3, stdlib only).

Behaves, as seen from outside, like a K3s agent with its kubelet:
  * flags, /etc/rancher/k3s/config.yaml (+ config.yaml.d/*.yaml; flat keys and lists) and K3S_* variables as K3s
    reads them: config values go in front of the command line (a command-line value wins, lists collect both), a
    variable only fills a flag that neither set; an unknown flag is refused with K3s's (urfave/cli's) words;
  * the join: GET /cacerts without verification, its SHA-256 compared with the K10 token's CA hash (a mismatch or an
    unreachable server is logged at error level and retried every 2 s, as K3s's agent does), then the agent
    configuration with HTTP Basic node:<password> (401 -> "Waiting to retrieve agent configuration; server is not
    ready: ..." every 5 s); from then on the server's certificate is verified against that CA;
  * --docker: Docker must answer (else "cri-dockerd exited: ..." and exit 1, as K3s's embedded cri-dockerd), and is
    refused in v1.24.0 - v1.24.3 as K3s refused it; without --docker the runtime is K3s's containerd: its
    config.toml is written with the NVIDIA runtimes found on PATH and --default-runtime;
  * registers the Node as io.k3gpu.lab.k3s.K3sNodeObject builds it (labels, annotations, taints, addresses,
    capacity with nvidia.com/gpu when the node has a GPU and an NVIDIA-enabled default runtime, conditions,
    nodeInfo, images imported from <data-dir>/agent/images/*.tar) and keeps it Ready: every 10 s a status patch
    (lastHeartbeatTime), the kube-node-lease Lease renewed, and the node's pods listed (spec.nodeName=<node>) for
    the pod manager;
  * a kubelet endpoint on :10250 (HTTPS, self-signed serving-kubelet.crt, no client authentication): /healthz,
    /pods, /containerLogs/<ns>/<pod>/<container>?follow=&tailLines= (the server proxies `kubectl logs` there).
Logs go to stderr (the service log) in logrus's format, kubelet's lines in klog's, as K3s writes them.
Pods are not run yet: Pods.sync() receives the node's pods every heartbeat; the workloads issue runs them there.
"""
import errno
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
from binascii import b2a_base64

try:
    from _sha256 import sha256
except ImportError:
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256

VERSION = os.environ.get("K3GPU_LAB_K3S_VERSION") or "v1.31.4+k3s1"
COMMIT = os.environ.get("K3GPU_LAB_K3S_COMMIT") or "00000000"
CONTAINERD_VERSION = "containerd://1.7.23-k3s2"
HEARTBEAT = float(os.environ.get("K3GPU_LAB_HEARTBEAT_SECONDS") or 10)
KUBELET_PORT = int(os.environ.get("K3GPU_LAB_KUBELET_PORT") or 10250)
REDACTED = "********"
# tests only: a scratch root in front of the paths the agent writes or reads as machine facts
FSROOT = os.environ.get("K3GPU_LAB_FSROOT", "")


def P(path):
    return FSROOT + path

# ------------------------------------------------------------------------------------------------------------- logs

OUT = [sys.stderr]


def now_rfc3339():
    t = time.localtime()
    off = t.tm_gmtoff or 0
    zone = "Z" if off == 0 else "%s%02d:%02d" % ("+" if off > 0 else "-", abs(off) // 3600, abs(off) % 3600 // 60)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + zone


def goquote(s):
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c < " ":
            out.append("\\x%02x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def emit(line):
    for o in OUT:
        try:
            o.write(line + "\n")
            o.flush()
        except (OSError, ValueError):
            pass


def log(level, msg):
    """One logrus line: time="..." level=info msg="..."."""
    emit('time="%s" level=%s msg=%s' % (now_rfc3339(), level, goquote(msg)))


def klog(severity, where, msg, **kv):
    """One klog line, as the kubelet inside K3s writes them."""
    t = time.time()
    head = "%s%s.%06d %7d %s]" % (severity, time.strftime("%m%d %H:%M:%S", time.localtime(t)),
                                   int((t % 1) * 1e6), os.getpid(), where)
    emit(" ".join([head, goquote(msg)] + ["%s=%s" % (k, goquote(str(v))) for k, v in kv.items()]))


def fatal(msg):
    log("fatal", msg)
    sys.exit(1)


# ------------------------------------------------------------------------------------------------------------ flags

class UsageError(Exception):
    pass


BOOL, STRING, SLICE = "bool", "string", "slice"
FLAGS = {}


def flag(name, kind, env=None, *aliases):
    f = (name, kind, env)
    FLAGS[name] = f
    for a in aliases:
        FLAGS[a] = f


# acted on
flag("config", STRING, "K3S_CONFIG_FILE", "c")
flag("debug", BOOL, "K3S_DEBUG")
flag("log", STRING, None, "l")
flag("alsologtostderr", BOOL)
flag("token", STRING, "K3S_TOKEN", "t")
flag("token-file", STRING, "K3S_TOKEN_FILE")
flag("server", STRING, "K3S_URL", "s")
flag("data-dir", STRING, "K3S_DATA_DIR", "d")
flag("node-name", STRING, "K3S_NODE_NAME")
flag("with-node-id", BOOL)
flag("node-label", SLICE)
flag("node-taint", SLICE)
flag("node-ip", SLICE, None, "i")
flag("node-external-ip", SLICE)
flag("docker", BOOL)
flag("default-runtime", STRING)
flag("kubelet-arg", SLICE)
# accepted, not simulated
for _n, _e in (("v", None), ("vmodule", None), ("lb-server-port", "K3S_LB_SERVER_PORT"),
               ("resolv-conf", "K3S_RESOLV_CONF"), ("container-runtime-endpoint", None),
               ("image-service-endpoint", None), ("pause-image", None), ("snapshotter", None),
               ("private-registry", None), ("flannel-iface", None), ("flannel-conf", None),
               ("flannel-cni-conf", None), ("image-credential-provider-bin-dir", None),
               ("image-credential-provider-config", None), ("vpn-auth", "K3S_VPN_AUTH"),
               ("vpn-auth-file", "K3S_VPN_AUTH_FILE"), ("cluster-cidr", None)):
    flag(_n, STRING, _e)
for _n in ("kube-proxy-arg", "node-internal-dns", "node-external-dns", "airgap-extra-registry"):
    flag(_n, SLICE)
for _n, _e in (("selinux", "K3S_SELINUX"), ("protect-kernel-defaults", None), ("rootless", None),
               ("prefer-bundled-bin", None), ("disable-apiserver-lb", None),
               ("disable-default-registry-endpoint", None), ("nonroot-devices", None), ("enable-pprof", None)):
    flag(_n, BOOL, _e)

SECRET_FLAGS = ("token", "t", "vpn-auth")


def scan(args, lenient):
    """Flags by canonical name: list flags keep every value, the others their last."""
    values = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            break
        if not a.startswith("-") or a == "-":
            if lenient:
                i += 1
                continue
            raise UsageError('unexpected argument "%s"' % a)
        body = a[2:] if a.startswith("--") else a[1:]
        value = None
        if "=" in body:
            body, value = body.split("=", 1)
        f = FLAGS.get(body)
        if f is None:
            if lenient:
                i += 1
                continue
            raise UsageError("flag provided but not defined: -" + body)
        name, kind, _ = f
        if kind == BOOL:
            if value is None:
                value = "true"
            elif value.lower() not in ("true", "false", "1", "0"):
                raise UsageError('invalid boolean value "%s" for -%s: parse error' % (value, body))
            value = "true" if value.lower() in ("true", "1") else "false"
        elif value is None:
            if i + 1 >= len(args):
                if lenient:
                    break
                raise UsageError("flag needs an argument: -" + body)
            i += 1
            value = args[i]
        if kind == SLICE:
            values.setdefault(name, []).append(value)
        else:
            values[name] = [value]
        i += 1
    return values


def strip_comment(line):
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def yaml_scalar(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] == "'":
        return v[1:-1].replace("''", "'")
    if len(v) >= 2 and v[0] == v[-1] == '"':
        return v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    low = v.lower()
    if low in ("yes", "on", "true"):
        return "true"
    if low in ("no", "off", "false"):
        return "false"
    return v


def yaml_flow_list(v):
    items, cur, quote = [], [], None
    for c in v:
        if quote:
            cur.append(c)
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
            cur.append(c)
        elif c == ",":
            items.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    if "".join(cur).strip():
        items.append("".join(cur))
    return [yaml_scalar(x) for x in items]


def parse_yaml(text):
    """The flat part of a K3s config file: top-level keys with a scalar or a list (block or flow) value."""
    out = {}
    key = None
    for raw in text.splitlines():
        line = strip_comment(raw).rstrip()
        s = line.strip()
        if not s or s in ("---", "..."):
            continue
        if line[0] in " \t-":
            if key is not None and isinstance(out.get(key), list) and s.startswith("-"):
                out[key].append(yaml_scalar(s[1:]))
            continue
        k, sep, v = line.partition(":")
        if not sep:
            continue
        key = yaml_scalar(k)
        v = v.strip()
        if v == "":
            out[key] = []
        elif v.startswith("[") and v.endswith("]"):
            out[key] = yaml_flow_list(v[1:-1])
        else:
            out[key] = yaml_scalar(v)
    return out


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def config_args(path, explicit):
    """config.yaml then config.yaml.d/*.yaml (sorted; key+ appends) as --flag=value arguments."""
    merged = {}
    texts = []
    main = read_text(path)
    if main is None and explicit:
        raise UsageError("open %s: no such file or directory" % path)
    if main is not None:
        texts.append(main)
    d = path + ".d"
    if os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            if n.endswith((".yaml", ".yml")):
                t = read_text(os.path.join(d, n))
                if t is not None:
                    texts.append(t)
    for t in texts:
        for k, v in parse_yaml(t).items():
            if k.endswith("+"):
                k = k[:-1]
                prior = merged.get(k)
                merged[k] = (prior if isinstance(prior, list) else [] if prior is None else [prior]) + \
                    (v if isinstance(v, list) else [v])
            else:
                merged[k] = v
    out = []
    for k, v in merged.items():
        f = FLAGS.get(k)
        if f is None:
            continue  # server keys in a shared config file
        for item in v if isinstance(v, list) else [v]:
            out.append("--%s=%s" % (f[0], item))
    return out


class Options:
    def __init__(self, values, node_args):
        self.values = values
        self.node_args = node_args

    def string(self, name):
        v = self.values.get(name)
        return v[-1] if v else None

    def list(self, name):
        """A list flag's values; address lists may also be comma-separated, as K3s splits them."""
        values = self.values.get(name, [])
        if name not in ("node-ip", "node-external-ip"):
            return list(values)
        return [x.strip() for v in values for x in v.split(",") if x.strip()]

    def bool(self, name):
        return self.string(name) == "true"


def redacted(args):
    out, hide = ["agent"], False
    for a in args:
        if hide:
            out.append(REDACTED)
            hide = False
            continue
        name = a.lstrip("-")
        bare = name.split("=", 1)[0]
        secret = a.startswith("-") and bare in SECRET_FLAGS
        if secret and "=" in name:
            out.append(a.split("=", 1)[0] + "=" + REDACTED)
        else:
            out.append(a)
            hide = secret
    return out


def parse_options(args, env):
    cli = scan(args, True)
    config = (cli.get("config") or [None])[-1] or env.get("K3S_CONFIG_FILE")
    from_config = config_args(config or P("/etc/rancher/k3s/config.yaml"), config is not None)
    full = from_config + list(args)
    values = scan(full, False)
    for f in set(FLAGS.values()):
        name, _, var = f
        if var and name not in values and env.get(var):
            values[name] = [env[var]]
    return Options(values, redacted(full))


AGENT_HELP = "NAME:\n   k3s agent - Run node agent\n\nUSAGE:\n   k3s agent [OPTIONS]"

# ------------------------------------------------------------------------------------------------------------ token

NORMALIZE = ("failed to normalize server token; must be in format K10<CA-HASH>::<USERNAME>:<PASSWORD> "
             "or <PASSWORD>")


def parse_token(token):
    """(CA hash or None, password) of a K10 token or a bare password, as K3s's clientaccess parses them."""
    t = token.strip()
    if not t.startswith("K10"):
        alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
        if len(t) == 23 and t[6] == "." and all(c in alnum for c in t[:6] + t[7:]):
            raise ValueError(NORMALIZE)
        return None, t
    rest = t[3:]
    ca_hash = None
    if "::" in rest:
        ca_hash, rest = rest.split("::", 1)
        if ca_hash and len(ca_hash) != 64:
            raise ValueError("invalid token CA hash length")
    c = rest.find(":")
    if c < 0 or c == len(rest) - 1:
        raise ValueError(NORMALIZE)
    return ca_hash or None, rest[c + 1:]


# ------------------------------------------------------------------------------------------------------------ http

class GoError(Exception):
    """An error worded as Go's net/http words it."""


def dial_error(host, port, e):
    addr = ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)
    if isinstance(e, socket.gaierror):
        return "dial tcp: lookup %s: no such host" % host
    if isinstance(e, socket.timeout):
        return "dial tcp %s: i/o timeout" % addr
    words = {errno.ECONNREFUSED: "connection refused", errno.EHOSTUNREACH: "no route to host",
             errno.ENETUNREACH: "network is unreachable", errno.ETIMEDOUT: "connection timed out"}
    return "dial tcp %s: connect: %s" % (addr, words.get(e.errno, (e.strerror or str(e)).lower()))


def tls_error(host, e):
    text = str(getattr(e, "verify_message", "") or e)
    if "hostname" in text or "IP address mismatch" in text:
        return "tls: failed to verify certificate: x509: certificate is not valid for " + host
    return "tls: failed to verify certificate: x509: certificate signed by unknown authority"


class Conn:
    """One HTTPS connection, kept alive between requests (a heartbeat costs no TLS handshake)."""

    def __init__(self, host, port, ctx, auth=None, timeout=10.0):
        self.host, self.port, self.ctx, self.auth, self.timeout = host, port, ctx, auth, timeout
        self.sock = self.rfile = None

    def close(self):
        for c in (self.rfile, self.sock):
            try:
                if c is not None:
                    c.close()
            except OSError:
                pass
        self.sock = self.rfile = None

    def connect(self):
        try:
            raw = socket.create_connection((self.host, self.port), self.timeout)
        except OSError as e:
            raise GoError(dial_error(self.host, self.port, e))
        try:
            self.sock = self.ctx.wrap_socket(raw, server_hostname=self.host)
        except ssl.SSLCertVerificationError as e:
            raw.close()
            raise GoError(tls_error(self.host, e))
        except (OSError, ssl.SSLError) as e:
            raw.close()
            raise GoError("remote error: tls: %s" % (getattr(e, "reason", None) or e))
        self.rfile = self.sock.makefile("rb")

    def request(self, method, path, body=None, ctype="application/json"):
        """(status, reason, body bytes); raises GoError when the server cannot be reached."""
        for attempt in (0, 1):
            fresh = self.sock is None
            if fresh:
                self.connect()
            try:
                return self.exchange(method, path, body, ctype)
            except (OSError, EOFError) as e:
                self.close()
                if fresh or attempt:
                    if isinstance(e, socket.timeout):
                        raise GoError("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
                    raise GoError("EOF" if isinstance(e, EOFError) else "read tcp %s:%d: %s" % (
                        self.host, self.port, (getattr(e, "strerror", None) or str(e)).lower()))
        raise GoError("EOF")

    def exchange(self, method, path, body, ctype):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        head = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (self.host, self.port),
                "User-Agent: k3s/%s" % VERSION, "Accept: application/json, */*"]
        if self.auth:
            head.append("Authorization: Basic " + self.auth)
        if body is not None:
            head.append("Content-Type: " + ctype)
        if body is not None or method in ("POST", "PUT", "PATCH"):
            head.append("Content-Length: %d" % len(data))
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        status_line = self.rfile.readline(65537)
        if not status_line:
            raise EOFError()
        parts = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = {}
        while True:
            h = self.rfile.readline(65537)
            if not h:
                raise EOFError()
            if h in (b"\r\n", b"\n"):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        if method == "HEAD" or status in (204, 304):
            payload = b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            payload = b"".join(chunks)
        elif "content-length" in headers:
            payload = self.rfile.read(int(headers["content-length"]))
        else:
            payload = self.rfile.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, reason, payload


def insecure_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# ------------------------------------------------------------------------------------------------------------ host

def run(*argv):
    """(stdout stripped or None when the command fails or is missing, stderr stripped)."""
    try:
        r, w = os.pipe()
        er, ew = os.pipe()
    except OSError:
        return None, ""
    try:
        pid = os.posix_spawnp(argv[0], list(argv), os.environ,
                              file_actions=[(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                                            (os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_DUP2, ew, 2)])
    except OSError as e:
        for fd in (r, w, er, ew):
            os.close(fd)
        return None, str(e)
    os.close(w)
    os.close(ew)
    with os.fdopen(r, "rb") as f:
        out = f.read().decode("utf-8", "replace")
    with os.fdopen(er, "rb") as f:
        err = f.read().decode("utf-8", "replace")
    _, status = os.waitpid(pid, 0)
    return (out.strip() if status == 0 else None), err.strip()


def kube_arch(machine):
    m = (machine or "").strip()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
            "armv7": "arm", "armhf": "arm", "arm": "arm"}.get(m, m or "amd64")


def os_image():
    for f in ("/etc/os-release", "/usr/lib/os-release"):
        text = read_text(f)
        if text is None:
            continue
        for line in text.splitlines():
            if line.startswith("PRETTY_NAME="):
                return line[len("PRETTY_NAME="):].strip('"')
    return "Linux"


def local_ip(host, port):
    """The address this machine uses to reach the server (the node's InternalIP unless --node-ip)."""
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect((host, port))
            return s.getsockname()[0]
        finally:
            s.close()
    except OSError:
        return None


def nvidia_runtimes():
    """Runtimes K3s's containerd configuration finds on PATH (with /usr/local/nvidia/toolkit in front)."""
    dirs = ["/usr/local/nvidia/toolkit"] + os.environ.get("PATH", "").split(":")
    found = []
    for binary, name in (("nvidia-container-runtime", "nvidia"),
                         ("nvidia-container-runtime-experimental", "nvidia-experimental"),
                         ("nvidia-container-runtime.cdi", "nvidia-cdi")):
        for d in dirs:
            p = os.path.join(d, binary)
            if d and os.access(p, os.X_OK):
                found.append((name, p))
                break
    return found


def gpu_count():
    if os.path.exists(P("/etc/nv_tegra_release")):
        return 1
    out, _ = run("nvidia-smi", "-L")
    return 0 if out is None else sum(1 for line in out.splitlines() if line.startswith("GPU "))


class Facts:
    """What the kubelet learns about its machine (the Python twin of io.k3gpu.lab.k3s.HostFacts)."""

    def __init__(self, data_dir, docker, server_host, server_port):
        self.hostname = (read_text("/proc/sys/kernel/hostname") or socket.gethostname()).strip().lower()
        self.architecture = kube_arch(run("uname", "-m")[0])
        self.kernel = run("uname", "-r")[0] or ""
        self.os_image = os_image()
        cpuinfo = read_text("/proc/cpuinfo") or ""
        self.cpus = sum(1 for line in cpuinfo.splitlines() if line.startswith("processor")) or os.cpu_count() or 1
        self.memory_kib = 0
        for line in (read_text("/proc/meminfo") or "").splitlines():
            if line.startswith("MemTotal:"):
                self.memory_kib = int("".join(c for c in line if c.isdigit()) or 0)
        lab = read_text(P("/etc/k3gpu-lab/node.json"))
        if lab:
            try:
                j = json.loads(lab)
                if "cpus" in j:
                    self.cpus = int(j["cpus"])
                    self.memory_kib = int(j["memTotal"]) // 1024
            except (ValueError, KeyError, TypeError):
                pass
        p = data_dir
        while p and not os.path.exists(p):
            p = os.path.dirname(p) if p != "/" else None
        try:
            st = os.statvfs(p or "/")
            self.storage_kib = st.f_blocks * st.f_frsize // 1024
        except OSError:
            self.storage_kib = 0
        self.internal_ip = local_ip(server_host, server_port)
        self.boot_id = (read_text("/proc/sys/kernel/random/boot_id") or "").strip()
        self.machine_id = (read_text("/etc/machine-id") or "").strip()
        self.gpus = gpu_count()
        self.runtimes = nvidia_runtimes()
        self.docker_version = self.docker_runtime = None
        self.docker_error = ""
        if docker:
            self.docker_version, self.docker_error = run("docker", "version", "--format", "{{.Server.Version}}")
            self.docker_runtime = run("docker", "info", "--format", "{{.DefaultRuntime}}")[0]


# ------------------------------------------------------------------------------------------------------------ node

def condition(ctype, status, reason, message, heartbeat, transition):
    return {"lastHeartbeatTime": heartbeat, "lastTransitionTime": transition, "message": message,
            "reason": reason, "status": status, "type": ctype}


def conditions(heartbeat, transition):
    return [condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                      "kubelet has sufficient memory available", heartbeat, transition),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
                      heartbeat, transition),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available",
                      heartbeat, transition),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", heartbeat, transition)]


def taint(text):
    effect, kv = "NoSchedule", text
    if ":" in text:
        kv, effect = text.rsplit(":", 1)
    t = {"effect": effect}
    if "=" in kv:
        t["key"], t["value"] = kv.split("=", 1)
    else:
        t["key"] = kv
    return {k: t[k] for k in ("effect", "key", "value") if k in t}


def utc_now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def version_tuple(v):
    core = v.lstrip("v").split("+")[0].split("-")[0]
    try:
        return tuple(int(x) for x in core.split("."))
    except ValueError:
        return ()


def read_images(images_dir):
    """The images of the air-gap tarballs in <agent>/images (docker-save manifests), as K3s imports them."""
    images = []
    try:
        names = sorted(n for n in os.listdir(images_dir) if n.endswith(".tar"))
    except OSError:
        return images
    for n in names:
        path = os.path.join(images_dir, n)
        log("info", "Importing images from " + path)
        t0 = time.time()
        manifest = None
        try:
            with open(path, "rb") as f:
                while True:
                    header = f.read(512)
                    if len(header) < 512 or header == b"\0" * 512:
                        break
                    name = header[:100].split(b"\0")[0].decode("utf-8", "replace")
                    size = int(header[124:136].split(b"\0")[0].strip() or b"0", 8)
                    data = f.read((size + 511) // 512 * 512)[:size]
                    if name == "manifest.json":
                        manifest = json.loads(data)
        except (OSError, ValueError) as e:
            log("error", "Failed to import images from %s: %s" % (path, e))
            continue
        for entry in manifest or []:
            tags = entry.get("RepoTags") or []
            if tags:
                images.append({"names": tags, "sizeBytes": int(entry.get("SizeBytes") or 0)})
        log("info", "Imported images from %s in %s" % (path, "%.3fs" % (time.time() - t0)))
    return images


# ------------------------------------------------------------------------------------------------------------ pods

class Pods:
    """The pods bound to this node (spec.nodeName), refreshed every heartbeat by sync().

    Running them is the next step (the workloads issue): sync() is where containers start and stop, status() what
    the agent then patches into each pod, logs() what /containerLogs serves. Until then pods are only known."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pods = {}

    def sync(self, items):
        with self.lock:
            self.pods = {(p["metadata"].get("namespace", "default"), p["metadata"]["name"]): p for p in items}

    def list(self):
        with self.lock:
            return list(self.pods.values())

    def logs(self, namespace, name, container, follow, tail_lines):
        """(HTTP status, text) for /containerLogs: 404 for pods and containers this node does not have."""
        with self.lock:
            pod = self.pods.get((namespace, name))
        if pod is None:
            return 404, 'pod "%s" does not exist' % name
        spec = pod.get("spec", {})
        names = [c.get("name") for c in spec.get("containers", []) + spec.get("initContainers", [])]
        if container not in names:
            return 404, 'container "%s" not found in pod "%s"' % (container, name)
        return 400, 'container "%s" in pod "%s" is waiting to start: ContainerCreating' % (container, name)


# ------------------------------------------------------------------------------------------------------------ kubelet

def unquote_url(s):
    """%XX escapes of a request path or query, decoded."""
    b = s.encode()
    out, i = bytearray(), 0
    while i < len(b):
        if b[i] == 0x25 and i + 3 <= len(b):
            try:
                out.append(int(b[i + 1:i + 3], 16))
                i += 3
                continue
            except ValueError:
                pass
        out.append(b[i])
        i += 1
    return out.decode("utf-8", "replace")


class Kubelet:
    """The kubelet's HTTPS endpoint on :10250 (the API server's proxy does not verify it, nor present a client
    certificate: unlike a real kubelet it does not authenticate callers)."""

    def __init__(self, pods, cert, key):
        self.pods = pods
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)

    def start(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            ls.bind(("0.0.0.0", KUBELET_PORT))
        except OSError as e:
            ls.close()
            klog("E", "server.go:180", "Failed to listen and serve",
                 err="listen tcp 0.0.0.0:%d: bind: %s" % (KUBELET_PORT, (e.strerror or str(e)).lower()))
            return
        ls.listen(16)
        klog("I", "server.go:176", "Starting to listen", address="0.0.0.0", port=KUBELET_PORT)
        threading.Thread(target=self.accept, args=(ls,), name="kubelet", daemon=True).start()

    def accept(self, ls):
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                continue
            threading.Thread(target=self.handle, args=(c,), daemon=True).start()

    def handle(self, c):
        c.settimeout(30)
        try:
            s = self.ctx.wrap_socket(c, server_side=True)
        except (OSError, ssl.SSLError):
            c.close()
            return
        try:
            f = s.makefile("rb")
            line = f.readline(8193).decode("latin-1").split()
            while f.readline(8193) not in (b"\r\n", b"\n", b""):
                pass
            if len(line) < 2:
                return
            method, target = line[0], line[1]
            path, _, query = target.partition("?")
            params = {}
            for kv in query.split("&"):
                if kv:
                    k, _, v = kv.partition("=")
                    params[unquote_url(k)] = unquote_url(v)
            code, ctype, body = self.route(method, [unquote_url(p) for p in path.split("/")[1:]], params)
            data = body.encode()
            s.sendall(("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                       % (code, {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
                          .get(code, "Error"), ctype, len(data))).encode() + (b"" if method == "HEAD" else data))
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass

    def route(self, method, parts, params):
        if method not in ("GET", "HEAD"):
            return 405, "text/plain; charset=utf-8", "405: Method Not Allowed\n"
        if parts in (["healthz"], ["livez"], ["readyz"]):
            return 200, "text/plain; charset=utf-8", "ok"
        if parts == ["pods"] or parts == ["pods", ""]:
            return 200, "application/json", json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {},
                                                        "items": self.pods.list()})
        if len(parts) == 4 and parts[0] == "containerLogs":
            tail = params.get("tailLines")
            code, text = self.pods.logs(parts[1], parts[2], parts[3], params.get("follow") == "true",
                                        int(tail) if tail and tail.lstrip("-").isdigit() else None)
            if code == 200:
                return code, "text/plain; charset=utf-8", text
            # errors as a Status: the API server passes the kubelet's answer through, and kubectl prints its message
            # the way it prints the API server's own ("Error from server (BadRequest): container ... is waiting ...")
            return code, "application/json", json.dumps({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": text.strip(), "reason": {400: "BadRequest", 404: "NotFound"}.get(code, "InternalError"),
                "code": code})
        return 404, "text/plain; charset=utf-8", "404 page not found\n"


def ensure_serving_cert(agent_dir, node, ip):
    """<data-dir>/agent/serving-kubelet.crt/.key: self-signed (openssl), made once."""
    cert, key = os.path.join(agent_dir, "serving-kubelet.crt"), os.path.join(agent_dir, "serving-kubelet.key")
    if os.path.exists(cert) and os.path.exists(key):
        return cert, key
    sans = "DNS:%s,DNS:localhost,IP:127.0.0.1" % node + (",IP:%s" % ip if ip else "")
    out, err = run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                   "-keyout", key, "-out", cert, "-days", "3650", "-subj", "/CN=%s" % node, "-addext",
                   "subjectAltName=" + sans)
    if out is None:
        log("error", "Failed to create the kubelet serving certificate: " + (err.splitlines() or ["openssl"])[-1])
        return None, None
    os.chmod(key, 0o600)
    return cert, key


# ------------------------------------------------------------------------------------------------------------ agent

def write_file(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def containerd_config(agent_dir, runtimes, default_runtime):
    """config.toml as K3s generates it for containerd 1.7 (version 2), with the NVIDIA runtimes it found."""
    lines = ["# File generated by k3s. DO NOT EDIT. Use config.toml.tmpl instead.", "version = 2", "",
             '[plugins."io.containerd.internal.v1.opt"]', '  path = "%s/containerd"' % agent_dir, "",
             '[plugins."io.containerd.grpc.v1.cri"]', '  stream_server_address = "127.0.0.1"',
             '  stream_server_port = "10010"', "  enable_selinux = false", "  enable_unprivileged_ports = true",
             "  enable_unprivileged_icmp = true", '  sandbox_image = "rancher/mirrored-pause:3.6"', "",
             '[plugins."io.containerd.grpc.v1.cri".containerd]', '  snapshotter = "overlayfs"',
             "  disable_snapshot_annotations = true"]
    if default_runtime:
        lines.append('  default_runtime_name = "%s"' % default_runtime)
    lines += ["", '[plugins."io.containerd.grpc.v1.cri".cni]', '  conf_dir = "%s/etc/cni/net.d"' % agent_dir, "",
              '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
              '  runtime_type = "io.containerd.runc.v2"', "",
              '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]', "  SystemdCgroup = false"]
    for name, path in runtimes:
        lines += ["", '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes."%s"]' % name,
                  '  runtime_type = "io.containerd.runc.v2"', "",
                  '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes."%s".options]' % name,
                  '  BinaryName = "%s"' % path, "  SystemdCgroup = false"]
    return "\n".join(lines) + "\n"


class Agent:
    def __init__(self, opts):
        self.o = opts
        self.stop = threading.Event()
        self.pods = Pods()

    # ---- the join

    def server_endpoint(self):
        url = self.server.rstrip("/")
        rest = url[len("https://"):]
        hostport = rest.split("/", 1)[0]
        if hostport.startswith("["):
            host, _, port = hostport[1:].partition("]:")
        elif hostport.count(":") == 1:
            host, port = hostport.split(":")
        else:
            host, port = hostport, ""
        return url, host, int(port or 443)

    def cacerts(self):
        """The cluster CA from the unauthenticated /cacerts; GoError when the server cannot be reached."""
        conn = Conn(self.host, self.port, insecure_context())
        try:
            status, reason, body = conn.request("GET", "/cacerts")
        except GoError as e:
            raise GoError('Get "%s/cacerts": %s' % (self.url, e))
        finally:
            conn.close()
        if status != 200:
            raise GoError("%s/cacerts: %d %s" % (self.url, status, reason))
        return body

    def validate_token(self):
        """K3s's token validation loop: errors are logged and retried every 2 s."""
        while True:
            if not self.server.startswith("https://"):
                log("error", "only https:// URLs are supported, invalid scheme: " + self.server)
            else:
                try:
                    ca = self.cacerts()
                    got = sha256(ca).hexdigest()
                    if self.ca_hash is None or self.ca_hash == got:
                        return ca
                    log("error", "token CA hash does not match the Cluster CA certificate hash: %s != %s"
                        % (self.ca_hash, got))
                except GoError as e:
                    log("error", "failed to get CA certs: %s" % e)
            time.sleep(2)

    def retrieve_config(self, ca):
        """K3s's agent configuration loop (every 5 s): the CA again, then the supervisor with node:<password>."""
        while True:
            try:
                try:
                    ca = self.cacerts()
                except GoError as e:
                    raise GoError("CA cert validation failed: %s" % e)
                if self.ca_hash and sha256(ca).hexdigest() != self.ca_hash:
                    raise GoError("CA cert validation failed: token CA hash does not match the Cluster CA "
                                  "certificate hash: %s != %s" % (self.ca_hash, sha256(ca).hexdigest()))
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.load_verify_locations(cadata=ca.decode("ascii", "replace"))
                api = Conn(self.host, self.port, ctx, self.auth)
                try:
                    status, reason, _ = api.request("GET", "/v1-k3s/config")
                except GoError as e:
                    raise GoError('failed to retrieve configuration from server: Get "%s/v1-k3s/config": %s'
                                  % (self.url, e))
                # the simulated supervisor has no configuration document (404) once it accepted the password
                if status not in (200, 404):
                    api.close()
                    raise GoError("failed to retrieve configuration from server: %s/v1-k3s/config: %d %s"
                                  % (self.url, status, reason))
                self.check_node_password(api)
                return ca, api
            except GoError as e:
                log("info", "Waiting to retrieve agent configuration; server is not ready: %s" % e)
            time.sleep(5)

    def check_node_password(self, api):
        """The node password (/etc/rancher/node/password) K3s keeps per node name in the Secret
        kube-system/<node>.node-password.k3s: another machine registering a live node's name is refused."""
        path = P("/etc/rancher/node/password")
        password = (read_text(path) or "").strip()
        if not password:
            password = os.urandom(16).hex()
            write_file(path, password + "\n", 0o600)
        digest = "k3gpu-lab-sha256:" + sha256(password.encode()).hexdigest()
        secret = "/api/v1/namespaces/kube-system/secrets/%s.node-password.k3s" % self.node_name
        encoded = b2a_base64(digest.encode(), newline=False).decode()
        st, _, body = api.request("GET", secret)
        if st == 200:
            if json.loads(body).get("data", {}).get("hash", "") == encoded:
                return
            # K3s deletes the secret with its Node: only a live node's name is protected
            node_st, _, _ = api.request("GET", "/api/v1/nodes/" + self.node_name)
            if node_st == 200:
                raise GoError("%s/agent/serving-kubelet.crt: Node password rejected, duplicate hostname or "
                              "contents of '/etc/rancher/node/password' may not match server node-passwd "
                              "entry, try enabling a unique node name with the --with-node-id flag"
                              % self.data_dir)
            api.request("DELETE", secret)
        api.request("POST", "/api/v1/namespaces/kube-system/secrets", {
            "apiVersion": "v1", "kind": "Secret", "type": "k3s.cattle.io/node-password",
            "metadata": {"name": "%s.node-password.k3s" % self.node_name, "namespace": "kube-system"},
            "immutable": True, "data": {"hash": encoded}})

    # ---- the runtime

    def start_runtime(self):
        agent_dir = os.path.join(self.data_dir, "agent")
        if self.docker:
            if self.facts.docker_version is None:
                reason = (self.facts.docker_error.splitlines() or ["Cannot connect to the Docker daemon at "
                          "unix:///var/run/docker.sock. Is the docker daemon running?"])[-1]
                log("error", "cri-dockerd exited: failed to get docker version from dockerd: " + reason)
                sys.exit(1)
            log("info", "Running cri-dockerd --container-runtime-endpoint=unix:///run/k3s/cri-dockerd/cri-dockerd"
                        ".sock --cri-dockerd-root-directory=%s/cri-dockerd --docker-endpoint=unix:///var/run/docker"
                        ".sock --hairpin-mode=promiscuous-bridge --network-plugin=cni" % agent_dir)
            log("info", "cri-dockerd is now running")
            return []
        for name, path in self.facts.runtimes:
            log("info", "Found %s container runtime at %s" % (name, path))
        config = os.path.join(agent_dir, "etc/containerd/config.toml")
        template = read_text(config + ".tmpl")
        write_file(config, template if template is not None else
                   containerd_config(agent_dir, self.facts.runtimes, self.default_runtime))
        log("info", "Logging containerd to %s/containerd/containerd.log" % agent_dir)
        log("info", "Running containerd -c %s -a /run/k3s/containerd/containerd.sock --state "
                    "/run/k3s/containerd --root %s/containerd" % (config, agent_dir))
        log("info", "containerd is now running")
        return read_images(os.path.join(agent_dir, "images"))

    # ---- the Node

    def nvidia_enabled(self):
        if self.docker:
            return (self.facts.docker_runtime or "").startswith("nvidia")
        return (self.default_runtime or "").startswith("nvidia")

    def node_object(self, images, pod_cidr):
        f = self.facts
        now = utc_now()
        labels = {"beta.kubernetes.io/arch": f.architecture, "beta.kubernetes.io/instance-type": "k3s",
                  "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": f.architecture,
                  "kubernetes.io/hostname": f.hostname, "kubernetes.io/os": "linux",
                  "node.kubernetes.io/instance-type": "k3s"}
        for kv in self.o.list("node-label"):
            k, _, v = kv.partition("=")
            if k.strip():
                labels[k] = v
        internal_ip = self.node_ips[0] if self.node_ips else f.internal_ip
        env = {k: (REDACTED if k in ("K3S_TOKEN", "K3S_AGENT_TOKEN", "K3S_VPN_AUTH") else v)
               for k, v in sorted(os.environ.items()) if k.startswith("K3S_")}
        ann = {"k3s.io/hostname": f.hostname}
        if internal_ip:
            ann["k3s.io/internal-ip"] = internal_ip
        ann["k3s.io/node-args"] = json.dumps(self.o.node_args, separators=(",", ":"))
        ann["k3s.io/node-env"] = json.dumps(env, separators=(",", ":"))
        ann["node.alpha.kubernetes.io/ttl"] = "0"
        ann["volumes.kubernetes.io/controller-managed-attach-detach"] = "true"
        spec = {}
        if pod_cidr:
            spec["podCIDR"] = pod_cidr
            spec["podCIDRs"] = [pod_cidr]
        spec["providerID"] = "k3s://" + self.node_name
        taints = [taint(t) for t in self.o.list("node-taint")]
        if taints:
            spec["taints"] = taints
        addresses = []
        if internal_ip:
            addresses.append({"address": internal_ip, "type": "InternalIP"})
        for ext in self.o.list("node-external-ip"):
            addresses.append({"address": ext, "type": "ExternalIP"})
        addresses.append({"address": f.hostname, "type": "Hostname"})
        gpus = f.gpus if self.nvidia_enabled() else 0
        pods = str(self.max_pods)
        allocatable = {"cpu": str(f.cpus), "ephemeral-storage": str(f.storage_kib * 1024 // 100 * 95),
                       "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                       "memory": "%dKi" % max(0, f.memory_kib - 100 * 1024)}
        capacity = {"cpu": str(f.cpus), "ephemeral-storage": "%dKi" % f.storage_kib, "hugepages-1Gi": "0",
                    "hugepages-2Mi": "0", "memory": "%dKi" % f.memory_kib}
        if gpus > 0:
            allocatable["nvidia.com/gpu"] = capacity["nvidia.com/gpu"] = str(gpus)
        allocatable["pods"] = capacity["pods"] = pods
        runtime = ("docker://" + (f.docker_version or "")) if self.docker else CONTAINERD_VERSION
        status = {"addresses": addresses, "allocatable": allocatable, "capacity": capacity,
                  "conditions": conditions(now, now), "daemonEndpoints": {"kubeletEndpoint": {"Port": KUBELET_PORT}},
                  "images": images,
                  "nodeInfo": {"architecture": f.architecture, "bootID": f.boot_id,
                               "containerRuntimeVersion": runtime, "kernelVersion": f.kernel,
                               "kubeProxyVersion": VERSION, "kubeletVersion": VERSION, "machineID": f.machine_id,
                               "operatingSystem": "linux", "osImage": f.os_image, "systemUUID": f.machine_id}}
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.node_name, "labels": labels, "annotations": ann},
                "spec": spec, "status": status}

    def free_pod_cidr(self):
        """The first 10.42.<n>.0/24 no node holds (K3s's controller-manager hands these out)."""
        st, _, body = self.api.request("GET", "/api/v1/nodes")
        used = set()
        if st == 200:
            for n in json.loads(body).get("items", []):
                if n.get("metadata", {}).get("name") == self.node_name:
                    return n.get("spec", {}).get("podCIDR")
                cidr = n.get("spec", {}).get("podCIDR") or ""
                if cidr.startswith("10.42."):
                    used.add(cidr)
        for i in range(1, 256):
            if "10.42.%d.0/24" % i not in used:
                return "10.42.%d.0/24" % i
        return None

    def register(self):
        klog("I", "kubelet_node_status.go:76", "Attempting to register node", node=self.node_name)
        node = self.node_object(self.images, self.free_pod_cidr())
        st, reason, body = self.api.request("POST", "/api/v1/nodes", node)
        if st == 409:
            # registered before (a restart, a re-join): take the object over as a restarted kubelet does
            spec = dict(node["spec"])
            spec.setdefault("taints", None)
            st, reason, body = self.api.request("PATCH", "/api/v1/nodes/" + self.node_name, {
                "metadata": {"labels": node["metadata"]["labels"],
                             "annotations": node["metadata"]["annotations"]}, "spec": spec},
                "application/merge-patch+json")
            if st == 200:
                st, reason, body = self.api.request("PATCH", "/api/v1/nodes/%s/status" % self.node_name,
                                                    {"status": node["status"]}, "application/merge-patch+json")
        if st not in (200, 201):
            raise GoError("%d %s: %s" % (st, reason, body.decode("utf-8", "replace")[:200]))
        self.ready_since = node["status"]["conditions"][0]["lastTransitionTime"]
        klog("I", "kubelet_node_status.go:79", "Successfully registered node", node=self.node_name)
        log("info", "Annotations and labels have been set successfully on node: " + self.node_name)
        self.renew_lease()

    def renew_lease(self):
        path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" + self.node_name
        t = time.time()
        renew = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)
        st, _, _ = self.api.request("PATCH", path, {"spec": {"renewTime": renew}}, "application/merge-patch+json")
        if st == 404:
            self.api.request("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", {
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": self.node_name, "namespace": "kube-node-lease"},
                "spec": {"holderIdentity": self.node_name, "leaseDurationSeconds": 40, "renewTime": renew}})

    def heartbeat(self):
        now = utc_now()
        st, reason, _ = self.api.request("PATCH", "/api/v1/nodes/%s/status" % self.node_name,
                                         {"status": {"conditions": conditions(now, self.ready_since)}},
                                         "application/merge-patch+json")
        if st == 404:
            self.register()
            return
        if st != 200:
            raise GoError("%d %s" % (st, reason))
        self.renew_lease()

    def sync_pods(self):
        st, _, body = self.api.request("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3D" + self.node_name)
        if st == 200:
            self.pods.sync(json.loads(body).get("items", []))

    # ---- the whole run

    def run(self):
        o = self.o
        token = o.string("token")
        token_file = o.string("token-file")
        if token_file:
            token = read_text(token_file)
            if token is None:
                fatal("open %s: no such file or directory" % token_file)
            token = token.strip()
        if not token:
            fatal("--token is required")
        self.server = o.string("server")
        if not self.server:
            fatal("--server is required")
        log("info", "Starting k3s agent %s (%s)" % (VERSION, COMMIT))
        self.docker = o.bool("docker")
        if self.docker and (1, 24, 0) <= version_tuple(VERSION) <= (1, 24, 3):
            fatal("--docker is no longer supported; to continue using docker, install cri-dockerd and set "
                  "--container-runtime-endpoint")
        try:
            self.ca_hash, password = parse_token(token)
        except ValueError as e:
            fatal(str(e))
        self.auth = b2a_base64(("node:" + password).encode(), newline=False).decode()
        self.data_dir = o.string("data-dir") or P("/var/lib/rancher/k3s")
        self.default_runtime = o.string("default-runtime")
        self.node_ips = o.list("node-ip")
        self.max_pods = 110
        for a in o.list("kubelet-arg"):
            if a.lstrip("-").startswith("max-pods="):
                self.max_pods = int(a.split("=", 1)[1])
        hostname = (read_text("/proc/sys/kernel/hostname") or socket.gethostname()).strip().lower()
        self.node_name = (o.string("node-name") or hostname).lower()
        if o.bool("with-node-id"):
            id_file = P("/etc/rancher/node/id")
            node_id = (read_text(id_file) or "").strip()
            if not node_id:
                node_id = os.urandom(4).hex()
                write_file(id_file, node_id + "\n", 0o600)
            self.node_name += "-" + node_id
        self.url, self.host, self.port = self.server_endpoint() if self.server.startswith("https://") \
            else (self.server, "", 0)

        ca = self.validate_token()
        ca, self.api = self.retrieve_config(ca)
        agent_dir = os.path.join(self.data_dir, "agent")
        os.makedirs(agent_dir, mode=0o700, exist_ok=True)
        write_file(os.path.join(agent_dir, "server-ca.crt"), ca.decode("ascii", "replace"))
        os.makedirs(P("/var/lib/kubelet/pods"), exist_ok=True)
        self.facts = Facts(self.data_dir, self.docker, self.host, self.port)
        self.images = self.start_runtime()
        ip = self.node_ips[0] if self.node_ips else self.facts.internal_ip
        cert, key = ensure_serving_cert(agent_dir, self.node_name, ip)
        log("info", "Running kubelet --address=0.0.0.0 --anonymous-auth=false --hostname-override=%s "
                    "--node-ip=%s --node-labels=%s --tls-cert-file=%s --tls-private-key-file=%s"
            % (self.node_name, ip or "", ",".join(o.list("node-label")), cert or "", key or ""))
        if cert:
            Kubelet(self.pods, cert, key).start()
        while True:
            try:
                self.register()
                break
            except GoError as e:
                klog("E", "kubelet_node_status.go:98", "Unable to register node with API server",
                     err=str(e), node=self.node_name)
                time.sleep(5)
        self.sync_pods_safely()
        while True:
            time.sleep(HEARTBEAT)
            try:
                self.heartbeat()
            except GoError as e:
                klog("E", "kubelet_node_status.go:535", "Error updating node status, will retry", err=str(e))
                continue
            self.sync_pods_safely()

    def sync_pods_safely(self):
        try:
            self.sync_pods()
        except (GoError, ValueError) as e:
            klog("E", "config.go:121", "Failed to list pods bound to this node", err=str(e), node=self.node_name)


def main(argv):
    if not argv or argv[0] != "agent":
        sys.stderr.write('Incorrect Usage: this program only runs "k3s agent"\n')
        return 1
    args = argv[1:]
    if "--help" in args or "-h" in args:
        sys.stderr.write(AGENT_HELP + "\n")
        return 0
    try:
        opts = parse_options(args, os.environ)
    except UsageError as e:
        sys.stderr.write("Incorrect Usage: %s\n\n%s\n" % (e, AGENT_HELP))
        log("fatal", str(e))
        return 1
    log_file = opts.string("log")
    if log_file:
        try:
            os.makedirs(os.path.dirname(log_file) or ".", exist_ok=True)
            f = open(log_file, "a")
        except OSError as e:
            fatal("failed to open log file %s: %s" % (log_file, e.strerror))
        OUT[:] = [f, sys.stderr] if opts.bool("alsologtostderr") else [f]
    return Agent(opts).run()


def on_term(signum, frame):
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, signal.SIG_IGN)  # a signal to the whole process group comes twice
    log("info", "Received SIGTERM, shutting down")
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(0)
