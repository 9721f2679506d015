package io.k3gpu.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * k3gpu doctor against lab nodes with planted faults (the lab README's "Planted faults"): a clean Orin Nano passes
 * (with the WARNs the lab honestly has), each fault gives its FAIL with the fix and exit 1, and -f examines every
 * host of a cluster file at once.
 */
class DoctorIT {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    static TestLab lab;
    static Path dir;
    static Path kubeconfig;

    @BeforeAll
    static void up() throws Exception {
        lab = TestLab.up("itdoctor", 206, "cpu-only", "orin-nano",
                "orin-nano+kernel-config=-VXLAN+memory-cgroup-off+stale-toolkit-runtime+swap+disk-full+no-csv",
                "orin-nano+clock-skew=-3h",
                "orin-nano+block=6443/tcp+block=8472/udp+no-toolkit",
                "orin-nano+hostname=node1",
                "jetson-nano");
        dir = Files.createTempDirectory("k3gpu-doctor-it");
        kubeconfig = dir.resolve("kubeconfig");
        Cli.Result r = Cli.run(TestLab.args("install", lab.ssh("node1"), "--local-path", kubeconfig.toString(),
                "--timeout", "60s"));
        assertThat(r.exit()).as(r.err()).isZero();
    }

    @AfterAll
    static void down() throws Exception {
        lab.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static Cli.Result doctor(String node, String... more) {
        List<String> a = new ArrayList<>(List.of("--kubeconfig", kubeconfig.toString()));
        a.addAll(List.of(more));
        return Cli.run(TestLab.args("doctor", lab.ssh(node), a.toArray(String[]::new)));
    }

    /** Check id to its JSON object, in the report's order. */
    private static Map<String, JsonNode> checks(Cli.Result r) {
        JsonNode doc = JSON.readTree(r.out());
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (JsonNode c : doc.get("checks")) {
            out.put(c.get("id").asString(), c);
        }
        return out;
    }

    private static String status(Map<String, JsonNode> checks, String id) {
        return checks.get(id).get("status").asString();
    }

    @Test
    void aCleanOrinNanoPassesWithTheWarningsTheLabHonestlyHas() throws Exception {
        Cli.Result r = doctor("jetson1", "-o", "json");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        Map<String, JsonNode> c = checks(r);
        assertThat(c.keySet()).containsExactly("l4t", "container-toolkit", "csv", "container-runtime",
                "nvidia-runtimes", "kernel-config", "cgroups", "swap", "disk", "hostname", "server-api", "clock",
                "vxlan");
        for (String id : List.of("l4t", "container-toolkit", "csv", "container-runtime", "nvidia-runtimes", "cgroups",
                "hostname", "server-api", "clock")) {
            assertThat(status(c, id)).as(id + ": " + c.get(id)).isEqualTo("PASS");
        }
        assertThat(c.get("server-api").get("detail").asString()).contains("https://" + lab.ip("node1") + ":6443/ping");
        // the lab's kernel is the host's: optional options it lacks are named, required ones are all there
        assertThat(status(c, "kernel-config")).isIn("PASS", "WARN");
        // the node sees the host's /proc/swaps; its /var/lib is on the lab's tmpfs
        String hostSwaps = Files.readString(Path.of("/proc/swaps"));
        assertThat(status(c, "swap")).isEqualTo(hostSwaps.strip().contains("\n") ? "WARN" : "PASS");
        assertThat(status(c, "disk")).isIn("PASS", "WARN");
        // the lab's K3s server runs no flannel: its kernel answers 8472/udp with port unreachable
        assertThat(status(c, "vxlan")).isEqualTo("WARN");
        assertThat(c.get("vxlan").get("detail").asString()).contains("ICMP port unreachable");
        JsonNode doc = JSON.readTree(r.out());
        assertThat(doc.get("host").asString()).isEqualTo(lab.ip("jetson1"));
        assertThat(doc.get("hostname").asString()).isEqualTo("jetson1");
        assertThat(doc.get("ok").asBoolean()).isTrue();
        assertThat(doc.get("summary").get("FAIL").asInt()).isZero();
        Iterator<String> keys = doc.get("checks").get(0).propertyNames().iterator();
        List<String> names = new ArrayList<>();
        keys.forEachRemaining(names::add);
        assertThat(names).containsExactly("id", "title", "status", "detail");
    }

    @Test
    void kernelConfigCgroupsRuntimeCsvDiskAndSwapFaultsEachFailWithTheirFix() {
        Cli.Result r = doctor("jetson2", "-o", "json");
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        Map<String, JsonNode> c = checks(r);
        assertThat(status(c, "kernel-config")).isEqualTo("FAIL");
        assertThat(c.get("kernel-config").get("detail").asString()).startsWith("missing in /proc/config.gz: CONFIG_VXLAN");
        assertThat(c.get("kernel-config").get("fix").asString()).contains("--flannel-backend=host-gw");
        assertThat(status(c, "cgroups")).isEqualTo("FAIL");
        assertThat(c.get("cgroups").get("detail").asString()).contains("memory controller(s) disabled");
        assertThat(c.get("cgroups").get("fix").asString()).contains("cgroup_enable=memory");
        assertThat(status(c, "nvidia-runtimes")).isEqualTo("FAIL");
        assertThat(c.get("nvidia-runtimes").get("fix").asString()).contains("sudo rm -rf /usr/local/nvidia/toolkit");
        assertThat(status(c, "csv")).isEqualTo("FAIL");
        assertThat(status(c, "disk")).isEqualTo("FAIL");
        assertThat(c.get("disk").get("detail").asString()).contains("of 64 MiB").contains("DiskPressure");
        assertThat(status(c, "swap")).isEqualTo("WARN");
        assertThat(c.get("swap").get("detail").asString()).startsWith("on: /swapfile (file, 2097148 KiB)");
        assertThat(status(c, "server-api")).isEqualTo("PASS");
    }

    @Test
    void aClockThreeHoursBehindFails() {
        Cli.Result r = doctor("jetson3");
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(r.out()).containsPattern("FAIL +clock against the server +this node's clock is (2h59m5\\d|3h0m\\d+)s behind "
                + lab.ip("node1").replace(".", "\\.") + "'s")
                .contains("fix: turn on time sync: sudo timedatectl set-ntp true");
    }

    @Test
    void aFirewalledNodeFailsTheApiAndVxlanAndANodeWithoutTheRuntimeFailsTheToolkit() {
        Cli.Result r = doctor("jetson4", "-o", "json");
        assertThat(r.exit()).isEqualTo(1);
        Map<String, JsonNode> c = checks(r);
        assertThat(status(c, "server-api")).isEqualTo("FAIL");
        assertThat(c.get("server-api").get("detail").asString()).endsWith("connection refused or no route");
        assertThat(status(c, "vxlan")).isEqualTo("FAIL");
        assertThat(c.get("vxlan").get("detail").asString()).contains("Operation not permitted");
        assertThat(status(c, "clock")).isEqualTo("SKIP");
        assertThat(status(c, "container-toolkit")).isEqualTo("FAIL");
        assertThat(c.get("container-toolkit").get("fix").asString()).contains("nvidia-container");
    }

    @Test
    void aHostnameThatIsAlreadyAnotherMachinesNodeFails() {
        Cli.Result r = doctor("jetson5");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).startsWith(lab.ip("jetson5") + " (node1): ")
                .contains("FAIL  hostname free in the cluster       Node node1 exists already with InternalIP "
                        + lab.ip("node1") + ", not an address of this machine (" + lab.ip("jetson5") + ")")
                .contains("fix: give this machine its own name (sudo hostnamectl set-hostname NEW");
        // without --kubeconfig the cluster's Nodes are not asked: the check is skipped, not passed
        Cli.Result noApi = Cli.run(TestLab.args("doctor", lab.ssh("jetson5"), "--server", lab.ip("node1")));
        assertThat(noApi.exit()).as(noApi.out()).isZero();
        assertThat(noApi.out()).contains("SKIP  hostname free in the cluster       no --kubeconfig given");
    }

    @Test
    void aClusterFileIsExaminedHostByHost() throws Exception {
        Path file = dir.resolve("cluster.yaml");
        Files.writeString(file, """
                ssh:
                  key: %s
                  knownHosts: %s
                  sshConfig: /dev/null
                  connectTimeout: 5s
                hosts:
                  - {name: cp1, address: %s, role: server, gpu: none}
                  - {name: orin, address: %s, role: agent}
                  - {name: broken, address: %s, role: agent}
                  - {name: nano, address: %s, role: agent}
                """.formatted(lab.state.keyFile(), lab.state.knownHostsFile(), lab.ip("node1"), lab.ip("jetson1"),
                lab.ip("jetson2"), lab.ip("jetson6")));
        Cli.Result r = Cli.run("doctor", "-f", file.toString(), "-o", "json");
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        JsonNode doc = JSON.readTree(r.out());
        assertThat(doc.get("ok").asBoolean()).isFalse();
        List<String> hosts = new ArrayList<>();
        List<Boolean> ok = new ArrayList<>();
        for (JsonNode h : doc.get("hosts")) {
            hosts.add(h.get("host").asString() + "=" + h.get("hostname").asString());
            ok.add(h.get("ok").asBoolean());
        }
        assertThat(hosts).containsExactly("cp1=node1", "orin=jetson1", "broken=jetson2", "nano=jetson6");
        assertThat(ok).containsExactly(true, true, false, true);
        JsonNode server = doc.get("hosts").get(0).get("checks");
        // the server is the first server of the file; its own Node is itself
        for (JsonNode c : server) {
            if (c.get("id").asString().equals("hostname")) {
                assertThat(c.get("detail").asString()).isEqualTo("this machine is Node node1 already (InternalIP "
                        + lab.ip("node1") + ")");
            }
        }
        // the Jetson Nano's JetPack 4.6.1 warns about its toolkit 1.7.0 and Docker on runc, as a real one does
        Map<String, String> nano = new LinkedHashMap<>();
        for (JsonNode c : doc.get("hosts").get(3).get("checks")) {
            nano.put(c.get("id").asString(), c.get("status").asString());
        }
        assertThat(nano).containsEntry("l4t", "WARN").containsEntry("container-toolkit", "WARN")
                .containsEntry("container-runtime", "WARN").containsEntry("csv", "PASS");

        Cli.Result text = Cli.run("doctor", "-f", file.toString());
        assertThat(text.out()).contains("cp1 (node1): ").contains("\nbroken (jetson2): ")
                .contains("FAIL  cgroups (memory)");
    }
}
