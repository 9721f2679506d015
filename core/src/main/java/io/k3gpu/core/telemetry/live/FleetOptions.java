package io.k3gpu.core.telemetry.live;

import java.time.Duration;

/**
 * How a {@link TelemetryFleet} follows its nodes.
 *
 * @param reconnect      start a node again after it failed or its tool ended (with {@code backoff}); false: a node
 *                       that fails stays DOWN
 * @param backoff        delays between attempts
 * @param staleAfter     a node whose tool printed nothing for this long is taken as DOWN: its stream is stopped,
 *                       its connection dropped and (with {@code reconnect}) opened again
 * @param connectThreads how many nodes connect at the same time
 * @param stopGrace      how long stopping waits for a node's tool to end before closing its channel
 */
public record FleetOptions(boolean reconnect, Backoff backoff, Duration staleAfter, int connectThreads,
                           Duration stopGrace) {

    public FleetOptions {
        if (connectThreads < 1) {
            throw new IllegalArgumentException("connectThreads must be at least 1");
        }
    }

    /**
     * Reconnecting with 1 s, 2 s, ... 30 s between attempts; stale after three intervals (at least 10 s); 16
     * parallel connects; 3 s to stop.
     */
    public static FleetOptions defaults(Duration interval) {
        Duration stale = interval.multipliedBy(3);
        return new FleetOptions(true, new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30)),
                stale.compareTo(Duration.ofSeconds(10)) < 0 ? Duration.ofSeconds(10) : stale, 16,
                Duration.ofSeconds(3));
    }

    public FleetOptions withReconnect(boolean value) {
        return new FleetOptions(value, backoff, staleAfter, connectThreads, stopGrace);
    }

    public FleetOptions withBackoff(Backoff value) {
        return new FleetOptions(reconnect, value, staleAfter, connectThreads, stopGrace);
    }

    public FleetOptions withConnectThreads(int value) {
        return new FleetOptions(reconnect, backoff, staleAfter, value, stopGrace);
    }
}
