"""Pods of a `--docker` agent as real Docker containers, as K3s runs them through cri-dockerd (Mirantis/cri-dockerd
core/sandbox_helpers.go, container_create.go, container_status.go, naming.go), over the Docker Engine API
(/run/docker.sock) as cri-dockerd talks to dockerd:

* a sandbox per pod, `k8s_POD_<pod>_<ns>_<uid>_<attempt>`, image rancher/mirrored-pause:3.6 (K3s's pause image),
  IpcMode shareable, the pod's hostname. The lab has no CNI: pods use their node's network (pod IP = node IP, as
  today), so the sandbox's network is the node's (NetworkMode host) and the containers join it;
* each container `k8s_<container>_<pod>_<ns>_<uid>_<restartCount>`, NetworkMode and IpcMode `container:<sandbox>`
  (PidMode too with shareProcessNamespace), cri-dockerd's labels, no --runtime: Docker's default runtime decides
  (nvidia after `k3gpu gpu-runtime`: the lab's nvidia-container-runtime wrapper brings the CSV files in);
* images: the catalog's, made in the node's Docker at their first use with `docker import` (POST /images/create
  fromSrc) of a small rootfs: the node's /etc basics, /usr/local/bin's replayed board tools, the merged-/usr links.
  With vfs every container copies its image, so the image holds no programs: each container gets the node's /usr
  directories bound read-only (python3, numpy, Debian's torch, git...) from a read-only overlay "view" of the node's
  /usr that whites out Debian's torch for images without it and adds the image's own programs (catalog "files");
* logs: the container's output (its json-file log, followed) into the kubelet's /var/log/pods/... files;
  exit codes and reasons as cri-dockerd reports them (Completed, Error, OOMKilled, ContainerCannotRun);
* kill: POST /containers/<id>/kill with the signal (SIGTERM reaches the container's PID 1 only, as with Docker);
  deletion removes the pod's containers and its sandbox.
"""
import http.client
import io
import json
import os
import socket
import struct
import tarfile
import threading
import time
from urllib.parse import quote, urlencode

from k3sagent.common import P, SHARED, klog, log, remove_tree, rfc3339, utc_now
from k3sagent.runtime import Container, host_torch_paths

SOCK = P("/run/docker.sock")
PAUSE_IMAGE = "rancher/mirrored-pause:3.6"  # K3s's default --pause-image
VIEWS = P("/run/k3s/docker-views")
NODE_TOOLS = ("uname", "arch", "dpkg")      # the replayed board's identity: a container on a Jetson is aarch64 too
ETC_FILES = ("passwd", "group", "nsswitch.conf", "host.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
             "ssl/certs/ca-certificates.crt", "debian_version", "os-release", "gitconfig")
# what the pause program does (kubernetes build/pause/linux/pause.c): sleep until SIGINT or SIGTERM, then exit 0
PAUSE = b"#!/bin/busybox sh\ntrap 'exit 0' TERM INT\nwhile :; do /bin/busybox sleep 86400 & wait $!; done\n"


class DockerError(Exception):
    def __init__(self, status, message):
        Exception.__init__(self, message)
        self.status = status


class _Conn(http.client.HTTPConnection):
    def __init__(self, timeout):
        http.client.HTTPConnection.__init__(self, "docker", timeout=timeout)

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(SOCK)
        self.sock = s


def call(method, path, body=None, data=None, timeout=60, query=None):
    """One Engine API request: the decoded JSON answer (or None); DockerError with the daemon's message."""
    url = path + ("?" + urlencode(query, doseq=True) if query else "")
    conn = _Conn(timeout)
    try:
        headers = {}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            headers["Content-Type"] = "application/x-tar"
        conn.request(method, url, data, headers)
        r = conn.getresponse()
        raw = r.read()
    except (OSError, http.client.HTTPException) as e:
        raise DockerError(0, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker "
                             "daemon running? (%s)" % e)
    finally:
        conn.close()
    try:
        obj = json.loads(raw) if raw.strip() else None
    except ValueError:
        obj = None
    if r.status >= 400:
        raise DockerError(r.status, "Error response from daemon: " + ((obj or {}).get("message") if isinstance(
            obj, dict) else raw.decode("utf-8", "replace").strip()))
    return obj


