package io.k3gpu.core.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.telemetry.SourceDetector.Detected;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class SourceDetectorTest {

    static Stream<String> tegrastatsSamples() {
        return Fixtures.tegrastatsSamples().stream();
    }

    static Stream<String> nvidiaSmiLines() {
        return Stream.of("nvidia-smi/q-header.csv", "nvidia-smi/q-loop.csv", "nvidia-smi/busy_noheader_nounits.csv")
                .flatMap(f -> Fixtures.lines(f).stream());
    }

    @ParameterizedTest
    @MethodSource("tegrastatsSamples")
    void everyTegrastatsFixtureLine(String line) {
        assertThat(SourceDetector.detect(line)).isEqualTo(Detected.TEGRASTATS);
    }

    @ParameterizedTest
    @MethodSource("nvidiaSmiLines")
    void everyNvidiaSmiFixtureLine(String line) {
        assertThat(SourceDetector.detect(line)).isEqualTo(Detected.NVIDIA_SMI);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "# comment", "hello world", "Connection closed.", "a, b",
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."})
    void unknown(String line) {
        assertThat(SourceDetector.detect(line)).isEqualTo(Detected.UNKNOWN);
        assertThat(SourceDetector.detect(line).source()).isEmpty();
    }

    @Test
    void shortTegrastatsLines() {
        assertThat(SourceDetector.detect("GR3D_FREQ 78% GR3D2_FREQ 0%")).isEqualTo(Detected.TEGRASTATS);
        assertThat(SourceDetector.detect("07-09-2024 13:31:31 APE 150")).isEqualTo(Detected.TEGRASTATS);
        assertThat(SourceDetector.detect(null)).isEqualTo(Detected.UNKNOWN);
        assertThat(Detected.TEGRASTATS.source()).contains(Source.TEGRASTATS);
        assertThat(Detected.NVIDIA_SMI.source()).contains(Source.NVIDIA_SMI);
    }
}
