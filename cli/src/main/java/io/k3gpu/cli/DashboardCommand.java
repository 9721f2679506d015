package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.util.Durations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "dashboard",
        description = {"Serve a read-only web dashboard of the cluster's nodes, GPUs and training runs.",
                "",
                "The dashboard shows the cluster's nodes with their GPUs, each GPU node's "
                + "live telemetry (tegrastats on Jetsons, nvidia-smi on discrete GPUs, followed over SSH as "
                + "stats --all does) and the training runs with their accuracy. Open the URL it prints.",
                "It listens on 127.0.0.1 unless --listen says otherwise; any other address needs --token-file."})
final class DashboardCommand implements Callable<Integer> {
    private final Terminal terminal;

    /** How to reach the nodes; no --ip or --host (picocli refuses them): the cluster's GPU nodes are followed. */
    @Mixin
    SshConnection ssh;

    @Mixin
    KubeOptions kube;

    @Option(names = "--listen", paramLabel = "[HOST]:PORT", defaultValue = "127.0.0.1:8080",
            description = "Where to serve the dashboard (default ${DEFAULT-VALUE}: this machine only). Another "
                    + "address (0.0.0.0:8080, :8080) exposes it and requires --token-file.")
    String listen;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "A file holding the secret that every request must present (Authorization: Bearer, or "
                    + "the browser's login form at /login); required when listening beyond 127.0.0.1.")
    Path tokenFile;

    @Option(names = "--interval", paramLabel = "MS", defaultValue = "1000",
            description = "Telemetry sampling interval in milliseconds (or a duration like 2s); default "
                    + "${DEFAULT-VALUE}.")
    String interval;

    @Option(names = "--window", paramLabel = "DURATION", defaultValue = "10m",
            description = "How much telemetry each node page shows and its recording holds; default "
                    + "${DEFAULT-VALUE}.")
    String window;

    DashboardCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshConnection(terminal);
        this.kube = new KubeOptions(terminal);
    }

    @Override
    public Integer call() throws InterruptedException {
        DashboardAccess access = DashboardAccess.of(listen, tokenFile);
        Duration keep = Durations.parse("--window", window);
        if (keep.isZero() || keep.compareTo(Duration.ofHours(6)) > 0) {
            throw new K3gpuException(ExitCode.USAGE, "--window " + window + " is out of range",
                    "give a duration from 1s to 6h (e.g. --window 10m)");
        }
        PrintWriter err = terminal.err();
        TelemetryRun run = new TelemetryRun(telemetryOptions(), err);
        DashboardTelemetry telemetry = new DashboardTelemetry(run.names(), keep);
        if (run.selection() != null) {
            ExporterCommand.log(err, run.selection());
        }
        try (ClusterApi api = kube.api();
             DashboardServer server = new DashboardServer(access, telemetry, new DashboardCluster(api))) {
            String host = access.listen().host().isEmpty() ? "0.0.0.0" : access.listen().host();
            String url = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.port() + "/";
            terminal.out().println("k3gpu dashboard: " + url + (access.needsToken()
                    ? " (log in with the token of " + tokenFile + ")" : ""));
            terminal.out().flush();
            run.run(List.of(telemetry, new ExporterCommand.StatusLog(err)), (fleet, stop) -> {
                fleet.start(Duration.ZERO);
                stop.await();
            }, () -> { });
        }
        return 0;
    }

    /** The telemetry of {@code stats --all}: the cluster's GPU nodes, reached with these SSH options. */
    private TelemetryOptions telemetryOptions() {
        TelemetryOptions t = new TelemetryOptions(terminal);
        t.ssh = ssh;
        t.kube = kube;
        t.nodes = new TelemetryOptions.Nodes();
        t.nodes.all = true;
        t.interval = interval;
        t.source = io.k3gpu.core.telemetry.TelemetryStreamParser.SourceOption.AUTO;
        return t;
    }
}
