"""containerd nodes (no --docker): K3s's embedded containerd, as the lab runs it.

K3s v1.31 extracts the containerd, containerd-shim-runc-v2 and runc it bundles to <data-dir>/data/<hash>/bin, writes
agent/etc/containerd/config.toml from its template (pkg/agent/templates, version 2 for containerd 1.7) unless a
config.toml.tmpl is there, and runs `containerd -c <config> -a /run/k3s/containerd/containerd.sock --state
/run/k3s/containerd --root <data-dir>/agent/containerd` as its child (pkg/agent/containerd/containerd.go), with that
bin directory first on PATH. The lab does the same with Debian's containerd 1.6 and runc 1.1 (node-init.sh binds them
into /usr/local/lib/k3gpu-lab/k3s-bin/, linked from data/current/bin/), in the node's namespaces.

The lab has no CRI client: every container of a pod is a task of namespace k8s.io created with Debian's ctr
(`ctr run --detach --config <OCI spec>`), so `k3s ctr containers ls` / `ctr tasks ls` list them. The spec: the
container's root prepared by k3s-container.py's build_root (an overlay of each directory of the node's / with a
writable layer of its own on a tmpfs, what the image lacks whited out: the image is the node's Debian userland, never
copied), the volumes, the kubelet's files and the image's own programs as bind mounts, runc's /dev, the pod's
hostname, new mount/UTS/IPC namespaces and the node's network and PID namespaces (pods keep the node's network as the
lab always had them; without a PID namespace of its own a container's SIGTERM reaches a `sleep` as today, and the shim
kills what is left when the first process ends, as containerd's shouldKillAllOnExit does), the cgroup
/kubepods/besteffort/pod<uid>/<id> (cgroupfs, as K3s's kubelet without systemd). The runtime is the pod's
RuntimeClass handler, else default_runtime_name, else runc: a handler's BinaryName (the node's
nvidia-container-runtime, the lab's runc wrapper that adds the CSV files) is what the shim runs instead of runc.
Images of the catalog are imported once per node (`ctr images import` of a one-layer OCI archive: the catalog's ENV,
ENTRYPOINT, CMD, WORKDIR, no files), so `ctr images ls` shows them. Logs: the shim writes stdout and stderr to the
kubelet's log file (--log-uri file://); an exit is seen on the task's pid (pidfd) and `ctr tasks delete` (which waits
for the shim's copy of the output) gives its status. Exited containers stay as containers until the next start of
the same container or the pod's deletion, as the kubelet's garbage collection leaves them."""
import json
import os
import re
import select
import threading
import time

from k3sagent.common import P, SHARED, klog, log, read_text, remove_tree, rfc3339, write_file

SOCK = "/run/k3s/containerd/containerd.sock"
STATE = "/run/k3s/containerd"
NAMESPACE = "k8s.io"
LAB_BIN = "/usr/local/lib/k3gpu-lab/k3s-bin"   # node-init.sh: Debian's containerd, shim, runc and ctr
BINARIES = ("containerd", "containerd-shim-runc-v2", "runc", "ctr")
# containerd's CRI defaults (pkg/cri/opts/spec.go, oci/spec.go): capabilities, masked and read-only paths
DEFAULT_CAPS = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
                "CAP_KILL", "CAP_AUDIT_WRITE")
ALL_CAPS = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
            "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
            "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
            "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
            "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
            "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
            "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ")
MASKED = ("/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
          "/proc/sched_debug", "/proc/scsi")
