package io.k3gpu.core.telemetry.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.NvidiaSmiCsvParser;
import io.k3gpu.core.telemetry.TegrastatsParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecorderTest {
    static final String NANO = "RAM 1923/3964MB (lfb 2x2MB) SWAP 191/1982MB (cached 6MB) IRAM 0/252kB(lfb 252kB) "
            + "CPU [5%@1224,4%@1224,3%@1224,6%@1224] EMC_FREQ 0%@1600 GR3D_FREQ 0%@76 APE 25 PLL@37C CPU@40C "
            + "PMIC@50C GPU@40C AO@45C thermal@40C POM_5V_IN 1750/1628 POM_5V_GPU 0/0 POM_5V_CPU 366/406";
    static final String H200 = "2026/11/28 18:13:36.595, 0, NVIDIA H200, GPU-4d7409f8-b030-4d26-8d92-c7f6be719549, "
            + "100, 23, 1011, 143771, 142146, 61, 692.60, 700.00, 1440, 3201";
    static final LocalDateTime T = LocalDateTime.of(2026, 11, 28, 18, 13, 36, 600_000_000);

    static GpuSample nano() {
        return TegrastatsParser.parse(NANO);
    }

    static GpuSample h200() {
        return NvidiaSmiCsvParser.forFields(TelemetryCommands.NVIDIA_SMI_FIELDS).parseLine(H200).orElseThrow();
    }

    @Test
    void jsonlLinesCarryNodeAndReceiptBeforeTheSampleAndReadBack(@TempDir Path dir) {
        Path file = dir.resolve("run.jsonl");
        try (Recorder r = Recorder.open(file, 2)) {
            r.sample("jetson1", T, nano());
            r.sample("gpu1", T.plusSeconds(1), h200());
        }
        Recordings.Read read = Recordings.read(file);
        assertThat(read.skipped()).isZero();
        assertThat(read.samples()).containsExactly(new RecordedSample("jetson1", T, nano()),
                new RecordedSample("gpu1", T.plusSeconds(1), h200()));
        assertThat(Recorder.jsonLine("gpu1", T, h200())).isEqualTo("{\"node\":\"gpu1\",\"received\":"
                + "\"2026-11-28T18:13:36.6\",\"source\":\"nvidia-smi\",\"time\":\"2026-11-28T18:13:36.595\","
                + "\"index\":0,\"name\":\"NVIDIA H200\",\"uuid\":\"GPU-4d7409f8-b030-4d26-8d92-c7f6be719549\","
                + "\"gpuLoadPercent\":100,\"memoryLoadPercent\":23,\"memoryUsedMiB\":1011,\"memoryTotalMiB\":143771,"
                + "\"temperatureC\":61.0,\"powerDrawW\":692.6,\"powerLimitW\":700.0,\"smClockMHz\":1440,"
                + "\"memClockMHz\":3201,\"extra\":{\"memory.free\":\"142146\"}}");
    }

    @Test
    void csvHasOneHeaderFixedByEachNodesFirstSampleAndOneRowPerSample(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("run.csv");
        try (Recorder r = Recorder.open(file, 2)) {
            r.sample("jetson1", T, nano());
            r.sample("gpu1", T, h200());
            r.sample("jetson1", T.plusSeconds(1), nano());
        }
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0)).isEqualTo("received,node,source,time,ram_used_mb,ram_total_mb,swap_used_mb,"
                + "swap_total_mb,swap_cached_mb,cpu0_online,cpu0_load_percent,cpu0_freq_mhz,cpu1_online,"
                + "cpu1_load_percent,cpu1_freq_mhz,cpu2_online,cpu2_load_percent,cpu2_freq_mhz,cpu3_online,"
                + "cpu3_load_percent,cpu3_freq_mhz,gpu_load_percent,gpu_freq_mhz,emc_load_percent,emc_freq_mhz,"
                + "temp_pll_c,temp_cpu_c,temp_pmic_c,temp_gpu_c,temp_ao_c,temp_thermal_c,power_pom_5v_in_mw,"
                + "power_pom_5v_in_avg_mw,power_pom_5v_gpu_mw,power_pom_5v_gpu_avg_mw,power_pom_5v_cpu_mw,"
                + "power_pom_5v_cpu_avg_mw,engine_ape_freq_mhz,gpu_index,gpu_name,gpu_uuid,"
                + "memory_load_percent,memory_used_mib,memory_total_mib,temperature_c,power_draw_w,power_limit_w,"
                + "sm_clock_mhz,mem_clock_mhz");
        assertThat(lines.get(1)).isEqualTo("2026-11-28T18:13:36.6,jetson1,tegrastats,,1923,3964,191,1982,6,"
                + "1,5,1224,1,4,1224,1,3,1224,1,6,1224,0,76,0,1600,37,40,50,40,45,40,1750,1628,0,0,366,406,25"
                + ",,,,,,,,,,,");
        assertThat(lines.get(2)).isEqualTo("2026-11-28T18:13:36.6,gpu1,nvidia-smi,2026-11-28T18:13:36.595,"
                + ",,,,,,,,,,,,,,,,,100,,,,,,,,,,,,,,,,,0,NVIDIA H200,GPU-4d7409f8-b030-4d26-8d92-c7f6be719549,23,"
                + "1011,143771,61,692.6,700,1440,3201");
        assertThat(lines.get(3)).startsWith("2026-11-28T18:13:37.6,jetson1,tegrastats,,1923,");
    }

    @Test
    void csvCellsWithCommasOrQuotesAreQuoted() {
        assertThat(Recorder.csvLine(new String[] {"a,b", "say \"hi\"", null, "plain"}))
                .isEqualTo("\"a,b\",\"say \"\"hi\"\"\",,plain\n");
    }

    @Test
    void anUnknownExtensionIsAUsageError(@TempDir Path dir) {
        assertThatThrownBy(() -> Recorder.open(dir.resolve("run.txt"), 1)).isInstanceOf(K3gpuException.class)
                .hasMessageContaining("unknown recording format");
    }

    @Test
    void readingSkipsErrorObjectsAndGarbage(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("parsed.jsonl");
        Files.writeString(file, Recorder.jsonLine("n", T, nano()) + "\n{\"error\":\"bad\",\"line\":2}\nnot json\n\n");
        Recordings.Read read = Recordings.read(file);
        assertThat(read.samples()).hasSize(1);
        assertThat(read.skipped()).isEqualTo(2);
    }
}
