package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.lab.k3sdist.K3sDistribution;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.WebElement;

/**
 * k3gpu dashboard against a lab cluster (a CPU server, a Jetson Nano with Docker, an H200 server), looked at in
 * Debian's real Chromium: the cluster page's nodes and GPU columns, a node page's charts growing live, a finished
 * training run with its accuracy, and a node that dies standing out. Screenshots go to target/dashboard-*.png.
 */
class DashboardIT {
    static TestLab lab;
    @TempDir
    static Path tmp;
    static String kubeconfig;
    static final Path SHOTS = Path.of("target");

    @BeforeAll
    static void up() {
        lab = TestLab.up("itdash", 208, "cpu-only", "jetson-nano", "dgpu");
        String install = K3sDistribution.of(lab.state).installUrl();
        kubeconfig = tmp.resolve("kubeconfig").toString();
        Cli.Result s = Cli.run(TestLab.args("install", lab.ssh("node1"), "--install-url", install, "--local-path",
                kubeconfig));
        assertThat(s.exit()).as(s.err()).isZero();
        Cli.Result j = Cli.run(TestLab.args("join", lab.ssh("jetson1"), "--server-ip", lab.ip("node1"), "--docker",
                "--install-url", install));
        assertThat(j.exit()).as(j.err()).isZero();
        Cli.Result g = Cli.run(TestLab.args("join", lab.ssh("gpu1"), "--server-ip", lab.ip("node1"),
                "--install-url", install));
        assertThat(g.exit()).as(g.err()).isZero();
        // the Jetson's Docker gets the NVIDIA runtime as default, as the demo does before training there
        Cli.Result r = Cli.run(TestLab.args("gpu-runtime", lab.ssh("jetson1")));
        assertThat(r.exit()).as(r.err()).isZero();
    }

    @AfterAll
    static void down() {
        if (lab != null) {
            lab.close();
        }
    }

    private static Cli.Result k3gpu(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--kubeconfig", kubeconfig));
        return Cli.run(a.toArray(String[]::new));
    }

    /** The lab's SSH flags without --ip: the dashboard follows the cluster's GPU nodes. */
    private static String[] sshWithoutIp() {
        String[] ssh = lab.ssh("jetson1");
        return List.of(ssh).subList(2, ssh.length).toArray(String[]::new);
    }