READONLY = ("/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
MNT_DETACH = 2


def config_toml(agent_dir, data_dir, runtimes, default_runtime):
    """config.toml as K3s renders ContainerdConfigTemplate (pkg/agent/templates/templates_linux.go, version 2 for
    containerd 1.7) for an agent with the defaults: no SELinux, unprivileged ports and ICMP, pause image
    rancher/mirrored-pause:3.6, snapshotter overlayfs, flannel's CNI directories, the registry's hosts directory,
    the NVIDIA runtimes found (ExtraRuntimes, sorted by name as Go's template ranges over a map). The blank lines are
    the template's: each {{ if }} and {{ range }} that renders nothing leaves the newlines around it."""
    bin_dir = os.path.join(data_dir, "data", "current", "bin")
    lines = ["", "# File generated by k3s. DO NOT EDIT. Use config.toml.tmpl instead.", "version = 2", "",
             '[plugins."io.containerd.internal.v1.opt"]', '  path = "%s/containerd"' % agent_dir,
             '[plugins."io.containerd.grpc.v1.cri"]', '  stream_server_address = "127.0.0.1"',
             '  stream_server_port = "10010"', "  enable_selinux = false", "  enable_unprivileged_ports = true",
             "  enable_unprivileged_icmp = true", '  sandbox_image = "rancher/mirrored-pause:3.6"', "",
             '[plugins."io.containerd.grpc.v1.cri".containerd]', '  snapshotter = "overlayfs"',
             "  disable_snapshot_annotations = true",
             '  default_runtime_name = "%s"' % default_runtime if default_runtime else "  ", "", "",
             '[plugins."io.containerd.grpc.v1.cri".cni]', '  bin_dir = "%s"' % bin_dir,
             '  conf_dir = "%s/etc/cni/net.d"' % agent_dir, "", "",
             '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
             '  runtime_type = "io.containerd.runc.v2"', "",
             '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]', "  SystemdCgroup = false", "",
             '[plugins."io.containerd.grpc.v1.cri".registry]',
             '  config_path = "%s/etc/containerd/certs.d"' % agent_dir, "", ""]
    for name, path in sorted(runtimes):
        lines += ["", '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes."%s"]' % name,
                  '  runtime_type = "io.containerd.runc.v2"',
                  '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes."%s".options]' % name,
                  '  BinaryName = "%s"' % path, "  SystemdCgroup = false"]
    return "\n".join(lines) + "\n"


def runtime_handlers(text):
    """{handler: BinaryName or None} of a config.toml (K3s's or a user's config.toml.tmpl): what the CRI plugin would
    accept as runtime handlers. A line-based reading of the tables the template writes, not a TOML parser."""
    out, current = {}, None
    head = re.compile(r'^\s*\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.("?)([^".\]]+)\1'
                      r'(\.options)?\]\s*$')
    for line in text.splitlines():
        m = head.match(line)
        if m:
            current = m.group(2)
            out.setdefault(current, None)
            continue
        if line.strip().startswith("["):
            current = None
            continue
        k, _, v = line.partition("=")
        if current and k.strip() == "BinaryName":
            out[current] = v.strip().strip('"')
    return out


def default_runtime_name(text):
    for line in text.splitlines():
        k, _, v = line.partition("=")
        if k.strip() == "default_runtime_name":
            return v.strip().strip('"') or None
    return None


_kc = []


def container_helper():
    """k3s-container.py's functions (build_root, hide): the same view of the node as the process runtime's."""
    if not _kc:
        import importlib.util
        spec = importlib.util.spec_from_file_location("k3s_container", os.path.join(SHARED, "k3s-container.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _kc.append(mod)
    return _kc[0]


def umount_tree(path):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.umount2(path.encode(), MNT_DETACH)


class Containerd:
    """The node's containerd: started by the agent (a child that dies with it, as K3s's), driven with ctr."""

    def __init__(self, data_dir, agent_dir):
        self.bin = os.path.join(data_dir, "data", "current", "bin")
        self.agent_dir = agent_dir
        self.config = os.path.join(agent_dir, "etc", "containerd", "config.toml")
        self.root = os.path.join(agent_dir, "containerd")
        self.env = {"PATH": self.bin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    # the lab's nvidia-container-runtime hands over to this runc (the real one looks for runc on
                    # PATH: K3s's bin directory comes first there)
                    "K3GPU_LAB_RUNC": os.path.join(self.bin, "runc")}
        self.handlers = {}
        self.default = None
        self.pid = None
        self.lock = threading.Lock()
        self.images = set()

    def available(self):
        return all(os.path.exists(os.path.join(LAB_BIN, b)) for b in BINARIES)

    def start(self, config_text):
        """Links the binaries, starts containerd, waits for its socket (10 s); False when it did not come up."""
        os.makedirs(self.bin, exist_ok=True)
        for b in BINARIES:
            link = os.path.join(self.bin, b)
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(os.path.join(LAB_BIN, b), link)
        self.handlers = runtime_handlers(config_text)
        self.default = default_runtime_name(config_text)
        os.makedirs(self.root, exist_ok=True)
        os.makedirs(STATE, exist_ok=True)
        logfd = os.open(os.path.join(self.root, "containerd.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        cmd = ["setpriv", "--pdeathsig", "KILL", "--", os.path.join(self.bin, "containerd"), "-c", self.config,
               "-a", SOCK, "--state", STATE, "--root", self.root]
        try:
            self.pid = os.posix_spawnp(cmd[0], cmd, self.env, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, logfd, 1),
                (os.POSIX_SPAWN_DUP2, logfd, 2)], setsid=True)
        except OSError as e:
            log("error", "containerd: %s" % e)
            return False
        finally:
            os.close(logfd)
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.exists(SOCK) and self.ctr("version")[0] == 0:
                return True
            try:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    break
            except ChildProcessError:
                break
            time.sleep(0.1)
        log("error", "containerd did not start; see %s/containerd.log" % self.root)
        return False

    def ctr(self, *args, timeout=60):
        """(exit status, stdout, stderr) of ctr in namespace k8s.io."""
        argv = [os.path.join(self.bin, "ctr"), "-a", SOCK, "-n", NAMESPACE] + list(args)
        r, w = os.pipe()
        er, ew = os.pipe()
        try:
            pid = os.posix_spawn(argv[0], argv, self.env, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, w, 1),
                (os.POSIX_SPAWN_DUP2, ew, 2), (os.POSIX_SPAWN_CLOSE, r), (os.POSIX_SPAWN_CLOSE, er)])
        except OSError as e:
            for fd in (r, w, er, ew):
                os.close(fd)
            return 127, "", str(e)
        os.close(w)
        os.close(ew)
        out, err = [], []
        fds = {r: out, er: err}
        deadline = time.time() + timeout
        while fds and time.time() < deadline:
            ready, _, _ = select.select(list(fds), [], [], max(0.0, deadline - time.time()))
            for fd in ready:
                chunk = os.read(fd, 65536)
                if chunk:
                    fds[fd].append(chunk)
                else:
                    os.close(fd)
                    del fds[fd]
        for fd in fds:
            os.close(fd)
        if fds:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        _, status = os.waitpid(pid, 0)
        return (os.waitstatus_to_exitcode(status), b"".join(out).decode("utf-8", "replace"),
                b"".join(err).decode("utf-8", "replace"))

    # ---- images

    def import_image(self, ref, image, arch):
        """The catalog image as containerd's: a one-layer OCI archive (an empty layer; the root is the node's),
        imported once (`ctr images import --all-platforms --no-unpack`)."""
        name = ref.canonical()
        with self.lock:
            if name in self.images:
                return
        import hashlib
        import io
        import tarfile

        def blob(data):
            return "sha256:" + hashlib.sha256(data).hexdigest(), data

        layer = b"\0" * 1024  # an empty tar
        layer_digest, _ = blob(layer)
        cfg = {"architecture": arch, "os": "linux", "config": {
            "Env": ["%s=%s" % kv for kv in sorted((image.get("env") or {}).items())],
            "Entrypoint": image.get("entrypoint") or None, "Cmd": image.get("cmd") or None,
            "WorkingDir": image.get("workingDir") or ""},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}
        cfg_digest, cfg_data = blob(json.dumps(cfg, sort_keys=True).encode())
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_digest,
                               "size": len(cfg_data)},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest,
                                "size": len(layer)}]}
        man_digest, man_data = blob(json.dumps(manifest, sort_keys=True).encode())
        index = {"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man_digest, "size": len(man_data),
            "platform": {"architecture": arch, "os": "linux"},
            "annotations": {"io.containerd.image.name": name,
                            "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]}}]}
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            for path, data in [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
                               ("index.json", json.dumps(index).encode())] + [
                    ("blobs/sha256/" + d.split(":")[1], x) for d, x in
                    ((layer_digest, layer), (cfg_digest, cfg_data), (man_digest, man_data))]:
                info = tarfile.TarInfo(path)
                info.size, info.mtime = len(data), 0
                t.addfile(info, io.BytesIO(data))
        archive = os.path.join(self.root, "lab-import-%s.tar" % os.urandom(4).hex())
        with open(archive, "wb") as f:
            f.write(buf.getvalue())
        try:
            rc, _, err = self.ctr("images", "import", "--all-platforms", "--no-unpack", archive)
        finally:
            os.unlink(archive)
        if rc != 0:
            klog("E", "ctrdrt.go:1", "Failed to import image into containerd", image=name, err=err.strip())
            return
        with self.lock:
            self.images.add(name)

    # ---- containers

    def cleanup(self):
        """What an earlier run of the agent left (its tasks survive containerd in their shims): killed, deleted."""
        rc, out, _ = self.ctr("tasks", "ls", "-q")
        for cid in out.split() if rc == 0 else []:
            self.ctr("tasks", "kill", "-s", "SIGKILL", cid)
            self.ctr("tasks", "delete", "-f", cid)
        rc, out, _ = self.ctr("containers", "ls", "-q")
        ids = out.split() if rc == 0 else []
        if ids:
            self.ctr("containers", "rm", *ids)
        # the containers' roots (/run/k3s/containers/<id>/root and what is mounted in them): detached whole,
        # outermost first, before anything under them is removed
        base = P("/run/k3s/containers/")
        for mp in sorted(set(mount_points())):
            if mp.startswith(base):
                umount_tree(mp)

    def handler_for(self, handler):
        """(runtime name, BinaryName or None): the pod's handler, else default_runtime_name, else runc."""
        name = handler or self.default or "runc"
        return name, self.handlers.get(name)


def mount_points():
    try:
        with open("/proc/self/mountinfo") as f:
            return [container_helper().unescape(line.split()[4]) for line in f if len(line.split()) > 4]
    except OSError:
        return []


def oci_spec(w, c, rootfs, argv, env, cwd, mounts):
    """The OCI runtime spec (runtime-spec 1.0.2) of one container of PodWorker w."""
    sc = c.spec.get("securityContext") or {}
    privileged = bool(sc.get("privileged"))
    caps = list(ALL_CAPS if privileged else DEFAULT_CAPS)
    for cap in (sc.get("capabilities") or {}).get("add") or []:
        cap = "CAP_" + cap.upper().replace("CAP_", "") if cap.upper() != "ALL" else "ALL"
        caps = list(ALL_CAPS) if cap == "ALL" else caps + ([cap] if cap not in caps else [])
    for cap in (sc.get("capabilities") or {}).get("drop") or []:
        cap = cap.upper()
        caps = [] if cap == "ALL" else [x for x in caps if x != "CAP_" + cap.replace("CAP_", "")]
    oci_mounts = [
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}]
    # a volume nested in a read-only one (coredns's /etc/coredns/custom): its mount point made in the outer
    # volume's source first, since runc makes a read-only bind read-only before the next mount
    for i, m in enumerate(mounts):
        for outer in mounts[:i]:
            t, o = m["target"].rstrip("/"), outer["target"].rstrip("/")
            if outer.get("readOnly") and t.startswith(o + "/"):
                point = os.path.join(outer["source"], t[len(o) + 1:])
                if not os.path.lexists(point):
                    try:
                        if os.path.isdir(m["source"]):
                            os.makedirs(point, exist_ok=True)
                        else:
                            os.makedirs(os.path.dirname(point), exist_ok=True)
                            open(point, "a").close()
                    except OSError:
                        pass
    for m in mounts:
        oci_mounts.append({"destination": m["target"], "type": "bind", "source": m["source"],
                           "options": ["rbind", "rprivate", "ro" if m.get("readOnly") else "rw"]})
    devices = [{"allow": True, "access": "rwm"}] if privileged else [{"allow": False, "access": "rwm"}]
    return {
        "ociVersion": "1.0.2",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": argv,
                    "env": ["%s=%s" % kv for kv in env.items()], "cwd": cwd,
                    "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
                    "noNewPrivileges": sc.get("allowPrivilegeEscalation") is False, "oomScoreAdj": 1000},
        "root": {"path": rootfs, "readonly": bool(sc.get("readOnlyRootFilesystem"))},
        "hostname": (w.spec.get("hostname") or w.name)[:63],
        "mounts": oci_mounts,
        # the sandbox id groups a pod's containers in one shim (containerd's runc v2 shim, as for a CRI pod)
        "annotations": {"io.kubernetes.cri.sandbox-id": sandbox_id(w.uid),
                        "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": c.name,
                        "io.kubernetes.cri.sandbox-name": w.name, "io.kubernetes.cri.sandbox-namespace": w.ns,
                        "io.kubernetes.cri.sandbox-uid": w.uid, "io.kubernetes.cri.image-name": c.ref.canonical()},
        "linux": {"cgroupsPath": "/kubepods/besteffort/pod%s/%s" % (w.uid, c.cid),
                  "resources": {"devices": devices},
                  "namespaces": [{"type": "mount"}, {"type": "uts"}, {"type": "ipc"}],
                  "maskedPaths": [] if privileged else list(MASKED),
                  "readonlyPaths": [] if privileged else list(READONLY)}}


