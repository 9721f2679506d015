package io.k3gpu.lab.k3sdist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lab's cluster DNS pieces on a node, as pure functions: the coredns image's answers (CoreDNS's kubernetes plugin
 * for Services, headless Services' endpoints, endpoint hostnames, pod names; NXDOMAIN otherwise; the wire format) and
 * the agent's kube-proxy rules that make the ClusterIPs (10.43.0.10 among them) reachable.
 */
class ClusterDnsTest {
    @TempDir
    static Path dir;
    static Path shared;

    @BeforeAll
    static void write() throws Exception {
        assumeThat(Path.of("/usr/bin/python3")).isExecutable();
        shared = dir.resolve("shared");
        MirrorContent.writeNodeFiles(shared);
    }

    static String python(String code) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/python3", "-S", "-c", """
                import importlib.machinery, importlib.util, json, struct, sys
                sys.path.insert(0, sys.argv[1])
                loader = importlib.machinery.SourceFileLoader("coredns", sys.argv[1] + "/images/bin/coredns")
                spec = importlib.util.spec_from_loader("coredns", loader)
                dns = importlib.util.module_from_spec(spec)
                loader.exec_module(dns)
                from k3sagent import proxy
                st = dns.State()
                st.namespaces = {"default", "kube-system"}
                st.services = {("kube-system", "kube-dns"): {"spec": {"clusterIP": "10.43.0.10"}},
                               ("default", "workers"): {"spec": {"clusterIP": "None"}},
                               ("default", "empty"): {"spec": {"clusterIP": "None"}}}
                st.endpoints = {("default", "workers"): {"subsets": [{
                    "addresses": [{"ip": "10.213.1.13", "hostname": "t-1"}, {"ip": "10.213.1.12", "hostname": "t-0"}],
                    "notReadyAddresses": [{"ip": "10.213.1.14", "hostname": "t-2"}]}]}}
                """ + code, shared.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void namesAreAnsweredAsCorednsKubernetesPluginAnswersThem() throws Exception {
        String out = python("""
                for n in ["kube-dns.kube-system.svc.cluster.local", "workers.default.svc.cluster.local",
                          "t-0.workers.default.svc.cluster.local", "t-2.workers.default.svc.cluster.local",
                          "empty.default.svc.cluster.local", "nope.default.svc.cluster.local.",
                          "default.svc.cluster.local", "nope.svc.cluster.local", "cluster.local",
                          "10-1-2-3.default.pod.cluster.local", "github.com"]:
                    print(n, dns.answer_for(n, "cluster.local", st))
                """);
        assertThat(out).isEqualTo("""
                kube-dns.kube-system.svc.cluster.local (0, ['10.43.0.10'])
                workers.default.svc.cluster.local (0, ['10.213.1.12', '10.213.1.13'])
                t-0.workers.default.svc.cluster.local (0, ['10.213.1.12'])
                t-2.workers.default.svc.cluster.local (3, [])
                empty.default.svc.cluster.local (3, [])
                nope.default.svc.cluster.local. (3, [])
                default.svc.cluster.local (0, [])
                nope.svc.cluster.local (3, [])
                cluster.local (0, [])
                10-1-2-3.default.pod.cluster.local (0, ['10.1.2.3'])
                github.com None
                """);
    }

    @Test
    void repliesAreDnsMessagesWithTheAnswerOrNxdomainAndTheZonesSoa() throws Exception {
        String out = python("""
                def q(name, qtype=1):
                    return struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + dns.encode_name(name) + struct.pack(">HH", qtype, 1)
                print(dns.response(q("t-1.workers.default.svc.cluster.local"), "cluster.local", st, lambda n: []).hex())
                r = dns.response(q("x.default.svc.cluster.local"), "cluster.local", st, lambda n: [])
                print(struct.unpack(">HHHHHH", r[:12]))
                r = dns.response(q("mirror.lab", 1), "cluster.local", st, lambda n: ["10.213.1.1"])
                print(struct.unpack(">HHHHHH", r[:12]), r[-4:].hex())
                r = dns.response(q("kube-dns.kube-system.svc.cluster.local", 28), "cluster.local", st, lambda n: [])
                print(struct.unpack(">HHHHHH", r[:12]))
                """);
        assertThat(out.lines().toList()).containsExactly(
                "12348580000100010000000003742d3107776f726b6572730764656661756c740373766307636c7573746572056c6f63616c"
                        + "0000010001c00c000100010000000500040ad5010d",
                "(4660, 34179, 1, 0, 1, 0)", // QR AA RD RA, NXDOMAIN, the SOA in authority
                "(4660, 33152, 1, 1, 0, 0) 0ad50101", // from the node's resolver: not authoritative
                "(4660, 34176, 1, 0, 1, 0)"); // AAAA of an IPv4 Service: NODATA
    }

    @Test
    void kubeProxyRulesDnatClusterIpsToReadyEndpointsAndSkipHeadlessServices() throws Exception {
        String out = python("""
                svcs = [{"metadata": {"name": "kube-dns", "namespace": "kube-system"}, "spec": {"clusterIP": "10.43.0.10",
                         "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}},
                        {"metadata": {"name": "workers", "namespace": "default"}, "spec": {"clusterIP": "None",
                         "ports": [{"port": 29500}]}},
                        {"metadata": {"name": "kubernetes", "namespace": "default"}, "spec": {"clusterIP": "10.43.0.1",
                         "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}}]
                eps = [{"metadata": {"name": "kube-dns", "namespace": "kube-system"}, "subsets": [{
                         "addresses": [{"ip": "10.213.1.12"}], "notReadyAddresses": [{"ip": "10.213.1.14"}],
                         "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}]},
                       {"metadata": {"name": "kubernetes", "namespace": "default"}, "subsets": [
                         {"addresses": [{"ip": "10.213.1.11"}, {"ip": "10.213.1.21"}], "ports": [{"name": "https", "port": 6443}]}]}]
                sys.stdout.write(proxy.ruleset(svcs, eps))
                """);
        assertThat(out).isEqualTo("""
                table ip k3gpu-lab-proxy {
                  chain output {
                    type nat hook output priority -100; policy accept;
                    ip daddr 10.43.0.1 tcp dport 443 dnat to numgen random mod 2 map { 0 : 10.213.1.11 . 6443, \
                1 : 10.213.1.21 . 6443 }
                    ip daddr 10.43.0.10 udp dport 53 dnat to 10.213.1.12:53
                    ip daddr 10.43.0.10 tcp dport 53 dnat to 10.213.1.12:53
                  }
                }
                """);
    }
}
