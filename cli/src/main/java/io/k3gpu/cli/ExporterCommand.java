package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.telemetry.live.NodeState;
import io.k3gpu.core.telemetry.live.NodeStatus;
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
import java.util.concurrent.TimeUnit;

@Command(name = "exporter", mixinStandardHelpOptions = true,
        description = {"Serve the GPU nodes' telemetry as Prometheus metrics (/metrics).",
                "The nodes of --ip, or with --all every GPU node of the cluster; DCGM-style names for "
                + "discrete GPUs, jetson_* in base units for Jetsons, k3gpu_node_up per node. A node that "
                + "stops answering is reported (k3gpu_node_up 0) and reconnected with backoff; the others "
                + "go on."})
final class ExporterCommand implements Callable<Integer> {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT);
    private final Terminal terminal;

    @Mixin
    TelemetryOptions telemetry;

    @Option(names = "--listen", paramLabel = "[HOST]:PORT", defaultValue = "127.0.0.1:9400",
            description = "Where to serve /metrics (default ${DEFAULT-VALUE}: this machine only). "
                    + "0.0.0.0:9400 or :9400 (every interface, as Prometheus exporters read it) exposes it.")
    String listen;

    ExporterCommand(Terminal terminal) {
        this.terminal = terminal;
        this.telemetry = new TelemetryOptions(terminal);
    }

    @Override
    public Integer call() throws InterruptedException {
        Listen where = Listen.parse(listen);
        PrintWriter err = terminal.err();
        TelemetryRun run = new TelemetryRun(telemetry, err);
        List<String> nodes = run.names();
        TelemetryMetrics metrics = new TelemetryMetrics(nodes);
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(metrics);
        HTTPServer server = serve(where, registry);
        if (run.selection() != null) {
            log(err, run.selection());
        }
        log(err, "serving metrics of " + nodes.size() + (nodes.size() == 1 ? " node" : " nodes") + " at http://"
                + (where.host().isEmpty() ? "0.0.0.0" : where.host()) + ":" + server.getPort() + "/metrics");
        run.run(List.of(metrics, new StatusLog(err)), (fleet, stop) -> {
            // A node that cannot be reached yet is reported down (and logged) and retried: no reason to wait.
            fleet.start(Duration.ZERO);
            if (run.limit == null) {
                stop.await();
            } else {
                stop.await(run.limit.toMillis(), TimeUnit.MILLISECONDS);
            }
        }, server::close);
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
    record StatusLog(PrintWriter err) implements TelemetryListener {
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