    @Test
    void aPersonSeesTheNodesTheirLiveTelemetryAndAFinishedTraining() throws Exception {
        // the seed's way, as the demo trains (its NumPy trainer takes seconds where torch on a loaded CPU takes minutes)
        Cli.Result train = k3gpu("train", "--node", "jetson1", "--repo", K3sDistribution.of(lab.state).gitRepoUrl(),
                "--script", "mnist.py", "--epochs", "1", "--data-dir", "/usr/share/datasets/fashion-mnist",
                "--name", "fashion-dash", "--timeout", "5m");
        assertThat(train.exit()).as(train.all()).isZero();
        double accuracy = Double.parseDouble(train.out().replaceAll("(?s).*test accuracy (0\\.\\d+).*", "$1"));
        // and the Jetson is verified: its outcome, kept on the Node, is a row of the jobs page
        Cli.Result verify = k3gpu("verify", "--node", "jetson1");
        assertThat(verify.exit()).as(verify.all()).isZero();

        int port = ExporterIT.freePort();
        String base = "http://127.0.0.1:" + port;
        AtomicReference<Cli.Result> result = new AtomicReference<>();
        Thread dashboard = new Thread(() -> result.set(k3gpu(TestLab.args("dashboard", sshWithoutIp(),
                "--listen", "127.0.0.1:" + port, "--interval", "500"))));
        dashboard.start();
        try (Browser b = new Browser()) {
            awaitListening(base);

            // the cluster page: every node, its role and GPU columns; the GPU nodes' telemetry up with a sparkline
            b.open(base + "/");
            b.waiting(Duration.ofSeconds(30)).until(d -> b.all("#nodes tbody tr").size() == 3
                    && "up (tegrastats)".equals(text(b, "tr[data-node=jetson1] td.c-telemetry"))
                    && "up (nvidia-smi)".equals(text(b, "tr[data-node=gpu1] td.c-telemetry"))
                    && b.attribute("tr[data-node=jetson1] td.c-load", "data-last") != null);
            assertThat(text(b, "tr[data-node=node1] td.c-role")).contains("control-plane");
            assertThat(text(b, "tr[data-node=node1] td.c-ready")).isEqualTo("Ready");
            assertThat(text(b, "tr[data-node=node1] td.c-gpu")).isEqualTo("-");
            assertThat(text(b, "tr[data-node=node1] td.c-telemetry")).isEqualTo("not a GPU node");
            assertThat(text(b, "tr[data-node=jetson1] td.c-version")).startsWith("v1.");
            assertThat(text(b, "tr[data-node=jetson1] td.c-gpu")).contains("1x ");
            assertThat(text(b, "tr[data-node=jetson1] td.c-l4t")).startsWith("32.").contains("JetPack 4.");
            assertThat(text(b, "tr[data-node=jetson1] td.c-cuda")).startsWith("10.2");
            assertThat(text(b, "tr[data-node=jetson1] td.c-runtime")).startsWith("docker://");
            assertThat(text(b, "tr[data-node=gpu1] td.c-gpu")).contains("H200");
            assertThat(text(b, "tr[data-node=gpu1] td.c-runtime")).startsWith("containerd://");
            assertThat(b.all("tr[data-node=jetson1] td.c-load canvas")).isNotEmpty();
            b.screenshot(SHOTS.resolve("dashboard-cluster.png"));

            // a Jetson's page: its charts take new points from the stream, and the values move
            b.open(base + "/node?name=jetson1");
            b.waiting(Duration.ofSeconds(20)).until(d -> points(b, "gpu") >= 2);
            int first = points(b, "gpu");
            Set<String> seen = new LinkedHashSet<>();
            long end = System.nanoTime() + Duration.ofSeconds(6).toNanos();
            while (System.nanoTime() < end) {
                seen.add(text(b, "#chart-cpu .latest") + " | " + text(b, "#chart-power .latest"));
                Thread.sleep(250);
            }
            assertThat(points(b, "gpu")).isGreaterThanOrEqualTo(first + 4);
            assertThat(seen).as("the values shown change").hasSizeGreaterThanOrEqualTo(2);
            // one sample updates every chart in one task: read both counts in one script, between two samples
            assertThat(b.script("return document.getElementById('chart-cpu').getAttribute('data-points') + ' '"
                    + " + document.getElementById('chart-gpu').getAttribute('data-points');").toString())
                    .as("every chart takes each sample").matches("(\\d+) \\1");
            assertThat(text(b, "#chart-cpu .latest")).contains("cpu0 ");
            assertThat(text(b, "#chart-temp .latest")).isNotEqualTo("–");
            assertThat(b.all("#chart-gpu canvas")).isNotEmpty();
            assertThat(b.attribute("#download", "href")).isEqualTo("/api/recording?node=jetson1");
            b.screenshot(SHOTS.resolve("dashboard-node-jetson1.png"));
            HttpResponse<String> rec = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(base + "/api/recording?node=jetson1")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(rec.body().lines().count()).isGreaterThanOrEqualTo(first + 4);
            assertThat(rec.body().lines().findFirst().orElse("")).startsWith("{\"node\":\"jetson1\",\"received\":");

            // the H200's page: nvidia-smi's values per GPU
            b.open(base + "/node?name=gpu1");
            b.waiting(Duration.ofSeconds(20)).until(d -> points(b, "gpu") >= 3);
            assertThat(text(b, "#chart-gpu .latest")).startsWith("GPU0 load ");
            assertThat(text(b, "#chart-power .latest")).startsWith("GPU0 ");
            b.screenshot(SHOTS.resolve("dashboard-node-gpu1.png"));

            // the jobs page: the finished run with its node, world size, epochs and accuracy; its chart and log
            b.open(base + "/jobs");
            b.waiting(Duration.ofSeconds(20)).until(d -> !b.all("tr[data-job=fashion-dash]").isEmpty());
            assertThat(text(b, "tr[data-job=fashion-dash] td.c-state")).isEqualTo("Complete");
            assertThat(text(b, "tr[data-job=fashion-dash] td.c-world")).isEqualTo("1");
            assertThat(text(b, "tr[data-job=fashion-dash]")).contains("jetson1", "1 / 1");
            assertThat(text(b, "tr[data-job=fashion-dash] td.c-accuracy")).isEqualTo(String.format("%.4f", accuracy));
            b.find("tr[data-job=fashion-dash] a").click();
            b.waiting(Duration.ofSeconds(20)).until(d -> !b.all("#job-log").isEmpty()
                    && text(b, "#job-log").contains("\"event\":\"done\""));
            assertThat(b.attribute("#job-chart", "data-points")).isEqualTo("1");
            assertThat(text(b, "#job-summary")).contains("Complete", "world size 1", "test accuracy 0.");
            b.waiting(Duration.ofSeconds(20)).until(d -> !b.all("#verify tr[data-node=jetson1]").isEmpty());
            assertThat(text(b, "#verify tr[data-node=jetson1] td.c-result")).isEqualTo("PASS");
            assertThat(verify.out()).startsWith("PASS: " + text(b, "#verify tr[data-node=jetson1] td.c-reason"));
            assertThat(text(b, "#verify tr[data-node=jetson1] td.c-at")).isNotEqualTo("–");
            assertThat(b.all("#verify tbody tr")).hasSize(1);
            b.screenshot(SHOTS.resolve("dashboard-jobs.png"));

            // no script or style was refused by the Content-Security-Policy, nothing failed on any page
            assertThat(b.severe()).isEmpty();

            // the H200 server dies: its row stands out as unreachable, the others go on
            b.open(base + "/");
            b.waiting(Duration.ofSeconds(30)).until(d -> b.all("#nodes tbody tr").size() == 3);
            ProcessHandle.of(lab.state.node("gpu1").pid()).ifPresent(ProcessHandle::destroyForcibly);
            b.waiting(Duration.ofSeconds(30)).until(d -> b.find("tr[data-node=gpu1]").getDomAttribute("class")
                    .contains("unreachable"));
            assertThat(text(b, "tr[data-node=gpu1] td.c-telemetry")).startsWith("unreachable: ");
            assertThat(b.find("tr[data-node=jetson1]").getDomAttribute("class")).doesNotContain("unreachable");
            b.screenshot(SHOTS.resolve("dashboard-cluster-unreachable.png"));
        } finally {
            dashboard.interrupt();
            dashboard.join(15_000);
        }
        assertThat(result.get().exit()).as(result.get().err()).isEqualTo(130);
        assertThat(result.get().out()).startsWith("k3gpu dashboard: " + base + "/\n");
        assertThat(result.get().err()).contains("GPU nodes of the cluster: ", "jetson1: up (tegrastats)",
                "gpu1: up (nvidia-smi)");
        assertThat(lab.processesLeft("jetson1", "tegrastats")).isEmpty();
    }

    @Test
    void exposedWithoutATokenItRefusesToStart() {
        Cli.Result r = k3gpu(TestLab.args("dashboard", sshWithoutIp(), "--listen", "0.0.0.0:0"));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--listen 0.0.0.0:0 would expose the dashboard to the network without a token");
    }

    private static String text(Browser b, String css) {
        List<WebElement> e = b.all(css);
        return e.isEmpty() ? null : e.get(0).getText();
    }

    private static int points(Browser b, String chart) {
        String p = b.attribute("#chart-" + chart, "data-points");
        return p == null ? 0 : Integer.parseInt(p);
    }

    private static void awaitListening(String base) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < end) {
            try {
                http.send(HttpRequest.newBuilder(URI.create(base + "/static/app.css")).build(),
                        HttpResponse.BodyHandlers.discarding());
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        throw new AssertionError("the dashboard did not listen within 60 s");
    }
}
