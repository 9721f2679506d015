"""kubelet's pod manager: one PodWorker per pod bound to this node (its loop: sandbox, init containers, containers,
restarts with back-off, deletion), the node's image store and events. PodWorker's sandbox, container starts and
status are in sandbox.py, containerstart.py and podstatus.py; the container logs in podlogs.py."""
import json
import os
import signal
import threading
import time

from k3sagent.common import P, SHARED, go_duration, klog, read_text, remove_tree, utc_now, write_file
from k3sagent.api import GoError
from k3sagent.node import cuda_version, gpu_names
from k3sagent.images import Catalog, ImageRef
from k3sagent.volumes import Volumes
from k3sagent.runtime import Container, ProcessRuntime, kill_namespace
from k3sagent.ctrdrt import ContainerdRuntime
from k3sagent import ctrdrt
from k3sagent import dockerrt
from k3sagent.dockerrt import DockerContainer, DockerRuntime
from k3sagent.sandbox import PodSandbox
from k3sagent.containerstart import ContainerStart
from k3sagent.podstatus import PodStatus
from k3sagent.podlogs import PodLogs


def version(obj):
    rv = obj.get("metadata", {}).get("resourceVersion") or "0"
    return int(rv) if rv.isdigit() else 0


class PodWorker(PodSandbox, ContainerStart, PodStatus, Volumes, ProcessRuntime, ContainerdRuntime, DockerRuntime,
                threading.Thread):
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
        ctr = DockerContainer if pods.docker else Container  # --docker: real Docker containers (dockerrt)
        self.inits = [ctr(self, c, True) for c in self.spec.get("initContainers") or []]
        self.mains = [ctr(self, c, False) for c in self.spec.get("containers") or []]
        self.sandbox = False
        self.sandbox_error = None
        self.nvidia = False
        self.handler = None       # the RuntimeClass's handler
        self.cuda = None
        self.volumes = {}
        self.pod_files = []       # /etc/hosts, /etc/resolv.conf, the service account token: (target, source)
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
        # the sandbox (its volumes, pod files and runtime) is not adopted: it lived in the previous agent, whose
        # containers died with it, so the first sync creates it again (else a restarted container finds none of
        # its volumes: CreateContainerConfigError 'cannot find volume')
        if status.get("startTime"):
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
        elif c.state == "terminated" and c.term and c.term.get("reason") == "StartError":
            self.wake_at(now)  # nothing else wakes the worker: the restart (with its back-off) is decided next round

    def finish(self):
        self.phase = self.compute_phase()
        if self.phase not in ("Succeeded", "Failed"):
            self.phase = "Failed"
        self.done = True
        self.sandbox = False
        if self.pods.docker:
            self.docker_stop_sandbox()

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
        if self.pods.docker:
            self.docker_remove()
        remove_tree(self.pod_dir)
        remove_tree(self.log_dir)


class Pods(PodLogs):
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
        self.ctrd = None          # the node's containerd (ctrdrt.Containerd) when pods are its tasks
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
        self.ctrd = agent.ctrd
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
        if self.docker:
            dockerrt.remove_leftovers()

    def kill_leftovers(self):
        """Containers of an earlier run of the agent (killed with it, or the agent was killed): ended now."""
        if self.ctrd:
            self.ctrd.cleanup()
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

    def running_containers(self):
        """(namespace, pod, container, mount namespace) of each running container: what /metrics/resource sums."""
        with self.lock:
            workers = list(self.workers.values())
        return [(w.ns, w.name, c.name, c.mntns) for w in workers for c in w.containers()
                if c.state == "running" and c.mntns]

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
        if c.cid and c.ctrd and self.ctrd:
            ctrdrt.release(self.ctrd, c)
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

    # ---- a pod's worker, a running container (exec, attach)

    def worker(self, namespace, name):
        with self.lock:
            return self.workers.get((namespace, name))

    def running_container(self, namespace, name, container):
        """The container of a pod of this node whose process runs now (exec and attach need one), else None."""
        w = self.worker(namespace, name)
        c = next((x for x in w.containers() if x.name == container), None) if w else None
        with (w.cond if w else self.lock):
            # a process of the agent, a containerd task or a Docker container, as the runtime runs it
            live = c is not None and (c.pid is not None or c.task_pid is not None
                                      or (getattr(c, "docker_exec", False) and c.cid is not None))
            return c if live and c.state == "running" else None
