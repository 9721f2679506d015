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
    config.toml is written with the NVIDIA runtimes found where K3s looks (/usr/local/nvidia/toolkit, /usr/bin) and
    --default-runtime;
  * registers the Node as io.k3gpu.lab.k3s.K3sNodeObject builds it (labels, annotations, taints, addresses,
    capacity, conditions, nodeInfo, images imported from <data-dir>/agent/images/*.tar) and keeps it Ready: every
    10 s a status patch (lastHeartbeatTime), the kube-node-lease Lease renewed, and the node's pods listed
    (spec.nodeName=<node>) for the pod manager;
  * kubelet's device-plugin manager (DeviceManager): /var/lib/kubelet/device-plugins/kubelet.sock, registrations
    in the lab's line protocol, extended resources (nvidia.com/gpu) on the Node only from registered plugins;
  * a kubelet endpoint on :10250 (HTTPS, self-signed serving-kubelet.crt, no client authentication): /healthz,
    /pods, /containerLogs/<ns>/<pod>/<container>?follow=&tailLines=&previous= (the server proxies `kubectl logs`);
  * runs the node's pods (a watch on spec.nodeName=<node>, and the heartbeat's list) as the kubelet does, one
    PodWorker each: volumes (emptyDir, configMap, secret, hostPath), init containers in order, then the containers,
    each a real process of the node started by k3s-container.py in a mount namespace of its own (the node's files
    under a writable layer, the volumes at their mountPaths); images from the lab's catalog (images/images.json:
    ENTRYPOINT/CMD/ENV/WORKDIR, platforms, simulated frameworks), ErrImagePull / ImagePullBackOff with the
    runtime's words; restartPolicy Never/OnFailure/Always with kubelet's back-off; status patched as kubelet writes
    it (phase, conditions, container states), kubelet's Events; deletion: SIGTERM, SIGKILL after the grace period,
    then DELETE with gracePeriodSeconds=0 (the server's controllers' contract); pods gone from the API are killed.
Logs go to stderr (the service log) in logrus's format, kubelet's lines in klog's, as K3s writes them.
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


# K3s v1.31's pkg/agent/containerd/runtimes.go (findNvidiaContainerRuntimes): the GPU Operator's toolkit directory,
# then the package manager's /usr/bin, for each runtime; the first file found wins. "nvidia-cdi"
# (nvidia-container-runtime.cdi) joined K3s's list with k3s-io/k3s#11065 (October 2024, backported #11092-#11095 to
# v1.31.2, v1.30.6, v1.29.10, v1.28.15): this lab's v1.30.8, v1.31.4, v1.32.0 have it, v1.24.3 does not
NVIDIA_RUNTIME_DIRS = ("/usr/local/nvidia/toolkit", "/usr/bin")
NVIDIA_RUNTIME_BINARIES = (("nvidia", "nvidia-container-runtime"),
                           ("nvidia-experimental", "nvidia-container-runtime-experimental"),
                           ("nvidia-cdi", "nvidia-container-runtime.cdi"))


def has_nvidia_cdi(v):
    return v >= (1, 31, 2) or (1, 30, 6) <= v < (1, 31) or (1, 29, 10) <= v < (1, 30) or (1, 28, 15) <= v < (1, 29)


def nvidia_runtimes():
    """The NVIDIA runtimes K3s's containerd configuration gets: [(name, path)]."""
    found = []
    for name, binary in NVIDIA_RUNTIME_BINARIES:
        if name == "nvidia-cdi" and not has_nvidia_cdi(version_tuple(VERSION)):
            continue
        for d in NVIDIA_RUNTIME_DIRS:
            p = os.path.join(d, binary)
            if os.path.isfile(P(p)):
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
        self.docker_version = None
        self.docker_error = ""
        if docker:
            self.docker_version, self.docker_error = run("docker", "version", "--format", "{{.Server.Version}}")


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


# ------------------------------------------------------------------------------------------------------------ images

# where the agent's companions are: k3s-container.py (starts a container), images/ (the catalog and the simulated
# frameworks); on a node /usr/local/lib/k3gpu-lab/shared/k3s, beside this program
SHARED = os.environ.get("K3GPU_LAB_K3S_SHARED") or os.path.dirname(os.path.abspath(__file__))
# tests only: "none" runs containers without a mount namespace of their own (no root needed, no volumes mounted)
ISOLATION = os.environ.get("K3GPU_LAB_POD_ISOLATION", "mount")
PULL_SECONDS = float(os.environ.get("K3GPU_LAB_PULL_SECONDS") or 0.3)
SERVICE_ENV = (("KUBERNETES_SERVICE_HOST", "10.43.0.1"), ("KUBERNETES_SERVICE_PORT", "443"),
               ("KUBERNETES_SERVICE_PORT_HTTPS", "443"), ("KUBERNETES_PORT", "tcp://10.43.0.1:443"),
               ("KUBERNETES_PORT_443_TCP", "tcp://10.43.0.1:443"), ("KUBERNETES_PORT_443_TCP_PROTO", "tcp"),
               ("KUBERNETES_PORT_443_TCP_PORT", "443"), ("KUBERNETES_PORT_443_TCP_ADDR", "10.43.0.1"))
# what containers keep of the node's /usr/local/bin: the replayed Jetson's identity (a container on a Jetson is
# aarch64 too); nvidia-smi only with an NVIDIA-enabled runtime (which brings it into containers); the rest (K3s,
# Docker, systemctl, tegrastats) is the node's, not an image's
NODE_TOOLS_IN_IMAGES = ("uname", "arch", "dpkg")
REF_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-/:@")


class ImageRef:
    """An image reference normalised as Docker and containerd do: busybox -> docker.io/library/busybox:latest."""

    def __init__(self, text):
        self.text = text
        self.error = None
        name, self.digest = (text.split("@", 1) + [None])[:2] if "@" in text else (text, None)
        self.tag = None
        if name.rfind(":") > name.rfind("/"):
            name, self.tag = name[:name.rfind(":")], name[name.rfind(":") + 1:]
        first = name.split("/", 1)[0]
        if "/" not in name:
            self.repo = "docker.io/library/" + name
        elif "." in first or ":" in first or first == "localhost":
            self.repo = name
        else:
            self.repo = "docker.io/" + name
        if self.tag is None and self.digest is None:
            self.tag = "latest"
        path = self.repo.split("/", 1)[1] if "/" in self.repo else self.repo
        if not text or any(c not in REF_CHARS for c in text.lower()) or not name:
            self.error = 'couldn\'t parse image name "%s": invalid reference format' % text
        elif text.lower() != text:
            self.error = ('couldn\'t parse image name "%s": invalid reference format: repository name (%s) must '
                          'be lowercase' % (text, path))

    def canonical(self):
        """containerd's name: docker.io/library/busybox:latest."""
        return self.repo + (":" + self.tag if self.tag else "@" + self.digest)

    def familiar_repo(self):
        for prefix in ("docker.io/library/", "docker.io/"):
            if self.repo.startswith(prefix):
                return self.repo[len(prefix):]
        return self.repo

    def familiar(self):
        """Docker's name: busybox:latest."""
        return self.familiar_repo() + (":" + self.tag if self.tag else "@" + self.digest)


class Catalog:
    """images/images.json: the images the lab's pods can run (see its "about")."""

    def __init__(self, path):
        self.path = path
        self.data = None

    def load(self):
        if self.data is None:
            try:
                with open(self.path) as f:
                    self.data = json.load(f)
            except (OSError, ValueError) as e:
                log("error", "Failed to read the image catalog %s: %s" % (self.path, e))
                self.data = {"images": {}}
        return self.data

    def resolve(self, ref, arch):
        """(image, None) or (None, "repository" | "tag" | "platform"): why it cannot be pulled on this node."""
        data = self.load()
        entry = data.get("images", {}).get(ref.repo)
        if entry is None:
            return None, "repository"
        defaults = data.get("defaults", {})
        tags = entry.get("tags", {})
        tag = ref.tag
        if tag is None:
            tag = next((t for t in tags if digest_of(ref.repo, t) == ref.digest), None)
        if tag not in tags or (ref.digest and digest_of(ref.repo, tag) != ref.digest):
            return None, "tag"
        platforms = entry.get("platforms") or defaults.get("platforms") or []
        if "linux/" + arch not in platforms:
            return None, "platform"
        over = tags[tag]
        env = dict(defaults.get("env", {}))
        env.update(entry.get("env", {}))
        return {"repo": ref.repo, "tag": tag, "digest": digest_of(ref.repo, tag),
                "sizeBytes": int(entry.get("sizeBytes") or 0), "entrypoint": list(entry.get("entrypoint") or []),
                "cmd": list(entry.get("cmd") or []), "workingDir": entry.get("workingDir") or "", "env": env,
                "frameworks": dict(over.get("frameworks", entry.get("frameworks", {}))),
                "files": dict(entry.get("files", {})), "nvidiaRuntimeFiles": list(entry.get("nvidiaRuntimeFiles", [])),
                "cuda": over.get("cuda", entry.get("cuda"))}, None


def digest_of(repo, tag):
    return "sha256:" + sha256(("k3gpu-lab:%s:%s" % (repo, tag)).encode()).hexdigest()


def pull_error(ref, why, docker, arch):
    """The runtime's words for an image it cannot pull."""
    if docker:
        if why == "repository":
            return ("Error response from daemon: pull access denied for %s, repository does not exist or may "
                    "require 'docker login': denied: requested access to the resource is denied"
                    % ref.familiar_repo())
        if why == "platform":
            return "Error response from daemon: no matching manifest for linux/%s in the manifest list entries" % arch
        return "Error response from daemon: manifest for %s not found: manifest unknown: manifest unknown" \
            % ref.familiar()
    name = ref.canonical()
    if why == "platform":
        return ('rpc error: code = NotFound desc = failed to pull and unpack image "%s": no match for platform in '
                'manifest: not found' % name)
    return ('rpc error: code = NotFound desc = failed to pull and unpack image "%s": failed to resolve reference '
            '"%s": %s: not found' % (name, name, name))


def go_duration(seconds):
    """Go's time.Duration text, to the millisecond: 812ms, 1.245s."""
    ms = int(seconds * 1000)
    if ms < 1000:
        return "%dms" % ms
    return ("%d.%03d" % (ms // 1000, ms % 1000)).rstrip("0").rstrip(".") + "s"


def cuda_version(fsroot_path):
    """The node's CUDA (major.minor): 10.2 on L4T 32 (JetPack 4), else /usr/local/cuda/version.{json,txt}."""
    release = read_text(fsroot_path("/etc/nv_tegra_release")) or ""
    if release.startswith("# R32"):
        return "10.2"
    text = read_text(fsroot_path("/usr/local/cuda/version.json"))
    if text:
        try:
            v = json.loads(text).get("cuda", {}).get("version", "")
            if v:
                return ".".join(v.split(".")[:2])
        except ValueError:
            pass
    text = read_text(fsroot_path("/usr/local/cuda/version.txt")) or ""
    for word in text.split():
        if word[:1].isdigit():
            return ".".join(word.split(".")[:2])
    return None


def gpu_names(fsroot_path):
    """The GPUs as CUDA names them: nvidia-smi -L on dGPU machines, the SoC's GPU on Jetsons."""
    if os.path.exists(fsroot_path("/etc/nv_tegra_release")):
        model = (read_text(fsroot_path("/sys/firmware/devicetree/base/model")) or "").replace("\0", "")
        for word, name in (("Orin", "Orin"), ("Xavier", "Xavier"), ("TX2", "NVIDIA Tegra X2")):
            if word in model:
                return [name]
        return ["NVIDIA Tegra X1"]
    out, _ = run("nvidia-smi", "-L")
    names = []
    for line in (out or "").splitlines():
        if line.startswith("GPU ") and ": " in line:
            names.append(line.split(": ", 1)[1].split(" (UUID")[0].strip())
    return names


# ------------------------------------------------------------------------------------------------------------ pods

def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def expand(text, env):
    """Kubernetes' $(VAR) expansion of command, args and env values ($$ escapes; unknown names stay)."""
    if "$" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("$(", i) and text.find(")", i) > 0:
            end = text.find(")", i)
            name = text[i + 2:end]
            out.append(env[name] if name in env else text[i:end + 1])
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def b64decode(text):
    from binascii import a2b_base64
    return a2b_base64(text)


class ConfigError(Exception):
    """A container that cannot be created from its configuration (CreateContainerConfigError)."""


class Container:
    """One container of a pod: its spec, its state as the kubelet reports it, its current process."""

    def __init__(self, worker, spec, init):
        self.w = worker
        self.spec = spec
        self.name = spec.get("name", "")
        self.init = init
        self.field_path = "spec.%s{%s}" % ("initContainers" if init else "containers", self.name)
        self.state = "waiting"
        self.reason = "PodInitializing" if worker.spec.get("initContainers") else "ContainerCreating"
        self.message = None
        self.term = None          # state.terminated
        self.last = None          # lastState.terminated
        self.restarts = 0
        self.started_at = None
        self.image = None         # resolved catalog image
        self.ref = ImageRef(spec.get("image") or "")
        self.cid = None
        self.pid = None
        self.mntns = None
        self.run_dir = None
        self.log_path = None
        self.next_try = 0.0       # when the next pull / start may happen
        self.pull_failures = 0
        self.crashes = 0
        self.backoff_events = None  # (time, events) to send when an image pull backs off

    # ---- what the kubelet reports

    def ready(self):
        if self.init:
            return self.state == "terminated" and self.term["exitCode"] == 0
        return self.state == "running"

    def succeeded(self):
        return self.state == "terminated" and self.term["exitCode"] == 0

    def status(self):
        p = self.w.pods
        if self.state == "running":
            state = {"running": {"startedAt": rfc3339(self.started_at)}}
        elif self.state == "terminated":
            state = {"terminated": dict(self.term)}
        else:
            state = {"waiting": {"reason": self.reason}}
            if self.message:
                state["waiting"]["message"] = self.message
        s = {"name": self.name, "state": state, "lastState": {"terminated": dict(self.last)} if self.last else {},
             "ready": self.ready(), "restartCount": self.restarts, "started": self.state == "running",
             "image": self.spec.get("image", ""), "imageID": ""}
        if self.image is not None:
            s["image"] = self.ref.familiar() if p.docker else self.ref.canonical()
            s["imageID"] = ("docker-pullable://%s@%s" % (self.ref.familiar_repo(), self.image["digest"])) \
                if p.docker else "%s@%s" % (self.ref.repo, self.image["digest"])
        cid = self.container_id() if self.state == "running" else (self.term or {}).get("containerID")
        if cid:
            s["containerID"] = cid
        return s

    def container_id(self):
        return ("docker://" if self.w.pods.docker else "containerd://") + self.cid if self.cid else None

    def adopt(self, status):
        """Takes over what a previous run of the agent reported: finished states stay, a running one is lost."""
        st = status.get("state", {})
        self.restarts = int(status.get("restartCount") or 0)
        last = status.get("lastState", {}).get("terminated")
        self.last = dict(last) if last else None
        if "terminated" in st:
            self.state, self.term = "terminated", dict(st["terminated"])
        elif "running" in st:
            self.state = "terminated"
            self.term = {"exitCode": 137, "reason": "ContainerStatusUnknown",
                         "message": "The container could not be located when the pod was terminated",
                         "startedAt": st["running"].get("startedAt"), "finishedAt": utc_now()}
        if self.state == "terminated" and status.get("imageID"):
            self.image = {"digest": status["imageID"].rsplit("@", 1)[-1]}

    # ---- the process

    def signal(self, sig):
        if self.pid is not None and self.state == "running":
            try:
                os.killpg(self.pid, sig)
            except OSError:
                pass
        if self.mntns:
            kill_namespace(self.mntns, sig)

    def wait(self, pid, started):
        """The container's waiter thread: its exit becomes state.terminated."""
        try:
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            code = 137
        if code < 0:
            code = 128 - code
        if self.mntns:
            kill_namespace(self.mntns, signal.SIGKILL)  # the container ends with its first process
        w = self.w
        with w.cond:
            self.state = "terminated"
            self.term = {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                         "startedAt": rfc3339(started), "finishedAt": utc_now(), "containerID": self.container_id()}
            self.pid = None
            w.dirty = True
            w.cond.notify_all()
        self.w.pods.release(self)


CSV_DIR = "/etc/nvidia-container-runtime/host-files-for-container.d"


def csv_mounts():
    """The paths the NVIDIA Container Runtime mounts in CSV mode (Jetson, L4T <= 36): its
    host-files-for-container.d/*.csv lines "<kind>, <path>"."""
    out = set()
    try:
        names = sorted(n for n in os.listdir(P(CSV_DIR)) if n.endswith(".csv"))
    except OSError:
        return out
    for n in names:
        for line in (read_text(P(os.path.join(CSV_DIR, n))) or "").splitlines():
            kind, _, path = line.partition(",")
            if path.strip() and not kind.strip().startswith("#"):
                out.add(path.strip())
    return out


def kill_namespace(mntns, sig):
    """Signals every process of the node in mount namespace mntns (what a container's processes share)."""
    me = os.getpid()
    try:
        if os.readlink("/proc/self/ns/mnt") == mntns:
            return  # never the node's own
    except OSError:
        return
    try:
        names = os.listdir("/proc")
    except OSError:
        return
    for n in names:
        if not n.isdigit() or int(n) == me:
            continue
        try:
            if os.readlink("/proc/%s/ns/mnt" % n) == mntns:
                os.kill(int(n), sig)
        except OSError:
            pass


def version(obj):
    rv = obj.get("metadata", {}).get("resourceVersion") or "0"
    return int(rv) if rv.isdigit() else 0


class PodWorker(threading.Thread):
    """Runs one pod as the kubelet's pod worker does: sandbox (volumes), init containers in order, then the
    containers, restarts by restartPolicy, status patches, events; on deletion kills and confirms."""

    def __init__(self, pods, pod):
        threading.Thread.__init__(self, name="pod", daemon=True)
        self.pods = pods
        self.pod = pod
        meta = pod.get("metadata", {})
        self.ns, self.name, self.uid = meta.get("namespace", "default"), meta.get("name", ""), meta.get("uid", "")
        self.spec = pod.get("spec", {})
        self.policy = self.spec.get("restartPolicy") or "Always"
        self.cond = threading.Condition()
        self.gone = False
        self.dirty = False
        self.seen = time.time()
        self.inits = [Container(self, c, True) for c in self.spec.get("initContainers") or []]
        self.mains = [Container(self, c, False) for c in self.spec.get("containers") or []]
        self.sandbox = False
        self.sandbox_error = None
        self.nvidia = False
        self.cuda = None
        self.volumes = {}
        self.phase = "Pending"
        self.done = False
        self.start_time = None
        self.transitions = {}
        self.written = None
        self.next_wake = None
        self.pod_dir = P("/var/lib/kubelet/pods/" + self.uid)
        self.log_dir = P("/var/log/pods/%s_%s_%s" % (self.ns, self.name, self.uid))
        self.adopt(pod.get("status", {}))

    def key(self):
        return self.ns, self.name

    def containers(self):
        return self.inits + self.mains

    def adopt(self, status):
        by_name = {s.get("name"): s for s in (status.get("initContainerStatuses") or []) +
                   (status.get("containerStatuses") or [])}
        for c in self.containers():
            if c.name in by_name and by_name[c.name].get("state", {}).keys() & {"running", "terminated"}:
                c.adopt(by_name[c.name])
                self.sandbox = True
        if self.sandbox or status.get("startTime"):
            self.start_time = status.get("startTime")
        if status.get("phase") in ("Succeeded", "Failed"):
            self.phase, self.done, self.sandbox = status["phase"], True, False
        for cond in status.get("conditions") or []:
            self.transitions[cond.get("type")] = (cond.get("status"), cond.get("lastTransitionTime"))

    # ---- from the API

    def set_pod(self, pod, seen):
        with self.cond:
            before = self.pod.get("metadata", {}).get("deletionTimestamp")
            self.seen = max(self.seen, seen)
            if version(pod) < version(self.pod):
                return  # a list older than the watch event already seen
            self.pod = pod
            if pod.get("metadata", {}).get("deletionTimestamp") and not before:
                self.dirty = True
                self.cond.notify_all()

    def vanish(self):
        with self.cond:
            self.gone = True
            self.cond.notify_all()

    def deleting(self):
        return bool(self.pod.get("metadata", {}).get("deletionTimestamp"))

    # ---- the loop

    def run(self):
        try:
            while True:
                with self.cond:
                    stop = self.gone or self.deleting()
                if stop:
                    self.terminate()
                    return
                self.next_wake = None
                if not self.done:
                    self.sync()
                self.write_status()
                with self.cond:
                    if not (self.dirty or self.gone or self.deleting()):
                        wait = None if self.next_wake is None else max(0.0, self.next_wake - time.time())
                        self.cond.wait(wait)
                    self.dirty = False
        except Exception as e:  # a bug must not take the agent down: the pod stays as last reported
            klog("E", "pod_workers.go:1301", "Error syncing pod, skipping", err="%s: %s" % (type(e).__name__, e),
                 pod="%s/%s" % (self.ns, self.name), podUID=self.uid)
        finally:
            self.pods.forget(self)

    def wake_at(self, t):
        if self.next_wake is None or t < self.next_wake:
            self.next_wake = t

    def sync(self):
        """One pass of the kubelet's SyncPod: what can be started now is started; when to look again."""
        now = time.time()
        if not self.sandbox and not self.create_sandbox():
            self.wake_at(now + 2)
            return
        for c in self.inits:
            if c.succeeded():
                continue
            if c.state == "running":
                return
            if c.state == "terminated" and self.policy == "Never":
                self.finish()
                return
            self.step(c, now)
            return
        for c in self.mains:
            if c.state == "running":
                continue
            if c.state == "terminated" and (self.policy == "Never" or
                                            (self.policy == "OnFailure" and c.term["exitCode"] == 0)):
                continue
            self.step(c, now)
        phase = self.compute_phase()
        if phase in ("Succeeded", "Failed"):
            self.finish()

    def step(self, c, now):
        """A container that waits: its pull back-off events, a restart back-off, or an attempt now."""
        if c.state == "terminated":
            delay = 0 if c.crashes == 0 else min(10 * 2 ** (c.crashes - 1), 300)
            c.crashes += 1
            c.last, c.term = c.term, None
            c.restarts += 1
            c.state = "waiting"
            c.next_try = now + delay
            if delay:
                c.reason = "CrashLoopBackOff"
                c.message = "back-off %s restarting failed container=%s pod=%s_%s(%s)" % (
                    go_duration(delay), c.name, self.name, self.ns, self.uid)
                self.event(c, "Warning", "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)"
                           % (c.name, self.name, self.ns, self.uid))
        if c.backoff_events and now >= c.backoff_events[0]:
            c.reason, c.message = "ImagePullBackOff", 'Back-off pulling image "%s"' % c.ref.text
            for etype, reason, message in c.backoff_events[1]:
                self.event(c, etype, reason, message)
            c.backoff_events = None
        if now < c.next_try:
            self.wake_at(c.backoff_events[0] if c.backoff_events else c.next_try)
            return
        self.start_container(c)
        if c.state == "waiting":
            self.wake_at(c.backoff_events[0] if c.backoff_events else c.next_try)

    def finish(self):
        self.phase = self.compute_phase()
        if self.phase not in ("Succeeded", "Failed"):
            self.phase = "Failed"
        self.done = True
        self.sandbox = False

    def compute_phase(self):
        """kubelet's getPhase."""
        if self.done:
            return self.phase
        for c in self.inits:
            if not c.succeeded():
                if c.state == "terminated" and self.policy == "Never":
                    return "Failed"
                return "Pending"
        waiting = running = stopped = succeeded = 0
        for c in self.mains:
            if c.state == "running":
                running += 1
            elif c.state == "terminated":
                stopped += 1
                succeeded += c.term["exitCode"] == 0
            elif c.last is not None:
                stopped += 1
            else:
                waiting += 1
        if waiting:
            return "Pending"
        if running:
            return "Running"
        if self.policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if self.policy == "Never" else "Running"

    # ---- the sandbox: runtime handler and volumes

    def create_sandbox(self):
        p = self.pods
        handler = None
        rc = self.spec.get("runtimeClassName")
        if rc:
            st, _, body = p.request("GET", "/apis/node.k8s.io/v1/runtimeclasses/" + rc)
            if st != 200:
                return self.sandbox_failed('failed to get sandbox runtime: runtimeclass.node.k8s.io "%s" not found'
                                           % rc)
            handler = json.loads(body).get("handler") or ""
            # cri-dockerd's RunPodSandbox (dockershim's docker_sandbox.go before it): only its runtime name, "docker"
            if p.docker and handler not in ("", "docker"):
                return self.sandbox_failed('RuntimeHandler "%s" not supported' % handler)
            if not p.docker and handler not in ["runc", ""] + [n for n, _ in p.agent.facts.runtimes]:
                return self.sandbox_failed('failed to get sandbox runtime: no runtime for "%s" is configured'
                                           % handler)
        if p.docker:
            self.nvidia = (run("docker", "info", "--format", "{{.DefaultRuntime}}")[0] or "").startswith("nvidia")
        else:
            self.nvidia = (handler or p.agent.default_runtime or "").startswith("nvidia")
        try:
            self.volumes = self.mount_volumes()
        except ConfigError as e:
            self.event(None, "Warning", "FailedMount", str(e))
            return False
        os.makedirs(self.log_dir, exist_ok=True)
        self.sandbox = True
        self.sandbox_error = None
        if self.start_time is None:
            self.start_time = utc_now()
        return True

    def sandbox_failed(self, desc):
        message = "Failed to create pod sandbox: rpc error: code = Unknown desc = " + desc
        if message != self.sandbox_error:
            self.event(None, "Warning", "FailedCreatePodSandBox", message)
        self.sandbox_error = message
        if self.start_time is None:
            self.start_time = utc_now()
        return False

    def mount_volumes(self):
        """Each volume's directory on the node (emptyDir, configMap, secret made under the pod's directory)."""
        out = {}
        for v in self.spec.get("volumes") or []:
            name = v.get("name", "")
            if "hostPath" in v:
                out[name] = self.host_path(name, v["hostPath"])
                continue
            kind = next((k for k in ("configMap", "secret", "emptyDir") if k in v), "emptyDir")
            plugin = {"configMap": "kubernetes.io~configmap", "secret": "kubernetes.io~secret"}.get(
                kind, "kubernetes.io~empty-dir")
            d = os.path.join(self.pod_dir, "volumes", plugin, name)
            if kind in ("configMap", "secret"):
                self.write_keys(d, name, kind, v[kind])
            else:
                os.makedirs(d, exist_ok=True)
            out[name] = d
        return out

    def host_path(self, name, hp):
        path = hp.get("path", "")
        kind = hp.get("type") or ""
        node_path = P(path) if FSROOT else path

        def failed(what):
            raise ConfigError('MountVolume.SetUp failed for volume "%s" : hostPath type check failed: %s is not a %s'
                              % (name, path, what))
        if kind == "DirectoryOrCreate":
            os.makedirs(node_path, 0o755, exist_ok=True)
        elif kind == "FileOrCreate":
            os.makedirs(os.path.dirname(node_path), exist_ok=True)
            open(node_path, "a").close()
        elif kind == "Directory" and not os.path.isdir(node_path):
            failed("directory")
        elif kind == "File" and not os.path.isfile(node_path):
            failed("file")
        elif kind in ("Socket", "CharDevice", "BlockDevice") and not os.path.exists(node_path):
            failed(kind[0].lower() + kind[1:].replace("Device", " device"))
        return node_path

    def write_keys(self, d, name, kind, src):
        what = src.get("name") if kind == "configMap" else src.get("secretName")
        plural = "configmaps" if kind == "configMap" else "secrets"
        st, _, body = self.pods.request("GET", "/api/v1/namespaces/%s/%s/%s" % (self.ns, plural, what))
        if st != 200:
            if src.get("optional"):
                os.makedirs(d, exist_ok=True)
                return
            raise ConfigError('MountVolume.SetUp failed for volume "%s" : %s "%s" not found'
                              % (name, kind.lower(), what))
        obj = json.loads(body)
        files = {}
        for k, v in (obj.get("data") or {}).items():
            files[k] = b64decode(v) if kind == "secret" else v.encode()
        for k, v in (obj.get("binaryData") or {}).items():
            files[k] = b64decode(v)
        items = src.get("items")
        if items:
            files = {i.get("path", i.get("key")): files[i.get("key")] for i in items if i.get("key") in files}
        mode = src.get("defaultMode", 0o644)
        os.makedirs(d, exist_ok=True)
        for rel, data in files.items():
            target = os.path.join(d, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
            os.chmod(target, mode)

    # ---- one container: pull, create, start

    def start_container(self, c):
        p = self.pods
        image = c.ref.text
        if c.ref.error:
            c.reason, c.message = "InvalidImageName", 'Failed to apply default image tag "%s": %s' % (
                image, c.ref.error)
            if c.next_try == 0:
                self.event(c, "Warning", "InspectFailed", c.message)
                self.event(c, "Warning", "Failed", "Error: InvalidImageName")
            c.next_try = time.time() + 10
            return
        policy = c.spec.get("imagePullPolicy") or "IfNotPresent"
        present = p.image_present(c.ref)
        if policy == "Never" and not present:
            c.reason = "ErrImageNeverPull"
            c.message = 'Container image "%s" is not present with pull policy of Never' % image
            self.event(c, "Warning", "ErrImageNeverPull", c.message)
            self.event(c, "Warning", "Failed", "Error: ErrImageNeverPull")
            c.next_try = time.time() + 10
            return
        if present and policy != "Always":
            resolved, why = p.catalog.resolve(c.ref, p.agent.facts.architecture)
            self.event(c, "Normal", "Pulled", 'Container image "%s" already present on machine' % image)
        else:
            self.event(c, "Normal", "Pulling", 'Pulling image "%s"' % image)
            t0 = time.time()
            time.sleep(PULL_SECONDS)
            resolved, why = p.catalog.resolve(c.ref, p.agent.facts.architecture)
            if resolved is None:
                err = pull_error(c.ref, why, p.docker, p.agent.facts.architecture)
                c.reason, c.message = "ErrImagePull", err
                self.event(c, "Warning", "Failed", 'Failed to pull image "%s": %s' % (image, err))
                self.event(c, "Warning", "Failed", "Error: ErrImagePull")
                now = time.time()
                c.backoff_events = (now + 1, [("Normal", "BackOff", 'Back-off pulling image "%s"' % image),
                                              ("Warning", "Failed", "Error: ImagePullBackOff")])
                c.next_try = now + min(10 * 2 ** c.pull_failures, 300)
                c.pull_failures += 1
                return
            took = go_duration(time.time() - t0)
            p.pulled(c.ref, resolved)
            self.event(c, "Normal", "Pulled", 'Successfully pulled image "%s" in %s (%s including waiting). '
                       'Image size: %d bytes.' % (image, took, took, resolved["sizeBytes"]))
        c.pull_failures = 0
        c.backoff_events = None
        c.image = resolved
        try:
            argv, env, cwd, mounts = self.container_config(c)
        except ConfigError as e:
            c.reason, c.message = "CreateContainerConfigError", str(e)
            self.event(c, "Warning", "Failed", "Error: " + str(e))
            c.next_try = time.time() + 10
            return
        self.launch(c, argv, env, cwd, mounts)

    def container_config(self, c):
        p = self.pods
        s, img = c.spec, c.image
        env = dict(img.get("env", {}))
        env["HOSTNAME"] = self.name
        for k, v in SERVICE_ENV:
            env[k] = v
        for src in s.get("envFrom") or []:
            for kind, plural in (("configMapRef", "configmaps"), ("secretRef", "secrets")):
                if kind in src:
                    data = self.lookup(plural, src[kind].get("name"), None, src[kind].get("optional"))
                    for k, v in (data or {}).items():
                        env[src.get("prefix", "") + k] = v
        for e in s.get("env") or []:
            name = e.get("name", "")
            if "valueFrom" in e:
                value = self.value_from(e["valueFrom"])
                if value is None:
                    continue
            else:
                value = expand(e.get("value", ""), env)
            env[name] = value
        env.setdefault("HOME", "/root")
        frameworks = img.get("frameworks") or {}
        if frameworks:
            shims = [os.path.join(SHARED, "images", "python", fw) for fw in sorted(frameworks)]
            env["PYTHONPATH"] = ":".join(shims + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        if frameworks or img.get("files"):
            env["K3GPU_LAB_IMAGE"] = json.dumps({
                "image": c.ref.canonical(), "frameworks": frameworks, "nvidia": self.nvidia,
                "cuda": img.get("cuda") or p.cuda, "gpus": p.gpus if self.nvidia else [],
                "arch": {"arm64": "aarch64", "amd64": "x86_64"}.get(p.agent.facts.architecture,
                                                                    p.agent.facts.architecture)},
                separators=(",", ":"))
        entrypoint = s["command"] if "command" in s else img.get("entrypoint", [])
        args = s["args"] if "args" in s else ([] if "command" in s else img.get("cmd", []))
        argv = [expand(a, env) for a in list(entrypoint or []) + list(args or [])]
        cwd = s.get("workingDir") or img.get("workingDir") or "/"
        # the image's own programs (images/bin/...), read-only where the image has them
        mounts = [{"name": "image", "source": os.path.join(SHARED, "images", src), "target": target,
                   "readOnly": True} for target, src in sorted((img.get("files") or {}).items())]
        for m in s.get("volumeMounts") or []:
            src = self.volumes.get(m.get("name"))
            if src is None:
                raise ConfigError('cannot find volume "%s" to mount into container "%s"' % (m.get("name"), c.name))
            if m.get("subPath"):
                src = os.path.join(src, m["subPath"].lstrip("/"))
                if not os.path.exists(src):
                    os.makedirs(src, exist_ok=True)
            ro = bool(m.get("readOnly")) or "/kubernetes.io~configmap/" in src or "/kubernetes.io~secret/" in src
            mounts.append({"name": m.get("name"), "source": src, "target": m.get("mountPath", "/"), "readOnly": ro})
        return argv, env, cwd, mounts

    def value_from(self, vf):
        if "fieldRef" in vf:
            path = vf["fieldRef"].get("fieldPath", "")
            meta = self.pod.get("metadata", {})
            simple = {"metadata.name": self.name, "metadata.namespace": self.ns, "metadata.uid": self.uid,
                      "spec.nodeName": self.pods.node_name, "spec.serviceAccountName":
                      self.spec.get("serviceAccountName", "default"), "status.podIP": self.pods.ip or "",
                      "status.hostIP": self.pods.ip or "", "status.podIPs": self.pods.ip or "",
                      "status.hostIPs": self.pods.ip or ""}
            if path in simple:
                return simple[path]
            for prefix, key in (("metadata.labels['", "labels"), ("metadata.annotations['", "annotations")):
                if path.startswith(prefix) and path.endswith("']"):
                    return (meta.get(key) or {}).get(path[len(prefix):-2], "")
            return ""
        if "resourceFieldRef" in vf:
            res = vf["resourceFieldRef"].get("resource", "")
            f = self.pods.agent.facts
            return str(f.cpus) if res.endswith("cpu") else str(f.memory_kib * 1024) if res.endswith("memory") \
                else "0"
        for kind, plural in (("configMapKeyRef", "configmaps"), ("secretKeyRef", "secrets")):
            if kind in vf:
                ref = vf[kind]
                return self.lookup(plural, ref.get("name"), ref.get("key"), ref.get("optional"))
        return None

    def lookup(self, plural, name, key, optional):
        st, _, body = self.pods.request("GET", "/api/v1/namespaces/%s/%s/%s" % (self.ns, plural, name))
        kind = "configmap" if plural == "configmaps" else "secret"
        if st != 200:
            if optional:
                return None
            raise ConfigError('%s "%s" not found' % (kind, name))
        data = json.loads(body).get("data") or {}
        if plural == "secrets":
            data = {k: b64decode(v).decode("utf-8", "replace") for k, v in data.items()}
        if key is None:
            return data
        if key not in data:
            if optional:
                return None
            raise ConfigError("couldn't find key %s in %s %s/%s" % (key, kind.capitalize() if kind == "secret"
                                                                     else "ConfigMap", self.ns, name))
        return data[key]

    def launch(self, c, argv, env, cwd, mounts):
        p = self.pods
        c.cid = os.urandom(32).hex()
        runtime = "docker" if p.docker else "containerd"
        c.run_dir = P("/run/k3s/containers/" + c.cid)
        os.makedirs(c.run_dir + "/root", exist_ok=True)
        d = os.path.join(self.log_dir, c.name)
        os.makedirs(d, exist_ok=True)
        c.log_path = os.path.join(d, "%d.log" % c.restarts)
        prefix = ('failed to start container "%s": Error response from daemon: failed to create task for container: '
                  'failed to create shim task: OCI runtime create failed: ' % c.cid) if p.docker else \
            "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
        keep = NODE_TOOLS_IN_IMAGES + (("nvidia-smi",) if self.nvidia else ())
        try:
            hidden = ["/usr/local/bin/" + n for n in sorted(os.listdir(P("/usr/local/bin"))) if n not in keep]
        except OSError:
            hidden = []
        # files of the node the image does not have: only the NVIDIA runtime's CSV mounts bring them in
        brought = csv_mounts() if self.nvidia else set()
        whiteouts = [f for f in (c.image or {}).get("nvidiaRuntimeFiles") or [] if f not in brought]
        spec = {"base": c.run_dir + "/root", "mntnsFile": c.run_dir + "/mntns", "hostname": self.name,
                "hide": hidden, "whiteouts": whiteouts,
                "volumes": mounts, "workingDir": cwd, "argv": argv, "env": env, "errorPrefix": prefix,
                "isolate": ISOLATION != "none"}
        spec_file = c.run_dir + "/spec.json"
        with open(spec_file, "w") as f:
            json.dump(spec, f)
        helper = os.path.join(SHARED, "k3s-container.py")
        cmd = ["/usr/bin/python3", "-S", helper, spec_file]
        if ISOLATION != "none":
            cmd = ["unshare", "--mount", "--uts", "--propagation", "private", "--"] + cmd
        self.event(c, "Normal", "Created", "Created container " + c.name)
        logfd = os.open(c.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
        r, w = os.pipe()
        started = time.time()
        try:
            pid = os.posix_spawnp(cmd[0], cmd, {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
                                  file_actions=[(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                                                (os.POSIX_SPAWN_DUP2, logfd, 1), (os.POSIX_SPAWN_DUP2, logfd, 2),
                                                (os.POSIX_SPAWN_DUP2, w, 3)], setsid=True)
        except OSError as e:
            os.close(r)
            os.close(w)
            os.close(logfd)
            self.start_failed(c, prefix + "%s: %s: unknown" % (runtime, e.strerror or e), started)
            return
        os.close(w)
        os.close(logfd)
        write_file(P("/run/k3s/lab-pids/" + c.cid), "%d\n" % pid)
        with os.fdopen(r, "rb") as f:
            failure = f.read().decode("utf-8", "replace")  # EOF at the exec: the pipe is close-on-exec there
        c.mntns = (read_text(c.run_dir + "/mntns") or "").strip() or None
        if failure:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            p.release(c)
            self.start_failed(c, failure, started)
            return
        with self.cond:
            c.pid = pid
            c.state, c.reason, c.message = "running", None, None
            c.started_at = started
        threading.Thread(target=c.wait, args=(pid, started), name="ctr", daemon=True).start()
        self.event(c, "Normal", "Started", "Started container " + c.name)

    def start_failed(self, c, message, started):
        c.state = "terminated"
        c.term = {"exitCode": 128, "reason": "StartError", "message": message, "startedAt": "1970-01-01T00:00:00Z",
                  "finishedAt": rfc3339(time.time()), "containerID": c.container_id()}
        self.event(c, "Warning", "Failed", "Error: " + message)

    # ---- status

    def condition(self, ctype, status, reason=None, message=None):
        prev = self.transitions.get(ctype)
        t = prev[1] if prev and prev[0] == status and prev[1] else utc_now()
        self.transitions[ctype] = (status, t)
        c = {"type": ctype, "status": status, "lastProbeTime": None, "lastTransitionTime": t}
        if reason:
            c["reason"] = reason
        if message:
            c["message"] = message
        return c

    def status(self):
        p = self.pods
        phase = self.compute_phase()
        terminal = phase in ("Succeeded", "Failed")
        conds = [self.condition("PodReadyToStartContainers", "True" if self.sandbox and not terminal else "False")]
        incomplete = [c.name for c in self.inits if not c.succeeded()]
        if not self.inits:
            conds.append(self.condition("Initialized", "True"))
        elif phase == "Succeeded":
            conds.append(self.condition("Initialized", "True", "PodCompleted"))
        elif incomplete and not any(c.state != "waiting" or c.last for c in self.mains):
            conds.append(self.condition("Initialized", "False", "ContainersNotInitialized",
                                        "containers with incomplete status: [%s]" % " ".join(incomplete)))
        else:
            conds.append(self.condition("Initialized", "True"))
        unready = [c.name for c in self.mains if not c.ready()]
        for ctype in ("Ready", "ContainersReady"):
            if phase == "Succeeded":
                conds.append(self.condition(ctype, "False", "PodCompleted"))
            elif unready:
                conds.append(self.condition(ctype, "False", "ContainersNotReady",
                                            "containers with unready status: [%s]" % " ".join(unready)))
            else:
                conds.append(self.condition(ctype, "True"))
        sched = next((x for x in self.pod.get("status", {}).get("conditions") or []
                      if x.get("type") == "PodScheduled"), None)
        conds.append(sched if sched else self.condition("PodScheduled", "True"))
        status = {"phase": phase, "conditions": conds}
        if p.ip:
            status["hostIP"] = p.ip
            status["hostIPs"] = [{"ip": p.ip}]
            if self.sandbox or any(c.state != "waiting" for c in self.containers()):
                status["podIP"] = p.ip
                status["podIPs"] = [{"ip": p.ip}]
        if self.start_time:
            status["startTime"] = self.start_time
        if self.inits:
            status["initContainerStatuses"] = [c.status() for c in self.inits]
        status["containerStatuses"] = [c.status() for c in self.mains]
        return status

    def write_status(self):
        with self.cond:
            status = self.status()
        text = json.dumps(status, sort_keys=True)
        if text == self.written:
            return
        st, reason, body = self.pods.request("PATCH", "/api/v1/namespaces/%s/pods/%s/status" % (self.ns, self.name),
                                             {"status": status}, "application/merge-patch+json")
        if st == 200:
            self.written = text
        elif st != 404:
            klog("E", "status_manager.go:851", "Failed to update status for pod",
                 pod="%s/%s" % (self.ns, self.name), err="%s %s" % (st, reason))
            self.wake_at(time.time() + 2)

    def event(self, c, etype, reason, message):
        self.pods.event(self, c, etype, reason, message)

    # ---- the end

    def terminate(self):
        """Deleted (deletionTimestamp) or gone from the API: kill, confirm the deletion, clean up."""
        with self.cond:
            gone = self.gone
            meta = self.pod.get("metadata", {})
        grace = 2 if gone else int(meta.get("deletionGracePeriodSeconds") or
                                   self.spec.get("terminationGracePeriodSeconds") or 0)
        running = [c for c in self.containers() if c.state == "running"]
        for c in running:
            if not gone:
                self.event(c, "Normal", "Killing", "Stopping container " + c.name)
            c.signal(signal.SIGTERM)
        deadline = time.time() + max(grace, 0)
        with self.cond:
            while any(c.state == "running" for c in running) and time.time() < deadline:
                self.cond.wait(min(0.2, max(0.01, deadline - time.time())))
        for c in running:
            if c.state == "running":
                c.signal(signal.SIGKILL)
        with self.cond:
            end = time.time() + 5
            while any(c.state == "running" for c in running) and time.time() < end:
                self.cond.wait(0.1)
        if not gone:
            if not self.done:
                self.finish()
            self.write_status()
            self.pods.request("DELETE", "/api/v1/namespaces/%s/pods/%s" % (self.ns, self.name),
                              {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                               "preconditions": {"uid": self.uid}})
        for c in self.containers():
            self.pods.release(c)
        remove_tree(self.pod_dir)
        remove_tree(self.log_dir)


def remove_tree(path):
    """rm -rf, without shutil (and its imports) in the agent."""
    try:
        st = os.lstat(path)
    except OSError:
        return
    if os.path.isdir(path) and not os.path.islink(path):
        try:
            for n in os.listdir(path):
                remove_tree(os.path.join(path, n))
            os.rmdir(path)
        except OSError:
            pass
    elif st:
        try:
            os.unlink(path)
        except OSError:
            pass


class Pods:
    """The pods bound to this node (spec.nodeName), from the watch and the list every heartbeat: one PodWorker each.

    Also the node's image store (what was pulled, with the catalog's sizes) and the kubelet's log files."""

    def __init__(self):
        self.lock = threading.Lock()
        self.workers = {}
        self.agent = None
        self.api = None
        self.api_lock = threading.Lock()
        self.node_name = None
        self.docker = False
        self.ip = None
        self.catalog = Catalog(os.path.join(SHARED, "images", "images.json"))
        self.images = {}
        self.images_file = None
        self.images_changed = False
        self.events = {}
        self.seq = 0
        self.cuda = None
        self.gpus = []

    def start(self, agent, api):
        """Called once the node is registered: from then on pods run."""
        self.agent, self.api = agent, api
        self.node_name, self.docker = agent.node_name, agent.docker
        self.ip = agent.node_ips[0] if agent.node_ips else agent.facts.internal_ip
        self.cuda = cuda_version(P)
        self.gpus = gpu_names(P) if agent.facts.gpus else []
        self.images_file = P("/var/lib/docker/k3gpu-lab-images.json") if self.docker else \
            os.path.join(agent.data_dir, "agent", "images-pulled.json")
        try:
            with open(self.images_file) as f:
                self.images = json.load(f)
        except (OSError, ValueError):
            self.images = {}
        self.kill_leftovers()

    def kill_leftovers(self):
        """Containers of an earlier run of the agent (killed with it, or the agent was killed): ended now."""
        d = P("/run/k3s/lab-pids")
        try:
            names = os.listdir(d)
        except OSError:
            return
        for n in names:
            pid = (read_text(os.path.join(d, n)) or "").strip()
            ns = (read_text(P("/run/k3s/containers/%s/mntns" % n)) or "").strip()
            if pid.isdigit():
                try:
                    os.killpg(int(pid), signal.SIGKILL)
                except OSError:
                    pass
            if ns:
                kill_namespace(ns, signal.SIGKILL)
            remove_tree(os.path.join(d, n))
            remove_tree(P("/run/k3s/containers/" + n))

    def request(self, method, path, body=None, ctype="application/json"):
        if self.api is None:
            return 0, "not started", b""
        with self.api_lock:
            try:
                return self.api.request(method, path, body, ctype)
            except GoError as e:
                return 0, str(e), b""

    # ---- which pods

    def update(self, pod, seen):
        if self.agent is None:
            return
        meta = pod.get("metadata", {})
        key = (meta.get("namespace", "default"), meta.get("name", ""))
        with self.lock:
            w = self.workers.get(key)
            if w is not None and w.uid == meta.get("uid"):
                w.set_pod(pod, seen)
                return
            if w is not None:
                w.vanish()
            w = PodWorker(self, pod)
            self.workers[key] = w
        w.start()

    def remove(self, pod):
        meta = pod.get("metadata", {})
        with self.lock:
            w = self.workers.get((meta.get("namespace", "default"), meta.get("name", "")))
        if w is not None and w.uid == meta.get("uid"):
            w.vanish()

    def sync(self, items, listed_at=None):
        """The node's pods as listed at listed_at: new ones start, the ones not listed (and not seen since) go."""
        listed_at = time.time() if listed_at is None else listed_at
        keys = set()
        for p in items:
            meta = p.get("metadata", {})
            keys.add((meta.get("namespace", "default"), meta.get("name", "")))
            self.update(p, listed_at)
        with self.lock:
            stale = [w for k, w in self.workers.items() if k not in keys and w.seen < listed_at]
        for w in stale:
            w.vanish()

    def forget(self, w):
        with self.lock:
            if self.workers.get(w.key()) is w:
                del self.workers[w.key()]

    def list(self):
        with self.lock:
            return [w.pod for w in self.workers.values()]

    def shutdown(self):
        """The agent stops: its containers go with it (a restarted agent reports them as lost)."""
        with self.lock:
            workers = list(self.workers.values())
        for w in workers:
            for c in w.containers():
                c.signal(signal.SIGKILL)

    # ---- images

    def image_present(self, ref):
        return ref.canonical() in self.images

    def pulled(self, ref, image):
        with self.lock:
            self.images[ref.canonical()] = {"digest": image["digest"], "sizeBytes": image["sizeBytes"]}
            self.images_changed = True
            text = json.dumps(self.images, indent=1, sort_keys=True)
        try:
            write_file(self.images_file, text + "\n", 0o600)
        except OSError:
            pass

    def node_images(self):
        """status.images entries of the images pulled (names as the runtime lists them)."""
        out = []
        with self.lock:
            for name, i in sorted(self.images.items()):
                ref = ImageRef(name)
                names = ["%s@%s" % (ref.familiar_repo() if self.docker else ref.repo, i["digest"]),
                         ref.familiar() if self.docker else name]
                out.append({"names": names, "sizeBytes": i["sizeBytes"]})
        return out

    def release(self, c):
        """A container's process bookkeeping on the node, once it has ended."""
        if c.cid:
            try:
                os.unlink(P("/run/k3s/lab-pids/" + c.cid))
            except OSError:
                pass
            if c.run_dir:
                remove_tree(c.run_dir)

    # ---- events

    def event(self, w, c, etype, reason, message):
        """A core/v1 Event from the kubelet; a repeat within the hour bumps its count, as client-go's recorder."""
        field = c.field_path if c is not None else None
        key = (w.uid, field, etype, reason, message)
        now = utc_now()
        prior = self.events.get(key)
        if prior is not None:
            name, count = prior
            st, _, _ = self.request("PATCH", "/api/v1/namespaces/%s/events/%s" % (w.ns, name),
                                    {"count": count + 1, "lastTimestamp": now}, "application/merge-patch+json")
            if st == 200:
                self.events[key] = (name, count + 1)
                return
        with self.lock:
            self.seq += 1
            name = "%s.%x" % (w.name, time.time_ns() + self.seq)
        involved = {"apiVersion": "v1", "kind": "Pod", "name": w.name, "namespace": w.ns, "uid": w.uid,
                    "resourceVersion": w.pod.get("metadata", {}).get("resourceVersion", "")}
        if field:
            involved["fieldPath"] = field
        st, _, _ = self.request("POST", "/api/v1/namespaces/%s/events" % w.ns, {
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": w.ns},
            "involvedObject": involved, "reason": reason, "message": message, "type": etype,
            "source": {"component": "kubelet", "host": self.node_name}, "firstTimestamp": now,
            "lastTimestamp": now, "count": 1, "eventTime": None, "reportingComponent": "kubelet",
            "reportingInstance": self.node_name})
        if st in (200, 201):
            if len(self.events) > 2000:
                self.events.clear()
            self.events[key] = (name, 1)

    # ---- logs

    def log_file(self, namespace, name, container, previous):
        """(status, message, path, container): what /containerLogs serves, with kubelet's refusals."""
        with self.lock:
            w = self.workers.get((namespace, name))
        if w is None:
            return 404, 'pod "%s" does not exist' % name, None, None
        c = next((x for x in w.containers() if x.name == container), None)
        if c is None:
            return 404, 'container "%s" not found in pod "%s"' % (container, name), None, None
        d = os.path.join(w.log_dir, c.name)
        with w.cond:
            state, reason, restarts, last = c.state, c.reason, c.restarts, c.last
            current = c.log_path
        if previous:
            if not last:
                return 400, 'previous terminated container "%s" in pod "%s" not found' % (container, name), None, \
                    None
            return 200, None, os.path.join(d, "%d.log" % (restarts - 1)), None
        if state == "running" or (state == "terminated" and current):
            return 200, None, current, c
        if state == "terminated" or last:
            path = os.path.join(d, "%d.log" % (restarts - 1 if state == "waiting" else restarts))
            if os.path.exists(path):
                return 200, None, path, None
            if state == "terminated":
                return 400, 'container "%s" in pod "%s" is terminated' % (container, name), None, None
        if reason == "ErrImagePull":
            return 400, 'container "%s" in pod "%s" is waiting to start: image can\'t be pulled' % (
                container, name), None, None
        if reason == "ImagePullBackOff":
            return 400, 'container "%s" in pod "%s" is waiting to start: trying and failing to pull image' % (
                container, name), None, None
        return 400, 'container "%s" in pod "%s" is waiting to start: %s' % (container, name, reason), None, None

    @staticmethod
    def following(c, path):
        """Whether more may come to a log file: its container still runs that process."""
        return c is not None and c.state == "running" and c.log_path == path

    def logs(self, namespace, name, container, follow, tail_lines):
        """(HTTP status, text) for a /containerLogs request without follow."""
        code, message, path, _ = self.log_file(namespace, name, container, False)
        if code != 200:
            return code, message
        return 200, tail(read_bytes(path), tail_lines).decode("utf-8", "replace")


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def tail(data, lines):
    if lines is None or lines < 0:
        return data
    if lines == 0:
        return b""
    parts = data.splitlines(True)
    return b"".join(parts[-lines:])


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
            parts = [unquote_url(p) for p in path.split("/")[1:]]
            if method == "GET" and len(parts) == 4 and parts[0] == "containerLogs" and params.get("follow") == "true":
                code, message, log_path, ctr = self.pods.log_file(parts[1], parts[2], parts[3],
                                                                 params.get("previous") == "true")
                if code == 200:
                    self.follow(s, log_path, ctr, tail_param(params))
                    return
            code, ctype, body = self.route(method, parts, params)
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
            if params.get("previous") == "true":
                code, text, log_path, _ = self.pods.log_file(parts[1], parts[2], parts[3], True)
                if code == 200:
                    text = tail(read_bytes(log_path), tail_param(params)).decode("utf-8", "replace")
            else:
                code, text = self.pods.logs(parts[1], parts[2], parts[3], False, tail_param(params))
            if code == 200:
                return code, "text/plain; charset=utf-8", text
            # errors as a Status: the API server passes the kubelet's answer through, and kubectl prints its message
            # the way it prints the API server's own ("Error from server (BadRequest): container ... is waiting ...")
            return code, "application/json", json.dumps({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": text.strip(), "reason": {400: "BadRequest", 404: "NotFound"}.get(code, "InternalError"),
                "code": code})
        return 404, "text/plain; charset=utf-8", "404 page not found\n"

    def follow(self, s, path, c, lines):
        """kubectl logs -f: the log so far (its last lines), then what the container writes, until it ends or the
        client goes (chunked)."""
        import select
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n"
                  b"Connection: close\r\n\r\n")

        def send(data):
            if data:
                s.sendall(b"%x\r\n" % len(data) + data + b"\r\n")
        try:
            f = open(path, "rb")
        except OSError:
            s.sendall(b"0\r\n\r\n")
            return
        with f:
            send(tail(f.read(), lines))
            while True:
                data = f.read(65536)
                if data:
                    send(data)
                    continue
                if not Pods.following(c, path):
                    send(f.read())
                    break
                r, _, _ = select.select([s], [], [], 0.2)
                if r:
                    try:
                        s.settimeout(0)
                        if s.recv(1024) == b"":
                            return  # the client is gone
                    except (ssl.SSLWantReadError, BlockingIOError):
                        pass
                    finally:
                        s.settimeout(30)
        s.sendall(b"0\r\n\r\n")


def tail_param(params):
    t = params.get("tailLines")
    return int(t) if t and t.lstrip("-").isdigit() else None


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


# ------------------------------------------------------------------------------------------------ device plugins

DP_DIR = "/var/lib/kubelet/device-plugins"
DP_CHECKPOINT = "kubelet_internal_checkpoint"
# kubelet's endpointStopGracePeriod (pkg/kubelet/cm/devicemanager/endpoint.go): 5 minutes; tests shorten it
DP_GRACE = float(os.environ.get("K3GPU_LAB_DEVICE_PLUGIN_GRACE_SECONDS") or 300)


def extended_resource(name):
    """v1helper.IsExtendedResourceName: a domain-prefixed name outside kubernetes.io, not requests.*."""
    domain, slash, rest = name.partition("/")
    return bool(slash and domain and rest) and not name.startswith("requests.") and \
        domain != "kubernetes.io" and not domain.endswith(".kubernetes.io")


class DeviceManager:
    """The kubelet's device-plugin manager (pkg/kubelet/cm/devicemanager, v1beta1): the registration server on
    /var/lib/kubelet/device-plugins/kubelet.sock, one ListAndWatch stream per registered resource, and the
    capacity / allocatable the node status gets from them.

    The wire is the lab's, not gRPC (one JSON document a line, same sockets, same order):
      plugin -> kubelet.sock:  {"version":"v1beta1","endpoint":"nvidia-gpu.sock","resourceName":"nvidia.com/gpu"}
      kubelet.sock -> plugin:  {} or {"error":"<kubelet's message>"}, then the connection closes (Register)
      kubelet -> <dir>/<endpoint>:  {"method":"ListAndWatch"}; the plugin answers {"devices":[{"ID":..,"health":
                               "Healthy"|"Unhealthy"}]} now and at each change, the stream staying open.
    A stream that ends (the plugin's process or socket gone) makes the resource's devices unhealthy: allocatable 0
    at once; after endpointStopGracePeriod capacity goes to 0 too (kubelet keeps the resource at 0 rather than
    removing it, to mark it as device-plugin managed). Start() empties the directory, as a (re)starting kubelet
    does: plugins watching kubelet.sock re-register."""

    def __init__(self):
        self.lock = threading.Lock()
        self.resources = {}  # name -> {"devices": {id: health}, "stopped": time or None, "conn": socket or None}
        self.dir = P(DP_DIR)

    def start(self):
        os.makedirs(self.dir, mode=0o750, exist_ok=True)
        # readCheckpoint: the resources registered before a restart stay at 0 until their plugins re-register
        try:
            with open(os.path.join(self.dir, DP_CHECKPOINT)) as f:
                registered = json.load(f).get("Data", {}).get("RegisteredDevices") or {}
        except (OSError, ValueError, AttributeError):
            registered = {}
        for name in registered:
            self.resources[name] = {"devices": {}, "stopped": time.time(), "conn": None}
        for n in os.listdir(self.dir):
            if n != DP_CHECKPOINT:
                remove_tree(os.path.join(self.dir, n))
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(os.path.join(self.dir, "kubelet.sock"))
        ls.listen(16)
        threading.Thread(target=self.accept, args=(ls,), name="dp-registration", daemon=True).start()

    def accept(self, ls):
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            threading.Thread(target=self.register, args=(c,), name="dp-register", daemon=True).start()

    def register(self, c):
        """server.Register: checks the version and the name, connects to the plugin's endpoint, then answers."""
        try:
            try:
                r = json.loads(read_line(c) or "{}")
            except ValueError:
                r = {}
            name, version, endpoint = r.get("resourceName", ""), r.get("version", ""), r.get("endpoint", "")
            klog("I", "server.go:144", "Got registration request from device plugin with resource",
                 resourceName=name)
            err = None
            if version != "v1beta1":
                err = 'requested API version "%s" is not supported by kubelet. Supported version is "v1beta1"' \
                      % version
                klog("E", "server.go:150", "Bad registration request from device plugin", err=err,
                     resourceName=name)
            elif not extended_resource(name):
                err = 'the ResourceName "%s" is invalid' % name
                klog("E", "server.go:156", "Bad registration request from device plugin", err=err,
                     resourceName=name)
            else:
                err = self.connect(name, os.path.join(self.dir, os.path.basename(endpoint)))
            try:
                c.sendall((json.dumps({"error": err} if err else {}) + "\n").encode())
            except OSError:
                pass
        finally:
            c.close()

    def connect(self, name, path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(10)
            s.connect(path)
            s.sendall(b'{"method":"ListAndWatch"}\n')
        except OSError as e:
            s.close()
            err = "failed to dial device plugin: context deadline exceeded" if isinstance(e, socket.timeout) \
                else "failed to dial device plugin: %s" % (e.strerror or e)
            klog("E", "server.go:176", "Failed to connect to new client", err=err, resource=name)
            return err
        with self.lock:
            old = self.resources.get(name)
            if old and old.get("conn") is not None:
                try:
                    old["conn"].shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.resources[name] = {"devices": dict(old["devices"]) if old else {}, "stopped": None, "conn": s}
        klog("I", "handler.go:95", "Registered client", name=name)
        klog("I", "manager.go:238", "Device plugin connected", resourceName=name)
        threading.Thread(target=self.list_and_watch, args=(name, s), name="dp-watch", daemon=True).start()
        return None

    def list_and_watch(self, name, s):
        s.settimeout(None)
        f = s.makefile("rb")
        err = "rpc error: code = Unavailable desc = error reading from server: EOF"
        try:
            for line in f:
                try:
                    devs = json.loads(line).get("devices") or []
                except ValueError:
                    continue
                with self.lock:
                    r = self.resources.get(name)
                    if r is None or r["conn"] is not s:
                        return
                    r["devices"] = {d.get("ID", ""): d.get("health", "Healthy") for d in devs}
                    self.checkpoint()
        except OSError as e:
            err = "rpc error: code = Unavailable desc = %s" % (e.strerror or e)
        finally:
            f.close()
            s.close()
        with self.lock:
            r = self.resources.get(name)
            if r is None or r["conn"] is not s:
                return  # replaced by a newer registration
            klog("E", "client.go:91", "ListAndWatch ended unexpectedly for device plugin", err=err, resource=name)
            # PluginDisconnected: markResourceUnhealthy, and the endpoint's stop time for the grace period
            r["devices"] = {i: "Unhealthy" for i in r["devices"]}
            r["stopped"] = time.time()
            r["conn"] = None

    def checkpoint(self):
        """kubelet_internal_checkpoint (JSON, as kubelet writes it; the checksum is the lab's: not kubelet's)."""
        data = {"PodDeviceEntries": None, "RegisteredDevices": {n: sorted(r["devices"]) for n, r in
                                                                 sorted(self.resources.items())}}
        text = json.dumps({"Data": data}, separators=(",", ":"))
        try:
            write_file(os.path.join(self.dir, DP_CHECKPOINT), json.dumps(
                {"Data": data, "Checksum": int(sha256(text.encode()).hexdigest()[:8], 16)}, separators=(",", ":")),
                0o600)
        except OSError:
            pass

    def node_resources(self):
        """{resource: (capacity, allocatable)} as GetCapacity hands them to the node status setter."""
        out = {}
        now = time.time()
        with self.lock:
            for name, r in self.resources.items():
                if r["stopped"] is not None and now - r["stopped"] > DP_GRACE:
                    r["devices"] = {}
                healthy = sum(1 for h in r["devices"].values() if h == "Healthy")
                out[name] = (len(r["devices"]), healthy)
        return out


def read_line(c, timeout=10):
    c.settimeout(timeout)
    buf = b""
    try:
        while not buf.endswith(b"\n"):
            chunk = c.recv(4096)
            if not chunk:
                break
            buf += chunk
    except OSError:
        pass
    return buf.decode("utf-8", "replace").strip()


AGENTS = []


class Agent:
    def __init__(self, opts):
        self.o = opts
        self.stop = threading.Event()
        self.pods = Pods()
        self.devices = DeviceManager()
        self.reported_devices = {}
        AGENTS.append(self)

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
        pods = str(self.max_pods)
        allocatable = {"cpu": str(f.cpus), "ephemeral-storage": str(f.storage_kib * 1024 // 100 * 95),
                       "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                       "memory": "%dKi" % max(0, f.memory_kib - 100 * 1024)}
        capacity = {"cpu": str(f.cpus), "ephemeral-storage": "%dKi" % f.storage_kib, "hugepages-1Gi": "0",
                    "hugepages-2Mi": "0", "memory": "%dKi" % f.memory_kib}
        # extended resources only from registered device plugins (DeviceManager), at each status update
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
            # registered before (a restart, a re-join): take the object over as a restarted kubelet does; the
            # taints others set stay (--register-with-taints only counts when the Node is created)
            spec = dict(node["spec"])
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
        status = {"conditions": conditions(now, self.ready_since)}
        devices = self.devices.node_resources()
        if devices != self.reported_devices:
            status["capacity"] = {n: str(c) for n, (c, _) in devices.items()}
            status["allocatable"] = {n: str(a) for n, (_, a) in devices.items()}
            for n, (c, _) in devices.items():
                if self.reported_devices.get(n, (None,))[0] != c:
                    klog("I", "setters.go:329", "Updated capacity for device plugin", plugin=n, capacity=c)
        if self.pods.images_changed:
            self.pods.images_changed = False
            status["images"] = self.images + self.pods.node_images()
        st, reason, _ = self.api.request("PATCH", "/api/v1/nodes/%s/status" % self.node_name, {"status": status},
                                         "application/merge-patch+json")
        if st == 200:
            self.reported_devices = devices
        if st == 404:
            self.register()
            return
        if st != 200:
            raise GoError("%d %s" % (st, reason))
        self.renew_lease()

    def sync_pods(self):
        listed_at = time.time()
        st, _, body = self.api.request("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3D" + self.node_name)
        if st == 200:
            self.pods.sync(json.loads(body).get("items", []), listed_at)

    def watch_pods(self):
        """The node's pods as they change (a watch with spec.nodeName=<node>), so that pods start at once; the
        heartbeat's list catches what a broken watch missed."""
        delay = 1
        while True:
            started = time.time()
            try:
                self.watch_pods_once()
            except (GoError, OSError, ValueError, EOFError, ssl.SSLError) as e:
                if time.time() - started < 5:
                    klog("W", "reflector.go:561", "failed to list *v1.Pod", err=str(e) or type(e).__name__)
            except Exception as e:  # a bug: logged, and the watch goes on
                klog("E", "reflector.go:158", "Unhandled Error", err="%s: %s" % (type(e).__name__, e))
            else:
                delay = 1
            time.sleep(delay)
            delay = min(delay * 2, 10)

    def watch_pods_once(self):
        conn = Conn(self.host, self.port, self.api.ctx, self.auth, timeout=330)
        try:
            conn.connect()
            path = ("/api/v1/pods?watch=true&timeoutSeconds=300&fieldSelector=spec.nodeName%3D" + self.node_name)
            conn.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: k3s/%s\r\nAccept: application/json"
                               "\r\nAuthorization: Basic %s\r\n\r\n" % (path, self.host, self.port, VERSION,
                                                                          self.auth)).encode())
            f = conn.rfile
            status = f.readline(65537).decode("latin-1").split(" ", 2)
            chunked = False
            while True:
                h = f.readline(65537)
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.decode("latin-1").partition(":")
                if k.strip().lower() == "transfer-encoding" and "chunked" in v.lower():
                    chunked = True
            if len(status) < 2 or status[1] != "200":
                raise GoError("watch: %s" % " ".join(status[1:]).strip())
            buf = b""
            while True:
                if chunked:
                    size = int(f.readline(65537).split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        return
                    data = f.read(size)
                    f.readline(65537)
                else:
                    data = f.readline(1 << 24)
                    if not data:
                        return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        self.on_pod_event(json.loads(line))
        finally:
            conn.close()

    def on_pod_event(self, ev):
        kind, pod = ev.get("type"), ev.get("object") or {}
        if kind in ("ADDED", "MODIFIED"):
            self.pods.update(pod, time.time())
        elif kind == "DELETED":
            self.pods.remove(pod)
        elif kind == "ERROR":
            raise GoError((pod.get("message") or "watch error"))

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
        self.devices.start()
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
        self.pods.start(self, Conn(self.host, self.port, self.api.ctx, self.auth))
        threading.Thread(target=self.watch_pods, name="pod-watch", daemon=True).start()
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
    for a in AGENTS:
        a.pods.shutdown()
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(0)
