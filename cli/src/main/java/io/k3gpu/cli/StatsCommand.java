package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.cli.chart.ChartData;
import io.k3gpu.cli.chart.TelemetryChart;
import io.k3gpu.core.telemetry.live.NodeState;
import io.k3gpu.core.telemetry.live.NodeStatus;
import io.k3gpu.core.telemetry.live.Recorder;
import io.k3gpu.core.telemetry.live.TelemetryListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

@Command(name = "stats", mixinStandardHelpOptions = true,
        description = {"Watch the GPU nodes' hardware live: tegrastats on Jetsons, nvidia-smi on GPU servers.",
                "The nodes of --ip, or with --all every GPU node of the cluster, the tool chosen per node, over each node's SSH session, all nodes at once. On a terminal "
                + "the view is redrawn in place; otherwise one line per sample. Ctrl-C or --duration stops "
                + "it, and the tool on the node with it. Subcommands read and plot recordings."},
        subcommands = {StatsParseCommand.class, StatsPlotCommand.class})
final class StatsCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    TelemetryOptions telemetry;

    @Option(names = "--record", paramLabel = "FILE",
            description = "Also write every sample to FILE.jsonl (everything) or FILE.csv (flat columns).")
    Path record;

    @Option(names = "--plot", paramLabel = "FILE",
            description = "When stopping, draw the run as time-series charts: FILE.png or FILE.svg.")
    Path plot;

    @Option(names = "--view", paramLabel = "VIEW", defaultValue = "auto",
            description = "auto (default: live when stdout is a terminal), live (redrawn in place) or plain "
                    + "(one line per sample).")
    String view;

    StatsCommand(Terminal terminal) {
        this.terminal = terminal;
        this.telemetry = new TelemetryOptions(terminal);
    }

    @Override
    public Integer call() throws InterruptedException {
        boolean live = live();
        if (plot != null) {
            checkPlotName(plot);
        }
        TelemetryRun run = new TelemetryRun(telemetry, terminal.err());
        List<String> nodes = run.names();
        // The live view draws with escape sequences and strips the node text it shows itself.
        PrintWriter out = live ? terminal.screen() : terminal.out();
        PrintWriter err = terminal.err();
        if (!live && run.selection() != null) {
            err.println(run.selection());
            err.flush();
        }
        List<TelemetryListener> listeners = new ArrayList<>();
        StatsLiveView liveView = live ? new StatsLiveView(nodes, terminal.unicode()) : null;
        PlainOutput plain = live ? null : new PlainOutput(out, err);
        AtomicLong samples = new AtomicLong();
        listeners.add(live ? liveView : plain);
        ChartData chart = plot == null ? null : new ChartData();
        if (chart != null) {
            listeners.add((node, received, sample) -> chart.add(node, received, sample));
        }
        Recorder recorder = record == null ? null : Recorder.open(record, nodes.size());
        if (recorder != null) {
            listeners.add(recorder);
        }
        listeners.add((node, received, sample) -> samples.incrementAndGet());

        run.run(listeners, (fleet, stop) -> {
            try {
                if (live) {
                    out.print("\033[?25l\033[2J");
                    out.flush();
                }
                Map<String, RuntimeException> failed = fleet.start(run.startTimeout);
                if (!failed.isEmpty()) {
                    throw startFailure(failed, nodes.size());
                }
                if (plain != null) {
                    plain.started = true;
                }
                long end = run.limit == null ? Long.MAX_VALUE : System.nanoTime() + run.limit.toNanos();
                int width = live ? terminal.size().columns() : 0;
                while (System.nanoTime() < end) {
                    long wait = Math.min(live ? 500 : 250, Math.max(1, (end - System.nanoTime()) / 1_000_000));
                    if (stop.await(wait, TimeUnit.MILLISECONDS)) {
                        break;
                    }
                    if (liveView != null) {
                        out.print(liveView.frame(width, true));
                        out.flush();
                    }
                }
            } finally {
                fleet.stop();
                if (liveView != null) {
                    out.print(liveView.frame(terminal.size().columns(), false));
                    out.print("\033[?25h");
                    out.flush();
                }
            }
        }, () -> {
            if (recorder != null) {
                recorder.close();
                err.println("recorded " + samples.get() + " samples to " + recorder.file());
            }
            if (chart != null) {
                TelemetryChart.write(chart, plot);
                err.println("plotted " + chart.samples() + " samples to " + plot);
            }
            err.flush();
        });
        return 0;
    }

    private boolean live() {
        return switch (view.toLowerCase(Locale.ROOT)) {
            case "live" -> true;
            case "plain" -> false;
            case "auto" -> terminal.interactive();
            default -> throw new K3gpuException(ExitCode.USAGE, "unknown view '" + view + "'",
                    "use --view auto, live or plain");
        };
    }

    static void checkPlotName(Path plot) {
        String n = plot.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!n.endsWith(".png") && !n.endsWith(".svg")) {
            throw new K3gpuException(ExitCode.USAGE, "unknown chart format: " + plot,
                    "name the file FILE.png or FILE.svg");
        }
    }

    static K3gpuException startFailure(Map<String, RuntimeException> failed, int total) {
        Map.Entry<String, RuntimeException> first = failed.entrySet().iterator().next();
        RuntimeException e = first.getValue();
        ExitCode code = e instanceof K3gpuException k ? k.exitCode() : ExitCode.FAILED;
        String hint = e instanceof K3gpuException k ? k.hint() : null;
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        if (total == 1) {
            return new K3gpuException(code, msg, hint, e);
        }
        StringBuilder sb = new StringBuilder("telemetry could not start on " + failed.size() + " of " + total
                + " nodes: ");
        int i = 0;
        for (Map.Entry<String, RuntimeException> f : failed.entrySet()) {
            sb.append(i++ == 0 ? "" : "; ").append(f.getKey()).append(": ").append(f.getValue().getMessage());
        }
        return new K3gpuException(code, sb.toString(), hint, e);
    }

    /** Every sample as one line on stdout; node state changes and bad lines on stderr. */
    private static final class PlainOutput implements TelemetryListener {
        private final PrintWriter out;
        private final PrintWriter err;
        /** Until every node has started, a failure ends the run: no "retrying" then. */
        volatile boolean started;

        PlainOutput(PrintWriter out, PrintWriter err) {
            this.out = out;
            this.err = err;
        }

        @Override
        public void sample(String node, LocalDateTime received, GpuSample sample) {
            String line = StatsPlainLine.format(received.toLocalTime(), node, sample);
            synchronized (out) {
                out.println(line);
                out.flush();
            }
        }

        @Override
        public void status(NodeStatus status) {
            String text = switch (status.state()) {
                case UP -> "up (" + (status.source() == null ? "?" : status.source().id()) + ")";
                case DOWN -> "down: " + status.detail() + (status.retryIn() == null ? ""
                        : "; retrying in " + Math.max(1, status.retryIn().toSeconds()) + "s");
                default -> null;
            };
            if (started && text != null && (status.state() != NodeState.UP || status.reconnects() > 0)) {
                synchronized (err) {
                    err.println(status.node() + ": " + text);
                    err.flush();
                }
            }
        }

        @Override
        public void badLine(String node, String line, String error) {
            synchronized (err) {
                err.println("warning: " + node + ": " + error);
                err.flush();
            }
        }
    }
}
