package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;

import org.junit.jupiter.api.Test;

class K3sLogTest {
    @Test
    void logrusTextFormat() {
        OffsetDateTime t = OffsetDateTime.of(2026, 11, 28, 18, 0, 0, 123, ZoneOffset.UTC);
        assertThat(K3sLog.format(t, "info", "Starting k3s v1.31.4+k3s1 (k3gpu-lab)"))
                .isEqualTo("time=\"2026-11-28T18:00:00Z\" level=info msg=\"Starting k3s v1.31.4+k3s1 (k3gpu-lab)\"");
        assertThat(K3sLog.format(t.withOffsetSameInstant(ZoneOffset.ofHours(1)), "error", "a \"b\"\nc"))
                .isEqualTo("time=\"2026-11-28T19:00:00+01:00\" level=error msg=\"a \\\"b\\\"\\nc\"");
    }
}
