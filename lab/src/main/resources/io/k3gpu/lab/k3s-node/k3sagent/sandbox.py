"""The pod's sandbox, as the kubelet's SyncPod makes it before any container: the RuntimeClass's handler, the
volumes, the files the kubelet writes for every pod (/etc/hosts, /etc/resolv.conf, the service account token)."""
import json
import os

from k3sagent.common import ConfigError, P, read_text, run, utc_now, write_file
from k3sagent import dockerrt

CLUSTER_DNS = "10.43.0.10"      # K3s's default --cluster-dns
CLUSTER_DOMAIN = "cluster.local"  # K3s's default --cluster-domain


class PodSandbox:
    """PodWorker's sandbox: made before the first container, again after the agent restarted."""

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