def sandbox_id(uid):
    import hashlib
    return hashlib.sha256(("k3gpu-lab-sandbox/" + uid).encode()).hexdigest()


class ContainerdRuntime:
    """PodWorker's container start on a containerd node (a mixin beside ProcessRuntime: self is the PodWorker)."""

    def launch_ctrd(self, c, argv, env, cwd, mounts):
        from k3sagent.runtime import NODE_TOOLS_IN_IMAGES, host_torch_paths, close_stdin
        p = self.pods
        ctrd = p.ctrd
        # the node's own tools are not an image's (nvidia-smi only under an NVIDIA runtime); what the image lacks is
        # whited out, the CSV files included: the handler's nvidia-container-runtime brings those itself
        keep = NODE_TOOLS_IN_IMAGES + (("nvidia-smi",) if self.nvidia else ())
        try:
            hidden = ["/usr/local/bin/" + n for n in sorted(os.listdir(P("/usr/local/bin"))) if n not in keep]
        except OSError:
            hidden = []
        whiteouts = list((c.image or {}).get("nvidiaRuntimeFiles") or [])
        if "torch" not in ((c.image or {}).get("hostFrameworks") or []):
            whiteouts += host_torch_paths()
        if c.cid:
            ctrd.ctr("containers", "rm", c.cid)   # the previous run's container, kept until now for its status
        c.cid = os.urandom(32).hex()
        c.ctrd = True
        c.run_dir = P("/run/k3s/containers/" + c.cid)
        d = os.path.join(self.log_dir, c.name)
        os.makedirs(d, exist_ok=True)
        c.log_path = os.path.join(d, "%d.log" % c.restarts)
        prefix = "failed to create containerd task: "
        started = time.time()
        ctrd.import_image(c.ref, c.image or {}, p.agent.facts.architecture)
        self.event(c, "Normal", "Created", "Created container " + c.name)
        try:
            kc = container_helper()
            base = c.run_dir + "/root"
            os.makedirs(base, exist_ok=True)
            rootfs = kc.build_root(base, whiteouts)
            kc.hide(base, rootfs, hidden)
        except OSError as e:
            p.release(c)
            self.start_failed(c, prefix + "failed to create shim task: failed to mount rootfs component: %s: %s: "
                              "unknown" % (e.filename, (e.strerror or str(e)).lower()), started)
            return
        if c.spec.get("stdin"):
            # spec.stdin: CRI gives the task a stdin fifo the kubelet keeps for `kubectl attach -i`; `ctr run
            # --detach` has none, so the fifo is bound into the container and its process started reading it.
            # The kubelet's end is opened read-write (no side blocks); closing it (stdinOnce) is the reader's EOF.
            fifo = c.run_dir + "/stdin"
            os.mkfifo(fifo, 0o600)
            c.stdin_w = os.open(fifo, os.O_RDWR | os.O_CLOEXEC)
            mounts = list(mounts) + [{"target": "/dev/.k3gpu-stdin", "source": fifo}]
            argv = ["/bin/sh", "-c", 'exec "$@" </dev/.k3gpu-stdin 2>&1', "sh"] + list(argv)
        elif runnable(rootfs, argv[0] if argv else "", env):
            # stderr joins stdout in the task itself: with one log file for both (`ctr run --log-uri file://`),
            # containerd 1.6's shim hands the stdout copy the bare file while the stderr copy shares it
            # (pkg/process/io.go copyPipes: `i.dest(fw, fr)` for the first of the two), so when stdout ends first
            # the file is closed under the stderr copy ("error copying stderr") and a quick failure's message is
            # lost. K3s's CRI gives the shim two fifos instead; kubectl logs shows both streams in the order written.
            # Only for a command runc would find: a missing one must stay runc's own start error.
            argv = ["/bin/sh", "-c", 'exec "$@" 2>&1', "sh"] + list(argv)
        write_file(c.run_dir + "/config.json", json.dumps(oci_spec(self, c, rootfs, argv, env, cwd, mounts)))
        name, binary = ctrd.handler_for(self.handler)
        args = ["run", "--detach", "--config", c.run_dir + "/config.json", "--log-uri", "file://" + c.log_path,
                "--pid-file", c.run_dir + "/pid"]
        for k, v in (("io.kubernetes.pod.name", self.name), ("io.kubernetes.pod.namespace", self.ns),
                     ("io.kubernetes.pod.uid", self.uid), ("io.kubernetes.container.name", c.name),
                     ("io.cri-containerd.kind", "container"), ("io.cri-containerd.image", c.ref.canonical()),
                     ("io.cri-containerd.runtime-handler", name)):
            args += ["--label", "%s=%s" % (k, v)]
        if binary:
            args += ["--runc-binary", binary]
        rc, _, err = ctrd.ctr(*args, c.cid)
        pid = (read_text(c.run_dir + "/pid") or "").strip()
        if rc != 0 or not pid.isdigit():
            message = err.strip().splitlines()[-1] if err.strip() else "ctr run: exit status %d" % rc
            message = re.sub(r'^(time="[^"]*" level=\w+ msg=)?"?ctr: ', "", message).rstrip('"')
            ctrd.ctr("tasks", "delete", "-f", c.cid)
            close_stdin(c)
            p.release(c)
            self.start_failed(c, prefix + message, started)
            return
        pid = int(pid)
        write_file(P("/run/k3s/lab-pids/" + c.cid), "%d\n" % pid)
        try:
            c.mntns = os.readlink("/proc/%d/ns/mnt" % pid)
        except OSError:
            c.mntns = None
        with self.cond:
            c.task_pid = pid
            c.state, c.reason, c.message = "running", None, None
            c.started_at = started
        cid, root = c.cid, c.run_dir + "/root"

        log_path = c.log_path

        def wait():
            code = task_exit(ctrd, cid, pid)
            settle(log_path)
            umount_tree(root)
            c.exited(code, started)
        threading.Thread(target=wait, name="task", daemon=True).start()
        self.event(c, "Normal", "Started", "Started container " + c.name)


