package io.k3gpu.cli;

import io.k3gpu.core.telemetry.live.RecordedSample;
import io.k3gpu.core.telemetry.live.Recordings;
import io.k3gpu.core.verify.VerifyRecord;
import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** verify, train, and stats/exporter --all against the lab's cluster: the outcomes the workloads issue names. */
class WorkloadsIT {
    static TestLab lab;
    @TempDir
    static Path tmp;
    static String kubeconfig;

    @BeforeAll
    static void up() {
        lab = TestLab.up("itwork", 242, "cpu-only", "jetson-nano", "cpu-only");
        String install = K3sDistribution.of(lab.state).installUrl();
        kubeconfig = tmp.resolve("kubeconfig").toString();
        Cli.Result s = Cli.run(TestLab.args("install", lab.ssh("node1"), "--install-url", install, "--local-path", kubeconfig));
        assertThat(s.exit()).as(s.err()).isZero();
        for (String node : List.of("jetson1", "node2")) {
            Cli.Result j = Cli.run(TestLab.args("join", lab.ssh(node), "--server-ip", lab.ip("node1"), "--docker",
                    "--install-url", install));
            assertThat(j.exit()).as(j.err()).isZero();
        }
        Cli.Result g = Cli.run(TestLab.args("gpu-runtime", lab.ssh("jetson1")));
        assertThat(g.exit()).as(g.err()).isZero();
    }

    @AfterAll
    static void down() {
        lab.close();
    }

    private static Cli.Result k3gpu(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--kubeconfig", kubeconfig));
        return Cli.run(a.toArray(String[]::new));
    }

    private static String kubectl(String... args) throws IOException, InterruptedException {
        return Kubectl.run(Path.of(kubeconfig), args).out();
    }

    @Test
    void verifyPassesOnTheNvidiaJetsonAndCleansUp() throws Exception {
        Cli.Result r = k3gpu("verify", "--node", "jetson1", "-o", "json");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("\"pass\" : true").contains("libcudart.so.10.2");
        assertThat(kubectl("get", "pods")).doesNotContain("k3gpu-verify-jetson1");
        // the outcome stays on the Node for the dashboard, as kubectl reads it
        VerifyRecord kept = verifyRecord("jetson1");
        assertThat(kept.pass()).isTrue();
        assertThat(kept.reason()).isEqualTo(JsonMapper.builder().build().readTree(r.out()).get("reason").stringValue());
        assertThat(kept.pod()).startsWith("k3gpu-verify-jetson1-");
        assertThat(kept.image()).isNotBlank();
        assertThat(kept.at()).isBetween(Instant.now().minus(Duration.ofMinutes(5)), Instant.now());
        assertThat(r.err()).doesNotContain("warning");
    }

    /** The node's k3gpu.dev/verify annotation as the real kubectl reads it. */
    private static VerifyRecord verifyRecord(String node) throws IOException, InterruptedException {
        String value = kubectl("get", "node", node, "-o", "jsonpath={.metadata.annotations.k3gpu\\.dev/verify}");
        return VerifyRecord.parse(value).orElseThrow(() -> new AssertionError("no verify record on " + node + ": "
                + value));
    }

