package io.k3gpu.core.telemetry.live;

import java.time.Duration;

/** Exponential reconnect delays: {@code min}, twice that, ... up to {@code max}. Pure. */
public record Backoff(Duration min, Duration max) {

    public Backoff {
        if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < min <= max, not " + min + ", " + max);
        }
    }

    /** The delay before attempt {@code failures + 1}, after {@code failures} failures in a row (0 gives min). */
    public Duration delay(int failures) {
        int shift = Math.min(Math.max(failures, 0), 30);
        long ms = min.toMillis() << shift;
        return ms <= 0 || ms > max.toMillis() ? max : Duration.ofMillis(ms);
    }
}
