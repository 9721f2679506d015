"""kubelet's pod manager: one PodWorker per pod bound to this node (volumes, init containers, containers,
restarts with back-off, status, events, deletion), the node's image store and its container logs."""
import json
import os
import signal
import threading
import time

from k3sagent.common import (ConfigError, P, SHARED, go_duration, klog, read_bytes, read_text, remove_tree, rfc3339,
    run, utc_now, write_file)
from k3sagent.api import GoError
from k3sagent.node import cuda_version, gpu_names
from k3sagent.images import Catalog, ImageRef, pull_error
from k3sagent.volumes import Volumes, b64decode
from k3sagent.runtime import Container, ProcessRuntime, kill_namespace
from k3sagent.ctrdrt import ContainerdRuntime
from k3sagent import ctrdrt
from k3sagent import dockerrt
from k3sagent.dockerrt import DockerContainer, DockerRuntime

PULL_SECONDS = float(os.environ.get("K3GPU_LAB_PULL_SECONDS") or 0.3)
CLUSTER_DNS = "10.43.0.10"      # K3s's default --cluster-dns
CLUSTER_DOMAIN = "cluster.local"  # K3s's default --cluster-domain
SERVICE_ENV = (("KUBERNETES_SERVICE_HOST", "10.43.0.1"), ("KUBERNETES_SERVICE_PORT", "443"),
               ("KUBERNETES_SERVICE_PORT_HTTPS", "443"), ("KUBERNETES_PORT", "tcp://10.43.0.1:443"),
               ("KUBERNETES_PORT_443_TCP", "tcp://10.43.0.1:443"), ("KUBERNETES_PORT_443_TCP_PROTO", "tcp"),
               ("KUBERNETES_PORT_443_TCP_PORT", "443"), ("KUBERNETES_PORT_443_TCP_ADDR", "10.43.0.1"))


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


def version(obj):
    rv = obj.get("metadata", {}).get("resourceVersion") or "0"
    return int(rv) if rv.isdigit() else 0


