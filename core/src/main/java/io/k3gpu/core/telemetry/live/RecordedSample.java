package io.k3gpu.core.telemetry.live;

import io.k3gpu.core.telemetry.GpuSample;

import java.time.LocalDateTime;

/**
 * A sample with where and when it was received: one line of a {@code .jsonl} recording.
 *
 * @param node     the node it came from; null in the output of {@code k3gpu stats parse}
 * @param received when this machine received it (local time); null in the output of {@code k3gpu stats parse}
 * @param sample   the sample
 */
public record RecordedSample(String node, LocalDateTime received, GpuSample sample) {

    /** The time to plot it at: when it was received, else the time the tool printed, else null. */
    public LocalDateTime when() {
        return received != null ? received : sample.time();
    }
}
