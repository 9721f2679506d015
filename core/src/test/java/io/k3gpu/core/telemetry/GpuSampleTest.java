package io.k3gpu.core.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import io.k3gpu.core.telemetry.GpuSample.Cpu;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GpuSampleTest {

    @Test
    void builderCopiesAndKeepsOrderAndNullValues() {
        Map<String, Double> temps = new LinkedHashMap<>();
        temps.put("b", 1.0);
        temps.put("a", null);
        List<Cpu> cpus = new ArrayList<>(List.of(new Cpu(true, 1, 2)));
        GpuSample s = GpuSample.builder(Source.TEGRASTATS).temperaturesC(temps).cpus(cpus).build();
        temps.put("c", 3.0);
        cpus.clear();
        assertThat(s.temperaturesC()).containsExactly(entry("b", 1.0), entry("a", null));
        assertThat(s.cpus()).containsExactly(new Cpu(true, 1, 2));
        assertThatThrownBy(() -> s.temperaturesC().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void everythingAbsentIsNull() {
        GpuSample s = GpuSample.builder(Source.NVIDIA_SMI).build();
        assertThat(s.time()).isNull();
        assertThat(s.cpus()).isNull();
        assertThat(s.temperaturesC()).isNull();
        assertThat(s.extra()).isNull();
        assertThat(s.index()).isNull();
    }

    @Test
    void sourceIsRequired() {
        assertThatThrownBy(() -> GpuSample.builder(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void equalSamplesFromEqualLines() {
        String line = Fixtures.tegrastats(26);
        assertThat(TegrastatsParser.parse(line)).isEqualTo(TegrastatsParser.parse(line))
                .hasSameHashCodeAs(TegrastatsParser.parse(line));
    }
}
