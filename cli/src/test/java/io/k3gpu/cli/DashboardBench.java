package io.k3gpu.cli;

import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.PodSummary;
import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.NvidiaSmiCsvParser;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.TegrastatsParser;
import io.k3gpu.core.telemetry.live.NodeState;

import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmark harness (test code, not shipped): the dashboard's server with 30 synthetic nodes streaming at 1 Hz, fed
 * from the real captures of /work/shared/fixtures (20 Jetsons cycling through the tegrastats lines, 10 H200 servers
 * through the nvidia-smi capture), while N raw event-stream clients (cluster and node pages) listen and a headless
 * Chromium loads the pages. Prints the server's CPU (its threads and the feeding threads, which do the JSON work the
 * fleet's threads would) and the pages' load times. Usage: DashboardBench FIXTURES_DIR [SECONDS] [STREAM_CLIENTS].
 */
public final class DashboardBench {
    static final int JETSONS = 20;
    static final int GPUS = 10;

    public static void main(String[] args) throws Exception {
        Path fixtures = Path.of(args.length > 0 ? args[0] : "/work/shared/fixtures");
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        List<GpuSample> tegra = Files.readAllLines(fixtures.resolve("tegrastats/samples.txt")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).map(TegrastatsParser::parse).toList();
        NvidiaSmiCsvParser smiParser = NvidiaSmiCsvParser.forQuery(
                Files.readString(fixtures.resolve("nvidia-smi/query_fields.txt")));
        List<GpuSample> smi = Files.readAllLines(fixtures.resolve("nvidia-smi/busy_noheader_nounits.csv")).stream()
                .map(smiParser::parseLine).flatMap(java.util.Optional::stream).toList();

        List<String> names = new ArrayList<>();
        List<NodeStatus> nodes = new ArrayList<>();
        for (int i = 1; i <= JETSONS + GPUS; i++) {
            boolean jetson = i <= JETSONS;
            String name = (jetson ? "jetson" : "gpu") + String.format("%02d", i);
            names.add(name);
            nodes.add(new NodeStatus(name, true, List.of(), Instant.EPOCH, "v1.31.4+k3s1", "10.0.0." + i, null,
                    "Ubuntu", "5.15", jetson ? "docker://20.10.24" : "containerd://1.7.23-k3s2", "arm64", "1",
                    jetson ? Map.of("nvidia.com/gpu.product", "Orin", "k3gpu.dev/l4t", "36.4.3",
                            "nvidia.com/cuda.runtime-version.full", "12.6")
                            : Map.of("nvidia.com/gpu.product", "NVIDIA-H200", "nvidia.com/cuda.runtime-version.full",
                            "13.0"), "1"));
        }
        DashboardTelemetry telemetry = new DashboardTelemetry(names, Duration.ofMinutes(10));
        DashboardServerTest.MemoryCluster cluster = new DashboardServerTest.MemoryCluster() {
            @Override
            public List<NodeStatus> nodes() {
                return nodes;
            }

            @Override
            public List<PodSummary> activePods(String node) {
                return List.of();
            }
        };
        DashboardServer server = new DashboardServer(DashboardAccess.of("127.0.0.1:0", null), telemetry,
                new DashboardCluster(cluster));
        String base = "http://127.0.0.1:" + server.port();

        // 30 nodes at 1 Hz, as the fleet's I/O threads would hand them over
        AtomicLong fed = new AtomicLong();
        ScheduledExecutorService feed = Executors.newScheduledThreadPool(4, r -> {
            Thread t = new Thread(r, "bench-feed");
            t.setDaemon(true);
            return t;
        });
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            boolean jetson = i < JETSONS;
            int offset = i;
            telemetry.status(new io.k3gpu.core.telemetry.live.NodeStatus(n, NodeState.UP,
                    jetson ? Source.TEGRASTATS : Source.NVIDIA_SMI, null, null, 0));
            AtomicLong k = new AtomicLong(offset);
            feed.scheduleAtFixedRate(() -> {
                List<GpuSample> src = jetson ? tegra : smi;
                telemetry.sample(n, LocalDateTime.now(), src.get((int) (k.getAndIncrement() % src.size())));
                fed.incrementAndGet();
            }, (i * 1000L) / names.size(), 1000, TimeUnit.MILLISECONDS);
        }

