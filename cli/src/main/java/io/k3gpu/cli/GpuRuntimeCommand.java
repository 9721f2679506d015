package io.k3gpu.cli;

import io.k3gpu.core.runtime.ContainerRuntime;
import io.k3gpu.core.runtime.EnableNvidiaRuntime;
import io.k3gpu.core.runtime.RuntimeChange;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.ssh.SshRemoteShell;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "gpu-runtime",
        description = {"Make the NVIDIA container runtime the default on the node.",
                "docker: merges \"default-runtime\": \"nvidia\" and runtimes.nvidia into /etc/docker/daemon.json (keeping",
                "everything else), backs the old file up, writes atomically, restarts Docker and checks that it now uses",
                "nvidia; rolls back on failure. k3s: sets default-runtime: nvidia in /etc/rancher/k3s/config.yaml.",
                "A second run changes nothing and says unchanged."})
final class GpuRuntimeCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    SshOptions ssh;

    @Mixin
    StepTimeoutOptions deadline;

    @Mixin
    OutputOptions output;

    @Option(names = "--runtime", paramLabel = "RUNTIME",
            description = "docker or k3s (default: docker when Docker is installed, else k3s).")
    String runtime;

    @Option(names = "--dry-run", description = "Print the diff and change nothing.")
    boolean dryRun;

    GpuRuntimeCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshOptions(terminal);
    }

    @Override
    public Integer call() {
        boolean json = output.json();
        ContainerRuntime requested = runtime == null ? null : ContainerRuntime.parse(runtime);
        ConsoleEvents events = new ConsoleEvents(terminal.err());
        try (SshConnector connector = deadline.applyTo(ssh.connector())) {
            SshRemoteShell shell = connector.connect(ssh.target());
            RuntimeChange change = new EnableNvidiaRuntime(events, Clock.systemUTC(), Duration.ofSeconds(20))
                    .run(shell, requested, dryRun);
            if (json) {
                terminal.out().println(Json.pretty(change));
            } else {
                if (!change.diff().isEmpty()) {
                    terminal.out().print(change.diff());
                }
                terminal.out().println(change.host() + ": " + change.runtime().flag() + ": "
                        + change.outcome().label().replace('-', ' ') + " (" + change.file() + ")"
                        + (change.backup() == null ? "" : "; backup " + change.backup()) + "; " + change.detail());
            }
            return 0;
        }
    }
}
