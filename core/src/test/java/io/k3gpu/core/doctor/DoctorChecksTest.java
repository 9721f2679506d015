package io.k3gpu.core.doctor;

import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.facts.FactsParser;
import io.k3gpu.core.facts.FactsParserTest;
import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.kube.NodeStatus;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The checks on real facts captures (core's facts fixtures) and a lab Orin Nano's probe output. */
class DoctorChecksTest {
    private static final String SERVER = "10.213.206.11";
    private static final NodeStatus SERVER_NODE = node("node1", SERVER);
    private static final DoctorChecks.Cluster CLUSTER = new DoctorChecks.Cluster(SERVER, List.of(SERVER_NODE), null);

    static String probe() {
        try (InputStream in = DoctorChecksTest.class.getResourceAsStream("/doctor/clean-orin.out")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The clean probe output with one section's content replaced. */
    static DoctorProbe.Result probeWith(String section, String content) {
        String text = probe();
        int start = text.indexOf("@@k3gpu:" + section + "\n");
        int end = text.indexOf("\n@@k3gpu:", start + 1);
        return DoctorProbe.parse("orin", text.substring(0, start) + "@@k3gpu:" + section + "\n" + content + "\n"
                + text.substring(end));
    }

    static NodeFacts orin() {
        return FactsParser.parse(facts("orin-nano-jp62.out", "1.16.2-1"));
    }

    /** A facts capture plus the toolkit's dpkg line (the captures predate that section). */
    static String facts(String fixture, String toolkit) {
        return FactsParserTest.fixture(fixture).replace("@@k3gpu:end", "@@k3gpu:nvidia-container-toolkit-dpkg\n"
                + "install ok installed " + toolkit + "\n\n@@k3gpu:end");
    }

    static NodeStatus node(String name, String ip) {
        return new NodeStatus(name, true, List.of("control-plane"), Instant.EPOCH, "v1.31.4+k3s1", ip, null,
                "Ubuntu", "6.1", "containerd://1.7", "arm64", null, Map.of());
    }

    private static Check check(List<Check> checks, String id) {
        return checks.stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
    }

    private static Check one(NodeFacts f, DoctorProbe.Result p, DoctorChecks.Cluster c, String id) {
        return check(DoctorChecks.run(f, p, c), id);
    }

    @Test
    void aCleanOrinNanoPassesEveryCheck() {
        List<Check> checks = DoctorChecks.run(orin(), DoctorProbe.parse("orin", probe()), CLUSTER);
        assertThat(checks).extracting(c -> c.id() + " " + c.status()).containsExactly(
                "l4t PASS", "container-toolkit PASS", "csv PASS", "container-runtime PASS", "nvidia-runtimes PASS",
                "kernel-config WARN", "cgroups PASS", "swap PASS", "disk PASS", "hostname PASS", "server-api PASS",
                "clock PASS", "vxlan PASS");
        assertThat(check(checks, "l4t").detail()).isEqualTo("L4T 36.4.3 = JetPack 6.2 (Ubuntu 22.04; the image has no "
                + "Docker: K3s's own containerd with --gpu)");
        assertThat(check(checks, "kernel-config").detail()).isEqualTo("every option K3s needs is set (/proc/config.gz); "
                + "optional ones missing: CONFIG_NETFILTER_XT_MATCH_IPVS, CONFIG_NET_CLS_CGROUP, CONFIG_IP_VS, "
                + "CONFIG_IP_VS_NFCT, CONFIG_IP_VS_PROTO_TCP, CONFIG_IP_VS_PROTO_UDP, CONFIG_IP_VS_RR");
        assertThat(check(checks, "clock").detail()).isEqualTo("this node's clock is 0.3 s behind 10.213.206.11's (its "
                + "HTTP Date, to about 1 s)");
        assertThat(check(checks, "disk").detail()).isEqualTo("36.2 GiB free of 56.8 GiB (64%) on the filesystem of "
                + "/var/lib");
        assertThat(check(checks, "hostname").detail()).isEqualTo("no Node named orin-nano among 1");
        assertThat(new DoctorReport("orin", "orin-nano", checks, null).ok()).isTrue();
    }

    @Test
    void aMissingKernelOptionFailsWithTheKernelFixAndTheFlannelWayAround() {
        String config = probe().substring(probe().indexOf("source /proc/config.gz"), probe().indexOf("\n\n@@k3gpu:cgroup-fs"))
                .replace("CONFIG_VXLAN=m\n", "").replace("CONFIG_OVERLAY_FS=m\n", "");
        Check c = one(orin(), probeWith("kernel-config", config), CLUSTER, "kernel-config");
        assertThat(c.status()).isEqualTo(Check.Status.FAIL);
        assertThat(c.detail()).startsWith("missing in /proc/config.gz: CONFIG_VXLAN, CONFIG_OVERLAY_FS (optional, also "
                + "missing: CONFIG_NETFILTER_XT_MATCH_IPVS,");
        assertThat(c.fix()).isEqualTo("build and boot a kernel with CONFIG_VXLAN, CONFIG_OVERLAY_FS (=y or =m; on a "
                + "Jetson: the L4T kernel sources with these options, as the Jetson Linux Developer Guide's Kernel "
                + "Customization describes); without VXLAN, flannel needs another backend (K3s "
                + "--flannel-backend=host-gw on one L2 network); without overlayfs, K3s --snapshotter=native");
    }

    @Test
    void noKernelConfigIsAWarningAsInCheckConfig() {
        Check c = one(orin(), probeWith("kernel-config", ""), CLUSTER, "kernel-config");
        assertThat(c.status()).isEqualTo(Check.Status.WARN);
        assertThat(c.fix()).startsWith("sudo modprobe configs");
    }

    @Test
    void memoryCgroupOffFailsOnV1AndV2() {
        Check v1 = one(orin(), probeWith("proc-cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                + "cpuset\t3\t2\t1\nmemory\t0\t1\t0"), CLUSTER, "cgroups");
        assertThat(v1.status()).isEqualTo(Check.Status.FAIL);
        assertThat(v1.detail()).isEqualTo("cgroup v1: the memory controller(s) disabled or absent (/proc/cgroups)");
        assertThat(v1.fix()).isEqualTo("enable the memory controller on the kernel command line (add "
                + "cgroup_enable=memory cgroup_memory=1, remove cgroup_disable=memory; on a Jetson the APPEND line of "
                + "/boot/extlinux/extlinux.conf) and reboot; K3s stops with \"failed to find memory cgroup\" without it");
        String v2 = probe().replace("@@k3gpu:cgroup-fs\ntmpfs", "@@k3gpu:cgroup-fs\ncgroup2fs")
                .replace("@@k3gpu:cgroup-controllers\n", "@@k3gpu:cgroup-controllers\ncpuset cpu io pids\n");
        Check c = one(orin(), DoctorProbe.parse("orin", v2), CLUSTER, "cgroups");
        assertThat(c.status()).isEqualTo(Check.Status.FAIL);
        assertThat(c.detail()).isEqualTo("cgroup v2 without the memory controller(s) (/sys/fs/cgroup/cgroup.controllers)");
    }

    @Test
    void swapIsAWarningBecauseK3sRunsTheKubeletWithFailSwapOnFalse() {
        Check c = one(orin(), probeWith("swaps", "Filename\tType\tSize\tUsed\tPriority\n/dev/zram0 partition 635848 0 5"),
                CLUSTER, "swap");
        assertThat(c.status()).isEqualTo(Check.Status.WARN);
        assertThat(c.detail()).isEqualTo("on: /dev/zram0 (partition, 635848 KiB); K3s runs the kubelet with "
                + "--fail-swap-on=false, so it starts, but memory limits and eviction do not count swap");
        assertThat(c.fix()).contains("sudo swapoff -a").contains("nvzramconfig");
    }

    @Test
    void aFullDiskFailsWithDiskPressure() {
        Check c = one(orin(), probeWith("rancher-disk", "path /var/lib/rancher\n"
                + "k3gpu-lab-disk-full 65536 63488 2048 97% /var/lib/rancher"), CLUSTER, "disk");
        assertThat(c.status()).isEqualTo(Check.Status.FAIL);
        assertThat(c.detail()).isEqualTo("2 MiB free of 64 MiB (3%) on the filesystem of /var/lib/rancher: below the "
                + "kubelet's nodefs.available 10% eviction threshold or 1 GiB, the node would be tainted with "
                + "DiskPressure");
    }

    @Test
    void missingCsvListsFailOnJetPack4To6() {
        Check c = one(orin(), probeWith("csv", ""), CLUSTER, "csv");
        assertThat(c.status()).isEqualTo(Check.Status.FAIL);
        assertThat(c.fix()).isEqualTo("reinstall the packages that ship them: sudo apt-get install --reinstall "
                + "nvidia-container");
    }

    @Test
    void aStaleGpuOperatorRuntimeFails() {
        NodeFacts f = FactsParser.parse(facts("orin-nano-jp62.out", "1.16.2-1").replace("@@k3gpu:end",
                "@@k3gpu:nvidia-toolkit-dir-runtime\n/usr/local/nvidia/toolkit/nvidia-container-runtime different\n\n"
                        + "@@k3gpu:end"));
        DoctorProbe.Result p = probeWith("runtimes", "/usr/local/nvidia/toolkit/nvidia-container-runtime 1\n"
                + "/usr/bin/nvidia-container-runtime 3512340923");
        Check c = one(f, p, CLUSTER, "nvidia-runtimes");
        assertThat(c.status()).isEqualTo(Check.Status.FAIL);
        assertThat(c.detail()).isEqualTo("found /usr/local/nvidia/toolkit/nvidia-container-runtime, "
                + "/usr/bin/nvidia-container-runtime: /usr/local/nvidia/toolkit/nvidia-container-runtime is another "
                + "file than the packaged /usr/bin/nvidia-container-runtime, and K3s configures containerd with the one "
                + "in /usr/local/nvidia/toolkit first (pkg/agent/containerd/runtimes.go)");
        assertThat(c.fix()).startsWith("unless NVIDIA's GPU Operator manages this node: sudo rm -rf /usr/local/nvidia/toolkit");
    }

    @Test
    void differentRuntimeCopiesOnThePathWarn() {
        Check c = one(orin(), probeWith("runtimes", "/usr/local/bin/nvidia-container-runtime 1\n"
                + "/usr/bin/nvidia-container-runtime 2"), CLUSTER, "nvidia-runtimes");
        assertThat(c.status()).isEqualTo(Check.Status.WARN);
    }

    @Test
    void aHostnameThatIsAnotherMachinesNodeFails() {
        DoctorChecks.Cluster taken = new DoctorChecks.Cluster(SERVER, List.of(SERVER_NODE,
                node("orin-nano", "10.213.206.99")), null);
        Check c = one(orin(), DoctorProbe.parse("orin", probe()), taken, "hostname");
        assertThat(c.status()).isEqualTo(Check.Status.FAIL);
        assertThat(c.detail()).isEqualTo("Node orin-nano exists already with InternalIP 10.213.206.99, not an address "
                + "of this machine (10.213.206.12): K3s refuses a second machine of that name (\"Node password "
                + "rejected, duplicate hostname\")");
        assertThat(c.fix()).isEqualTo("give this machine its own name (sudo hostnamectl set-hostname NEW, or K3s "
                + "--node-name), or, if orin-nano is a retired machine, kubectl delete node orin-nano");
        DoctorChecks.Cluster itself = new DoctorChecks.Cluster(SERVER, List.of(node("orin-nano", "10.213.206.12")), null);
        assertThat(one(orin(), DoctorProbe.parse("orin", probe()), itself, "hostname").status())
                .isEqualTo(Check.Status.PASS);
        DoctorChecks.Cluster noApi = new DoctorChecks.Cluster(SERVER, null, "no --kubeconfig given");
        assertThat(one(orin(), DoctorProbe.parse("orin", probe()), noApi, "hostname").status())
                .isEqualTo(Check.Status.SKIP);
    }

    @Test
    void aClockHoursBehindFails() {
        Check c = one(orin(), probeWith("server-tcp", "before 1764928800.100000000\nrc 0\nafter 1764928800.300000000\n"
                + "HTTP/1.1 200 OK\nDate: Fri, 05 Dec 2025 13:00:12 GMT"), CLUSTER, "clock");
        assertThat(c.status()).isEqualTo(Check.Status.FAIL);
        assertThat(c.detail()).isEqualTo("this node's clock is 3h0m12s behind 10.213.206.11's (its HTTP Date, to about "
                + "1 s): certificates K3s issues are valid from the server's clock, so TLS fails (x509: certificate has "
                + "expired or is not yet valid)");
        assertThat(c.fix()).startsWith("turn on time sync: sudo timedatectl set-ntp true");
        Check warn = one(orin(), probeWith("server-tcp", "before 1764939610.0\nrc 0\nafter 1764939610.0\n"
                + "HTTP/1.1 200 OK\nDate: Fri, 05 Dec 2025 13:00:00 GMT"), CLUSTER, "clock");
        assertThat(warn.status()).isEqualTo(Check.Status.WARN);
        assertThat(warn.detail()).startsWith("this node's clock is 9.5 s ahead of 10.213.206.11's");
    }

    @Test
    void anUnreachableApiFailsAndLeavesTheClockUnread() {
        DoctorProbe.Result p = probeWith("server-tcp", "before 1764939600.1\nrc 7\nafter 1764939600.2");
        List<Check> checks = DoctorChecks.run(orin(), p, CLUSTER);
        assertThat(check(checks, "server-api").status()).isEqualTo(Check.Status.FAIL);
        assertThat(check(checks, "server-api").detail()).isEqualTo("https://10.213.206.11:6443/ping from this node: "
                + "connection refused or no route");
        assertThat(check(checks, "clock").status()).isEqualTo(Check.Status.SKIP);
    }

    @Test
    void vxlanIsHonestAboutWhatUdpCanTell() {
        Check refused = one(orin(), probeWith("server-udp", "refused"), CLUSTER, "vxlan");
        assertThat(refused.status()).isEqualTo(Check.Status.WARN);
        Check blocked = one(orin(), probeWith("server-udp", "error Operation not permitted"), CLUSTER, "vxlan");
        assertThat(blocked.status()).isEqualTo(Check.Status.FAIL);
        assertThat(blocked.detail()).isEqualTo("sending to 10.213.206.11:8472/udp failed on this node: Operation not "
                + "permitted (its own firewall or routing)");
        Check silent = one(orin(), DoctorProbe.parse("orin", probe()), CLUSTER, "vxlan");
        assertThat(silent.detail()).contains("UDP cannot prove delivery");
        assertThat(one(orin(), probeWith("server-udp", "\u001b]0;owned\u0007"), CLUSTER, "vxlan").detail())
                .isEqualTo("sending to 10.213.206.11:8472/udp failed on this node: unexpected (its own firewall or "
                        + "routing)");
    }

    @Test
    void withoutAServerTheNetworkChecksAreSkipped() {
        DoctorChecks.Cluster none = new DoctorChecks.Cluster(null, null, "no --kubeconfig given");
        List<Check> checks = DoctorChecks.run(orin(), probeWith("server-tcp", ""), none);
        assertThat(checks).filteredOn(c -> c.status() == Check.Status.SKIP).extracting(Check::id)
                .containsExactly("hostname", "server-api", "clock", "vxlan");
    }

    @Test
    void jetPack4WarnsAboutItsOldToolkitAndDockerOnRunc() {
        NodeFacts nano = FactsParser.parse(facts("jetson-nano-jp461.out", "1.7.0-1"));
        List<Check> checks = DoctorChecks.run(nano, DoctorProbe.parse("nano", probe()), CLUSTER);
        assertThat(check(checks, "l4t").status()).isEqualTo(Check.Status.WARN);
        assertThat(check(checks, "container-toolkit").detail()).isEqualTo("1.7.0 is older than 1.11, which NVIDIA's "
                + "device plugin needs on Jetson (its Jetson support since v0.13.0): no nvidia.com/gpu here");
        assertThat(check(checks, "container-runtime").detail()).isEqualTo("Docker running, default runtime runc: with "
                + "--docker, pods get no GPU");
        assertThat(check(checks, "csv").fix()).isNull();
    }

    @Test
    void aGpuNodeWithoutTheNvidiaRuntimeFails() {
        NodeFacts f = FactsParser.parse(facts("orin-nano-jp62.out", "1.16.2-1")
                .replace("@@k3gpu:nvidia-container-runtime\n/usr/bin/nvidia-container-runtime\n",
                        "@@k3gpu:nvidia-container-runtime\n"));
        Check c = one(f, DoctorProbe.parse("orin", probe()), CLUSTER, "container-toolkit");
        assertThat(c.status()).isEqualTo(Check.Status.FAIL);
        assertThat(c.fix()).startsWith("sudo apt-get install nvidia-container");
    }

    @Test
    void theReportAsJson() {
        List<Check> checks = List.of(Check.pass("swap", "swap", "off"),
                Check.fail("disk", "free disk under /var/lib/rancher", "full", "free space"));
        DoctorReport r = new DoctorReport("10.0.0.5", "orin1", checks, null);
        assertThat(r.ok()).isFalse();
        assertThat(r.toJson().toString()).isEqualTo("{\"host\":\"10.0.0.5\",\"hostname\":\"orin1\",\"ok\":false,"
                + "\"summary\":{\"PASS\":1,\"WARN\":0,\"FAIL\":1,\"SKIP\":0},\"checks\":[{\"id\":\"swap\",\"title\":"
                + "\"swap\",\"status\":\"PASS\",\"detail\":\"off\"},{\"id\":\"disk\",\"title\":\"free disk under "
                + "/var/lib/rancher\",\"status\":\"FAIL\",\"detail\":\"full\",\"fix\":\"free space\"}]}");
        assertThat(new DoctorReport("h", null, List.of(), "ssh failed").toJson().toString()).isEqualTo(
                "{\"host\":\"h\",\"hostname\":null,\"ok\":false,\"error\":\"ssh failed\",\"summary\":{\"PASS\":0,"
                        + "\"WARN\":0,\"FAIL\":0,\"SKIP\":0},\"checks\":[]}");
    }

    @Test
    void theProbeIsParsedDefensively() {
        DoctorProbe.Result p = DoctorProbe.parse("orin", probe().replace("cuda.csv\n", "cuda.csv\n\u001b[2Jevil.csv\n")
                .replace("@@k3gpu:addresses\n10.213.206.12 ", "@@k3gpu:addresses\n10.213.206.12 $(reboot) fe80::1"));
        assertThat(p.csvFiles()).containsExactly("cuda.csv", "l4t.csv");
        assertThat(p.addresses()).containsExactly("10.213.206.12", "fe80::1");
        assertThat(p.kernelConfig()).containsEntry("VXLAN", "m").containsEntry("NAMESPACES", "y");
        assertThat(p.diskAvailKiB()).isEqualTo(37943884L);
        assertThat(p.serverTcp()).isEqualTo(new DoctorProbe.Tcp(false, 0, "HTTP/1.1 200 OK",
                "Fri, 05 Dec 2025 13:00:00 GMT", 1764939600.1, 1764939600.3));
        assertThatThrownBy(() -> DoctorProbe.parse("orin", probe().replace("@@k3gpu:end", "")))
                .isInstanceOf(K3gpuException.class).hasMessage("the doctor probe on orin ended early");
    }

    @Test
    void theScriptQuotesOnlyAnAddressOrName() {
        assertThat(DoctorProbe.script("10.0.0.1")).contains("k3gpu_server='10.0.0.1'")
                .contains("grep -E '^CONFIG_(NAMESPACES|NET_NS|").contains("\nimport socket, sys, time\n")
                .contains("\nK3GPU_PY\n");
        assertThat(DoctorProbe.script(null)).contains("k3gpu_server=''");
        assertThatThrownBy(() -> DoctorProbe.script("1.2.3.4'; reboot; '")).isInstanceOf(K3gpuException.class)
                .hasMessageContaining("is not an address or host name");
    }
}
