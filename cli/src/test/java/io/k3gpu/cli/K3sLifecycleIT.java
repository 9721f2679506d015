package io.k3gpu.cli;

import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The K3s issue's story on a lab: one server, three GPU nodes, real kubectl, and the failures it names. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class K3sLifecycleIT {
    static TestLab lab;
    static String install;
    @TempDir
    static Path tmp;
    static Path kubeconfig;

    @BeforeAll
    static void up() {
        lab = TestLab.up("itk3s", 239, "cpu-only", "jetson-nano", "orin-nano", "dgpu");
        install = K3sDistribution.of(lab.state).installUrl();
        kubeconfig = tmp.resolve("kubeconfig");
    }

    @AfterAll
    static void down() {
        lab.close();
    }

    private static Cli.Result k3gpu(String command, String node, String... more) {
        return Cli.run(TestLab.args(command, lab.ssh(node), more));
    }

    private static Cli.Result join(String node, String... more) {
        List<String> a = new ArrayList<>(List.of("--server-ip", lab.ip("node1"), "--install-url", install));
        a.addAll(List.of(more));
        if (!a.contains("--timeout")) {
            a.addAll(List.of("--timeout", "60s"));
        }
        return k3gpu("join", node, a.toArray(String[]::new));
    }

    private static String kubectl(String... args) throws IOException, InterruptedException {
        Kubectl.Result r = Kubectl.run(kubeconfig, args);
        assertThat(r.exit()).as(r.out()).isZero();
        return r.out();
    }

    /** The node token, read over SSH (node-token is a symlink that only resolves inside the node). */
    private static String token() throws IOException {
        try {
            return lab.sh("node1", "cat /var/lib/rancher/k3s/server/node-token").strip();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    @Test
    @Order(1)
    void installWritesAPrivateKubeconfigPointedAtTheServer() throws Exception {
        Cli.Result r = k3gpu("install", "node1", "--install-url", install, "--local-path", kubeconfig.toString(),
                "--context", "lab", "--timeout", "60s");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("K3s server v1.31.4+k3s1 is Ready as node node1");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(kubeconfig))).isEqualTo("rw-------");
        String yaml = Files.readString(kubeconfig);
        assertThat(yaml).contains("server: https://" + lab.ip("node1") + ":6443").contains("current-context: lab")
                .doesNotContain("127.0.0.1").doesNotContain("name: default");
        assertThat(kubectl("get", "nodes")).contains("node1").contains("Ready");
    }

    @Test
    @Order(2)
    void joinsDockerAndContainerdGpuNodesWithoutShowingTheToken() throws Exception {
        String token = token();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> seen = new AtomicReference<>();
        Thread watcher = new Thread(() -> {
            // Every process on this machine (the lab's nodes included) while the joins run.
            while (!stop.get()) {
                try {
                    Process ps = new ProcessBuilder("ps", "-eo", "args").start();
                    String all = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    if (all.contains(token.substring(token.indexOf("::") + 2))) {
                        seen.set(all.lines().filter(l -> l.contains("server:")).findFirst().orElse("?"));
                    }
                    Thread.sleep(50);
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        });
        watcher.start();
        Cli.Result nano;
        Cli.Result orin;
        Cli.Result gpu;
        try {
            nano = join("jetson1", "--docker");
            orin = join("jetson2", "--gpu");
            gpu = join("gpu1", "--gpu");
        } finally {
            stop.set(true);
            watcher.join();
        }
        for (Cli.Result r : List.of(nano, orin, gpu)) {
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.all()).doesNotContain(token);
        }
        assertThat(seen.get()).as("the token showed up in a process list").isNull();
        assertThat(nano.err()).contains("experimental");

        String wide = kubectl("get", "nodes", "-o", "wide");
        assertThat(wide.lines().filter(l -> l.contains(" Ready "))).hasSize(4);
        assertThat(line(wide, "jetson1")).contains("docker://");
        assertThat(line(wide, "jetson2")).contains("containerd://");
        assertThat(line(wide, "gpu1")).contains("containerd://");

        String labels = kubectl("get", "node", "jetson2", "--show-labels");
        assertThat(labels).contains("nvidia.com/gpu.present=true").contains("k3gpu.dev/l4t=36.4.3")
                .contains("k3gpu.dev/container-runtime=containerd-nvidia");
        assertThat(kubectl("get", "node", "gpu1", "-o", "jsonpath={.metadata.labels.nvidia\\.com/gpu\\.product}"))
                .isEqualTo("NVIDIA-H200");
        // K3s v1.31.4 has --default-runtime: the flag, on K3s's command line (node-args), no config.yaml edit
        assertThat(kubectl("get", "node", "jetson2", "-o", "jsonpath={.metadata.annotations.k3s\\.io/node-args}"))
                .contains("\"--default-runtime\",\"nvidia\"");
        assertThat(Files.exists(lab.path("jetson2", "/etc/rancher/k3s/config.yaml"))).isFalse();
    }

    @Test
    @Order(3)
    void reJoiningAJoinedNodeChangesNothing() {
        Cli.Result r = join("jetson1", "--docker");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("nothing changed");
    }

    @Test
    @Order(4)
    void nodesAndReadyUseOurKubeconfig() {
        Cli.Result nodes = Cli.run("nodes", "-o", "wide", "--kubeconfig", kubeconfig.toString());
        assertThat(nodes.exit()).isZero();
        assertThat(line(nodes.out(), "gpu1")).contains("NVIDIA-H200").contains("containerd-nvidia");
        assertThat(line(nodes.out(), "jetson1")).contains("32.7.1").contains("docker-runc");
        Cli.Result ready = Cli.run("ready", "--kubeconfig", kubeconfig.toString(), "--attempts", "3", "--pause", "1s");
        assertThat(ready.exit()).isZero();
        assertThat(ready.out()).contains("4 node(s) Ready");
    }

    @Test
    @Order(5)
    void aRuntimeThatDriftedIsSetAgainAndTheAgentRestartedWithoutAReinstall() throws Exception {
        // jetson2 (containerd, K3s's --default-runtime): converged, so join --gpu again changes nothing
        String orinAgent = agentPid("jetson2");
        Cli.Result orin = join("jetson2", "--gpu");
        assertThat(orin.exit()).as(orin.err()).isZero();
        assertThat(orin.out()).contains("nothing changed");
        assertThat(agentPid("jetson2")).isEqualTo(orinAgent);

        // jetson1 (--docker, Docker's default runc): Docker restarts with nvidia, then k3s-agent after it
        String nanoAgent = agentPid("jetson1");
        Cli.Result nano = join("jetson1", "--docker", "--gpu");
        assertThat(nano.exit()).as(nano.err()).isZero();
        assertThat(nano.out()).contains("set the NVIDIA default runtime (docker); restarted k3s-agent")
                .doesNotContain("installed K3s");
        assertThat(nano.all()).doesNotContain("installing the K3s");
        assertThat(agentPid("jetson1")).isNotEqualTo(nanoAgent);
        assertThat(lab.sh("jetson1", "docker info --format '{{.DefaultRuntime}}'").strip()).isEqualTo("nvidia");
        assertThat(kubectl("get", "node", "jetson1", "-o",
                "jsonpath={.metadata.labels.k3gpu\\.dev/container-runtime}")).isEqualTo("docker-nvidia");
        assertThat(line(kubectl("get", "nodes"), "jetson1")).contains("Ready");
    }

    /** The main process of the node's k3s-agent service: a new one after every restart. */
    private static String agentPid(String node) throws IOException, InterruptedException {
        return lab.sh(node, "cat /run/k3gpu-lab/services/k3s-agent/pid").strip();
    }

    @Test
    @Order(6)
    void aWrongTokenNeverBecomesReadyAndTheLogTailSaysWhy() throws IOException {
        Path bad = tmp.resolve("bad-token");
        String real = token();
        Files.writeString(bad, real.substring(0, real.indexOf("::")) + "::server:0000000000000000000000000000ffff\n");
        Cli.Result r = k3gpu("reset", "jetson1", "--kubeconfig", kubeconfig.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        r = join("jetson1", "--docker", "--node-token-path", bad.toString(), "--timeout", "15s");
        assertThat(r.exit()).isEqualTo(7);
        assertThat(r.err()).contains("did not become Ready within 15s").contains("the agent's last log lines");
        assertThat(r.all()).doesNotContain("0000000000000000000000000000ffff");
    }

    @Test
    @Order(7)
    void resetLeavesNothingThenTheNodeJoinsAgain() throws Exception {
        Cli.Result reset = k3gpu("reset", "jetson1", "--kubeconfig", kubeconfig.toString());
        assertThat(reset.exit()).as(reset.err()).isZero();
        assertThat(reset.out()).contains("no K3s files left");
        assertThat(lab.sh("jetson1", "ls /usr/local/bin; ls /etc/rancher/k3s 2>&1; pgrep -f '[k]3s agent' || echo none"))
                .doesNotContain("k3s-agent-uninstall.sh").contains("No such file").endsWith("none\n");
        assertThat(kubectl("get", "nodes")).doesNotContain("jetson1");

        Cli.Result again = join("jetson1", "--docker");
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(kubectl("get", "nodes")).contains("jetson1");
    }

    @Test
    @Order(8)
    void joiningWithTheWrongServerIpSaysSo() {
        List<String> a = new ArrayList<>(List.of("--server-ip", lab.ip("jetson2"), "--install-url", install));
        Cli.Result r = k3gpu("join", "gpu1", a.toArray(String[]::new));
        assertThat(r.exit()).isEqualTo(4);
        assertThat(r.err()).contains("cannot read the node token on " + lab.ip("jetson2")).contains("is this the K3s server?");
    }

    @Test
    @Order(9)
    void getConfigMergesIntoAnExistingKubeconfigReplacingTheStaleContext() throws IOException {
        Path merged = tmp.resolve("merged");
        Files.writeString(merged, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: lab
                  cluster: {server: 'https://stale:6443'}
                - name: prod
                  cluster: {server: 'https://prod:6443'}
                contexts:
                - name: lab
                  context: {cluster: lab, user: lab}
                - name: prod
                  context: {cluster: prod, user: prod}
                users:
                - name: lab
                  user: {token: stale}
                - name: prod
                  user: {token: keep}
                current-context: prod
                """);
        Cli.Result r = k3gpu("get-config", "node1", "--local-path", merged.toString(), "--context", "lab", "--merge");
        assertThat(r.exit()).as(r.err()).isZero();
        String yaml = Files.readString(merged);
        assertThat(yaml).doesNotContain("stale").contains("https://prod:6443").contains("token: keep")
                .contains("server: https://" + lab.ip("node1") + ":6443").contains("current-context: prod");
    }

    @Test
    @Order(10)
    void theServerGoingDownIsAKubernetesErrorNotAHang() throws Exception {
        lab.sh("node1", "systemctl stop k3s");
        try {
            Cli.Result r = Cli.run("nodes", "--kubeconfig", kubeconfig.toString());
            assertThat(r.exit()).isEqualTo(5);
            assertThat(r.err()).contains("listing nodes failed at https://" + lab.ip("node1") + ":6443");
            Cli.Result ready = Cli.run("ready", "--kubeconfig", kubeconfig.toString(), "--attempts", "2", "--pause", "500ms");
            assertThat(ready.exit()).isEqualTo(7);
        } finally {
            lab.sh("node1", "systemctl start k3s");
        }
    }

    @Test
    @Order(11)
    void printCommandRedactsTheToken() {
        Cli.Result r = Cli.run(TestLab.args("install", lab.ssh("node1"),
                "--install-url", install, "--local-path", tmp.resolve("k2").toString(), "--print-command", "--timeout", "60s"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).contains("INSTALL_K3S_EXEC='server --tls-san " + lab.ip("node1") + "'").contains("sh \"$d/install.sh\"");
        assertThat(r.out()).contains("already installed");
    }

    @Test
    @Order(12)
    void airGapBundleAndAPinnedVersionJoinWithoutTheMirror() throws Exception {
        Cli.Result reset = k3gpu("reset", "gpu1", "--kubeconfig", kubeconfig.toString());
        assertThat(reset.exit()).as(reset.err()).isZero();
        // No --install-url: the bundle is uploaded over SSH and installed with INSTALL_K3S_SKIP_DOWNLOAD.
        Cli.Result r = Cli.run(TestLab.args("join", lab.ssh("gpu1"), "--server-ip", lab.ip("node1"), "--gpu",
                "--airgap-bundle", K3sDistribution.of(lab.state).airgapDir().toString(), "--timeout", "60s"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(lab.sh("gpu1", "ls /var/lib/rancher/k3s/agent/images/")).contains("k3s-airgap-images-amd64");
        assertThat(line(kubectl("get", "nodes"), "gpu1")).contains("Ready");

        Cli.Result older = join("jetson2", "--gpu", "--k3s-version", "v1.30.8+k3s1");
        assertThat(older.exit()).as(older.err()).isZero();
        assertThat(line(kubectl("get", "nodes"), "jetson2")).contains("v1.30.8+k3s1");
    }

    private static String line(String table, String node) {
        return table.lines().filter(l -> l.startsWith(node + " ")).findFirst().orElse("");
    }
}
