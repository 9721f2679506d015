"""kubelet's device-plugin manager (DeviceManager): kubelet.sock, registrations, extended resources."""
import json
import os
import socket
import threading
import time

from k3sagent.common import P, klog, remove_tree, sha256, write_file

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
