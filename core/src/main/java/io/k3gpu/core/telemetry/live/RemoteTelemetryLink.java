package io.k3gpu.core.telemetry.live;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.RemoteProcess;
import io.k3gpu.core.remote.RemoteShell;
import io.k3gpu.core.telemetry.Source;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A node's telemetry over its SSH session: {@link TelemetryCommands#PROBE} picks the tool (unless one is forced),
 * then the tool streams on its own channel of the same session, wrapped so that it dies with the channel.
 */
public final class RemoteTelemetryLink implements TelemetryLink {
    private static final int STDERR_LINES = 5;

    private final String node;
    private final Supplier<? extends RemoteShell> shells;
    private final Source forced;
    private final int intervalMs;
    private volatile RemoteShell last;

    /**
     * @param node       the node's name (for samples and messages)
     * @param shells     the node's shell, connected on first use and reused (e.g. {@code () -> connector.connect(t)})
     * @param forced     the tool to run, or null to probe for it
     * @param intervalMs sampling interval
     */
    public RemoteTelemetryLink(String node, Supplier<? extends RemoteShell> shells, Source forced, int intervalMs) {
        this.node = Objects.requireNonNull(node, "node");
        this.shells = Objects.requireNonNull(shells, "shells");
        this.forced = forced;
        this.intervalMs = intervalMs;
    }

    @Override
    public String node() {
        return node;
    }

    @Override
    public TelemetryStream start(Function<Source, Consumer<String>> lines) {
        RemoteShell shell = shells.get();
        last = shell;
        Source source = forced != null ? forced : probe(shell);
        Consumer<String> out = lines.apply(source);
        Deque<String> stderr = new ArrayDeque<>();
        RemoteProcess process = shell.start(TelemetryCommands.streaming(source, intervalMs), out, line -> {
            synchronized (stderr) {
                if (!line.isBlank()) {
                    stderr.addLast(line.strip());
                    if (stderr.size() > STDERR_LINES) {
                        stderr.removeFirst();
                    }
                }
            }
        });
        return new Stream(source, process, stderr);
    }

    private Source probe(RemoteShell shell) {
        ExecResult r = shell.exec(TelemetryCommands.PROBE);
        if (!r.ok()) {
            throw new K3gpuException(ExitCode.REMOTE_COMMAND, node + ": looking for tegrastats and nvidia-smi failed"
                    + " (exit " + r.exitCode() + "): " + r.tail(2), "check the node's shell");
        }
        return TelemetryCommands.probeResult(r.stdout()).orElseThrow(() -> new K3gpuException(ExitCode.FAILED,
                node + " has neither tegrastats nor nvidia-smi on its PATH",
                "is it a Jetson (JetPack) or a machine with the NVIDIA driver? pass --source to force one"));
    }

    @Override
    public void reset() {
        RemoteShell shell = last;
        if (shell != null) {
            shell.close();
        }
    }

    private record Stream(Source source, RemoteProcess process, Deque<String> stderr) implements TelemetryStream {
        @Override
        public CompletableFuture<Integer> exit() {
            return process.exit();
        }

        @Override
        public String describeExit(int status) {
            String tail;
            synchronized (stderr) {
                tail = String.join(" | ", stderr);
            }
            String what = source.id() + (status == RemoteProcess.NO_STATUS ? " ended without an exit status"
                    : " exited with status " + status);
            return tail.isEmpty() ? what : what + ": " + tail;
        }

        @Override
        public void stop(Duration grace) {
            process.stop(grace);
        }
    }
}