def follow_logs(cid, path):
    """Copies the container's stdout and stderr (Docker's multiplexed stream) to the kubelet's log file until the
    container ends."""
    conn = _Conn(None)
    try:
        conn.request("GET", "/containers/%s/logs?follow=1&stdout=1&stderr=1" % cid)
        r = conn.getresponse()
        if r.status != 200:
            return
        with open(path, "ab") as out:
            while True:
                head = r.read(8)
                if len(head) < 8:
                    return
                n = struct.unpack(">I", head[4:8])[0]
                chunk = r.read(n)
                out.write(chunk)
                out.flush()
                if len(chunk) < n:
                    return
    except (OSError, http.client.HTTPException):
        return
    finally:
        conn.close()


def docker_time(text):
    """Docker's RFC 3339 nano timestamps as the API's seconds; None for Go's zero time."""
    if not text or text.startswith("0001-"):
        return None
    return text[:19] + "Z"


def default_runtime():
    try:
        return (call("GET", "/info", timeout=10) or {}).get("DefaultRuntime") or ""
    except DockerError:
        return ""


# ---- images

def _add(tar, name, kind, mode=0o755, data=None, target=None):
    ti = tarfile.TarInfo(name)
    ti.mode = mode
    ti.mtime = 0
    if kind == "dir":
        ti.type = tarfile.DIRTYPE
        tar.addfile(ti)
    elif kind == "link":
        ti.type = tarfile.SYMTYPE
        ti.linkname = target
        tar.addfile(ti)
    else:
        ti.size = len(data)
        tar.addfile(ti, io.BytesIO(data))


def _add_node_path(tar, path, name):
    """A node file, symlink or directory tree (small ones: /etc's basics) into the image."""
    if os.path.islink(path):
        _add(tar, name, "link", 0o777, target=os.readlink(path))
    elif os.path.isdir(path):
        _add(tar, name, "dir", os.stat(path).st_mode & 0o7777)
        for n in sorted(os.listdir(path)):
            _add_node_path(tar, os.path.join(path, n), name + "/" + n)
    elif os.path.isfile(path):
        with open(path, "rb") as f:
            _add(tar, name, "file", os.stat(path).st_mode & 0o7777, f.read())


def rootfs_tar(pause):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d, mode in (("etc", 0o755), ("tmp", 0o1777), ("root", 0o700), ("home", 0o755), ("run", 0o755),
                        ("var", 0o755), ("var/tmp", 0o1777), ("opt", 0o755), ("mnt", 0o755), ("usr", 0o755),
                        ("usr/local", 0o755), ("usr/local/bin", 0o755), ("usr/local/lib", 0o755)):
            _add(tar, d, "dir", mode)
        if pause:
            _add(tar, "bin", "dir")
            with open("/bin/busybox", "rb") as f:
                _add(tar, "bin/busybox", "file", 0o755, f.read())
            _add(tar, "pause", "file", 0o755, PAUSE)
        else:
            # merged /usr (Debian 12): /bin, /lib... are links into /usr, whose directories are bound at start
            for d in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
                if os.path.islink("/" + d):
                    _add(tar, d, "link", 0o777, target=os.readlink("/" + d))
                elif os.path.isdir("/" + d):
                    _add(tar, d, "dir")
            for f in ETC_FILES:
                if os.path.lexists("/etc/" + f):
                    parent = os.path.dirname("etc/" + f)
                    if parent != "etc":
                        _add(tar, parent, "dir")
                    _add_node_path(tar, "/etc/" + f, "etc/" + f)
            for t in NODE_TOOLS:
                _add_node_path(tar, "/usr/local/bin/" + t, "usr/local/bin/" + t)
    return buf.getvalue()


def image_present(name):
    try:
        call("GET", "/images/%s/json" % quote(name, safe=""), timeout=30)
        return True
    except DockerError as e:
        if e.status == 404:
            return False
        raise


def ensure_image(name, image=None):
    """The image in the node's Docker; made with `docker import` from the catalog entry when missing."""
    if image_present(name):
        return
    repo, _, tag = name.rpartition(":")
    if "/" in tag or not repo:
        repo, tag = name, "latest"
    changes = []
    if image is None:
        changes.append('ENTRYPOINT ["/pause"]')
    else:
        changes += ["ENV %s=%s" % kv for kv in sorted((image.get("env") or {}).items())]
        if image.get("entrypoint"):
            changes.append("ENTRYPOINT " + json.dumps(image["entrypoint"]))
        if image.get("cmd"):
            changes.append("CMD " + json.dumps(image["cmd"]))
        if image.get("workingDir"):
            changes.append("WORKDIR " + image["workingDir"])
    call("POST", "/images/create", data=rootfs_tar(image is None), timeout=300,
         query={"fromSrc": "-", "repo": repo, "tag": tag, "changes": changes})