def runnable(rootfs, command, env):
    """Would runc find `command` in the container (an absolute path, or a name on the process's PATH, as Go's
    exec.LookPath in runc's init looks)? Only the image's root is looked in, not volumes: unknown counts as no."""
    if not command or ("/" in command and not command.startswith("/")):
        return False
    path = (env or {}).get("PATH", "")
    for p in [command] if "/" in command else [d + "/" + command for d in path.split(":") if d.startswith("/")]:
        full = os.path.join(rootfs, p.lstrip("/"))
        if os.path.isfile(full) and os.access(full, os.X_OK):
            return True
    return False


def settle(path, quiet=0.3, most=1.0):
    """Waits until the shim's copy of a task's output into its log file has stopped growing (a terminated
    container's log is whole when the kubelet reports it): unchanged for `quiet` seconds, at most `most`."""
    end = time.monotonic() + most
    last, since = -1, time.monotonic()
    while time.monotonic() < end:
        try:
            size = os.path.getsize(path)
        except OSError:
            size = 0
        if size != last:
            last, since = size, time.monotonic()
        elif time.monotonic() - since >= quiet and size > 0:
            return
        time.sleep(0.05)


def task_exit(ctrd, cid, pid):
    """Waits for a task's first process to end (pidfd), then deletes the task: its exit status (the shim's, from
    `ctr tasks delete`, which waits for the output to be copied)."""
    try:
        fd = os.pidfd_open(pid)
        try:
            select.select([fd], [], [])
        finally:
            os.close(fd)
    except OSError:
        pass
    rc, out, err = ctrd.ctr("tasks", "delete", cid)
    m = re.search(r"exit with non-zero exit code (\d+)", out + err)
    if m:
        return int(m.group(1))
    if rc != 0 and "not found" in err:
        return 137  # killed with its shim (k3s-killall.sh)
    return 0


