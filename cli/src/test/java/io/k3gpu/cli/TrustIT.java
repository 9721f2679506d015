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
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a node says is not trusted: a planted kubeconfig (issue 10, hole 3), a cloned hostname and a kubeconfig of
 * another cluster (hole 5), Node objects left by a fleet reset (hole 12). Two clusters: A (server node1, agent node2)
 * and B (server node4); node3 is a board cloned from node2 (same hostname).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrustIT {
    static TestLab lab;
    static String install;
    @TempDir
    static Path tmp;
    static Path clusterA;
    static Path clusterB;

    @BeforeAll
    static void up() {
        lab = TestLab.up("ittrust", 245, "cpu-only", "cpu-only", "cpu-only", "cpu-only");
        install = K3sDistribution.of(lab.state).installUrl();
        clusterA = tmp.resolve("a.kubeconfig");
        clusterB = tmp.resolve("b.kubeconfig");
    }

    @AfterAll
    static void down() {
        lab.close();
    }

    private static Cli.Result k3gpu(String command, String node, String... more) {
        return Cli.run(TestLab.args(command, lab.ssh(node), more));
    }

    private static Cli.Result join(String node, String server, String... more) {
        List<String> a = new ArrayList<>(List.of("--server-ip", lab.ip(server), "--install-url", install));
        a.addAll(List.of(more));
        if (!a.contains("--timeout")) {
            a.addAll(List.of("--timeout", "60s"));
        }
        return k3gpu("join", node, a.toArray(String[]::new));
    }

    private static String kubectl(Path kubeconfig, String... args) throws IOException, InterruptedException {
        Kubectl.Result r = Kubectl.run(kubeconfig, args);
        assertThat(r.exit()).as(r.out()).isZero();
        return r.out();
    }

    /** The node's InternalIP in the cluster, as kubectl reads it. */
    private static String internalIp(Path kubeconfig, String node) throws IOException, InterruptedException {
        return kubectl(kubeconfig, "get", "node", node, "-o",
                "jsonpath={.status.addresses[?(@.type==\"InternalIP\")].address}").strip();
    }

    @Test
    @Order(1)
    void twoClustersAndOneAgent() throws Exception {
        Cli.Result a = k3gpu("install", "node1", "--install-url", install, "--local-path", clusterA.toString(),
                "--timeout", "60s");
        assertThat(a.exit()).as(a.err()).isZero();
        Cli.Result b = k3gpu("install", "node4", "--install-url", install, "--local-path", clusterB.toString(),
                "--timeout", "60s");
        assertThat(b.exit()).as(b.err()).isZero();
        Cli.Result agent = join("node2", "node1");
        assertThat(agent.exit()).as(agent.err()).isZero();
        assertThat(internalIp(clusterA, "node2")).isEqualTo(lab.ip("node2"));
    }

    /** Hole 5: K3s refuses the clone ("Node password rejected"); join must not take the other board's Node for it. */
    @Test
    @Order(2)
    void aBoardWithAClonedHostnameNeverJoinsAsTheOther() throws Exception {
        lab.sh("node3", "hostname node2 && echo node2 > /etc/hostname");
        assertThat(lab.sh("node3", "hostname").strip()).isEqualTo("node2");

        Cli.Result clone = join("node3", "node1", "--timeout", "20s");
        assertThat(clone.exit()).as(clone.out() + clone.err()).isEqualTo(1);
        assertThat(clone.err()).contains("node node2 in the cluster is another machine (InternalIP " + lab.ip("node2"))
                .contains("two machines share the hostname node2, and " + lab.ip("node3") + " did not join")
                .contains("Node password rejected");
        assertThat(clone.out()).doesNotContain("Ready");
        assertThat(internalIp(clusterA, "node2")).isEqualTo(lab.ip("node2"));
        assertThat(kubectl(clusterA, "get", "nodes")).containsPattern("node2\\s+Ready");
    }

    /** Hole 5: reset --ip with the kubeconfig of cluster A for a board joined to cluster B changes nothing. */
    @Test
    @Order(3)
    void resetWithAnotherClustersKubeconfigIsRefusedAndDeletesNothing() throws Exception {
        Cli.Result joinB = join("node3", "node4");
        assertThat(joinB.exit()).as(joinB.err()).isZero();
        assertThat(internalIp(clusterB, "node2")).isEqualTo(lab.ip("node3"));

        Cli.Result wrong = k3gpu("reset", "node3", "--kubeconfig", clusterA.toString());
        assertThat(wrong.exit()).as(wrong.out() + wrong.err()).isEqualTo(1);
        assertThat(wrong.err()).contains(lab.ip("node3") + " (node node2) is joined to https://" + lab.ip("node4")
                + ":6443, not to the kubeconfig's cluster at https://" + lab.ip("node1") + ":6443");
        assertThat(internalIp(clusterA, "node2")).isEqualTo(lab.ip("node2"));
        assertThat(internalIp(clusterB, "node2")).isEqualTo(lab.ip("node3"));
        assertThat(Files.exists(lab.path("node3", "/usr/local/bin/k3s-agent-uninstall.sh"))).isTrue();

        Cli.Result right = k3gpu("reset", "node3", "--kubeconfig", clusterB.toString());
        assertThat(right.exit()).as(right.err()).isZero();
        assertThat(right.out()).contains("node node2 deleted from the cluster");
        assertThat(kubectl(clusterB, "get", "nodes")).doesNotContain("node2");
        assertThat(internalIp(clusterA, "node2")).isEqualTo(lab.ip("node2"));
    }

    /** Hole 12: agents reset while the cluster's first server cannot be reached leave their Node objects: not exit 0. */
    @Test
    @Order(4)
    void aFleetResetThatCannotDeleteTheNodesFails() throws Exception {
        Path file = tmp.resolve("cluster.yaml");
        // the first server's address answers nothing: the cluster cannot be opened to delete the agent's Node
        Files.writeString(file, """
                cluster:
                  installUrl: %s
                  readyTimeout: 60s
                ssh:
                  key: %s
                  knownHosts: %s
                  sshConfig: /dev/null
                  connectTimeout: 2s
                hosts:
                  - {name: s, address: 10.213.245.99, role: server, gpu: none}
                  - {name: a, address: %s, role: agent, gpu: none}
                """.formatted(install, lab.state.keyFile(), lab.state.knownHostsFile(), lab.ip("node2")));
        Cli.Result r = Cli.run("reset", "-f", file.toString(), "--host", "a");
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.err()).contains("the Node objects of a may be left in the cluster: cannot reach the cluster through s");
        assertThat(Files.exists(lab.path("node2", "/usr/local/bin/k3s-agent-uninstall.sh"))).isFalse();
        assertThat(kubectl(clusterA, "get", "nodes")).contains("node2");
    }

    /** Hole 3: an exec user planted in k3s.yaml is refused by name; no local kubeconfig changes; nothing runs here. */
    @Test
    @Order(5)
    void aPlantedExecUserInTheServersKubeconfigIsRefusedAndNothingLocalChanges() throws Exception {
        Path marker = tmp.resolve("exec-ran");
        String k3s = lab.sh("node1", "cat /etc/rancher/k3s/k3s.yaml");
        String planted = k3s.replaceFirst("(?m)^  user:\n", "  user:\n    exec:\n"
                + "      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n"
                + "      args: [\"-c\", \"touch " + marker + "\"]\n");
        assertThat(planted).isNotEqualTo(k3s);
        lab.sh("node1", "echo " + Base64.getEncoder().encodeToString(planted.getBytes(StandardCharsets.UTF_8))
                + " | base64 -d > /etc/rancher/k3s/k3s.yaml");

        byte[] before = Files.readAllBytes(clusterA);
        Cli.Result merge = k3gpu("get-config", "node1", "--local-path", clusterA.toString(), "--context", "planted",
                "--merge", "--set-current");
        assertThat(merge.exit()).as(merge.out() + merge.err()).isEqualTo(1);
        assertThat(merge.err()).contains("refusing the server's kubeconfig: " + lab.ip("node1")
                + ":/etc/rancher/k3s/k3s.yaml has users[0].user.exec, which K3s never writes");
        assertThat(Files.readAllBytes(clusterA)).isEqualTo(before);

        Path fresh = tmp.resolve("fresh.kubeconfig");
        Cli.Result save = k3gpu("get-config", "node1", "--local-path", fresh.toString());
        assertThat(save.exit()).isEqualTo(1);
        assertThat(fresh).doesNotExist();

        Cli.Result again = k3gpu("install", "node1", "--install-url", install, "--local-path", clusterA.toString(),
                "--merge", "--timeout", "30s");
        assertThat(again.exit()).as(again.out() + again.err()).isEqualTo(1);
        assertThat(again.err()).contains("has users[0].user.exec");
        assertThat(Files.readAllBytes(clusterA)).isEqualTo(before);
        assertThat(marker).doesNotExist();
    }
}