    @Test
    void verifyOnACpuOnlyNodeFailsSayingItHasNoGpu() throws Exception {
        Cli.Result r = k3gpu("verify", "--node", "node2");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).startsWith("FAIL: node2 has no NVIDIA GPU that k3gpu knows of");
        VerifyRecord kept = verifyRecord("node2");
        assertThat(kept.pass()).isFalse();
        assertThat(kept.reason()).startsWith("node2 has no NVIDIA GPU that k3gpu knows of");
    }

    @Test
    void unknownImageUnknownNodeAndUnschedulablePodAreReportedAsSuch() throws Exception {
        Cli.Result image = k3gpu("verify", "--node", "jetson1", "--image", "nope/nope", "--timeout", "30s");
        assertThat(image.exit()).isEqualTo(1);
        assertThat(image.out()).contains("the image could not be pulled on jetson1");

        Cli.Result ghost = k3gpu("verify", "--node", "ghost");
        assertThat(ghost.exit()).isEqualTo(1);
        assertThat(ghost.out()).contains("there is no node named ghost in the cluster (nodes: ");

        kubectl("taint", "node", "node2", "k3gpu.dev/test=1:NoSchedule");
        try {
            Cli.Result unschedulable = k3gpu("verify", "--node", "node2", "--timeout", "20s");
            assertThat(unschedulable.exit()).isEqualTo(1);
            assertThat(unschedulable.out()).contains("could not be scheduled on node2: 0/3 nodes are available");
        } finally {
            kubectl("taint", "node", "node2", "k3gpu.dev/test-");
        }
    }

    @Test
    void builtinTrainingCompletesWithARealAccuracyAndIsListed() {
        Cli.Result r = k3gpu("train", "--node", "jetson1", "--builtin", "fashion-mnist", "--epochs", "1",
                "--data-dir", "/usr/share/datasets/fashion-mnist", "--name", "fashion-1", "--timeout", "3m");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("job fashion-1 on jetson1: Complete").contains("test accuracy 0.");
        assertThat(r.err()).contains("epoch 1/1");
        double accuracy = Double.parseDouble(r.out().replaceAll("(?s).*test accuracy (0\\.\\d+).*", "$1"));
        assertThat(accuracy).isGreaterThan(0.75);

        Cli.Result jobs = k3gpu("jobs");
        assertThat(jobs.out()).contains("fashion-1").contains("Complete");
        Cli.Result logs = k3gpu("logs", "fashion-1");
        assertThat(logs.out()).contains("\"event\":\"done\"");
    }

    @Test
    void aFailingTrainingScriptIsFailedWithItsLog() {
        Cli.Result r = k3gpu("train", "--node", "jetson1", "--repo", K3sDistribution.of(lab.state).gitRepoUrl(),
                "--script", "missing.py", "--name", "broken-1", "--timeout", "2m");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("job broken-1 on jetson1: Failed").contains("failed: the trainer exited 2");
        assertThat(r.err()).contains("missing.py");
    }

    /** The lab's SSH flags without --ip: with --all the cluster names the nodes. */
    private static String[] sshWithoutIp() {
        String[] ssh = lab.ssh("jetson1");
        assertThat(ssh[0]).isEqualTo("--ip");
        return List.of(ssh).subList(2, ssh.length).toArray(String[]::new);
    }

    @Test
    void statsAllFollowsOnlyTheGpuNodeByItsNodeNameAndLeavesNoToolRunning() throws Exception {
        Path rec = tmp.resolve("all.jsonl");
        Cli.Result r = k3gpu(TestLab.args("stats --all", sshWithoutIp(), "--view", "plain", "--duration", "3s",
                "--interval", "500", "--record", rec.toString()));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).startsWith("GPU node of the cluster: jetson1 (" + lab.ip("jetson1") + ")\n");

        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSizeGreaterThanOrEqualTo(4).allMatch(l -> l.matches("\\d\\d:\\d\\d:\\d\\d jetson1 cpu .*"));
        List<RecordedSample> samples = Recordings.read(rec).samples();
        assertThat(samples).hasSizeGreaterThanOrEqualTo(4);
        assertThat(samples.stream().map(RecordedSample::node).collect(Collectors.toSet())).containsExactly("jetson1");
        assertThat(samples.get(0).sample().ramTotalMB()).isBetween(3964, 3965);

        assertThat(lab.processesLeft("jetson1", "tegrastats")).isEmpty();
    }

    @Test
    void exporterAllServesTheGpuNodeUnderItsNodeName() throws Exception {
        int port = ExporterIT.freePort();
        String[] args = TestLab.args("exporter --all", sshWithoutIp(), "--listen", "127.0.0.1:" + port,
                "--interval", "500", "--duration", "60s");
        AtomicReference<Cli.Result> result = new AtomicReference<>();
        Thread exporter = new Thread(() -> result.set(k3gpu(args)));
        exporter.start();
        Map<String, Double> m;
        try {
            m = ExporterIT.scrapeUntil("http://127.0.0.1:" + port + "/metrics",
                    x -> x.getOrDefault("k3gpu_node_up{node=\"jetson1\"}", 0.0) == 1.0
                            && x.containsKey("jetson_memory_total_bytes{node=\"jetson1\"}"));
        } finally {
            exporter.interrupt();
            exporter.join(15_000);
        }
        assertThat(m.get("jetson_memory_total_bytes{node=\"jetson1\"}")).isIn(3964.0 * 1048576, 3965.0 * 1048576);
        assertThat(m).containsKey("jetson_temperature_celsius{node=\"jetson1\",sensor=\"gpu\"}");
        // only the GPU node, and by its name: the CPU-only nodes and the address appear nowhere
        assertThat(m.keySet()).filteredOn(k -> k.startsWith("k3gpu_node_up{"))
                .containsExactly("k3gpu_node_up{node=\"jetson1\"}");
        assertThat(m.keySet()).noneMatch(k -> k.contains("node1") || k.contains("node2")
                || k.contains(lab.ip("jetson1")));

        assertThat(result.get().exit()).as(result.get().err()).isEqualTo(130);
        assertThat(result.get().err()).contains("GPU node of the cluster: jetson1 (" + lab.ip("jetson1") + ")",
                "serving metrics of 1 node at http://127.0.0.1:" + port + "/metrics", "jetson1: up (tegrastats)");
        assertThat(lab.processesLeft("jetson1", "tegrastats")).isEmpty();
    }
}
