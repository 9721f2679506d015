package io.k3gpu.core.util;

import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DurationsTest {
    @Test
    void parsesGoStyleDurations() {
        assertThat(Durations.parse("--t", "500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("--t", "10s")).isEqualTo(Duration.ofSeconds(10));
        assertThat(Durations.parse("--t", "1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("--t", "1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(Durations.parse("--t", "7")).isEqualTo(Duration.ofSeconds(7));
    }

    @Test
    void rejectsGarbageNamingTheFlag() {
        assertThatThrownBy(() -> Durations.parse("--connect-timeout", "5 sec"))
                .isInstanceOf(K3gpuException.class)
                .hasMessage("bad duration '5 sec' for --connect-timeout");
    }
}
