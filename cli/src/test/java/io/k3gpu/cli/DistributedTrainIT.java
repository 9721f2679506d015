package io.k3gpu.cli;

import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * train over several nodes (issue 13) on three Jetson lab nodes with real PyTorch (Debian's python3-torch in the
 * lab's l4t-pytorch image): DDP over gloo between lab nodes, a killed worker, a rendezvous that cannot complete,
 * Ctrl-C. The trainer runs on 20000 of Fashion-MNIST's images: the real CNN on the lab's shared CPU cores.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DistributedTrainIT {
    static final String DATA = "/usr/share/datasets/fashion-mnist";
    static TestLab lab;
    static Path dir;
    static String kubeconfig;

    @BeforeAll
    static void up() throws IOException {
        lab = TestLab.up("itdist", 222, "cpu-only", "jetson-nano", "jetson-nano", "jetson-nano");
        dir = Files.createTempDirectory("k3gpu-dist-it");
        kubeconfig = dir.resolve("kubeconfig").toString();
        String install = K3sDistribution.of(lab.state).installUrl();
        Cli.Result s = Cli.run(TestLab.args("install", lab.ssh("node1"), "--install-url", install, "--local-path", kubeconfig));
        assertThat(s.exit()).as(s.all()).isZero();
        for (String node : List.of("jetson1", "jetson2", "jetson3")) {
            Cli.Result j = Cli.run(TestLab.args("join", lab.ssh(node), "--server-ip", lab.ip("node1"), "--gpu",
                    "--install-url", install));
            assertThat(j.exit()).as(j.all()).isZero();
            Cli.Result l = Cli.run(TestLab.args("label", lab.ssh(node), "--kubeconfig", kubeconfig));
            assertThat(l.exit()).as(l.all()).isZero();
        }
    }

    @AfterAll
    static void down() throws IOException {
        lab.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static String[] args(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--kubeconfig", kubeconfig));
        return a.toArray(String[]::new);
    }

    private static Cli.Result k3gpu(String... args) {
        return Cli.run(args(args));
    }

    private static Kubectl.Result kubectl(String... args) throws IOException, InterruptedException {
        return Kubectl.run(Path.of(kubeconfig), args);
    }

    private static void assertGone(String job) throws IOException, InterruptedException {
        Kubectl.Result j = kubectl("get", "job", job);
        assertThat(j.exit()).as(j.out()).isNotZero();
        assertThat(j.out()).contains("NotFound");
        Kubectl.Result s = kubectl("get", "service", job);
        assertThat(s.exit()).as(s.out()).isNotZero();
        assertThat(s.out()).contains("NotFound");
    }

    @Test
    @Order(1)
    void twoNodesTrainOneModelWithDdpOverGloo() throws Exception {
        Cli.Result r = k3gpu("train", "--nodes", "2", "--builtin", "fashion-mnist", "--epochs", "1",
                "--train-samples", "20000", "--data-dir", DATA, "--name", "dist-2", "--timeout", "10m");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("job dist-2 on jetson1,jetson2: Complete").contains("world size 2, backend gloo")
                .contains("samples/s: ").contains("all-reduce: ");
        double accuracy = Double.parseDouble(r.out().replaceAll("(?s).*test accuracy (0\\.\\d+).*", "$1"));
        assertThat(accuracy).isGreaterThanOrEqualTo(0.80);
        // every rank's epoch in the live view, prefixed by rank and node
        assertThat(r.err()).containsPattern("\\[0 jetson[12]\\] epoch 1/1").containsPattern("\\[1 jetson[12]\\] epoch 1/1");

        Kubectl.Result nodes = kubectl("get", "pods", "-l", "job-name=dist-2", "-o",
                "jsonpath={range .items[*]}{.spec.nodeName}{\"\\n\"}{end}");
        assertThat(nodes.exit()).as(nodes.out()).isZero();
        assertThat(nodes.out().lines().sorted().toList()).containsExactly("jetson1", "jetson2");
        assertThat(kubectl("get", "job", "dist-2", "-o", "jsonpath={.spec.completionMode}").out()).isEqualTo("Indexed");

        Cli.Result logs = k3gpu("logs", "dist-2");
        assertThat(logs.out()).contains("\"worldSize\":2").contains("\"backend\":\"gloo\"").contains("\"event\":\"done\"");
        Cli.Result rank1 = k3gpu("logs", "dist-2", "--rank", "1");
        assertThat(rank1.out()).contains("\"rank\":1").doesNotContain("\"event\":\"done\"");
        Cli.Result jobs = k3gpu("jobs");
        assertThat(jobs.out()).containsPattern("dist-2 +jetson1,jetson2 +Complete .* 2\\n");
        // the Service goes with the run; the Job stays for jobs/logs until its TTL
        assertThat(kubectl("get", "service", "dist-2").out()).contains("NotFound");
    }

    @Test
    @Order(2)
    void aKilledWorkerFailsTheRunNamingItsRankAndNode() throws Exception {
        K3gpuProcess train = K3gpuProcess.start(Map.of(), args("train", "--node", "jetson1,jetson3", "--builtin",
                "fashion-mnist", "--epochs", "5", "--train-samples", "20000", "--data-dir", DATA, "--name", "dist-kill",
                "--timeout", "10m"));
        Pattern joined = Pattern.compile("^\\[1 (jetson\\d)\\] \\| mnist-train\\[1@jetson\\d\\]: joined 2 ranks");
        boolean running = train.awaitLine(l -> joined.matcher(l).find(), 300);
        assertThat(running).as(train.err()).isTrue();
        Matcher m = train.err().lines().map(joined::matcher).filter(Matcher::find).findFirst().orElseThrow();
        String node = m.group(1);
        // the trainer process of rank 1 (torchrun's child: python3 -u mnist_train.py), killed on its node
        lab.sh(node, "pkill -9 -f 'python3 -u /opt/k3gpu/mnist_train.py'");
        int exit = train.await(180);
        assertThat(exit).as(train.out() + train.err()).isEqualTo(1);
        assertThat(train.out()).contains("failed: rank 1 on " + node + " failed").contains("  | ");
        assertThat(train.err()).contains("deleting job dist-kill and service dist-kill");
        assertGone("dist-kill");
    }

    @Test
    @Order(3)
    void aRendezvousThatCannotCompleteFailsNamingTheMissingRank() throws Exception {
        assertThat(kubectl("cordon", "jetson3").exit()).isZero();
        try {
            Cli.Result r = k3gpu("train", "--node", "jetson1,jetson3", "--builtin", "fashion-mnist", "--epochs", "1",
                    "--data-dir", DATA, "--name", "dist-rdv", "--rendezvous-timeout", "20s");
            assertThat(r.exit()).as(r.all()).isEqualTo(1);
            // the scheduler's message has parentheses of its own: "1 node(s) were unschedulable"
            assertThat(r.out()).containsPattern("failed: the rendezvous did not complete within 20s: rank [01] "
                    + "\\(pod dist-rdv-[01]-\\w+: Unschedulable: .*were unschedulable.*\\) never arrived; "
                    + "rank [01] on jetson1 was waiting at the rendezvous \\(dist-rdv-0.dist-rdv:29500\\)");
            assertGone("dist-rdv");
        } finally {
            kubectl("uncordon", "jetson3");
        }
    }

    @Test
    @Order(4)
    void ctrlCDeletesTheJobAndTheService() throws Exception {
        K3gpuProcess train = K3gpuProcess.start(Map.of(), args("train", "--nodes", "2", "--builtin", "fashion-mnist",
                "--epochs", "5", "--data-dir", DATA, "--name", "dist-int"));
        boolean created = train.awaitLine(l -> l.contains("creating indexed job dist-int"), 120);
        assertThat(created).as(train.err()).isTrue();
        String pods = "";
        for (int i = 0; i < 120 && pods.lines().count() < 2; i++) {
            Thread.sleep(500);
            pods = kubectl("get", "pods", "-l", "job-name=dist-int", "-o", "name").out().strip();
        }
        assertThat(kubectl("get", "service", "dist-int", "-o", "jsonpath={.spec.clusterIP}").out()).isEqualTo("None");
        train.interrupt();
        assertThat(train.await(60)).as(train.err()).isEqualTo(130);
        assertThat(train.err()).contains("interrupted: deleting job dist-int and service dist-int");
        assertGone("dist-int");
        assertThat(Arrays.asList(pods.split("\n"))).hasSize(2);
    }

    /**
     * The numbers of docs/benchmarks.md (only with -Ddist.bench=true; no timed assertion): the same training on 1, 2
     * and 3 nodes, each run's summary line written to target/dist-bench.txt.
     */
    @Test
    @Order(5)
    void benchmarkOneTwoThreeNodes() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Boolean.getBoolean("dist.bench"), "-Ddist.bench=true runs it");
        StringBuilder report = new StringBuilder();
        String[] common = {"--builtin", "fashion-mnist", "--epochs", "1", "--train-samples", "20000", "--data-dir", DATA,
                "--timeout", "20m", "-o", "json"};
        List<List<String>> runs = List.of(
                List.of("--node", "jetson1", "--image", "nvcr.io/nvidia/l4t-pytorch:r32.7.1-pth1.10-py3", "--name", "bench-1"),
                List.of("--nodes", "2", "--name", "bench-2"),
                List.of("--nodes", "3", "--name", "bench-3"));
        for (List<String> where : runs) {
            List<String> a = new ArrayList<>(List.of("train"));
            a.addAll(where);
            a.addAll(List.of(common));
            Cli.Result r = k3gpu(a.toArray(String[]::new));
            assertThat(r.exit()).as(r.all()).isZero();
            report.append(String.join(" ", a)).append('\n').append(r.out()).append('\n');
            Files.writeString(Path.of("target", "dist-bench.txt"), report);
        }
    }
}
