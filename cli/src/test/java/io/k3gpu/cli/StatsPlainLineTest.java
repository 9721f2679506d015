package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.telemetry.NvidiaSmiCsvParser;
import io.k3gpu.core.telemetry.TegrastatsParser;
import io.k3gpu.core.telemetry.live.TelemetryCommands;
import java.time.LocalTime;
import org.junit.jupiter.api.Test;

class StatsPlainLineTest {
    static final String NANO = "RAM 2462/3964MB (lfb 2x4MB) SWAP 362/1982MB (cached 6MB) "
            + "CPU [52%@1479,41%@1479,43%@1479,34%@1479] EMC_FREQ 0% GR3D_FREQ 9% PLL@23.5C CPU@26C PMIC@100C "
            + "GPU@24C AO@28.5C thermal@24.75C POM_5V_IN 3410/3410 POM_5V_GPU 451/451 POM_5V_CPU 1355/1355";
    static final String ORIN = "11-15-2024 08:38:09 RAM 6185/7620MB (lfb 8x2MB) SWAP 851/3810MB (cached 1MB) "
            + "CPU [15%@729,off,14%@1036] EMC_FREQ 43%@2133 GR3D_FREQ 63%@[621,620] NVDEC off cpu@53.968C "
            + "VDD_IN 12479mW/12479mW";
    static final String H200 = "2026/11/28 18:13:36.595, 0, NVIDIA H200, GPU-4d7409f8-b030-4d26-8d92-c7f6be719549, "
            + "100, 23, 1011, 143771, 142146, 61, 692.60, 700.00, 1440, 3201";

    @Test
    void jetsonNanoSample() {
        assertThat(StatsPlainLine.format(LocalTime.of(12, 0, 1), "jetson1", TegrastatsParser.parse(NANO)))
                .isEqualTo("12:00:01 jetson1 cpu 52,41,43,34% @1479MHz gpu 9% emc 0% ram 2462/3964MB "
                        + "swap 362/1982MB temp PLL 23.5C CPU 26C PMIC 100C GPU 24C AO 28.5C thermal 24.8C "
                        + "power POM_5V_IN 3.41W POM_5V_GPU 0.45W POM_5V_CPU 1.36W");
    }

    @Test
    void orinSampleWithAnOfflineCoreAndPerCoreClocks() {
        assertThat(StatsPlainLine.format(null, null, TegrastatsParser.parse(ORIN)))
                .isEqualTo("cpu 15,off,14% @729MHz+ gpu 63% @621MHz emc 43% ram 6185/7620MB swap 851/3810MB "
                        + "temp cpu 54.0C power VDD_IN 12.48W");
    }

    @Test
    void discreteGpuRow() {
        assertThat(StatsPlainLine.format(LocalTime.of(18, 13, 36), "gpu1",
                NvidiaSmiCsvParser.forFields(TelemetryCommands.NVIDIA_SMI_FIELDS).parseLine(H200).orElseThrow()))
                .isEqualTo("18:13:36 gpu1 gpu0 NVIDIA H200 100% sm 1440MHz mem 1011/143771MiB 61C 692.60/700.00W");
    }

    @Test
    void numbersAreWhatFormatterWouldPrint() {
        for (int mw = -3000; mw <= 200_000; mw += 7) {
            assertThat(StatsPlainLine.watts(mw)).isEqualTo(String.format(java.util.Locale.ROOT, "%.2f", mw / 1000.0));
        }
        for (int k = -2000; k <= 20_000; k++) {
            for (double v : new double[] {k / 100.0, k / 8.0, k * 0.05, k / 3.0}) {
                assertThat(StatsPlainLine.fixed(v, 1)).isEqualTo(String.format(java.util.Locale.ROOT, "%.1f", v));
                assertThat(StatsPlainLine.fixed(v, 2)).isEqualTo(String.format(java.util.Locale.ROOT, "%.2f", v));
            }
        }
    }
}
