"""Shared by the agent's modules: versions and environment knobs, the node's paths (FSROOT), logs in
logrus's and klog's formats, and small file/process/time helpers."""
import os
import sys
import time


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


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


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


def utc_now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def version_tuple(v):
    core = v.lstrip("v").split("+")[0].split("-")[0]
    try:
        return tuple(int(x) for x in core.split("."))
    except ValueError:
        return ()


# where the agent's companions are: k3s-container.py (starts a container), images/ (the catalog and the simulated
# frameworks); on a node /usr/local/lib/k3gpu-lab/shared/k3s, beside this program
SHARED = os.environ.get("K3GPU_LAB_K3S_SHARED") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def go_duration(seconds):
    """Go's time.Duration text, to the millisecond: 812ms, 1.245s."""
    ms = int(seconds * 1000)
    if ms < 1000:
        return "%dms" % ms
    return ("%d.%03d" % (ms // 1000, ms % 1000)).rstrip("0").rstrip(".") + "s"


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class ConfigError(Exception):
    """A container that cannot be created from its configuration (CreateContainerConfigError)."""


def remove_tree(path, dev=None):
    """rm -rf --one-file-system, without shutil (and its imports) in the agent: it never goes into another mount (a
    container's root still mounted over the node's own directories), whose files are not this tree's."""
    try:
        st = os.lstat(path)
    except OSError:
        return
    is_dir = os.path.isdir(path) and not os.path.islink(path)
    # only a directory tells a mount apart (on overlayfs a file reports its layer's device, a directory the overlay's)
    if is_dir and dev is not None and st.st_dev != dev:
        return
    if is_dir:
        try:
            for n in os.listdir(path):
                remove_tree(os.path.join(path, n), st.st_dev)
            os.rmdir(path)
        except OSError:
            pass
    elif st:
        try:
            os.unlink(path)
        except OSError:
            pass


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def write_file(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