def release(ctrd, c):
    """A container's run is over: its root unmounted; the container itself goes when its pod does."""
    if c.run_dir:
        umount_tree(c.run_dir + "/root")
    if c.w.gone or c.w.deleting():
        ctrd.ctr("containers", "rm", c.cid)


# ---- config.toml.tmpl: K3s renders a user's template with Go's text/template over templates.ContainerdConfig

def template_data(agent_dir, data_dir, runtimes, default_runtime, node_name=""):
    """The fields of K3s's templates.ContainerdConfig (and its config.Node) a template can use, as an agent with
    the defaults has them (pkg/agent/containerd/config.go)."""
    return {
        "Program": "k3s", "DisableCgroup": False, "IsRunningInUserNS": False, "EnableUnprivileged": True,
        "SystemdCgroup": False, "PrivateRegistryConfig": {"Mirrors": {}, "Configs": {}},
        "ExtraRuntimes": {n: {"RuntimeType": "io.containerd.runc.v2", "BinaryName": p} for n, p in runtimes},
        "NodeConfig": {
            "SELinux": False, "NoFlannel": False, "DefaultRuntime": default_runtime or "",
            "Containerd": {"Opt": agent_dir + "/containerd", "Root": agent_dir + "/containerd",
                           "State": STATE, "Address": SOCK, "Config": agent_dir + "/etc/containerd/config.toml",
                           "Template": agent_dir + "/etc/containerd/config.toml.tmpl",
                           "Registry": agent_dir + "/etc/containerd/certs.d"},
            "AgentConfig": {"PauseImage": "rancher/mirrored-pause:3.6", "Snapshotter": "overlayfs",
                            "CNIBinDir": os.path.join(data_dir, "data", "current", "bin"),
                            "CNIConfDir": agent_dir + "/etc/cni/net.d", "NodeName": node_name}}}


