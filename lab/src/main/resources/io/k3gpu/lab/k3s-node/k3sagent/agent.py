"""The agent itself: the join, the Node's registration and heartbeat, the Lease, the pod watch, main()."""
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
from binascii import b2a_base64

from k3sagent.common import (COMMIT, CONTAINERD_VERSION, FSROOT, HEARTBEAT, KUBELET_PORT, OUT, P, REDACTED, VERSION,
    fatal, klog, log, read_text, sha256, utc_now, version_tuple, write_file)
from k3sagent.options import AGENT_HELP, UsageError, embedded, parse_options, parse_token
from k3sagent.api import Conn, GoError, insecure_context
from k3sagent.node import Facts, conditions, taint
from k3sagent.images import read_images
from k3sagent.pods import Pods
from k3sagent.kubelet import Kubelet, ensure_serving_cert
from k3sagent.deviceplugins import DeviceManager
from k3sagent.proxy import Proxy
from k3sagent.runtime import ISOLATION
from k3sagent import ctrdrt

AGENTS = []


class Agent:
    def __init__(self, opts, embedded_in=None):
        self.o = opts
        # the server's embedded agent: the Node gets the server's roles and command line (see options.embedded)
        self.embedded = embedded_in
        self.stop = threading.Event()
        self.pods = Pods()
        self.devices = DeviceManager()
        self.ctrd = None
        self.reported_devices = {}
        self.last_unschedulable = False
        self.started_event = False
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
        text = ctrdrt.config_toml(agent_dir, self.data_dir, self.facts.runtimes, self.default_runtime)
        if template is not None:
            # K3s renders it as a Go template over its ContainerdConfig ({{ template "base" . }}: its own)
            try:
                text = ctrdrt.render_template(template, ctrdrt.template_data(
                    agent_dir, self.data_dir, self.facts.runtimes, self.default_runtime, self.node_name), text)
            except ctrdrt.TemplateError as e:
                log("fatal", "failed to generate containerd config: template: compiled_template: %s" % e)
                sys.exit(1)
        write_file(config, text)
        log("info", "Logging containerd to %s/containerd/containerd.log" % agent_dir)
        log("info", "Running containerd -c %s -a /run/k3s/containerd/containerd.sock --state "
                    "/run/k3s/containerd --root %s/containerd" % (config, agent_dir))
        ctrd = ctrdrt.Containerd(self.data_dir, agent_dir)
        if ISOLATION != "none" and ctrd.available():
            if not ctrd.start(text):
                log("fatal", "failed to start containerd: see %s/containerd/containerd.log" % agent_dir)
                sys.exit(1)
            self.ctrd = ctrd
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
        if self.embedded:
            # the server's roles (K3s's pkg/server setNodeLabelsAndAnnotations), before --node-label, which wins
            labels["node-role.kubernetes.io/control-plane"] = "true"
            labels["node-role.kubernetes.io/master"] = "true"
            if self.embedded["etcd"]:
                labels["node-role.kubernetes.io/etcd"] = "true"
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
        node_args = self.embedded["nodeArgs"] if self.embedded else self.o.node_args
        ann["k3s.io/node-args"] = json.dumps(node_args, separators=(",", ":"))
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
        """The first 10.42.<n>.0/24 no node holds (K3s's controller-manager hands these out); the first server's
        embedded agent gets 10.42.0.0/24 (kept if its Node has one already)."""
        st, _, body = self.api.request("GET", "/api/v1/nodes")
        used = set()
        if st == 200:
            for n in json.loads(body).get("items", []):
                if n.get("metadata", {}).get("name") == self.node_name:
                    return n.get("spec", {}).get("podCIDR")
                cidr = n.get("spec", {}).get("podCIDR") or ""
                if cidr.startswith("10.42."):
                    used.add(cidr)
        if self.embedded and self.embedded["podCIDR"]:
            return self.embedded["podCIDR"]
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
        if not self.started_event:
            # kubelet.go: "Starting kubelet." once per start; the Node's kubeletVersion says which release
            self.started_event = True
            self.node_event("Starting", "Starting kubelet.")
        log("info", "Annotations and labels have been set successfully on node: " + self.node_name)
        if self.embedded:
            log("info", "Control-plane role label has been set successfully on node: " + self.node_name)
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
        st, reason, body = self.api.request("PATCH", "/api/v1/nodes/%s/status" % self.node_name, {"status": status},
                                            "application/merge-patch+json")
        if st == 200:
            self.reported_devices = devices
            try:
                self.record_schedulable(json.loads(body))
            except ValueError:
                pass
        if st == 404:
            self.register()
            return
        if st != 200:
            raise GoError("%d %s" % (st, reason))
        self.renew_lease()

    def record_schedulable(self, node):
        """kubelet_node_status.go recordNodeSchedulableEvent: on each status update, an Event when the Node's
        spec.unschedulable differs from the last one seen (false at start): NodeNotSchedulable / NodeSchedulable."""
        unschedulable = bool(node.get("spec", {}).get("unschedulable", False))
        if unschedulable != self.last_unschedulable:
            self.node_event("NodeNotSchedulable" if unschedulable else "NodeSchedulable")
            self.last_unschedulable = unschedulable

    def node_event(self, reason, message=None):
        """An Event on the Node from the kubelet, as recordNodeStatusEvent ("Node NAME status is now: REASON") or
        the "Starting kubelet." one; the kubelet's node reference has the node's name as its UID."""
        now = utc_now()
        name = "%s.%x" % (self.node_name, time.time_ns())
        self.api.request("POST", "/api/v1/namespaces/default/events", {
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "default"},
            "involvedObject": {"kind": "Node", "name": self.node_name, "uid": self.node_name},
            "reason": reason, "message": message or "Node %s status is now: %s" % (self.node_name, reason),
            "type": "Normal", "source": {"component": "kubelet", "host": self.node_name}, "firstTimestamp": now,
            "lastTimestamp": now, "count": 1, "eventTime": None, "reportingComponent": "kubelet",
            "reportingInstance": self.node_name})

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
        if self.embedded:
            threading.Thread(target=self.watch_server, name="server-watch", daemon=True).start()
        else:
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
        # not for an agent under a scratch FSROOT (the agent's tests, on the host): the host's nftables and routes
        # are not a node's
        if ISOLATION != "none" and ip and not FSROOT:
            Proxy(Conn(self.host, self.port, self.api.ctx, self.auth), ip).start()
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

    def watch_server(self):
        """The embedded agent lives and dies with its server: when the server's process is gone (even SIGKILLed,
        which lets it stop nothing) the agent stops as on SIGTERM, killing its containers."""
        parent = os.getppid()
        while os.getppid() == parent:
            time.sleep(1)
        log("info", "k3s server exited, stopping the embedded agent")
        for a in AGENTS:
            a.pods.shutdown()
        os._exit(0)

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
        embedded_in = embedded(os.environ)
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
    return Agent(opts, embedded_in).run()


def on_term(signum, frame):
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, signal.SIG_IGN)  # a signal to the whole process group comes twice
    log("info", "Received SIGTERM, shutting down")
    for a in AGENTS:
        a.pods.shutdown()
    sys.exit(0)
