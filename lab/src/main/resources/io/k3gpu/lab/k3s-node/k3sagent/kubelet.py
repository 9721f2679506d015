"""kubelet's HTTPS endpoint on :10250: /healthz, /pods, /containerLogs (the server proxies `kubectl logs`), and
/exec, /attach, /portForward (kubectl exec / attach / port-forward through the server: see streams.py)."""
import json
import os
import socket
import ssl
import threading
import time

from k3sagent.common import KUBELET_PORT, klog, log, read_bytes, run
from k3sagent.pods import Pods
from k3sagent.podlogs import tail
from k3sagent import streams

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
            if method == "POST" and parts and parts[0] in ("exec", "attach", "portForward"):
                s.settimeout(None)
                streams.serve(self.pods, s, parts[0], parts, query)
                return
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
        if parts == ["metrics", "resource"]:
            return 200, "text/plain; version=0.0.4", resource_metrics(self.pods.running_containers())
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


def resource_metrics(containers):
    """kubelet's /metrics/resource (what metrics-server scrapes for `kubectl top`), from the node's real processes:
    every process of the node's PID namespace for the node, the processes of each container's mount namespace for the
    container. CPU is cumulative user+system time (children reaped included), memory the resident set (the lab's
    working set)."""
    tick = os.sysconf("SC_CLK_TCK")
    page = os.sysconf("SC_PAGE_SIZE")
    by_ns = {}
    node_cpu = node_mem = 0.0
    for n in os.listdir("/proc"):
        if not n.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % n) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu = sum(int(x) for x in fields[11:15]) / tick
            mem = int(fields[21]) * page
            ns = os.readlink("/proc/%s/ns/mnt" % n)
        except (OSError, ValueError, IndexError):
            continue
        node_cpu += cpu
        node_mem += mem
        acc = by_ns.setdefault(ns, [0.0, 0])
        acc[0] += cpu
        acc[1] += mem
    now = int(time.time() * 1000)
    out = ["# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds",
           "# TYPE node_cpu_usage_seconds_total counter",
           "node_cpu_usage_seconds_total %.6f %d" % (node_cpu, now),
           "# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes",
           "# TYPE node_memory_working_set_bytes gauge",
           "node_memory_working_set_bytes %d %d" % (node_mem, now)]
    cpu_lines = []
    mem_lines = []
    for ns_name, pod, ctr, mntns in containers:
        cpu, mem = by_ns.get(mntns, (0.0, 0))
        labels = 'container="%s",namespace="%s",pod="%s"' % (ctr, ns_name, pod)
        cpu_lines.append("container_cpu_usage_seconds_total{%s} %.6f %d" % (labels, cpu, now))
        mem_lines.append("container_memory_working_set_bytes{%s} %d %d" % (labels, mem, now))
    out += ["# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in "
            "core-seconds", "# TYPE container_cpu_usage_seconds_total counter"] + cpu_lines
    out += ["# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes",
            "# TYPE container_memory_working_set_bytes gauge"] + mem_lines
    return "\n".join(out) + "\n"
