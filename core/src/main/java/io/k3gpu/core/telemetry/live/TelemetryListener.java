package io.k3gpu.core.telemetry.live;

import io.k3gpu.core.telemetry.GpuSample;

import java.time.LocalDateTime;

/**
 * Receives what a {@link TelemetryFleet} follows. Called from the connections' I/O threads, for several nodes at
 * once: implementations are thread-safe and quick (no blocking I/O on a slow device).
 */
public interface TelemetryListener {

    /** One sample of {@code node}, received at {@code received} (local time of this machine). */
    void sample(String node, LocalDateTime received, GpuSample sample);

    /** A node changed state. */
    default void status(NodeStatus status) {
    }

    /** A line the node's tool printed that is not a sample; the stream goes on. */
    default void badLine(String node, String line, String error) {
    }
}