# ---- the node's /usr as images see it

_views_lock = threading.Lock()


def usr_view(image):
    """A read-only overlay of the node's /usr for an image: Debian's torch whited out unless the image lists it in
    hostFrameworks, the image's own programs under /usr added. The node's /usr itself when nothing differs."""
    files = {t[len("/usr/"):]: s for t, s in (image.get("files") or {}).items() if t.startswith("/usr/")}
    torch = "torch" in (image.get("hostFrameworks") or [])
    if torch and not files:
        return "/usr"
    key = ("torch" if torch else "notorch") + "".join("-" + os.path.basename(s) for _, s in sorted(files.items()))
    base = os.path.join(VIEWS, key)
    with _views_lock:
        if os.path.ismount(base + "/usr"):
            return base + "/usr"
        layer = base + "/layer"
        remove_tree(layer)
        os.makedirs(layer, exist_ok=True)
        os.makedirs(base + "/usr", exist_ok=True)
        if not torch:
            for p in host_torch_paths():
                if p.startswith("/usr/"):
                    target = os.path.join(layer, p[len("/usr/"):])
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    os.mknod(target, 0o600 | 0o020000, os.makedev(0, 0))  # overlayfs whiteout
        for rel, src in files.items():
            target = os.path.join(layer, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(os.path.join(SHARED, "images", src), "rb") as fi, open(target, "wb") as fo:
                fo.write(fi.read())
            os.chmod(target, 0o755)
        # lowerdirs only: a read-only overlay (the image's layer over the node's /usr)
        rc = os.system("mount -t overlay k3gpu-lab-docker-view -o 'lowerdir=%s:/usr' '%s/usr'" % (layer, base))
        if rc != 0:
            log("error", "Failed to mount the /usr view %s for Docker containers; using the node's /usr" % key)
            return "/usr"
    return base + "/usr"


def usr_binds(view, ro=True):
    """/usr's directories but local (the image's own) bound from the view."""
    out = []
    for d in sorted(os.listdir("/usr")):
        if d != "local" and os.path.isdir(os.path.join("/usr", d)) and not os.path.islink(os.path.join("/usr", d)):
            out.append("%s/%s:/usr/%s:ro" % (view, d, d))
    return out


# ---- containers

def names(w, container, attempt):
    """cri-dockerd's naming.go: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>."""
    return "_".join(("k8s", container, w.name, w.ns, w.uid, str(attempt)))


class DockerContainer(Container):
    """A pod's container as a Docker container: kill through the daemon, state from its wait."""

    def __init__(self, worker, spec, init):
        Container.__init__(self, worker, spec, init)
        self.dead = []  # earlier attempts' containers: kubelet's GC keeps the last one (logs -p)
        self.docker_exec = True  # kubectl exec goes through `docker exec` (runtime.exec_command)

    def signal(self, sig):
        if self.cid and self.state == "running":
            try:
                call("POST", "/containers/%s/kill" % self.cid, query={"signal": int(sig)}, timeout=10)
            except DockerError:
                pass

    def wait_docker(self, log_thread):
        """The container's waiter: POST /wait, then its state as cri-dockerd's ContainerStatus reads it."""
        w = self.w
        cid = self.cid
        state = None
        for _ in range(600):
            try:
                call("POST", "/containers/%s/wait" % cid, timeout=None)
                state = (call("GET", "/containers/%s/json" % cid, timeout=30) or {}).get("State") or {}
                break
            except DockerError as e:
                if e.status == 404:
                    break
                time.sleep(0.5)  # the daemon restarts (gpu-runtime): its containers end with it
        log_thread.join(10)
        if state is None:
            term = {"exitCode": 137, "reason": "Error", "message": "container %s is gone" % cid,
                    "startedAt": rfc3339(self.started_at), "finishedAt": utc_now()}
        else:
            code = int(state.get("ExitCode") or 0)
            reason = "OOMKilled" if state.get("OOMKilled") else "Completed" if code == 0 else "Error"
            term = {"exitCode": code, "reason": reason, "startedAt": docker_time(state.get("StartedAt")) or
                    rfc3339(self.started_at), "finishedAt": docker_time(state.get("FinishedAt")) or utc_now()}
            if state.get("Error"):
                term["message"] = state["Error"]
        term["containerID"] = self.container_id()
        with w.cond:
            if self.cid == cid:
                self.state, self.term = "terminated", term
                self.mntns = None
                w.dirty = True
                w.cond.notify_all()


class DockerRuntime:
    """PodWorker's sandbox and container start on Docker (a mixin: self is the PodWorker)."""

    def docker_sandbox(self, attempt=0):
        """RunPodSandbox: the pause container holding the pod's hostname and IPC (and network: the node's)."""
        ensure_image(PAUSE_IMAGE)
        meta = self.pod.get("metadata", {})
        labels = {"io.kubernetes.pod.name": self.name, "io.kubernetes.pod.namespace": self.ns,
                  "io.kubernetes.pod.uid": self.uid, "io.kubernetes.docker.type": "podsandbox",
                  "io.kubernetes.container.name": "POD"}
        labels.update({k: str(v) for k, v in (meta.get("labels") or {}).items()})
        name = names(self, "POD", attempt)
        try:
            call("DELETE", "/containers/" + quote(name), query={"force": 1}, timeout=30)
        except DockerError:
            pass
        r = call("POST", "/containers/create", {
            "Hostname": (self.spec.get("hostname") or self.name)[:63], "Image": PAUSE_IMAGE, "Labels": labels,
            # not cri-dockerd's OomScoreAdj -998: runc cannot lower it inside a lab node (EOF from its init)
            "HostConfig": {"NetworkMode": "host", "IpcMode": "shareable", "CpuShares": 2}},
            query={"name": name})
        call("POST", "/containers/%s/start" % r["Id"])
        self.sandbox_id, self.sandbox_attempt = r["Id"], attempt

    def docker_sandbox_ready(self):
        """The sandbox runs (a daemon restart ends it): else a new one, attempt + 1, as the kubelet makes."""
        sid = getattr(self, "sandbox_id", None)
        if sid:
            try:
                if ((call("GET", "/containers/%s/json" % sid, timeout=30) or {}).get("State") or {}).get("Running"):
                    return
            except DockerError as e:
                if e.status == 0:
                    raise
        self.docker_sandbox(getattr(self, "sandbox_attempt", -1) + 1)

    def docker_launch(self, c, argv, env, cwd, mounts):
        d = os.path.join(self.log_dir, c.name)
        os.makedirs(d, exist_ok=True)
        c.log_path = os.path.join(d, "%d.log" % c.restarts)
        open(c.log_path, "ab").close()
        image = c.image or {}
        ref = c.ref.familiar()
        started = time.time()
        try:
            self.docker_sandbox_ready()
            ensure_image(ref, image)
        except DockerError as e:
            self.start_failed(c, str(e), started)
            return
        # Debian's alternatives belong to the bound /usr (libblas.so.3 -> /etc/alternatives/... for numpy), also in
        # images made otherwise (the seed's, by k3lab-images)
        binds = usr_binds(usr_view(image)) + ["/etc/alternatives:/etc/alternatives:ro"]
        frameworks = [fw for fw in (image.get("frameworks") or {}) if fw not in (image.get("hostFrameworks") or [])]
        if frameworks:
            py = os.path.join(SHARED, "images", "python")
            binds.append("%s:%s:ro" % (py, py))
        for m in mounts:
            src, target = m["source"], m["target"]
            if m.get("name") == "image" and target.startswith("/usr/"):
                continue  # in the image's /usr view
            binds.append("%s:%s:%s" % (src, target, "ro" if m.get("readOnly") else "rw"))
        labels = {"io.kubernetes.container.name": c.name, "io.kubernetes.pod.name": self.name,
                  "io.kubernetes.pod.namespace": self.ns, "io.kubernetes.pod.uid": self.uid,
                  "io.kubernetes.docker.type": "container", "io.kubernetes.sandbox.id": self.sandbox_id,
                  "io.kubernetes.container.logpath": c.log_path,
                  "annotation.io.kubernetes.container.restartCount": str(c.restarts),
                  "annotation.io.kubernetes.container.terminationMessagePath":
                      c.spec.get("terminationMessagePath", "/dev/termination-log")}
        join = "container:" + self.sandbox_id
        host = {"Binds": binds, "NetworkMode": join, "IpcMode": join,
                "PidMode": join if self.spec.get("shareProcessNamespace") else ""}
        config = {"Image": ref, "Env": ["%s=%s" % kv for kv in env.items()], "WorkingDir": cwd,
                  "Entrypoint": argv[:1] or None, "Cmd": argv[1:] if argv else None, "Labels": labels,
                  "HostConfig": host}
        name = names(self, c.name, c.restarts)
        try:
            call("DELETE", "/containers/" + quote(name), query={"force": 1}, timeout=30)
        except DockerError:
            pass
        try:
            cid = call("POST", "/containers/create", config, query={"name": name})["Id"]
        except DockerError as e:
            c.state, c.reason, c.message = "waiting", "CreateContainerError", str(e)
            self.event(c, "Warning", "Failed", "Error: " + str(e))
            c.next_try = time.time() + 10
            return
        c.cid = cid
        c.dead.append(cid)
        while len(c.dead) > 2:
            try:
                call("DELETE", "/containers/" + c.dead.pop(0), query={"force": 1}, timeout=30)
            except DockerError:
                pass
        self.event(c, "Normal", "Created", "Created container " + c.name)
        try:
            call("POST", "/containers/%s/start" % cid)
        except DockerError as e:
            # cri-dockerd: failed to start; the container's state then says ContainerCannotRun (Docker's exit code)
            message = 'failed to start container "%s": %s' % (cid, e)
            self.event(c, "Warning", "Failed", "Error: " + message)
            try:
                state = (call("GET", "/containers/%s/json" % cid, timeout=30) or {}).get("State") or {}
            except DockerError:
                state = {}
            c.state = "terminated"
            c.term = {"exitCode": int(state.get("ExitCode") or 128), "reason": "ContainerCannotRun",
                      "message": state.get("Error") or str(e), "startedAt": rfc3339(started),
                      "finishedAt": rfc3339(started), "containerID": c.container_id()}
            return
        try:
            info = call("GET", "/containers/%s/json" % cid, timeout=30) or {}
            pid = (info.get("State") or {}).get("Pid") or 0
            c.mntns = os.readlink("/proc/%d/ns/mnt" % pid) if pid else None
        except (DockerError, OSError):
            c.mntns = None
        logs = threading.Thread(target=follow_logs, args=(cid, c.log_path), name="ctr-log", daemon=True)
        logs.start()
        with self.cond:
            c.state, c.reason, c.message = "running", None, None
            c.started_at = started
        threading.Thread(target=c.wait_docker, args=(logs,), name="ctr", daemon=True).start()
        self.event(c, "Normal", "Started", "Started container " + c.name)

    def docker_stop_sandbox(self):
        """StopPodSandbox once the pod is done: the pause container ends (the containers stay, as exited)."""
        sid = getattr(self, "sandbox_id", None)
        if sid:
            try:
                call("POST", "/containers/%s/kill" % sid, query={"signal": "SIGTERM"}, timeout=10)
            except DockerError:
                pass

    def docker_remove(self):
        """The pod deleted: its containers and sandboxes go (RemoveContainer, RemovePodSandbox)."""
        try:
            found = call("GET", "/containers/json", timeout=30, query={
                "all": 1, "filters": json.dumps({"label": ["io.kubernetes.pod.uid=" + self.uid]})}) or []
        except DockerError:
            found = []
        for ctr in found:
            try:
                call("DELETE", "/containers/" + ctr["Id"], query={"force": 1}, timeout=30)
            except DockerError:
                pass


def remove_leftovers():
    """A starting agent: the pod containers of an earlier run go (the lab's agent does not keep pods across
    restarts; the restarted kubelet reports them lost)."""
    try:
        found = call("GET", "/containers/json", timeout=30, query={
            "all": 1, "filters": json.dumps({"label": ["io.kubernetes.docker.type"]})}) or []
    except DockerError as e:
        klog("E", "docker_service.go:283", "Failed to list containers", err=str(e))
        return
    for ctr in found:
        try:
            call("DELETE", "/containers/" + ctr["Id"], query={"force": 1}, timeout=30)
        except DockerError:
            pass
