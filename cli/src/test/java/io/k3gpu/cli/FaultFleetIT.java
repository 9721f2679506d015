package io.k3gpu.cli;

import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fault-injection suite's fleet half (see {@link FaultIT}): real faults while {@code k3gpu apply} builds a
 * cluster of six lab nodes (node1 its server, node2..node6 its five agents): the K3s server restarted, one agent cut
 * off, 30 % packet loss with added latency. Its rows go to the same table (target/reliability.md). A class of its own
 * with its own lab, so that the two halves run side by side (the fault execution's two forks).
 */
@Tag("fault")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultFleetIT {
    private static final FaultTable TABLE = new FaultTable("2-fleet");
    static TestLab lab;
    static K3sDistribution k3s;
    static Path dir;

    @BeforeAll
    static void up() throws Exception {
        lab = TestLab.up("ctfaultfleet", 211, "cpu-only", "cpu-only", "cpu-only", "cpu-only", "cpu-only", "cpu-only");
        k3s = K3sDistribution.of(lab.state);
        dir = Files.createTempDirectory("k3gpu-fault-fleet-it");
    }

    @AfterAll
    static void down() throws Exception {
        if (lab != null) {
            for (var n : lab.state.nodes()) {
                Faults.restore(lab, n.name());
                Faults.noLoss(lab, n.name());
            }
            lab.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static double since(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    private static Path fleetFile(String name, String connectTimeout) throws IOException {
        return fleetFile(name, connectTimeout, 22, lab.state.knownHostsFile(), "60s");
    }

    /**
     * The fleet's cluster file, its hosts reached on {@code port}, their keys in {@code knownHosts}, each node given
     * {@code readyTimeout} to be Ready.
     */
    private static Path fleetFile(String name, String connectTimeout, int port, Path knownHosts, String readyTimeout)
            throws IOException {
        Path f = dir.resolve(name);
        StringBuilder hosts = new StringBuilder("hosts:\n  - {name: cp, address: " + lab.ip("node1")
                + ", role: server, gpu: none}\n");
        for (int i = 2; i <= 6; i++) {
            hosts.append("  - {name: a").append(i).append(", address: ").append(lab.ip("node" + i))
                    .append(", role: agent, gpu: none}\n");
        }
        Files.writeString(f, """
                cluster:
                  installUrl: %s
                  readyTimeout: %s
                  kubeconfig: {path: %s, context: fleet}
                ssh:
                  key: %s
                  knownHosts: %s
                  sshConfig: /dev/null
                  strictHostKeyChecking: yes
                  connectTimeout: %s
                  port: %d
                """.formatted(k3s.installUrl(), readyTimeout, dir.resolve("fleet-kubeconfig"), lab.state.keyFile(), knownHosts,
                connectTimeout, port) + hosts);
        return f;
    }

    private static Cli.Result fleet(String verb, Path file, String... more) {
        List<String> a = new ArrayList<>(List.of(verb, "-f", file.toString()));
        a.addAll(List.of(more));
        return Cli.run(a.toArray(String[]::new));
    }

    private static long readyFleetNodes() throws Exception {
        String out = Kubectl.run(dir.resolve("fleet-kubeconfig"), "get", "nodes", "--no-headers").out();
        return out.lines().filter(l -> l.split("\\s+").length > 1 && l.split("\\s+")[1].equals("Ready")).count();
    }

    private static boolean agentInstalled(String node) {
        return Files.exists(lab.path(node, "/etc/systemd/system/k3s-agent.service"));
    }

    @Test
    @Order(1)
    void theK3sServerRestartedInTheMiddleOfAnApply() throws Exception {
        Path file = fleetFile("restart.yaml", "5s");
        long start = System.nanoTime();
        CompletableFuture<Cli.Result> run = CompletableFuture.supplyAsync(() -> fleet("apply", file));
        boolean joining = Faults.await(120, () -> agentInstalled("node3") || agentInstalled("node4"));
        lab.sh("node1", "systemctl restart k3s");
        Cli.Result r = run.get(300, TimeUnit.SECONDS);
        double took = since(start);
        assertThat(joining).isTrue();
        assertThat(r.exit()).as(r.all()).isIn(0, 1);
        Cli.Result again = fleet("apply", file);
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(readyFleetNodes()).isEqualTo(6);
        TABLE.add(new FaultTable.Row("K3s server restarted (systemctl restart k3s)", "apply, while the agents join",
                "k3gpu apply -f cluster.yaml", r.exit(), took, "60 s (Ready)",
                r.exit() == 0 ? "all 6 nodes Ready" : "the hosts named in the summary failed; the others Ready",
                "exit 0; 6 nodes Ready"));
        Cli.Result reset = fleet("reset", file);
        assertThat(reset.exit()).as(reset.all()).isZero();
    }

    @Test
    @Order(2)
    void oneAgentCutOffDuringAnApplyFailsAloneAndTheOthersFinish() throws Exception {
        Path file = fleetFile("cut.yaml", "5s");
        Files.deleteIfExists(dir.resolve("fleet-kubeconfig"));
        long start = System.nanoTime();
        CompletableFuture<Cli.Result> run = CompletableFuture.supplyAsync(() -> fleet("apply", file, "--step-timeout",
                "20s"));
        boolean joining = Faults.await(120, () -> agentInstalled("node5"));
        Faults.cut(lab, "node5");
        Cli.Result r;
        try {
            r = run.get(300, TimeUnit.SECONDS);
        } finally {
            Faults.restore(lab, "node5");
        }
        double took = since(start);
        assertThat(joining).isTrue();
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.all()).contains("a5");
        assertThat(Files.exists(dir.resolve("fleet-kubeconfig"))).as("the kubeconfig is still written").isTrue();
        assertThat(readyFleetNodes()).isGreaterThanOrEqualTo(5);
        Cli.Result again = fleet("apply", file);
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(readyFleetNodes()).isEqualTo(6);
        TABLE.add(new FaultTable.Row("link cut (veth down) of one agent of five", "apply, while that agent joins",
                "k3gpu apply -f cluster.yaml --step-timeout 20s", r.exit(), took, "20 s a step",
                "that host failed alone (named in the summary); 5 nodes Ready; kubeconfig written",
                "exit 0; 6 nodes Ready"));
        Cli.Result reset = fleet("reset", file);
        assertThat(reset.exit()).as(reset.all()).isZero();
    }

    @Test
    @Order(3)
    void thirtyPercentPacketLossAndAddedLatencySlowAnApplyButItConverges() throws Exception {
        Path file = fleetFile("baseline.yaml", "10s");
        long base = System.nanoTime();
        Cli.Result baseline = fleet("apply", file);
        double baseTook = since(base);
        assertThat(baseline.exit()).as(baseline.all()).isZero();
        Cli.Result resetAll = fleet("reset", file);
        assertThat(resetAll.exit()).as(resetAll.all()).isZero();

        // The same hosts reached through a relay on port 2222 of each node that holds every byte 150 ms each way.
        Path knownHosts = dir.resolve("known_hosts_2222");
        Files.write(knownHosts, Files.readAllLines(lab.state.knownHostsFile()).stream()
                .map(l -> l.isBlank() || l.startsWith("#") ? l : "[" + l.split(" ", 2)[0] + "]:2222 " + l.split(" ", 2)[1])
                .toList());
        // Each of a K3s agent's tries to reach the server has 10 s (Go's TLS handshake timeout) and 30 % of the
        // packets of both ends are lost: a node may need several tries, as on a real lossy link, so it gets 180 s.
        Path lossy = fleetFile("lossy.yaml", "10s", 2222, knownHosts, "180s");
        List<String> nodes = List.of("node1", "node2", "node3", "node4", "node5", "node6");
        List<Process> relays = new ArrayList<>();
        long start;
        Cli.Result r;
        try {
            for (String n : nodes) {
                relays.add(Faults.latency(lab, n, 2222, 0.15));
                Faults.loss(lab, n, 30);
            }
            start = System.nanoTime();
            r = fleet("apply", lossy);
        } finally {
            nodes.forEach(n -> Faults.noLoss(lab, n));
            relays.forEach(Process::destroy);
        }
        double took = since(start);
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(readyFleetNodes()).isEqualTo(6);
        Cli.Result again = fleet("apply", file);
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(again.all()).contains("unchanged");
        TABLE.add(new FaultTable.Row("30 % packet loss on what reaches each of the 6 nodes, and 300 ms more round "
                + "trip on SSH", "a whole apply", "k3gpu apply -f cluster.yaml", r.exit(), took, "-",
                String.format(java.util.Locale.ROOT, "6 nodes Ready: it converged (%.1f s without the faults)",
                        baseTook), "exit 0; nothing to do"));
    }
}