        // raw event-stream clients: half on the cluster stream, half on node streams
        HttpClient http = HttpClient.newHttpClient();
        AtomicLong received = new AtomicLong();
        List<Thread> readers = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            String url = base + "/api/stream" + (c % 2 == 0 ? "" : "?node=" + names.get(c % names.size()));
            Thread t = new Thread(() -> {
                try (InputStream in = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                        HttpResponse.BodyHandlers.ofInputStream()).body()) {
                    byte[] buf = new byte[8192];
                    int r;
                    while ((r = in.read(buf)) >= 0) {
                        for (int j = 0; j < r; j++) {
                            if (buf[j] == '\n' && j > 0 && buf[j - 1] == '\n') {
                                received.incrementAndGet();
                            }
                        }
                    }
                } catch (Exception e) {
                    // the benchmark ends
                }
            }, "bench-client");
            t.setDaemon(true);
            t.start();
            readers.add(t);
        }
        Thread.sleep(12_000); // every node has a history; the JIT has warmed up

        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long cpu0 = serverCpu(mx);
        long wall0 = System.nanoTime();
        long fed0 = fed.get();
        long recv0 = received.get();
        List<Long> clusterLoads = new ArrayList<>();
        List<Long> nodeLoads = new ArrayList<>();
        List<Long> navLoads = new ArrayList<>();
        try (Browser b = new Browser()) {
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            int round = 0;
            while (System.nanoTime() < end) {
                long t0 = System.nanoTime();
                b.open(base + "/");
                b.waiting(Duration.ofSeconds(30)).until(d -> b.all("#nodes tbody td.c-load canvas").size()
                        == names.size());
                clusterLoads.add((System.nanoTime() - t0) / 1_000_000);
                navLoads.add(((Number) b.timing().get("load")).longValue());
                String node = names.get(round++ % names.size());
                t0 = System.nanoTime();
                b.open(base + "/node?name=" + node);
                b.waiting(Duration.ofSeconds(30)).until(d -> {
                    String p = b.attribute("#chart-gpu", "data-points");
                    return p != null && Integer.parseInt(p) >= 10 && !b.all("#chart-gpu canvas").isEmpty();
                });
                nodeLoads.add((System.nanoTime() - t0) / 1_000_000);
                Thread.sleep(3000); // the page streams live meanwhile
            }
            b.open(base + "/");
            b.waiting(Duration.ofSeconds(30)).until(d -> b.all("#nodes tbody td.c-load canvas").size()
                    == names.size());
            Thread.sleep(5000);
            b.screenshot(Path.of("target", "bench-cluster-30.png"));
            System.out.println("console errors (a refused script or style would be one): " + b.severe());
        }
        long wall = System.nanoTime() - wall0;
        long cpu = serverCpu(mx) - cpu0;
        double samples = (fed.get() - fed0) / (wall / 1e9);
        double events = (received.get() - recv0) / (wall / 1e9);
        System.out.printf("nodes %d (%d tegrastats, %d nvidia-smi) at 1 Hz: %.1f samples/s fed; %d event-stream "
                        + "clients took %.0f events/s%n", names.size(), JETSONS, GPUS, samples, clients, events);
        System.out.printf("server CPU (dashboard threads + JSON of the samples): %.1f%% of one core over %.0f s "
                        + "(%d cores here)%n", 100.0 * cpu / wall, wall / 1e9,
                Runtime.getRuntime().availableProcessors());
        System.out.printf("cluster page, 30 rows with sparklines (Chromium, open to drawn): median %d ms, max %d ms "
                + "(%d loads); load event median %d ms%n", median(clusterLoads), max(clusterLoads),
                clusterLoads.size(), median(navLoads));
        System.out.printf("node page, 6 charts with history (open to drawn): median %d ms, max %d ms (%d loads)%n",
                median(nodeLoads), max(nodeLoads), nodeLoads.size());
        server.close();
        feed.shutdownNow();
        System.exit(0);
    }

    /** CPU time of the threads that are the dashboard's work: its HTTP threads and the samples' fan-in. */
    private static long serverCpu(ThreadMXBean mx) {
        long sum = 0;
        for (var info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            String n = info.getThreadName();
            if (n.startsWith("k3gpu-dashboard-") || n.startsWith("HTTP-Dispatcher") || n.equals("bench-feed")) {
                long t = mx.getThreadCpuTime(info.getThreadId());
                sum += Math.max(0, t);
            }
        }
        return sum;
    }

    private static long median(List<Long> v) {
        long[] a = v.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return a.length == 0 ? -1 : a[a.length / 2];
    }

    private static long max(List<Long> v) {
        return v.stream().mapToLong(Long::longValue).max().orElse(-1);
    }

    private DashboardBench() {
    }
}
