package io.k3gpu.core.telemetry.live;

import io.k3gpu.core.telemetry.Source;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A telemetry tool running for one node (see {@link TelemetryLink#start}). */
public interface TelemetryStream {

    /** The tool that runs. */
    Source source();

    /** Completes with the tool's exit status when it ends; exceptionally when the connection was lost. */
    CompletableFuture<Integer> exit();

    /** Why the tool ended with {@code status}, in words (for example its last line on stderr). */
    String describeExit(int status);

    /** Stops the tool on the node, waiting up to {@code grace}; idempotent. */
    void stop(Duration grace);
}
