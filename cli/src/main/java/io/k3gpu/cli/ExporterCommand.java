package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.live.FleetOptions;
import io.k3gpu.core.telemetry.live.NodeState;
import io.k3gpu.core.telemetry.live.NodeStatus;
import io.k3gpu.core.telemetry.live.TelemetryFleet;
import io.k3gpu.core.telemetry.live.TelemetryLink;
import io.k3gpu.core.telemetry.live.TelemetryListener;
import io.k3gpu.core.telemetry.prometheus.TelemetryMetrics;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "exporter", mixinStandardHelpOptions = true,
        description = "Serve the GPU nodes' telemetry as Prometheus metrics (/metrics): DCGM-style names for "
                + "discrete GPUs, jetson_* in base units for Jetsons, k3gpu_node_up per node. A node that "
                + "stops answering is reported (k3gpu_node_up 0) and reconnected with backoff; the others "
                + "go on.")
final class ExporterCommand implements Callable<Integer> {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT);
    private final Terminal terminal;

    @Mixin
    SshOptions ssh;

    @Option(names = "--listen", paramLabel = "[HOST]:PORT", defaultValue = ":9400",
            description = "Where to serve /metrics (default ${DEFAULT-VALUE}: every interface, port 9400).")
    String listen;

    @Option(names = "--interval", paramLabel = "MS", defaultValue = "1000",
            description = "Sampling interval in milliseconds (or a duration like 2s); default ${DEFAULT-VALUE}.")
    String interval;

    @Option(names = "--source", paramLabel = "SOURCE", defaultValue = "auto",
            description = "auto (default: tegrastats where present, else nvidia-smi), tegrastats or nvidia-smi.")
    String source;

    @Option(names = "--duration", paramLabel = "DURATION",
            description = "Stop after this long; default: until Ctrl-C.")
    String duration;

    ExporterCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshOptions(terminal);
    }

    @Override
    public Integer call() throws InterruptedException {
        List<String> hosts = StatsTargets.hosts(ssh);
        int intervalMs = StatsTargets.intervalMs(interval);
        Duration limit = StatsTargets.duration(duration);
        Source forced = StatsTargets.source(source);
        Listen where = Listen.parse(listen);
        PrintWriter err = terminal.err();
        ConsoleEvents events = new ConsoleEvents(err);

        TelemetryMetrics metrics = new TelemetryMetrics(hosts);
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(metrics);
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch cleanedUp = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                cleanedUp.await(8, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "k3gpu-exporter-stop");
        HTTPServer server = serve(where, registry);
        Runtime.getRuntime().addShutdownHook(hook);
        try (SshConnector connector = new SshConnector(m -> events.warn(null, m))) {
            log(err, "serving metrics of " + hosts.size() + (hosts.size() == 1 ? " node" : " nodes") + " at http://"
                    + (where.host().isEmpty() ? "0.0.0.0" : where.host()) + ":" + server.getPort() + "/metrics");
            List<TelemetryLink> links = StatsTargets.links(hosts, ssh, connector, forced, intervalMs);
            TelemetryFleet fleet = new TelemetryFleet(links, new StatsCommand.Fanout(List.of(metrics,
                    new StatusLog(err))), FleetOptions.defaults(Duration.ofMillis(intervalMs)));
            try {
                // A node that cannot be reached yet is reported down (and logged) and retried: no reason to wait.
                fleet.start(Duration.ZERO);
                if (limit == null) {
                    stop.await();
                } else {
                    stop.await(limit.toMillis(), TimeUnit.MILLISECONDS);
                }
            } finally {
                fleet.stop();
            }
        } finally {
            server.close();
            cleanedUp.countDown();
            StatsCommand.removeHook(hook);
        }
        return 0;
    }

    private static HTTPServer serve(Listen where, PrometheusRegistry registry) {
        try {
            HTTPServer.Builder b = HTTPServer.builder().port(where.port()).registry(registry);
            if (!where.host().isEmpty()) {
                b.hostname(where.host());
            }
            return b.buildAndStart();
        } catch (BindException e) {
            throw new K3gpuException(ExitCode.FAILED, "cannot listen on " + where + ": " + e.getMessage(),
                    "is another exporter running there? pick another port with --listen");
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.FAILED, "cannot listen on " + where + ": " + e.getMessage(),
                    "check --listen");
        }
    }

    static void log(PrintWriter err, String message) {
        synchronized (err) {
            err.println(CLOCK.format(LocalTime.now()) + " " + message);
            err.flush();
        }
    }

    /** {@code --listen [HOST]:PORT}. */
    record Listen(String host, int port) {
        static Listen parse(String text) {
            String s = text.strip();
            int colon = s.lastIndexOf(':');
            String host = colon < 0 ? "" : s.substring(0, colon);
            String port = colon < 0 ? s : s.substring(colon + 1);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (!port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535) {
                throw new K3gpuException(ExitCode.USAGE, "bad --listen '" + text + "'",
                        "write it as :9400, 127.0.0.1:9400 or HOST:PORT");
            }
            return new Listen(host, Integer.parseInt(port));
        }

        @Override
        public String toString() {
            return (host.isEmpty() ? "" : host) + ":" + port;
        }
    }

    /** Node state changes as log lines on stderr. */
    private record StatusLog(PrintWriter err) implements TelemetryListener {
        @Override
        public void sample(String node, LocalDateTime received, io.k3gpu.core.telemetry.GpuSample sample) {
        }

        @Override
        public void status(NodeStatus s) {
            if (s.state() == NodeState.UP) {
                log(err, s.node() + ": up (" + (s.source() == null ? "?" : s.source().id()) + ")");
            } else if (s.state() == NodeState.DOWN) {
                log(err, s.node() + ": down: " + s.detail() + (s.retryIn() == null ? ""
                        : "; retrying in " + Math.max(1, s.retryIn().toSeconds()) + "s"));
            }
        }
    }
}
