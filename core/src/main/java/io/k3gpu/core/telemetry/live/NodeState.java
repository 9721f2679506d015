package io.k3gpu.core.telemetry.live;

/** Where a followed node stands. */
public enum NodeState {
    /** Connecting, or connected and waiting for the first sample. */
    CONNECTING,
    /** Samples arrive. */
    UP,
    /** Unreachable, or its tool ended or went silent; a new attempt follows when the fleet reconnects. */
    DOWN,
    /** Stopped on request. */
    STOPPED
}
