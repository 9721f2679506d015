package io.k3gpu.core.telemetry.live;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void delaysDoubleFromTheMinimumUpToTheMaximum() {
        Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));
        assertThat(b.delay(0)).isEqualTo(Duration.ofSeconds(1));
        assertThat(b.delay(1)).isEqualTo(Duration.ofSeconds(2));
        assertThat(b.delay(4)).isEqualTo(Duration.ofSeconds(16));
        assertThat(b.delay(5)).isEqualTo(Duration.ofSeconds(30));
        assertThat(b.delay(1000)).isEqualTo(Duration.ofSeconds(30));
    }
}