class TemplateError(Exception):
    pass


def render_template(text, data, base=""):
    """Go's text/template for what containerd templates use: {{ .A.B }}, $vars, {{- -}} trimming, if/else if/else,
    with, range (maps in key order), template "base" (K3s's own template), not/and/or/eq/ne, printf, quoted
    strings; true/false/nil print as Go does."""
    tokens = []
    pos = 0
    for m in re.finditer(r"\{\{(-\s)?(.*?)(\s-)?\}\}", text, re.S):
        tokens.append(("text", text[pos:m.start()]))
        tokens.append(("action", m.group(2).strip(), bool(m.group(1)), bool(m.group(3))))
        pos = m.end()
    tokens.append(("text", text[pos:]))
    for i, t in enumerate(tokens):  # trim markers eat the whitespace beside them
        if t[0] == "action":
            if t[2] and tokens[i - 1][0] == "text":
                tokens[i - 1] = ("text", tokens[i - 1][1].rstrip())
            if t[3] and tokens[i + 1][0] == "text":
                tokens[i + 1] = ("text", tokens[i + 1][1].lstrip())
    tree, rest = _parse(tokens, 0)
    if rest < len(tokens):
        raise TemplateError("unexpected {{%s}}" % tokens[rest][1])
    out = []
    _exec(tree, data, {"$": data}, out, base)
    return "".join(out)


