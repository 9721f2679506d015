package io.k3gpu.core.telemetry.live;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.telemetry.TegrastatsParser;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SampleColumnsTest {

    @Test
    void orinLineFlattensCoresOffCoresGpcClocksEnginesAndRails() {
        Map<String, String> m = SampleColumns.flatten(TegrastatsParser.parse("05-09-2026 18:42:06 RAM 18207/62841MB "
                + "(lfb 466x4MB) SWAP 86/31420MB (cached 0MB) CPU [14%@2188,off] EMC_FREQ 3%@2133 "
                + "GR3D_FREQ 0%@[0,0] NVENC 79%@166 NVDEC off cpu@52.562C VDD_GPU_SOC 2412mW/2412mW"));
        assertThat(m).containsEntry("cpu0_online", "1").containsEntry("cpu0_load_percent", "14")
                .containsEntry("cpu1_online", "0").doesNotContainKey("cpu1_load_percent")
                .containsEntry("gpu_freq_mhz", "0").containsEntry("gpu_gpc1_freq_mhz", "0")
                .containsEntry("engine_nvenc_load_percent", "79").containsEntry("engine_nvenc_freq_mhz", "166")
                .doesNotContainKey("engine_nvdec_freq_mhz")
                .containsEntry("temp_cpu_c", "52.562").containsEntry("power_vdd_gpu_soc_mw", "2412");
    }

    @Test
    void duplicateRailNamesBecomeDistinctColumns() {
        assertThat(SampleColumns.name("NC#2")).isEqualTo("nc_2");
        assertThat(SampleColumns.name("VDD_IN")).isEqualTo("vdd_in");
    }
}
