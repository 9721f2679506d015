package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** k3gpu exporter scraped over HTTP while its lab nodes lose their tool, then their life. */
class ExporterIT {
    static TestLab lab;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    static void up() {
        lab = TestLab.up("itexport", 233, "jetson-nano", "dgpu");
    }

    @AfterAll
    static void down() {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void metricsAreServedAndADeadNodeIsReportedWhileTheOtherGoesOn() throws Exception {
        String jetson = lab.ip("jetson1");
        String gpu = lab.ip("gpu1");
        int port = freePort();
        String[] ssh = lab.ssh("jetson1");
        ssh[1] = jetson + "," + gpu;
        AtomicReference<Cli.Result> result = new AtomicReference<>();
        Thread exporter = new Thread(() -> result.set(Cli.run(TestLab.args("exporter", ssh,
                "--listen", "127.0.0.1:" + port, "--interval", "500", "--duration", "60s"))));
        exporter.start();
        try {
            String url = "http://127.0.0.1:" + port + "/metrics";
            Map<String, Double> m = scrapeUntil(url, x -> x.getOrDefault(up(jetson), 0.0) == 1.0
                    && x.getOrDefault(up(gpu), 0.0) == 1.0);

            // discrete GPU: DCGM names and units, values of the replayed H200
            String g = "{UUID=\"GPU-eed3be17-8c4b-3ec0-67f4-92cf24bce06f\",gpu=\"0\",modelName=\"NVIDIA H200\","
                    + "node=\"" + gpu + "\"}";
            assertThat(m).containsEntry("DCGM_FI_DEV_FB_TOTAL" + g, 143771.0)
                    .containsEntry("DCGM_FI_DEV_POWER_MGMT_LIMIT" + g, 700.0)
                    .containsEntry("DCGM_FI_DEV_SM_CLOCK" + g, 1980.0);
            assertThat(m.get("DCGM_FI_DEV_GPU_TEMP" + g)).isIn(42.0, 43.0);
            // Jetson: base units
            assertThat(m.get("jetson_memory_total_bytes{node=\"" + jetson + "\"}"))
                    .isIn(3964.0 * 1048576, 3965.0 * 1048576);
            assertThat(m.keySet().stream().filter(k -> k.startsWith("jetson_cpu_online{"))).hasSize(4);
            assertThat(m).containsKey("jetson_temperature_celsius{node=\"" + jetson + "\",sensor=\"gpu\"}");
            assertThat(m).containsKey("jetson_power_watts{node=\"" + jetson + "\",rail=\"POM_5V_IN\"}");

            // its tegrastats killed on the node: reported, started again
            lab.sh("jetson1", "pkill -x tegrastats");
            m = scrapeUntil(url, x -> x.getOrDefault("k3gpu_node_reconnects_total{node=\"" + jetson + "\"}", 0.0) >= 1
                    && x.getOrDefault(up(jetson), 0.0) == 1.0);
            assertThat(m).containsKey("jetson_memory_used_bytes{node=\"" + jetson + "\"}");

            // the node itself dies: up 0, its values gone, the GPU node still sampled
            ProcessHandle.of(lab.state.node("jetson1").pid()).ifPresent(ProcessHandle::destroyForcibly);
            m = scrapeUntil(url, x -> x.getOrDefault(up(jetson), 1.0) == 0.0);
            assertThat(m.keySet()).noneMatch(k -> k.startsWith("jetson_"));
            double before = m.get("k3gpu_node_samples_total{node=\"" + gpu + "\"}");
            Map<String, Double> later = scrapeUntil(url,
                    x -> x.getOrDefault("k3gpu_node_samples_total{node=\"" + gpu + "\"}", 0.0) >= before + 2);
            assertThat(later).containsEntry(up(gpu), 1.0).containsEntry(up(jetson), 0.0);
            assertThat(later).containsKey("DCGM_FI_DEV_GPU_UTIL" + g);
        } finally {
            exporter.interrupt();
            exporter.join(15_000);
        }
        assertThat(result.get().exit()).as(result.get().err()).isEqualTo(130);
        assertThat(result.get().err()).contains("serving metrics of 2 nodes at http://127.0.0.1:" + port + "/metrics",
                jetson + ": down: ");
        assertThat(lab.processesLeft("gpu1", "nvidia-smi")).isEmpty();
    }

    private static String up(String node) {
        return "k3gpu_node_up{node=\"" + node + "\"}";
    }

    /** Scrapes until the metrics satisfy the condition (15 s at most). */
    static Map<String, Double> scrapeUntil(String url, Predicate<Map<String, Double>> condition)
            throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        Map<String, Double> last = Map.of();
        while (System.nanoTime() < end) {
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
                last = parse(r.body());
                if (condition.test(last)) {
                    return last;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("metrics did not reach the expected state within 15 s; last scrape: " + last);
    }

    /** The Prometheus text format: {@code name{labels} value} per sample line; comments skipped. */
    static Map<String, Double> parse(String text) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return out;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
