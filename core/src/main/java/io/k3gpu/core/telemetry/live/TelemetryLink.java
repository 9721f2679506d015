package io.k3gpu.core.telemetry.live;

import io.k3gpu.core.telemetry.Source;

import java.util.function.Consumer;
import java.util.function.Function;

/**
 * How to reach one node's telemetry: over SSH ({@link RemoteTelemetryLink}) or, in benchmarks and tests, a
 * synthetic source. {@link TelemetryFleet} calls {@link #start} again after every failure.
 */
public interface TelemetryLink {

    /** The node's name as the user gave it (host or address): the {@code node} of samples and metrics. */
    String node();

    /**
     * Connects, chooses the tool, asks {@code lines} for the consumer of that tool's output, and starts the tool.
     * Blocking; lines may arrive before it returns.
     *
     * @throws RuntimeException (usually {@link io.k3gpu.core.error.K3gpuException}) when the node cannot be reached
     *                          or has no telemetry tool
     */
    TelemetryStream start(Function<Source, Consumer<String>> lines);

    /** Drops the connection, so that the next {@link #start} opens a new one (after a stream went silent). */
    default void reset() {
    }
}