def _parse(tokens, i, stop=("end",)):
    nodes = []
    while i < len(tokens):
        t = tokens[i]
        if t[0] == "text":
            if t[1]:
                nodes.append(("text", t[1]))
            i += 1
            continue
        a = t[1]
        word = a.split(None, 1)[0] if a else ""
        if a.startswith("/*"):
            i += 1
            continue
        if word in ("end", "else"):
            return nodes, i
        if word in ("if", "with", "range"):
            body, j = _parse(tokens, i + 1)
            other = []
            if j < len(tokens) and tokens[j][1].split(None, 1)[0] == "else":
                rest = tokens[j][1][4:].strip()
                if rest.startswith("if ") or rest.startswith("with "):
                    # else if X: a nested if that ends with this one's end
                    sub = list(tokens)
                    sub[j] = ("action", rest) + tuple(tokens[j][2:])
                    inner, j = _parse(sub, j + 1)
                    other2 = []
                    if j < len(tokens) and tokens[j][1].split(None, 1)[0] == "else":
                        other2, j = _parse(tokens, j + 1)
                    other = [(rest.split(None, 1)[0], rest.split(None, 1)[1], inner, other2)]
                else:
                    other, j = _parse(tokens, j + 1)
            if j >= len(tokens):
                raise TemplateError("unexpected EOF")
            nodes.append((word, a[len(word):].strip(), body, other))
            i = j + 1
            continue
        nodes.append(("action", a))
        i += 1
    return nodes, i


