package io.k3gpu.core.telemetry.live;

import io.k3gpu.core.telemetry.Source;

import java.time.Duration;

/**
 * A node's state as {@link TelemetryListener#status} reports it.
 *
 * @param node       the node
 * @param state      where it stands
 * @param source     the tool that runs (or ran) there; null before the first connection
 * @param detail     why it is DOWN (or what CONNECTING waits for); null when UP
 * @param retryIn    when DOWN: the delay before the next attempt; null when no attempt follows
 * @param reconnects how many times the node was started again after its first start
 */
public record NodeStatus(String node, NodeState state, Source source, String detail, Duration retryIn,
                         int reconnects) {
}