class PodWorker(Volumes, ProcessRuntime, ContainerdRuntime, DockerRuntime, threading.Thread):
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
            known = list(p.ctrd.handlers) if p.ctrd else ["runc"] + [n for n, _ in p.agent.facts.runtimes]
            if not p.docker and handler not in [""] + known:
                return self.sandbox_failed('failed to get sandbox runtime: no runtime for "%s" is configured'
                                           % handler)
        self.handler = handler
        if p.docker:
            self.nvidia = (run("docker", "info", "--format", "{{.DefaultRuntime}}")[0] or "").startswith("nvidia")
        else:
            default = p.ctrd.default if p.ctrd else p.agent.default_runtime  # ctrd: the config's default_runtime_name
            self.nvidia = (handler or default or "").startswith("nvidia")
        try:
            self.volumes = self.mount_volumes()
        except ConfigError as e:
            self.event(None, "Warning", "FailedMount", str(e))
            return False
        os.makedirs(self.log_dir, exist_ok=True)
        self.pod_files = self.write_pod_files()
        if p.docker:
            try:
                self.docker_sandbox()
            except dockerrt.DockerError as e:
                return self.sandbox_failed(str(e))
        self.sandbox = True
        self.sandbox_error = None
        if self.start_time is None:
            self.start_time = utc_now()
        return True

    def write_pod_files(self):
        """What the kubelet writes for every pod besides its volumes: the managed /etc/hosts
        (kubelet_pods.go managedHostsFileContent: the pod's own line <podIP> <hostname>.<subdomain>.<ns>.svc.cluster.local
        <hostname>; the lab keeps the node's own lines, the lab mirror's names, there too), /etc/resolv.conf by
        dnsPolicy (pkg/kubelet/network/dns: ClusterFirst: search <ns>.svc.cluster.local svc.cluster.local cluster.local,
        nameserver 10.43.0.10 (K3s's --cluster-dns), options ndots:5; Default: the node's; None: dnsConfig only) and the
        service account's token, ca.crt and namespace (the kube-api-access projected volume)."""
        out = []
        d = self.pod_dir
        os.makedirs(d, exist_ok=True)
        spec = self.spec
        ip = self.pods.ip or "127.0.0.1"
        hostname = (spec.get("hostname") or self.name)[:63]
        own = "%s\t%s.%s.%s.svc.%s\t%s" % (ip, hostname, spec["subdomain"], self.ns, CLUSTER_DOMAIN, hostname) \
            if spec.get("subdomain") else "%s\t%s" % (ip, hostname)
        node_lines = [line for line in (read_text(P("/etc/hosts")) or "").splitlines()
                      if line.strip() and not line.lstrip().startswith("#")
                      and line.split()[0] not in ("127.0.0.1", "::1", "fe00::0", "fe00::1", "fe00::2")]
        hosts = ["# Kubernetes-managed hosts file.", "127.0.0.1\tlocalhost",
                 "::1\tlocalhost ip6-localhost ip6-loopback", "fe00::0\tip6-localnet", "fe00::0\tip6-mcastprefix",
                 "fe00::1\tip6-allnodes", "fe00::2\tip6-allrouters"] + node_lines + [own]
        aliases = spec.get("hostAliases") or []
        if aliases:
            hosts.append("")
            hosts.append("# Entries added by HostAliases.")
            for a in aliases:
                hosts.append("%s\t%s" % (a.get("ip", ""), "\t".join(a.get("hostnames") or [])))
        if not spec.get("hostNetwork"):
            write_file(os.path.join(d, "etc-hosts"), "\n".join(hosts) + "\n", 0o644)
            out.append(("/etc/hosts", os.path.join(d, "etc-hosts")))
        resolv = self.resolv_conf()
        if resolv is not None:
            write_file(os.path.join(d, "resolv.conf"), resolv, 0o644)
            out.append(("/etc/resolv.conf", os.path.join(d, "resolv.conf")))
        if spec.get("automountServiceAccountToken", True):
            sa = spec.get("serviceAccountName") or "default"
            st, _, body = self.pods.request("POST", "/api/v1/namespaces/%s/serviceaccounts/%s/token" % (self.ns, sa),
                                            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                             "spec": {"expirationSeconds": 3607}})
            if st == 201:
                tdir = os.path.join(d, "volumes", "kubernetes.io~projected", "kube-api-access")
                os.makedirs(tdir, exist_ok=True)
                write_file(os.path.join(tdir, "token"), json.loads(body)["status"]["token"], 0o644)
                write_file(os.path.join(tdir, "namespace"), self.ns, 0o644)
                ca = read_text(os.path.join(self.pods.agent.data_dir, "agent", "server-ca.crt")) or ""
                write_file(os.path.join(tdir, "ca.crt"), ca, 0o644)
                out.append(("/var/run/secrets/kubernetes.io/serviceaccount", tdir))
        return out

    def resolv_conf(self):
        spec = self.spec
        policy = spec.get("dnsPolicy") or "ClusterFirst"
        if policy == "ClusterFirst" and spec.get("hostNetwork"):
            policy = "Default"
        cfg = spec.get("dnsConfig") or {}
        if policy in ("ClusterFirst", "ClusterFirstWithHostNet"):
            servers = [CLUSTER_DNS]
            searches = ["%s.svc.%s" % (self.ns, CLUSTER_DOMAIN), "svc." + CLUSTER_DOMAIN, CLUSTER_DOMAIN]
            options = ["ndots:5"]
        elif policy == "None":
            servers, searches, options = [], [], []
        else:
            if not cfg:
                return None  # Default: the node's own file, as the image sees it
            servers, searches, options = [], [], []
            for line in (read_text(P("/etc/resolv.conf")) or "").splitlines():
                f = line.split()
                if f and f[0] == "nameserver":
                    servers += f[1:2]
                elif f and f[0] in ("search", "domain"):
                    searches += f[1:]
                elif f and f[0] == "options":
                    options += f[1:]
        servers += [n for n in cfg.get("nameservers") or [] if n not in servers]
        searches += [n for n in cfg.get("searches") or [] if n not in searches]
        for o in cfg.get("options") or []:
            opt = o.get("name", "") + ("" if o.get("value") is None else ":" + str(o["value"]))
            options = [x for x in options if x.split(":")[0] != o.get("name")] + [opt]
        lines = []
        if searches:
            lines.append("search " + " ".join(searches))
        lines += ["nameserver " + n for n in servers]
        if options:
            lines.append("options " + " ".join(options))
        return "\n".join(lines) + "\n"

    def sandbox_failed(self, desc):
        message = "Failed to create pod sandbox: rpc error: code = Unknown desc = " + desc
        if message != self.sandbox_error:
            self.event(None, "Warning", "FailedCreatePodSandBox", message)
        self.sandbox_error = message
        if self.start_time is None:
            self.start_time = utc_now()
        return False

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
        (self.docker_launch if p.docker else self.launch)(c, argv, env, cwd, mounts)

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
        real = img.get("hostFrameworks") or []
        if [fw for fw in frameworks if fw not in real]:
            # the SIMULATED packages; a framework in hostFrameworks is the node's real one (Debian's torch)
            shims = [os.path.join(SHARED, "images", "python", fw) for fw in sorted(frameworks) if fw not in real]
            env["PYTHONPATH"] = ":".join(shims + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        if frameworks or img.get("files"):
            env["K3GPU_LAB_IMAGE"] = json.dumps({
                "image": c.ref.canonical(), "frameworks": frameworks, "hostFrameworks": real, "nvidia": self.nvidia,
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
        for target, src in self.pod_files:
            if not any((m.get("mountPath") or "").rstrip("/") == target for m in s.get("volumeMounts") or []):
                mounts.append({"name": "kubelet", "source": src, "target": target,
                               "readOnly": target.startswith("/var/run/secrets")})
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
        if self.pods.docker:
            self.docker_remove()
        remove_tree(self.pod_dir)
        remove_tree(self.log_dir)


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


def tail(data, lines):
    if lines is None or lines < 0:
        return data
    if lines == 0:
        return b""
    parts = data.splitlines(True)
    return b"".join(parts[-lines:])