def _truth(v):
    return not (v is None or v is False or v == 0 or v == "" or v == {} or v == [])


def _show(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "<no value>"
    return str(v)


def _args(expr):
    return re.findall(r'"(?:[^"\\]|\\.)*"|\([^)]*\)|\S+', expr)


def _value(tok, dot, vars_):
    if tok.startswith('"'):
        return json.loads(tok)
    if tok.startswith("("):
        return _eval(tok[1:-1], dot, vars_)
    if tok in ("true", "false"):
        return tok == "true"
    if tok == "nil":
        return None
    if re.match(r"^-?\d+$", tok):
        return int(tok)
    if tok.startswith("$"):
        name, _, path = tok.partition(".")
        if name not in vars_:
            raise TemplateError('undefined variable "%s"' % name)
        v = vars_[name]
    elif tok.startswith("."):
        v, path = dot, tok[1:]
    else:
        raise TemplateError('function "%s" not defined' % tok)
    for part in [p for p in path.split(".") if p]:
        if not isinstance(v, dict) or part not in v:
            raise TemplateError("can't evaluate field %s" % part)
        v = v[part]
    return v


def _eval(expr, dot, vars_):
    toks = _args(expr)
    if not toks:
        raise TemplateError("missing value")
    f = toks[0]
    if f in ("not", "and", "or", "eq", "ne", "printf", "len"):
        vals = [_value(t, dot, vars_) for t in toks[1:]]
        if f == "not":
            return not _truth(vals[0])
        if f == "and":
            for v in vals:
                if not _truth(v):
                    return v
            return vals[-1]
        if f == "or":
            for v in vals:
                if _truth(v):
                    return v
            return vals[-1]
        if f == "eq":
            return any(vals[0] == v for v in vals[1:])
        if f == "ne":
            return vals[0] != vals[1]
        if f == "len":
            return len(vals[0])
        fmt = vals[0]
        from k3sagent.common import goquote
        args = iter(vals[1:])
        return re.sub(r"%[qsdv%]", lambda m: "%" if m.group(0) == "%%" else
                      goquote(str(next(args))) if m.group(0) == "%q" else _show(next(args)), fmt)
    if len(toks) > 1:
        raise TemplateError("can't give argument to non-function %s" % f)
    return _value(f, dot, vars_)


def _exec(nodes, dot, vars_, out, base):
    for n in nodes:
        kind = n[0]
        if kind == "text":
            out.append(n[1])
        elif kind == "action":
            a = n[1]
            m = re.match(r'^template\s+"([^"]+)"(\s+\S+)?$', a)
            if m:
                if m.group(1) != "base":
                    raise TemplateError('no such template "%s"' % m.group(1))
                out.append(base)
                continue
            m = re.match(r"^(\$\w+)\s*:?=\s*(.+)$", a)
            if m:
                vars_[m.group(1)] = _eval(m.group(2), dot, vars_)
                continue
            out.append(_show(_eval(a, dot, vars_)))
        elif kind in ("if", "with"):
            v = _eval(n[1], dot, vars_)
            if _truth(v):
                _exec(n[2], v if kind == "with" else dot, dict(vars_), out, base)
            else:
                _exec(n[3], dot, dict(vars_), out, base)
        elif kind == "range":
            m = re.match(r"^(\$\w+)(?:\s*,\s*(\$\w+))?\s*:=\s*(.+)$", n[1])
            expr = m.group(3) if m else n[1]
            v = _eval(expr, dot, vars_)
            items = sorted(v.items()) if isinstance(v, dict) else list(enumerate(v or []))
            if not items:
                _exec(n[3], dot, dict(vars_), out, base)
            for k, x in items:
                inner = dict(vars_)
                if m and m.group(2):
                    inner[m.group(1)], inner[m.group(2)] = k, x
                elif m:
                    inner[m.group(1)] = x
                _exec(n[2], x, inner, out, base)
