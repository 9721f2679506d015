package io.k3gpu.cli;

import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.Fabric8ClusterApi;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.Taint;
import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * plan, apply and reset -f on a lab: one server and three GPU agents (jetson-nano in Docker mode, orin-nano reached as
 * alice, whose sudo asks for her password, and an H200 server in containerd mode), then an HA file with three
 * servers, then one server that becomes the first of three. The tests build on each other, in order: the sudo
 * password, fresh lab, apply, converged, drift, an unreachable host, changed flags, reset and apply again, HA, 1 to 3.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetIT {
    private static final List<String> K3S_FILES = List.of("/usr/local/bin/k3s", "/etc/rancher/k3s",
            "/var/lib/rancher/k3s", "/etc/systemd/system/k3s.service", "/etc/systemd/system/k3s-agent.service",
            "/usr/local/bin/k3s-uninstall.sh", "/usr/local/bin/k3s-agent-uninstall.sh");
    private static final String DAEMON_JSON = "/etc/docker/daemon.json";
    private static final String SUDO_ENV = "K3GPU_IT_ALICE_SUDO";
    static TestLab lab;
    static Path dir;
    static Path main;

    @BeforeAll
    static void up() throws Exception {
        lab = TestLab.up("itfleet", 240, "cpu-only", "jetson-nano", "orin-nano", "dgpu", "cpu-only", "cpu-only");
        dir = Files.createTempDirectory("k3gpu-fleet-it");
        main = write("cluster.yaml", """
                hosts:
                  - {name: cp1, address: %s, role: server, gpu: none}
                  - {name: nano, address: %s, role: agent, gpu: docker}
                  - {name: orin, address: %s, role: agent, gpu: auto, labels: {shelf: a},
                     ssh: {user: alice, sudoPassword: {env: %s}}}
                  - {name: h200, address: %s, role: agent, gpu: k3s, taints: ["dedicated=training:NoSchedule"]}
                """.formatted(lab.ip("node1"), lab.ip("jetson1"), lab.ip("jetson2"), SUDO_ENV, lab.ip("gpu1")));
    }

    @AfterAll
    static void down() throws Exception {
        lab.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** A cluster file with the lab's mirror, key and known_hosts, and {@code hosts} after them. */
    private static Path write(String name, String hosts) throws Exception {
        return write(name, "", hosts);
    }

    /** As {@link #write(String, String)}, with more lines of {@code cluster:} (indented). */
    private static Path write(String name, String cluster, String hosts) throws Exception {
        K3sDistribution k3s = K3sDistribution.of(lab.state);
        Path f = dir.resolve(name);
        Files.writeString(f, """
                cluster:
                %s  installUrl: %s
                  readyTimeout: 60s
                  kubeconfig: {path: kubeconfig, context: itfleet}
                ssh:
                  key: %s
                  knownHosts: %s
                  sshConfig: /dev/null
                  strictHostKeyChecking: yes
                  connectTimeout: 3s
                """.formatted(cluster, k3s.installUrl(), lab.state.keyFile(), lab.state.knownHostsFile()) + hosts);
        return f;
    }

    /** k3gpu VERB -f FILE MORE..., alice's sudo password in the environment. */
    private static Cli.Result fleet(String verb, Path file, String... more) {
        return fleet(Map.of(SUDO_ENV, lab.password("alice")), verb, file, more);
    }

    /** apply --dry-run: plan's report, with orin observed through alice's sudo password (plan sends none). */
    private static Cli.Result dryRun(Path file, String... more) {
        String[] args = java.util.Arrays.copyOf(more, more.length + 1);
        args[more.length] = "--dry-run";
        return fleet("apply", file, args);
    }

    private static Cli.Result fleet(Map<String, String> env, String verb, Path file, String... more) {
        String[] args = new String[more.length + 3];
        args[0] = verb;
        args[1] = "-f";
        args[2] = file.toString();
        System.arraycopy(more, 0, args, 3, more.length);
        return Cli.run("", env, args);
    }

    private static ClusterApi api() throws Exception {
        return Fabric8ClusterApi.fromKubeconfig(Files.readString(dir.resolve("kubeconfig")), "itfleet");
    }

    private static Map<String, NodeStatus> nodes() throws Exception {
        try (ClusterApi api = api()) {
            Map<String, NodeStatus> out = new TreeMap<>();
            api.nodes().forEach(n -> out.put(n.name(), n));
            return out;
        }
    }

    private static List<String> k3sFilesOn(String node) {
        return K3S_FILES.stream().filter(p -> Files.exists(lab.path(node, p))).toList();
    }

    @Test
    @Order(0)
    void aSudoPasswordComesFromTheEnvironmentIsCheckedBeforeAnyHostIsContactedAndNeverShows() throws Exception {
        Cli.Result unset = fleet(Map.of(), "plan", main);
        assertThat(unset.exit()).as(unset.all()).isEqualTo(2);
        assertThat(unset.err()).containsPattern(java.util.regex.Pattern.quote(main.toString())
                + ":15:\\d+: sudoPassword: the environment variable " + SUDO_ENV + " is not set\n")
                .contains("1 problem; nothing was contacted");
        assertThat(unset.out()).isEmpty();

        Cli.Result wrong = fleet(Map.of(SUDO_ENV, "not-" + lab.password("alice")), "apply", main, "--dry-run");
        assertThat(wrong.exit()).as(wrong.all()).isEqualTo(1);
        assertThat(wrong.out()).contains("orin (" + lab.ip("jetson2") + "), agent:\n  ! sudo on " + lab.ip("jetson2")
                        + " rejected the password given for alice")
                .contains("nano (" + lab.ip("jetson1") + "), agent:\n  + set NVIDIA runtime")
                .contains("plan: 3 to change, 0 unchanged, 1 failed");
        assertThat(wrong.all()).doesNotContain("not-" + lab.password("alice"));
        assertThat(k3sFilesOn("jetson2")).isEmpty();

        // plan sends no secret: with the right password at hand, orin is still not observed as root.
        Cli.Result plan = fleet("plan", main);
        assertThat(plan.exit()).as(plan.all()).isEqualTo(1);
        assertThat(plan.out()).contains("orin (" + lab.ip("jetson2") + "), agent:\n  ! sudo on " + lab.ip("jetson2")
                        + " needs the password of alice (ssh.sudoPassword), and plan sends no secrets")
                .contains("plan: 3 to change, 0 unchanged, 1 failed");
    }

    @Test
    @Order(1)
    void planOnAFreshLabSaysWhatApplyWouldDoAndChangesNothing() throws Exception {
        byte[] daemonJson = Files.readAllBytes(lab.path("jetson1", DAEMON_JSON));
        Cli.Result plan = dryRun(main);
        assertThat(plan.exit()).as(plan.all()).isZero();
        assertThat(plan.out()).contains("no cluster yet: K3s does not run on the first server cp1")
                .contains("cp1 (" + lab.ip("node1") + "), server:\n  + install server: K3s is not installed\n")
                .contains("nano (" + lab.ip("jetson1") + "), agent:\n"
                        + "  + set NVIDIA runtime: docker: would write /etc/docker/daemon.json and restart docker\n"
                        + "  + join agent: K3s is not installed\n")
                .contains("orin (" + lab.ip("jetson2") + "), agent:\n"
                        + "  gpu: k3s --default-runtime nvidia (channel stable)\n"
                        + "  + join agent: K3s is not installed\n")
                .contains("  + set taints: new node: dedicated=training:NoSchedule\n")
                .contains("plan: 4 to change, 0 unchanged, 0 failed (4 hosts");
        assertThat(plan.all()).doesNotContain(lab.password("alice"));
        for (String node : List.of("node1", "jetson1", "jetson2", "gpu1")) {
            assertThat(k3sFilesOn(node)).as(node).isEmpty();
        }
        assertThat(Files.readAllBytes(lab.path("jetson1", DAEMON_JSON))).isEqualTo(daemonJson);
        assertThat(Files.exists(lab.path("jetson2", "/etc/rancher/k3s/config.yaml"))).isFalse();
    }

    @Test
    @Order(2)
    void applyBringsUpTheServerAndThreeGpuAgentsOverOneSshConnectionEachThenPlanSaysNothing() throws Exception {
        Cli.Result apply = fleet("apply", main);
        assertThat(apply.exit()).as(apply.all()).isZero();
        assertThat(apply.out()).contains("apply: 4 hosts in ").contains(": 4 changed, 0 unchanged, 0 failed; 4 SSH connections")
                .contains("  cp1: changed: installed the K3s server ")
                .contains("  nano: changed: set the NVIDIA default runtime (docker); installed K3s ")
                .contains("kubeconfig: saved to " + dir.resolve("kubeconfig") + " (context itfleet)");
        assertThat(dir.resolve("kubeconfig")).exists();
        assertThat(apply.all()).doesNotContain(lab.password("alice"));
        assertThat(lab.read("jetson2", "/etc/systemd/system/k3s-agent.service.env")).contains("K3S_URL=");

        Map<String, NodeStatus> nodes = nodes();
        assertThat(nodes.keySet()).containsExactly("gpu1", "jetson1", "jetson2", "node1");
        assertThat(nodes.values()).allMatch(NodeStatus::ready);
        assertThat(nodes.get("jetson1").containerRuntime()).startsWith("docker://");
        assertThat(nodes.get("jetson2").containerRuntime()).startsWith("containerd://");
        assertThat(nodes.get("gpu1").containerRuntime()).startsWith("containerd://");
        assertThat(nodes.get("jetson1").labels()).containsEntry("nvidia.com/gpu.present", "true")
                .containsEntry("k3gpu.dev/container-runtime", "docker-nvidia");
        assertThat(nodes.get("jetson2").labels()).containsEntry("k3gpu.dev/container-runtime", "containerd-nvidia")
                .containsEntry("shelf", "a");
        assertThat(nodes.get("gpu1").labels()).containsEntry("nvidia.com/gpu.product", "NVIDIA-H200");
        assertThat(nodes.get("node1").labels()).doesNotContainKey("nvidia.com/gpu.present");
        try (ClusterApi api = api()) {
            assertThat(api.meta("gpu1").orElseThrow().taints()).contains(new Taint("dedicated", "training", "NoSchedule"));
        }
        assertThat(lab.sh("jetson1", "docker info --format '{{.DefaultRuntime}}'").strip()).isEqualTo("nvidia");

        Cli.Result plan = dryRun(main);
        assertThat(plan.exit()).as(plan.all()).isZero();
        assertThat(plan.out()).contains("cp1 (" + lab.ip("node1") + "), server: nothing to do\n")
                .contains("nano (" + lab.ip("jetson1") + "), agent: nothing to do\n")
                .contains("orin (" + lab.ip("jetson2") + "), agent: nothing to do\n")
                .contains("h200 (" + lab.ip("gpu1") + "), agent: nothing to do\n")
                .contains("plan: 0 to change, 4 unchanged, 0 failed");
    }

    @Test
    @Order(3)
    void aSecondApplyChangesNothingAndSaysSoForEveryHost() throws Exception {
        FileTime daemonJson = Files.getLastModifiedTime(lab.path("jetson1", DAEMON_JSON));
        String dockerPid = lab.read("jetson1", "/run/docker.pid").strip();
        Cli.Result again = fleet("apply", main);
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(again.out()).contains("  cp1: unchanged\n  nano: unchanged\n  orin: unchanged\n  h200: unchanged\n")
                .contains("nothing changed (0 changed, 4 unchanged, 0 failed); 4 SSH connections")
                .contains("kubeconfig: " + dir.resolve("kubeconfig") + " is up to date");
        assertThat(Files.getLastModifiedTime(lab.path("jetson1", DAEMON_JSON))).isEqualTo(daemonJson);
        assertThat(lab.read("jetson1", "/run/docker.pid").strip()).as("docker was not restarted").isEqualTo(dockerPid);
    }

    @Test
    @Order(4)
    void aDaemonJsonThatLostTheNvidiaDefaultShowsInThePlanAndApplySetsItAgain() throws Exception {
        lab.write("jetson1", DAEMON_JSON, """
                {
                    "runtimes": {
                        "nvidia": {
                            "path": "nvidia-container-runtime",
                            "runtimeArgs": []
                        }
                    }
                }
                """);
        Cli.Result plan = dryRun(main, "-o", "json");
        assertThat(plan.exit()).as(plan.all()).isZero();
        assertThat(plan.out()).contains("\"action\" : \"set-nvidia-runtime\"")
                .contains("\"detail\" : \"docker: would write /etc/docker/daemon.json and restart docker\"")
                .contains("\"change\" : 1").contains("\"nothing\" : 3");
        Cli.Result text = dryRun(main);
        assertThat(text.out()).contains("nano (" + lab.ip("jetson1") + "), agent:\n"
                + "  + set NVIDIA runtime: docker: would write /etc/docker/daemon.json and restart docker\n");

        Cli.Result apply = fleet("apply", main);
        assertThat(apply.exit()).as(apply.all()).isZero();
        assertThat(apply.out()).contains("  nano: changed: set the NVIDIA default runtime (docker)")
                .contains("  orin: unchanged\n");
        assertThat(lab.read("jetson1", DAEMON_JSON)).contains("\"default-runtime\": \"nvidia\"");
        assertThat(dryRun(main).out()).contains("plan: 0 to change, 4 unchanged, 0 failed");
    }

    @Test
    @Order(5)
    void aNodeOfTheClusterThatTheFileDoesNotListIsNamedInThePlanAndLeftAlone() throws Exception {
        Path without = dir.resolve("without-h200.yaml");
        Files.writeString(without, Files.readString(main).lines().filter(l -> !l.contains("name: h200"))
                .reduce("", (a, b) -> a + b + "\n"));
        Cli.Result plan = dryRun(without);
        assertThat(plan.exit()).as(plan.all()).isZero();
        assertThat(plan.out()).contains("not in the file: node gpu1 (" + lab.ip("gpu1") + "), left as it is; "
                        + "k3gpu reset --ip " + lab.ip("gpu1") + " takes it out of the cluster\n")
                .contains("plan: 0 to change, 3 unchanged, 0 failed");
        assertThat(dryRun(without, "-o", "json").out()).contains("\"notInFile\" : [ {")
                .contains("\"name\" : \"gpu1\"");
        Cli.Result apply = fleet("apply", without);
        assertThat(apply.exit()).as(apply.all()).isZero();
        assertThat(nodes().get("gpu1").ready()).as("apply leaves a node that is not in the file alone").isTrue();
        assertThat(dryRun(main).out()).doesNotContain("not in the file");
    }

    @Test
    @Order(6)
    void anUnreachableHostFailsAloneAndTheSummaryNamesItWithItsCause() throws Exception {
        Path withGhost = dir.resolve("ghost.yaml");
        // 1 s to connect (3 attempts each apply), not the main file's 3 s: the lab's nodes answer within milliseconds
        Files.writeString(withGhost, Files.readString(main).replace("connectTimeout: 3s", "connectTimeout: 1s")
                + "  - {name: ghost, address: 10.213.240.99, role: agent, gpu: none}\n");
        Cli.Result text = fleet("apply", withGhost);
        assertThat(text.exit()).isEqualTo(1);
        assertThat(text.out()).contains("  cp1: unchanged\n  nano: unchanged\n  orin: unchanged\n  h200: unchanged\n")
                .contains("  ghost: failed: cannot reach 10.213.240.99:22")
                .contains("0 changed, 4 unchanged, 1 failed; 4 SSH connections")
                .contains("failures:\n  ghost (10.213.240.99): cannot reach 10.213.240.99:22");

        Cli.Result json = fleet("apply", withGhost, "-o", "json");
        assertThat(json.exit()).isEqualTo(1);
        String summary = json.out().lines().reduce((a, b) -> b).orElseThrow();
        assertThat(summary).startsWith("{\"event\":\"summary\",\"hosts\":5,\"changed\":0,\"unchanged\":4,\"failed\":1,")
                .contains("\"failures\":[{\"host\":\"ghost\",\"address\":\"10.213.240.99\",\"status\":\"failed\","
                        + "\"error\":\"cannot reach 10.213.240.99:22").contains("\"exitCode\":3}]");
        assertThat(json.out()).contains("{\"event\":\"finished\",\"host\":\"orin\"");
    }

    @Test
    @Order(7)
    void changedServerAndAgentArgsRestartK3sWithThemKeepingItsDataAndAReapplyChangesNothing() throws Exception {
        String uid;
        try (ClusterApi api = api()) {
            api.applyConfigMap("default", "kept", Map.of("a", "b"));
        }
        uid = configMapUid("kept");
        Path args = write("args.yaml", """
                  serverArgs: --disable traefik
                  agentArgs: --node-label=fleet-args=yes
                """, Files.readString(main).substring(Files.readString(main).indexOf("\nhosts:") + 1));
        Cli.Result plan = dryRun(args);
        assertThat(plan.exit()).as(plan.all()).isZero();
        assertThat(plan.out()).contains("cp1 (" + lab.ip("node1") + "), server:\n"
                        + "  + reconfigure server: --disable traefik added\n")
                .contains("nano (" + lab.ip("jetson1") + "), agent:\n"
                        + "  + reconfigure agent: --node-label fleet-args=yes added\n")
                .contains("plan: 4 to change, 0 unchanged, 0 failed");

        Cli.Result apply = fleet("apply", args);
        assertThat(apply.exit()).as(apply.all()).isZero();
        String out = apply.out();
        assertThat(out).contains("  cp1: changed: reconfigured the K3s server: --disable traefik added\n")
                .contains("  nano: changed: reconfigured K3s (agent): --node-label fleet-args=yes added")
                .contains("  orin: changed: reconfigured K3s (agent): --node-label fleet-args=yes added")
                .as("a restarted agent keeps its taints").contains(
                        "  h200: changed: reconfigured K3s (agent): --node-label fleet-args=yes added\n")
                .contains(": 4 changed, 0 unchanged, 0 failed; 4 SSH connections");
        assertThat(out.indexOf("cp1: changed")).isLessThan(out.indexOf("nano: started"));
        assertThat(execStartOf("node1", "k3s")).containsSubsequence("'--disable'", "'traefik'");
        assertThat(execStartOf("jetson1", "k3s-agent")).contains("'--node-label=fleet-args=yes'");
        Map<String, NodeStatus> nodes = nodes();
        assertThat(nodes.keySet()).containsExactly("gpu1", "jetson1", "jetson2", "node1");
        assertThat(nodes.values()).allMatch(NodeStatus::ready);
        for (String agent : List.of("gpu1", "jetson1", "jetson2")) {
            assertThat(nodes.get(agent).labels()).as(agent).containsEntry("fleet-args", "yes");
        }
        assertThat(nodes.get("jetson2").labels()).containsEntry("shelf", "a")
                .containsEntry("k3gpu.dev/container-runtime", "containerd-nvidia");
        assertThat(configMapUid("kept")).as("the server kept its data").isEqualTo(uid);

        assertThat(dryRun(args).out()).contains("plan: 0 to change, 4 unchanged, 0 failed");
        Cli.Result again = fleet("apply", args);
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(again.out()).contains("nothing changed (0 changed, 4 unchanged, 0 failed)");
    }

    private static String execStartOf(String node, String service) throws Exception {
        String unit = lab.read(node, "/etc/systemd/system/" + service + ".service");
        return unit.substring(unit.indexOf("ExecStart="));
    }

    private static String configMapUid(String name) throws Exception {
        try (var client = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(
                io.fabric8.kubernetes.client.Config.fromKubeconfig(Files.readString(dir.resolve("kubeconfig")))).build()) {
            var cm = client.configMaps().inNamespace("default").withName(name).get();
            return cm == null ? null : cm.getMetadata().getUid();
        }
    }

    @Test
    @Order(8)
    void resetTakesK3sOffEveryHostAndItsNodeAndApplyBuildsTheClusterAgain() throws Exception {
        Cli.Result one = fleet("reset", main, "--host", "orin");
        assertThat(one.exit()).as(one.all()).isZero();
        assertThat(one.out()).contains("  orin: changed: removed K3s (agent); deleted Node jetson2")
                .doesNotContain("nano:");
        assertThat(k3sFilesOn("jetson2")).isEmpty();
        assertThat(nodes().keySet()).containsExactly("gpu1", "jetson1", "node1");
        assertThat(dryRun(main).out()).contains("orin (" + lab.ip("jetson2") + "), agent:\n"
                + "  gpu: k3s --default-runtime nvidia (K3s v1.31.4+k3s1)\n"
                + "  + join agent: K3s is not installed\n");

        Cli.Result all = fleet("reset", main);
        assertThat(all.exit()).as(all.all()).isZero();
        String out = all.out();
        assertThat(out.indexOf("h200: started")).isLessThan(out.indexOf("cp1: started"));
        assertThat(out.indexOf("nano: started")).isLessThan(out.indexOf("cp1: started"));
        assertThat(out).contains("  nano: changed: removed K3s (agent); deleted Node jetson1")
                .contains("  orin: unchanged\n").contains("  cp1: changed: removed K3s (server)");
        for (String node : List.of("node1", "jetson1", "jetson2", "gpu1")) {
            assertThat(k3sFilesOn(node)).as(node).isEmpty();
        }

        Cli.Result apply = fleet("apply", main);
        assertThat(apply.exit()).as(apply.all()).isZero();
        assertThat(apply.out()).contains(": 4 changed, 0 unchanged, 0 failed");
        assertThat(nodes().keySet()).containsExactly("gpu1", "jetson1", "jetson2", "node1");
        assertThat(dryRun(main).out()).contains("plan: 0 to change, 4 unchanged, 0 failed");
        assertThat(fleet("reset", main).exit()).isZero();
    }

    @Test
    @Order(9)
    void threeServersMakeAnEmbeddedEtcdClusterAndAnAgentBehindABastionJoinsIt() throws Exception {
        Path ha = write("ha.yaml", """
                hosts:
                  - {name: agent1, address: %s, role: agent, ssh: {proxyJump: "root@%s"}}
                  - {name: s1, address: %s, role: server, gpu: none}
                  - {name: s2, address: %s, role: server, gpu: none}
                  - {name: s3, address: %s, role: server, gpu: none}
                """.formatted(lab.ip("gpu1"), lab.ip("node1"), lab.ip("node1"), lab.ip("node2"), lab.ip("node3")));
        Cli.Result dry = fleet("apply", ha, "--dry-run");
        assertThat(dry.exit()).as(dry.all()).isZero();
        assertThat(dry.out()).startsWith("apply --dry-run: nothing is changed; order: s1 alone, then servers one at a "
                + "time: s2, s3, then 1 agent all at once\n")
                .contains("s1 (" + lab.ip("node1") + "), first server (--cluster-init):\n  + install server: K3s is not installed\n")
                .contains("s2 (" + lab.ip("node2") + "), server:\n  + join server: K3s is not installed\n");
        assertThat(k3sFilesOn("node1")).isEmpty();

        Cli.Result apply = fleet("apply", ha);
        assertThat(apply.exit()).as(apply.all()).isZero();
        String out = apply.out();
        assertThat(out.indexOf("s1: changed")).isLessThan(out.indexOf("s2: started"));
        assertThat(out.indexOf("s2: changed")).isLessThan(out.indexOf("s3: started"));
        assertThat(out.indexOf("s3: changed")).isLessThan(out.indexOf("agent1: started"));
        assertThat(out).contains("  s1: changed: installed the K3s server ").contains("(server --cluster-init --tls-san "
                + lab.ip("node1") + ")").contains("4 changed, 0 unchanged, 0 failed; 4 SSH connections");
        Map<String, NodeStatus> nodes = nodes();
        assertThat(nodes.keySet()).containsExactly("gpu1", "node1", "node2", "node3");
        for (String s : List.of("node1", "node2", "node3")) {
            assertThat(nodes.get(s).roles()).as(s).contains("control-plane", "etcd");
        }
        assertThat(nodes.get("gpu1").ready()).isTrue();
        assertThat(fleet("plan", ha).out()).contains("plan: 0 to change, 4 unchanged, 0 failed");

        Cli.Result reset = fleet("reset", ha);
        assertThat(reset.exit()).as(reset.all()).isZero();
        assertThat(reset.out().indexOf("s3: changed")).isLessThan(reset.out().indexOf("s1: started"));
        for (String node : List.of("node1", "node2", "node3", "gpu1")) {
            assertThat(k3sFilesOn(node)).as(node).isEmpty();
        }
    }

    @Test
    @Order(10)
    void aSingleServerBecomesTheFirstOfThreeOnEtcdKeepingItsDataAndItsAgent() throws Exception {
        String hosts = """
                hosts:
                  - {name: s1, address: %s, role: server, gpu: none}
                %s  - {name: agent1, address: %s, role: agent}
                """;
        String more = """
                  - {name: s2, address: %s, role: server, gpu: none}
                  - {name: s3, address: %s, role: server, gpu: none}
                """.formatted(lab.ip("node2"), lab.ip("node3"));
        Path single = write("single.yaml", hosts.formatted(lab.ip("node1"), "", lab.ip("gpu1")));
        Path three = write("three.yaml", hosts.formatted(lab.ip("node1"), more, lab.ip("gpu1")));
        Cli.Result first = fleet("apply", single);
        assertThat(first.exit()).as(first.all()).isZero();
        assertThat(first.out()).contains("(server --tls-san " + lab.ip("node1") + ")");
        assertThat(fleet("plan", single).out()).as("one server without --cluster-init stays so")
                .contains("plan: 0 to change, 2 unchanged, 0 failed");
        try (ClusterApi api = api()) {
            api.applyConfigMap("default", "kept", Map.of("a", "b"));
        }
        String uid = configMapUid("kept");
        assertThat(lab.path("node1", "/var/lib/rancher/k3s/server/db/state.db")).exists();

        Cli.Result plan = fleet("plan", three);
        assertThat(plan.exit()).as(plan.all()).isZero();
        assertThat(plan.out()).contains("s1 (" + lab.ip("node1") + "), first server (--cluster-init):\n"
                        + "  + reconfigure server: --cluster-init added (SQLite to embedded etcd, data kept)\n")
                .contains("s2 (" + lab.ip("node2") + "), server:\n  + join server: K3s is not installed\n")
                .contains("agent1 (" + lab.ip("gpu1") + "), agent: nothing to do\n")
                .contains("plan: 3 to change, 1 unchanged, 0 failed");

        Cli.Result apply = fleet("apply", three);
        assertThat(apply.exit()).as(apply.all()).isZero();
        String out = apply.out();
        assertThat(out).contains("  s1: changed: reconfigured the K3s server: --cluster-init added (SQLite to "
                        + "embedded etcd, data kept)\n")
                .contains("  agent1: unchanged\n").contains("3 changed, 1 unchanged, 0 failed");
        assertThat(out.indexOf("s1: changed")).isLessThan(out.indexOf("s2: started"));
        assertThat(out.indexOf("s2: changed")).isLessThan(out.indexOf("s3: started"));
        Map<String, NodeStatus> nodes = nodes();
        assertThat(nodes.keySet()).containsExactly("gpu1", "node1", "node2", "node3");
        for (String s : List.of("node1", "node2", "node3")) {
            assertThat(nodes.get(s).roles()).as(s).contains("control-plane", "etcd");
            assertThat(nodes.get(s).ready()).as(s).isTrue();
        }
        assertThat(nodes.get("gpu1").ready()).isTrue();
        assertThat(nodes.get("gpu1").labels()).containsEntry("nvidia.com/gpu.product", "NVIDIA-H200");
        assertThat(configMapUid("kept")).as("the cluster's objects moved to etcd").isEqualTo(uid);
        assertThat(lab.path("node1", "/var/lib/rancher/k3s/server/db/state.db.migrated")).exists();
        assertThat(lab.path("node1", "/var/lib/rancher/k3s/server/db/state.db")).doesNotExist();
        assertThat(fleet("plan", three).out()).contains("plan: 0 to change, 4 unchanged, 0 failed");

        assertThat(fleet("reset", three).exit()).isZero();
        for (String node : List.of("node1", "node2", "node3", "gpu1")) {
            assertThat(k3sFilesOn(node)).as(node).isEmpty();
        }
    }
}
