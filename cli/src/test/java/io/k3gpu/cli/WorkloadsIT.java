package io.k3gpu.cli;

import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** verify and train against the lab's cluster: the outcomes the workloads issue names. */
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
        List<String> cmd = new ArrayList<>(List.of("kubectl", "--kubeconfig", kubeconfig));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    @Test
    void verifyPassesOnTheNvidiaJetsonAndCleansUp() throws Exception {
        Cli.Result r = k3gpu("verify", "--node", "jetson1", "-o", "json");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("\"pass\" : true").contains("libcudart.so.10.2");
        assertThat(kubectl("get", "pods")).doesNotContain("k3gpu-verify-jetson1");
    }

    @Test
    void verifyOnACpuOnlyNodeFailsSayingItHasNoGpu() {
        Cli.Result r = k3gpu("verify", "--node", "node2");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).startsWith("FAIL: node2 has no NVIDIA GPU that k3gpu knows of");
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
}
