package io.k3gpu.bench;

import io.k3gpu.core.remote.LineSplitter;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.live.FleetOptions;
import io.k3gpu.core.telemetry.live.NodeState;
import io.k3gpu.core.telemetry.live.NodeStatus;
import io.k3gpu.core.telemetry.live.TelemetryFleet;
import io.k3gpu.core.telemetry.live.TelemetryLink;
import io.k3gpu.core.telemetry.live.TelemetryStream;
import io.k3gpu.core.telemetry.prometheus.TelemetryMetrics;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The controller following N nodes at 1 Hz: {@code java -Xmx256m -cp bench/target/benchmarks.jar
 * io.k3gpu.bench.FanIn N [WARMUP_S MEASURE_S]}. Each synthetic node prints a real fixture line once a second (nine
 * in ten tegrastats lines of every JetPack format, one in ten an H200 nvidia-smi row), as bytes into the same line
 * splitter an SSH channel feeds; the fleet parses them and the exporter's collector keeps them, and the metrics are
 * scraped every 15 s as Prometheus does. SSH itself (crypto, framing) is not part of it. Prints the CPU time of the
 * whole process (every thread, GC and JIT included) over the measured wall time as a share of one core, and the heap.
 */
public final class FanIn {

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int measure = args.length > 2 ? Integer.parseInt(args[2]) : 30;
        List<byte[]> tegra = bytes(FixtureLines.tegrastats());
        List<byte[]> smi = bytes(FixtureLines.nvidiaSmiRowsAsK3gpuQueries());

        ScheduledExecutorService ticker = Executors.newScheduledThreadPool(1, r -> {
            Thread t = new Thread(r, "synthetic-nodes");
            t.setDaemon(true);
            return t;
        });
        List<TelemetryLink> links = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = String.format(Locale.ROOT, "node%04d", i);
            names.add(name);
            boolean gpu = i % 10 == 9;
            links.add(new SyntheticLink(name, ticker, gpu ? smi : tegra, gpu ? Source.NVIDIA_SMI : Source.TEGRASTATS,
                    i * 1000L / n, i));
        }
        TelemetryMetrics metrics = new TelemetryMetrics(names);
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(metrics);
        CountingListener counting = new CountingListener(metrics);
        TelemetryFleet fleet = new TelemetryFleet(links, counting, FleetOptions.defaults(Duration.ofSeconds(1)));
        if (!fleet.start(Duration.ofSeconds(60)).isEmpty()) {
            throw new IllegalStateException("synthetic nodes failed to start");
        }
        Thread.sleep(warmup * 1000L);
        long up = fleet.statuses().stream().filter(s -> s.state() == NodeState.UP).count();
        if (up != n || counting.bad > 0) {
            throw new IllegalStateException(up + " of " + n + " nodes up, " + counting.bad + " bad lines");
        }

        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long samples0 = counting.samples;
        long cpu0 = os.getProcessCpuTime();
        long wall0 = System.nanoTime();
        long maxUsed = 0;
        long scrapeNanos = 0;
        int scrapes = 0;
        long scrapeBytes = 0;
        for (int s = 0; s < measure * 2; s++) {
            Thread.sleep(500);
            maxUsed = Math.max(maxUsed, memory.getHeapMemoryUsage().getUsed());
            if (s % 30 == 29) { // every 15 s
                long t = System.nanoTime();
                CountingStream out = new CountingStream();
                PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.DEFAULT);
                scrapeNanos += System.nanoTime() - t;
                scrapeBytes = out.count;
                scrapes++;
            }
        }
        long wall = System.nanoTime() - wall0;
        long cpu = os.getProcessCpuTime() - cpu0;
        long samples = counting.samples - samples0;
        fleet.stop();
        ticker.shutdownNow();
        System.gc();
        Thread.sleep(200);
        System.gc();
        long live = memory.getHeapMemoryUsage().getUsed();
        long max = Runtime.getRuntime().maxMemory();

        System.out.printf(Locale.ROOT, "nodes=%d up=%d samples/s=%.1f cpu=%.2f%% of one core "
                        + "heap: max used %.1f MB, live after GC %.1f MB (-Xmx %.0f MB); %d scrapes of %d bytes, "
                        + "%.1f ms each%n",
                n, up, samples * 1e9 / wall, 100.0 * cpu / wall, maxUsed / 1048576.0, live / 1048576.0,
                max / 1048576.0, scrapes, scrapeBytes, scrapes == 0 ? 0 : scrapeNanos / 1e6 / scrapes);
        System.out.printf(Locale.ROOT, "| %d | %.0f | %.2f %% | %.1f MB | %.1f MB | %.1f ms |%n", n,
                samples * 1e9 / wall, 100.0 * cpu / wall, maxUsed / 1048576.0, live / 1048576.0,
                scrapes == 0 ? 0 : scrapeNanos / 1e6 / scrapes);
        System.exit(0);
    }

    private static List<byte[]> bytes(List<String> lines) {
        List<byte[]> out = new ArrayList<>();
        for (String l : lines) {
            out.add((l + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    /** A node that prints one line a second from the fixtures, into a line splitter, as an SSH channel would. */
    private static final class SyntheticLink implements TelemetryLink {
        private final String node;
        private final ScheduledExecutorService ticker;
        private final List<byte[]> lines;
        private final Source source;
        private final long phaseMs;
        private int next;

        SyntheticLink(String node, ScheduledExecutorService ticker, List<byte[]> lines, Source source, long phaseMs,
                      int first) {
            this.node = node;
            this.ticker = ticker;
            this.lines = lines;
            this.source = source;
            this.phaseMs = phaseMs;
            this.next = first;
        }

        @Override
        public String node() {
            return node;
        }

        @Override
        public TelemetryStream start(Function<Source, Consumer<String>> handler) {
            LineSplitter splitter = new LineSplitter(handler.apply(source));
            CompletableFuture<Integer> exit = new CompletableFuture<>();
            ScheduledFuture<?> task = ticker.scheduleAtFixedRate(() -> {
                byte[] b = lines.get(next++ % lines.size());
                splitter.write(b, 0, b.length);
            }, phaseMs, 1000, TimeUnit.MILLISECONDS);
            return new TelemetryStream() {
                @Override
                public Source source() {
                    return source;
                }

                @Override
                public CompletableFuture<Integer> exit() {
                    return exit;
                }

                @Override
                public String describeExit(int status) {
                    return "ended";
                }

                @Override
                public void stop(Duration grace) {
                    task.cancel(false);
                    exit.complete(0);
                }
            };
        }
    }

    /** The exporter's collector, counting samples on the way. */
    private static final class CountingListener implements io.k3gpu.core.telemetry.live.TelemetryListener {
        private final TelemetryMetrics metrics;
        volatile long samples;
        volatile long bad;

        CountingListener(TelemetryMetrics metrics) {
            this.metrics = metrics;
        }

        @Override
        public void sample(String node, java.time.LocalDateTime received, io.k3gpu.core.telemetry.GpuSample s) {
            metrics.sample(node, received, s);
            samples++;
        }

        @Override
        public void status(NodeStatus status) {
            metrics.status(status);
        }

        @Override
        public void badLine(String node, String line, String error) {
            metrics.badLine(node, line, error);
            bad++;
        }
    }

    private static final class CountingStream extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            count += len;
        }
    }
}
