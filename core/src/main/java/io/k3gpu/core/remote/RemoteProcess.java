package io.k3gpu.core.remote;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A command started with {@link RemoteShell#start}: it runs until it ends by itself or is stopped; its output arrives
 * line by line meanwhile.
 */
public interface RemoteProcess extends AutoCloseable {

    /** Exit status reported when the channel closed before the command told its own. */
    int NO_STATUS = -1;

    /**
     * Completes once the command has ended and its output has been handed over: with its exit status ({@code 128+N}
     * when signal N ended it, {@link #NO_STATUS} when the channel closed without a status, as after a forced
     * {@link #stop}), or exceptionally with a {@link io.k3gpu.core.error.K3gpuException} (exit code SSH) when the
     * connection to the node was lost while it ran.
     */
    CompletableFuture<Integer> exit();

    /**
     * Stops the command: closes its standard input (a command built to end when its input closes, like the
     * commands of {@code io.k3gpu.core.telemetry.live.TelemetryCommands}, then ends on the node), waits up to
     * {@code grace} for it to end, then closes the channel. Returns once the channel is closed. Idempotent.
     */
    void stop(Duration grace);

    /** {@link #stop} with a grace of 3 seconds. */
    @Override
    default void close() {
        stop(Duration.ofSeconds(3));
    }
}
