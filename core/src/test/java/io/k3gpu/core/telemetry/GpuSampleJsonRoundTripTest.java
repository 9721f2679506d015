package io.k3gpu.core.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Recordings are read back into the very samples that were written. */
class GpuSampleJsonRoundTripTest {

    @Test
    void everyTegrastatsFixtureLineSurvivesWritingAndReading() {
        for (String line : Fixtures.tegrastatsSamples()) {
            GpuSample s = TegrastatsParser.parse(line);
            assertThat(GpuSampleJson.fromJson(GpuSampleJson.toJson(s))).as(line).isEqualTo(s);
        }
    }

    @Test
    void nvidiaSmiRowsSurviveWritingAndReading() {
        NvidiaSmiCsvParser p = NvidiaSmiCsvParser.forQuery(Fixtures.text("nvidia-smi/query_fields.txt"));
        for (String line : Fixtures.lines("nvidia-smi/busy_noheader_nounits.csv")) {
            Optional<GpuSample> s = p.parseLine(line);
            assertThat(s).isPresent();
            assertThat(GpuSampleJson.fromJson(GpuSampleJson.toJson(s.get()))).isEqualTo(s.get());
        }
    }

    @Test
    void anObjectWithoutAKnownSourceIsRefused() {
        assertThatThrownBy(() -> GpuSampleJson.fromJson("{\"error\":\"x\",\"line\":3}"))
                .isInstanceOf(TelemetryParseException.class).hasMessageContaining("source");
        assertThatThrownBy(() -> GpuSampleJson.fromJson("not json")).isInstanceOf(TelemetryParseException.class);
    }
}
