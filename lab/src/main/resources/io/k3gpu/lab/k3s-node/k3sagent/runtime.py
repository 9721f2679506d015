"""The lab's container runtime (containerd or Docker with the lab's process runtime): each container a process of
the node started by k3s-container.py in a mount namespace of its own; NVIDIA CSV mounts."""
import json
import os
import signal
import threading
import time

from k3sagent.common import P, SHARED, read_text, rfc3339, utc_now, write_file
from k3sagent.images import ImageRef

# tests only: "none" runs containers without a mount namespace of their own (no root needed, no volumes mounted)
ISOLATION = os.environ.get("K3GPU_LAB_POD_ISOLATION", "mount")
# what containers keep of the node's /usr/local/bin: the replayed Jetson's identity (a container on a Jetson is
# aarch64 too); nvidia-smi only with an NVIDIA-enabled runtime (which brings it into containers); the rest (K3s,
# Docker, systemctl, tegrastats) is the node's, not an image's
NODE_TOOLS_IN_IMAGES = ("uname", "arch", "dpkg")
# Debian's python3-torch (1.13, CPU) on the node: only images whose catalog tag lists "torch" in hostFrameworks see
# it; in every other container these are whited out, so `import torch` fails there as in an image without PyTorch.
TORCH_GLOBS = ("/usr/lib/python3/dist-packages/torch", "/usr/lib/python3/dist-packages/functorch",
               "/usr/lib/python3/dist-packages/torchgen", "/usr/lib/python3/dist-packages/torch-*.egg-info",
               "/usr/lib/python3/dist-packages/torch-*.dist-info", "/usr/bin/torchrun",
               "/usr/bin/convert-caffe2-to-onnx", "/usr/bin/convert-onnx-to-caffe2")


def host_torch_paths():
    import glob
    return sorted(p for g in TORCH_GLOBS for p in glob.glob(g))


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
        self.ctrd = False         # a containerd task (ctrdrt), not a process of the agent
        self.task_pid = None
        self.run_dir = None
        self.log_path = None
        self.stdin_w = None       # with spec.stdin: the write end of the process's stdin (kubectl attach)
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
        if self.ctrd:
            # as containerd's task kill: the first process only; the shim kills the rest when it ends
            if self.task_pid is not None and self.state == "running":
                try:
                    os.kill(self.task_pid, sig)
                except OSError:
                    pass
            return
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
        self.exited(code, started)

    def exited(self, code, started):
        """The container's first process ended with code: state.terminated."""
        close_stdin(self)
        w = self.w
        with w.cond:
            self.state = "terminated"
            self.term = {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                         "startedAt": rfc3339(started), "finishedAt": utc_now(), "containerID": self.container_id()}
            self.pid = None
            self.task_pid = None
            w.dirty = True
            w.cond.notify_all()
        self.w.pods.release(self)


def close_stdin(c):
    fd, c.stdin_w = c.stdin_w, None
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass


def exec_command(c, argv, tty=False):
    """(argv, env) that run argv inside running container c, as a CRI exec does: in its mount and UTS namespaces,
    its root and working directory, with its environment (the OCI process spec's). The one place that knows how a
    container of this runtime is entered: another runtime re-points it (`docker exec`, `ctr task exec`)."""
    if getattr(c, "docker_exec", False):  # a Docker container (dockerrt): the daemon's exec, as cri-dockerd's
        env = {"PATH": os.environ.get("PATH") or "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        return ["docker", "exec", "-i"] + (["-t"] if tty else []) + [c.cid] + list(argv), env
    spec = {}
    try:
        with open(os.path.join(c.run_dir, "spec.json")) as f:
            spec = json.load(f)
    except (OSError, ValueError, TypeError):
        pass
    env = {k: str(v) for k, v in (spec.get("env") or {}).items()}
    target = c.pid
    if c.ctrd:  # a containerd task: its OCI spec's process, entered as `ctr task exec` would run it
        try:
            with open(os.path.join(c.run_dir, "config.json")) as f:
                process = json.load(f).get("process") or {}
            env = dict(e.split("=", 1) for e in process.get("env") or [] if "=" in e)
        except (OSError, ValueError, TypeError, AttributeError):
            env = {}
        target = c.task_pid
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    if ISOLATION == "none" and not c.ctrd:
        return list(argv), env
    return ["nsenter", "--target", str(target), "--mount", "--uts", "--root", "--wd", "--"] + list(argv), env


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


class ProcessRuntime:
    """PodWorker's container start in the lab's process runtime (a mixin: self is the PodWorker)."""

    def launch(self, c, argv, env, cwd, mounts):
        p = self.pods
        if p.ctrd:
            return self.launch_ctrd(c, argv, env, cwd, mounts)  # a containerd task (ctrdrt)
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
        if "torch" not in ((c.image or {}).get("hostFrameworks") or []):
            whiteouts += host_torch_paths()
        spec = {"base": c.run_dir + "/root", "mntnsFile": c.run_dir + "/mntns", "hostname": self.spec.get("hostname") or self.name,
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
        # spec.stdin: the container's stdin is a pipe the kubelet keeps for `kubectl attach -i`, else /dev/null
        stdin = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0)]
        stdin_r = None
        if c.spec.get("stdin"):
            stdin_r, c.stdin_w = os.pipe2(os.O_CLOEXEC)
            stdin = [(os.POSIX_SPAWN_DUP2, stdin_r, 0)]
        started = time.time()
        try:
            pid = os.posix_spawnp(cmd[0], cmd, {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
                                  file_actions=stdin + [
                                                (os.POSIX_SPAWN_DUP2, logfd, 1), (os.POSIX_SPAWN_DUP2, logfd, 2),
                                                (os.POSIX_SPAWN_DUP2, w, 3)], setsid=True)
        except OSError as e:
            os.close(r)
            os.close(w)
            os.close(logfd)
            close_stdin(c)
            if stdin_r is not None:
                os.close(stdin_r)
            self.start_failed(c, prefix + "%s: %s: unknown" % (runtime, e.strerror or e), started)
            return
        os.close(w)
        os.close(logfd)
        if stdin_r is not None:
            os.close(stdin_r)
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
