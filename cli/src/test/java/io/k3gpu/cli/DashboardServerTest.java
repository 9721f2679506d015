package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.JobStatus;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.PodOutcome;
import io.k3gpu.core.kube.PodState;
import io.k3gpu.core.kube.PodSummary;
import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.TegrastatsParser;
import io.k3gpu.core.telemetry.live.NodeState;
import io.k3gpu.core.telemetry.live.RecordedSample;
import io.k3gpu.core.telemetry.live.Recordings;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dashboard's HTTP answers over a real socket, with a cluster that answers from memory. */
class DashboardServerTest {
    static final String ORIN = "05-09-2026 18:42:06 RAM 18207/62841MB (lfb 466x4MB) SWAP 86/31420MB (cached 0MB) "
            + "CPU [14%@2188,off] EMC_FREQ 3%@2133 GR3D_FREQ 12%@[1300,1301] cpu@52.562C VDD_GPU_SOC 2412mW/2400mW";
    static final HttpClient HTTP = HttpClient.newHttpClient();
    @TempDir
    Path dir;
    DashboardTelemetry telemetry;
    DashboardServer server;
    String base;

    @BeforeEach
    void start() {
        telemetry = new DashboardTelemetry(List.of("orin1"), Duration.ofMinutes(10));
        server = new DashboardServer(DashboardAccess.of("127.0.0.1:0", null), telemetry,
                new DashboardCluster(new MemoryCluster()));
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void pagesScriptsAndTheChartLibraryAreServedFromTheDashboardWithItsPolicy() throws Exception {
        for (String path : List.of("/", "/node?name=orin1", "/jobs", "/static/app.js", "/static/app.css",
                "/static/uplot/uPlot.iife.min.js", "/static/uplot/uPlot.min.css", "/api/nodes", "/nowhere")) {
            HttpResponse<String> r = get(path);
            assertThat(r.headers().firstValue("Content-Security-Policy")).as(path).contains(DashboardAccess.CSP);
            assertThat(r.headers().firstValue("X-Content-Type-Options")).as(path).contains("nosniff");
            assertThat(r.statusCode()).as(path).isEqualTo(path.equals("/nowhere") ? 404 : 200);
        }
        String page = get("/").body();
        // nothing inline, nothing from elsewhere: every script and style is a file of the dashboard
        assertThat(page).contains("<script src=\"/static/uplot/uPlot.iife.min.js\" defer></script>")
                .doesNotContain("<style", "style=", "onload=", "onclick=", "http://", "https://", "javascript:");
        assertThat(page.replaceAll("<script src=\"/static/[^\"]+\" defer></script>", "")).doesNotContain("<script");
        assertThat(get("/static/uplot/uPlot.iife.min.js").body()).contains("uPlot");
        assertThat(get("/static/app.js").headers().firstValue("Content-Type")).contains("text/javascript; charset=utf-8");
        assertThat(get("/static/../../META-INF/MANIFEST.MF").statusCode()).isEqualTo(404);
    }

    @Test
    void itIsReadOnlyAndAnswersOnlyToALoopbackHost() throws Exception {
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/nodes"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        // Host is a restricted header of java.net.http: a raw request says what a rebinding page's browser sends
        try (var s = new java.net.Socket("127.0.0.1", server.port())) {
            s.getOutputStream().write("GET /api/nodes HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                    .readLine();
            assertThat(status).startsWith("HTTP/1.1 421");
        }
    }

    @Test
    void anExposedDashboardAsksForTheTokenAndTheLoginFormSetsIt() throws Exception {
        server.close();
        Path token = dir.resolve("token");
        Files.writeString(token, DashboardAccessTest.TOKEN);
        server = new DashboardServer(DashboardAccess.of("127.0.0.1:0", token), telemetry,
                new DashboardCluster(new MemoryCluster()));
        base = "http://127.0.0.1:" + server.port();
        assertThat(get("/api/nodes").statusCode()).isEqualTo(401);
        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(303);
        assertThat(page.headers().firstValue("Location")).contains("/login");
        assertThat(get("/login").body()).contains("<form method=\"post\" action=\"/login\"");
        HttpResponse<String> bearer = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/nodes"))
                .header("Authorization", "Bearer " + DashboardAccessTest.TOKEN).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(bearer.statusCode()).isEqualTo(200);
        HttpResponse<String> login = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/login"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("token=" + DashboardAccessTest.TOKEN)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(login.statusCode()).isEqualTo(303);
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie).contains("HttpOnly", "SameSite=Strict");
        HttpResponse<String> withCookie = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/jobs"))
                .header("Cookie", cookie.substring(0, cookie.indexOf(';'))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(withCookie.statusCode()).isEqualTo(200);
        HttpResponse<String> wrong = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/login"))
                .POST(HttpRequest.BodyPublishers.ofString("token=nope-nope-nope-nope")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.headers().firstValue("Set-Cookie")).isEmpty();
    }

    @Test
    void nodesCarryTheirGpuColumnsAndTelemetryAndJobsTheirWorldSizeAndAccuracy() throws Exception {
        telemetry.status(new io.k3gpu.core.telemetry.live.NodeStatus("orin1", NodeState.UP, Source.TEGRASTATS, null,
                null, 0));
        telemetry.sample("orin1", LocalDateTime.now(), TegrastatsParser.parse(ORIN));
        String nodes = get("/api/nodes").body();
        assertThat(nodes).contains("\"name\":\"orin1\"", "\"gpu\":\"1x Orin\"", "\"l4t\":\"36.4.3\"",
                "\"jetpack\":\"6.2\"", "\"cuda\":\"12.6\"", "\"gpuAllocatable\":\"1\"", "\"gpuInUse\":1",
                "\"state\":\"UP\"", "\"source\":\"tegrastats\"", "\"load\":[12]", "\"followed\":[\"orin1\"]");
        assertThat(nodes).contains("\"name\":\"server\"", "\"ready\":false", "\"gpuAllocatable\":null");
        assertThat(nodes).doesNotContain("secret-annotation");
        String jobs = get("/api/jobs").body();
        assertThat(jobs).contains("\"name\":\"mnist-1\"", "\"state\":\"Complete\"", "\"nodes\":[\"orin1\",\"orin2\"]",
                "\"worldSize\":2", "\"device\":\"cuda:0 (Orin)\"", "\"epochsDone\":2", "\"epochs\":2",
                "\"testAccuracy\":0.9876");
        String job = get("/api/job?name=mnist-1").body();
        assertThat(job).contains("\"history\":[{\"epoch\":1,\"loss\":0.5,\"accuracy\":0.8", "\"logTail\":\"tail of rank0\"");
        assertThat(get("/api/job?name=other").statusCode()).isEqualTo(404);
    }

    @Test
    void theJobsPageGetsEachNodesLastVerifyAndNoAnnotationThatIsNotARecord() throws Exception {
        HttpResponse<String> r = get("/api/verify");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/json; charset=utf-8");
        // by node name; the reason one line (markup stays text for textContent); orin2's note is not a record
        assertThat(r.body()).isEqualTo("[{\"node\":\"orin1\",\"result\":\"PASS\",\"at\":\"2026-12-05T16:51:03Z\","
                + "\"reason\":\"the pod saw the GPU (Orin)\",\"image\":\"nvcr.io/nvidia/l4t-pytorch\","
                + "\"pod\":\"k3gpu-verify-orin1-b2c4d\"},"
                + "{\"node\":\"server\",\"result\":\"FAIL\",\"at\":\"2026-12-05T16:40:00Z\","
                + "\"reason\":\"no GPU <script>x</script>\",\"image\":null,\"pod\":null}]");
        assertThat(get("/static/app.js").body()).contains("getJson('/api/verify')", "'Verify results'");
    }

    @Test
    void aNodeStreamDeliversEachSampleAndTheRecordingIsOneStatsPlotReads() throws Exception {
        HttpResponse<java.io.InputStream> r = HTTP.send(HttpRequest.newBuilder(URI.create(base
                + "/api/stream?node=orin1")).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.headers().firstValue("Content-Type")).contains("text/event-stream; charset=utf-8");
        BufferedReader events = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        assertThat(events.readLine()).isEqualTo("retry: 2000");
        awaitSubscribers(1);
        GpuSample s = TegrastatsParser.parse(ORIN);
        telemetry.sample("orin1", LocalDateTime.of(2026, 12, 5, 10, 0, 1), s);
        telemetry.sample("orin1", LocalDateTime.of(2026, 12, 5, 10, 0, 2), s);
        assertThat(readUntil(events, l -> l.startsWith("event: "))).isEqualTo("event: sample");
        assertThat(events.readLine()).startsWith("data: {\"node\":\"orin1\",\"received\":\"2026-12-05T10:00:01\","
                + "\"source\":\"tegrastats\"");
        r.body().close();

        HttpResponse<String> rec = get("/api/recording?node=orin1");
        assertThat(rec.headers().firstValue("Content-Disposition")).contains("attachment; filename=\"orin1.jsonl\"");
        Path file = dir.resolve("orin1.jsonl");
        Files.writeString(file, rec.body());
        List<RecordedSample> read = Recordings.read(file).samples();
        assertThat(read).hasSize(2);
        assertThat(read.get(0).sample()).isEqualTo(s);
        assertThat(get("/api/stream?node=ghost").statusCode()).isEqualTo(404);
    }

    private void awaitSubscribers(int n) throws InterruptedException {
        for (int i = 0; i < 500 && telemetry.subscribers() < n; i++) {
            Thread.sleep(10);
        }
        assertThat(telemetry.subscribers()).isEqualTo(n);
    }

    private static String readUntil(BufferedReader r, Predicate<String> p) throws Exception {
        String l;
        while ((l = r.readLine()) != null) {
            if (p.test(l)) {
                return l;
            }
        }
        return null;
    }

    /** A cluster of two nodes (a NotReady server, a Jetson with the device plugin) and a finished 2-node run. */
    static class MemoryCluster implements ClusterApi {
        @Override
        public String serverVersion() {
            return "v1.31.4+k3s1";
        }

        @Override
        public List<NodeStatus> nodes() {
            return List.of(
                    new NodeStatus("server", false, List.of("control-plane", "master"), Instant.EPOCH, "v1.31.4+k3s1",
                            "10.0.0.1", null, "Debian", "6.1", "containerd://1.7.23-k3s2", "amd64", null,
                            Map.of()),
                    new NodeStatus("orin1", true, List.of(), Instant.EPOCH, "v1.31.4+k3s1", "10.0.0.2", null,
                            "Ubuntu 22.04", "5.15-tegra", "docker://20.10.24", "arm64", "1",
                            Map.of("nvidia.com/gpu.product", "Orin", "k3gpu.dev/l4t", "36.4.3",
                                    "nvidia.com/cuda.runtime-version.full", "12.6"), "1"));
        }

        @Override
        public Map<String, String> nodeAnnotation(String key) {
            assertThat(key).isEqualTo("k3gpu.dev/verify");
            return Map.of("orin1", "{\"result\":\"PASS\",\"at\":\"2026-12-05T16:51:03Z\","
                            + "\"reason\":\"the pod saw the GPU (Orin)\",\"image\":\"nvcr.io/nvidia/l4t-pytorch\","
                            + "\"pod\":\"k3gpu-verify-orin1-b2c4d\"}",
                    "server", "{\"result\":\"FAIL\",\"at\":\"2026-12-05T16:40:00Z\","
                            + "\"reason\":\"no GPU\\n<script>x</script>\",\"image\":null,\"pod\":null}",
                    "orin2", "someone else's note");
        }

        @Override
        public List<PodSummary> activePods(String node) {
            return List.of(new PodSummary("default", "mnist-1-0", "orin1", "Running", 1, List.of()));
        }

        @Override
        public List<JobStatus> jobs(String namespace, String labelSelector) {
            assertThat(labelSelector).isEqualTo("k3gpu.dev/training=true");
            return List.of(job());
        }

        private static JobStatus job() {
            return new JobStatus("mnist-1", "default", "Complete", Instant.parse("2026-12-05T10:00:00Z"),
                    Instant.parse("2026-12-05T10:01:00Z"), Map.of("k3gpu.dev/training", "true"), 2, 2);
        }

        @Override
        public Optional<JobStatus> job(String namespace, String name) {
            return name.equals("mnist-1") ? Optional.of(job()) : Optional.empty();
        }

        @Override
        public List<PodState> pods(String namespace, String labelSelector) {
            return List.of(new PodState("mnist-1-1-x", "orin2", "Succeeded", false, null, 0,
                            Map.of(DashboardCluster.COMPLETION_INDEX, "1")),
                    new PodState("mnist-1-0-y", "orin1", "Succeeded", false, null, 0,
                            Map.of(DashboardCluster.COMPLETION_INDEX, "0", "secret-annotation", "x")));
        }

        @Override
        public String podLogs(String namespace, String pod, String container) {
            assertThat(pod).isEqualTo("mnist-1-0-y");
            return "{\"event\":\"start\",\"epochs\":2,\"device\":\"cuda:0 (Orin)\"}\n"
                    + "{\"event\":\"epoch\",\"epoch\":1,\"epochs\":2,\"loss\":0.5,\"accuracy\":0.8}\n"
                    + "{\"event\":\"epoch\",\"epoch\":2,\"epochs\":2,\"loss\":0.25,\"accuracy\":0.9}\n"
                    + "{\"event\":\"done\",\"testAccuracy\":0.9876,\"durationSeconds\":50}\n";
        }

        @Override
        public String podLogTail(String namespace, String pod, String container, int lines, boolean previous) {
            return "tail of rank" + (pod.equals("mnist-1-0-y") ? "0" : "?");
        }

        @Override
        public Optional<NodeStatus> node(String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<NodeStatus> awaitNodeReady(String name, Predicate<NodeStatus> which, Duration timeout) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Map<String, String> label(String node, Map<String, String> labels) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean deleteNode(String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void applyConfigMap(String namespace, String name, Map<String, String> data) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void create(String namespace, String yaml) {
            throw new UnsupportedOperationException();
        }

        @Override
        public PodOutcome awaitPod(String namespace, String pod, Duration timeout, boolean untilRunning) {
            throw new UnsupportedOperationException();
        }

        @Override
        public AutoCloseable followLogs(String namespace, String pod, String container, Consumer<String> lines) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void deletePod(String namespace, String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void deleteJob(String namespace, String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<String> podOfJob(String namespace, String job) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }
}
