"""The node's kube-proxy (K3s runs it in the agent): ClusterIP Services reachable from the node's processes (the
lab's pods share the node's network namespace).

Every 2 s it reads Services and Endpoints and writes an nftables table `k3gpu-lab-proxy` (kube-proxy's nftables mode,
v1.31, in spirit): for each port of a Service with a ClusterIP and ready addresses, locally generated packets to
<clusterIP>:<port>/<protocol> are DNATed (nat output hook) to an endpoint <ip>:<port>; several endpoints are chosen
by `numgen random`. The Service CIDR 10.43.0.0/16 is routed on the node's interface (lab nodes have no default
route), so the packets leave before the DNAT picks their real destination. Off where pods are not isolated, for an
agent under a scratch K3GPU_LAB_FSROOT (the agent's tests, on the host) and where nft is missing. Not simulated:
NodePorts, LoadBalancers, session affinity, traffic policies.
"""
import ipaddress
import json
import shutil
import subprocess
import threading
import time

from k3sagent.common import klog

TABLE = "k3gpu-lab-proxy"
SERVICE_CIDR = "10.43.0.0/16"
PERIOD = 2.0


def ruleset(services, endpoints):
    """The nft script for the Services (pure): a table flushed and written again."""
    eps = {(e.get("metadata", {}).get("namespace"), e.get("metadata", {}).get("name")): e for e in endpoints}
    rules = []
    for svc in sorted(services, key=lambda s: (s["metadata"].get("namespace", ""), s["metadata"]["name"])):
        spec = svc.get("spec", {})
        ip = spec.get("clusterIP") or ""
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            continue  # headless ("None"), ExternalName
        ep = eps.get((svc["metadata"].get("namespace"), svc["metadata"]["name"])) or {}
        for port in spec.get("ports") or []:
            proto = (port.get("protocol") or "TCP").lower()
            if proto not in ("tcp", "udp"):
                continue
            targets = []
            for subset in ep.get("subsets") or []:
                ports = subset.get("ports") or []
                match = [p for p in ports if (p.get("name") or "") == (port.get("name") or "")
                         and (p.get("protocol") or "TCP").lower() == proto]
                if not match:
                    continue
                for a in subset.get("addresses") or []:
                    targets.append("%s:%d" % (a["ip"], match[0]["port"]))
            targets = sorted(set(targets))
            if not targets:
                continue
            if len(targets) == 1:
                to = targets[0]
            else:
                to = "numgen random mod %d map { %s }" % (len(targets), ", ".join(
                    "%d : %s . %s" % (i, t.split(":")[0], t.split(":")[1]) for i, t in enumerate(targets)))
            rules.append("    ip daddr %s %s dport %d dnat to %s" % (ip, proto, int(port["port"]), to))
    return ("table ip %s {\n  chain output {\n    type nat hook output priority -100; policy accept;\n%s\n  }\n}\n"
            % (TABLE, "\n".join(rules)))


class Proxy(threading.Thread):
    def __init__(self, conn, node_ip):
        threading.Thread.__init__(self, name="kube-proxy", daemon=True)
        self.conn = conn
        self.node_ip = node_ip
        self.applied = None

    def list(self, path):
        st, _, body = self.conn.request("GET", path)
        if st != 200:
            raise ValueError("GET %s: %d" % (path, st))
        return json.loads(body).get("items") or []

    def route(self):
        dev = None
        out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) > 3 and parts[3].split("/")[0] == self.node_ip:
                dev = parts[1]
        if dev:
            subprocess.run(["ip", "route", "replace", SERVICE_CIDR, "dev", dev, "src", self.node_ip],
                           capture_output=True)

    def run(self):
        if shutil.which("nft") is None:
            klog("E", "server.go:495", "Failed to create proxier: nft not found; ClusterIPs are not reachable from this node")
            return
        self.route()
        klog("I", "proxier.go:1049", "Using nftables Proxier", ipFamily="IPv4")
        while True:
            try:
                text = ruleset(self.list("/api/v1/services"), self.list("/api/v1/endpoints"))
                if text != self.applied:
                    script = ("table ip %s\ndelete table ip %s\n" % (TABLE, TABLE)) + text
                    r = subprocess.run(["nft", "-f", "-"], input=script, capture_output=True, text=True)
                    if r.returncode == 0:
                        self.applied = text
                    else:
                        klog("E", "proxier.go:1504", "Failed to execute nft", err=r.stderr.strip())
            except Exception as e:  # the API or nft: the next round tries again
                klog("E", "proxier.go:1000", "Failed to sync proxy rules", err=str(e))
            time.sleep(PERIOD)
