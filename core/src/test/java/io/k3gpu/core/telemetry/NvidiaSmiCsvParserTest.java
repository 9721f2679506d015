package io.k3gpu.core.telemetry;

import io.k3gpu.core.telemetry.live.TelemetryCommands;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NvidiaSmiCsvParserTest {

    private static List<GpuSample> parseAll(NvidiaSmiCsvParser parser, List<String> lines) {
        List<GpuSample> out = new ArrayList<>();
        for (String line : lines) {
            parser.parseLine(line).ifPresent(out::add);
        }
        return out;
    }

    @Test
    void headerWithUnits() {
        NvidiaSmiCsvParser parser = new NvidiaSmiCsvParser();
        List<String> lines = Fixtures.lines("nvidia-smi/q-header.csv");
        assertThat(parser.parseLine(lines.get(0))).isEmpty();
        assertThat(parser.columns()).hasSize(23).startsWith("timestamp", "index", "name", "uuid")
                .contains("utilization.gpu", "memory.total", "fan.speed");

        GpuSample s = parser.parseLine(lines.get(1)).orElseThrow();
        assertThat(s.source()).isEqualTo(Source.NVIDIA_SMI);
        assertThat(s.time()).isEqualTo(LocalDateTime.of(2026, 11, 28, 17, 53, 10, 329_000_000));
        assertThat(s.index()).isZero();
        assertThat(s.name()).isEqualTo("NVIDIA H200");
        assertThat(s.uuid()).isEqualTo("GPU-eed3be17-8c4b-3ec0-67f4-92cf24bce06f");
        assertThat(s.gpuLoadPercent()).isZero();
        assertThat(s.memoryLoadPercent()).isZero();
        assertThat(s.memoryTotalMiB()).isEqualTo(143771);
        assertThat(s.memoryUsedMiB()).isZero();
        assertThat(s.temperatureC()).isEqualTo(43.0);
        assertThat(s.powerDrawW()).isEqualTo(128.84);
        assertThat(s.powerLimitW()).isEqualTo(700.0);
        assertThat(s.smClockMHz()).isEqualTo(1980);
        assertThat(s.memClockMHz()).isEqualTo(3201);
        assertThat(s.extra()).containsExactly(
                entry("pci.bus_id", "00000000:00:06.0"),
                entry("driver_version", "580.159.04"),
                entry("pstate", "P0"),
                entry("temperature.memory", "41"),
                entry("memory.free", "143156 MiB"),
                entry("power.draw.average", "128.84 W"),
                entry("power.draw.instant", "128.92 W"),
                entry("clocks.current.graphics", "1980 MHz"),
                entry("fan.speed", null),
                entry("compute_cap", "9.0"));
        // tegrastats fields stay absent
        assertThat(s.ramUsedMB()).isNull();
        assertThat(s.cpus()).isNull();
        assertThat(s.unparsed()).isNull();
    }

    @Test
    void loopNoHeaderNoUnits() {
        NvidiaSmiCsvParser parser = NvidiaSmiCsvParser.forQuery(
                "index,name,temperature.gpu,utilization.gpu,memory.total,memory.used,power.draw");
        List<GpuSample> samples = parseAll(parser, Fixtures.lines("nvidia-smi/q-loop.csv"));
        assertThat(samples).hasSize(3);
        assertThat(samples).extracting(GpuSample::temperatureC).containsExactly(43.0, 42.0, 42.0);
        assertThat(samples).extracting(GpuSample::powerDrawW).containsExactly(128.84, 106.75, 79.96);
        GpuSample s = samples.get(0);
        assertThat(s.time()).isNull();
        assertThat(s.index()).isZero();
        assertThat(s.name()).isEqualTo("NVIDIA H200");
        assertThat(s.uuid()).isNull();
        assertThat(s.gpuLoadPercent()).isZero();
        assertThat(s.memoryTotalMiB()).isEqualTo(143771);
        assertThat(s.memoryUsedMiB()).isZero();
        assertThat(s.memoryLoadPercent()).isNull();
        assertThat(s.powerLimitW()).isNull();
        assertThat(s.smClockMHz()).isNull();
        assertThat(s.extra()).isEmpty();
    }

    @Test
    void busyNoHeaderFromQueryFieldsFile() {
        NvidiaSmiCsvParser parser = NvidiaSmiCsvParser.forQuery(Fixtures.text("nvidia-smi/query_fields.txt"));
        assertThat(parser.columns()).containsExactly("timestamp", "index", "name", "uuid", "pstate",
                "temperature.gpu", "utilization.gpu", "utilization.memory", "memory.total", "memory.used",
                "memory.free", "power.draw", "power.limit", "clocks.sm", "clocks.mem");
        List<GpuSample> samples = parseAll(parser, Fixtures.lines("nvidia-smi/busy_noheader_nounits.csv"));
        assertThat(samples).hasSize(15);
        GpuSample s = samples.get(0);
        assertThat(s.time()).isEqualTo(LocalDateTime.of(2026, 11, 28, 18, 13, 36, 595_000_000));
        assertThat(s.index()).isZero();
        assertThat(s.name()).isEqualTo("NVIDIA H200");
        assertThat(s.uuid()).isEqualTo("GPU-4d7409f8-b030-4d26-8d92-c7f6be719549");
        assertThat(s.temperatureC()).isEqualTo(61.0);
        assertThat(s.gpuLoadPercent()).isEqualTo(100);
        assertThat(s.memoryLoadPercent()).isEqualTo(23);
        assertThat(s.memoryTotalMiB()).isEqualTo(143771);
        assertThat(s.memoryUsedMiB()).isEqualTo(1011);
        assertThat(s.powerDrawW()).isEqualTo(692.60);
        assertThat(s.powerLimitW()).isEqualTo(700.0);
        assertThat(s.smClockMHz()).isEqualTo(1440);
        assertThat(s.memClockMHz()).isEqualTo(3201);
        assertThat(s.extra()).containsExactly(entry("pstate", "P0"), entry("memory.free", "142146"));
        assertThat(samples).extracting(GpuSample::smClockMHz)
                .containsExactly(1440, 1440, 1470, 1440, 1410, 1440, 1440, 1470, 1440, 1425, 1440, 1440, 1485,
                        1440, 1440);
        assertThat(samples.get(14).time()).isEqualTo(LocalDateTime.of(2026, 11, 28, 18, 13, 39, 408_000_000));
        assertThat(samples.get(14).powerDrawW()).isEqualTo(693.22);
    }

    /**
     * The exact command k3gpu runs on a discrete-GPU node ({@code TelemetryCommands.streaming(NVIDIA_SMI, 500)}), run
     * on a real H200 (driver 580.159.04) on 2026-11-28 while a bf16 matmul loop started: idle, then busy. The
     * command ended 5.04 s after its input closed at 5 s, leaving no nvidia-smi running (device run, see
     * docs/benchmarks.md "Telemetry").
     */
    @Test
    void k3gpusOwnQueryAsARealH200AnswersIt() {
        NvidiaSmiCsvParser parser = NvidiaSmiCsvParser.forFields(TelemetryCommands.NVIDIA_SMI_FIELDS);
        List<GpuSample> samples = parseAll(parser, Fixtures.lines("nvidia-smi/k3gpu-query-h200.csv"));
        assertThat(samples).hasSize(10);
        GpuSample idle = samples.get(0);
        assertThat(idle.time()).isEqualTo(LocalDateTime.of(2026, 11, 28, 22, 48, 10, 485_000_000));
        assertThat(idle.name()).isEqualTo("NVIDIA H200");
        assertThat(idle.uuid()).isEqualTo("GPU-4a0dd23c-a95b-3821-4d11-35b49ae7759e");
        assertThat(idle.gpuLoadPercent()).isZero();
        assertThat(idle.memoryUsedMiB()).isZero();
        assertThat(idle.memoryTotalMiB()).isEqualTo(143771);
        assertThat(idle.temperatureC()).isEqualTo(40.0);
        assertThat(idle.powerDrawW()).isEqualTo(84.44);
        assertThat(idle.smClockMHz()).isEqualTo(345);
        assertThat(idle.extra()).containsExactly(entry("memory.free", "143156"));
        GpuSample busy = samples.get(9);
        assertThat(busy.gpuLoadPercent()).isEqualTo(100);
        assertThat(busy.memoryLoadPercent()).isEqualTo(23);
        assertThat(busy.memoryUsedMiB()).isEqualTo(1011);
        assertThat(busy.temperatureC()).isEqualTo(61.0);
        assertThat(busy.powerDrawW()).isEqualTo(693.83);
        assertThat(busy.powerLimitW()).isEqualTo(700.0);
        assertThat(busy.memClockMHz()).isEqualTo(3201);
        assertThat(samples).extracting(GpuSample::gpuLoadPercent).containsExactly(0, 0, 3, 100, 100, 100, 100, 100,
                100, 100);
        assertThat(samples).extracting(GpuSample::smClockMHz).containsExactly(345, 345, 1980, 1485, 1365, 1485,
                1395, 1470, 1425, 1470);
    }

    @Test
    void k3gpusOwnQueryAsARealH100AnswersIt() {
        // captured 2026-12-05 (session 5) on the device tool's one-H100 machine: idle, then a bf16 matmul loop
        NvidiaSmiCsvParser parser = NvidiaSmiCsvParser.forFields(TelemetryCommands.NVIDIA_SMI_FIELDS);
        List<GpuSample> samples = parseAll(parser, Fixtures.lines("nvidia-smi/k3gpu-query-h100.csv"));
        assertThat(samples).hasSize(10);
        assertThat(samples).extracting(GpuSample::index).containsOnly(0);
        assertThat(samples).extracting(GpuSample::uuid).containsOnly("GPU-8d12b96e-7e46-5d58-9c31-5db8056a5f8b");
        assertThat(samples).extracting(GpuSample::name).containsOnly("NVIDIA H100 80GB HBM3");
        GpuSample idle = samples.get(0);
        assertThat(idle.time()).isEqualTo(LocalDateTime.of(2026, 12, 5, 15, 22, 5, 258_000_000));
        assertThat(idle.memoryTotalMiB()).isEqualTo(81559);
        assertThat(idle.powerDrawW()).isEqualTo(72.34);
        assertThat(idle.extra()).containsExactly(entry("memory.free", "81079"));
        GpuSample busy = samples.get(9);
        assertThat(busy.memoryLoadPercent()).isEqualTo(31);
        assertThat(busy.memoryUsedMiB()).isEqualTo(1011);
        assertThat(busy.temperatureC()).isEqualTo(58.0);
        assertThat(busy.powerDrawW()).isEqualTo(701.5);
        assertThat(busy.memClockMHz()).isEqualTo(2619);
        assertThat(samples).extracting(GpuSample::gpuLoadPercent).containsExactly(0, 0, 0, 0, 0, 0, 0, 100, 100,
                100);
        assertThat(samples).extracting(GpuSample::smClockMHz).containsExactly(345, 345, 345, 345, 345, 345, 1980,
                1380, 1425, 1410);
    }

    @Test
    void notAvailableValuesAreNull() {
        NvidiaSmiCsvParser parser = new NvidiaSmiCsvParser();
        parser.parseLine("index, name, utilization.gpu [%], memory.used [MiB], temperature.gpu, power.draw [W], "
                + "power.limit [W], clocks.sm [MHz], fan.speed [%], ecc.errors.corrected.volatile.total");
        GpuSample s = parser.parseLine(
                "1, NVIDIA Jetson, [N/A], [Not Supported], N/A, [N/A], [Unknown Error], [N/A], [N/A], N/A")
                .orElseThrow();
        assertThat(s.index()).isEqualTo(1);
        assertThat(s.name()).isEqualTo("NVIDIA Jetson");
        assertThat(s.gpuLoadPercent()).isNull();
        assertThat(s.memoryUsedMiB()).isNull();
        assertThat(s.temperatureC()).isNull();
        assertThat(s.powerDrawW()).isNull();
        assertThat(s.powerLimitW()).isNull();
        assertThat(s.smClockMHz()).isNull();
        assertThat(s.extra()).containsExactly(entry("fan.speed", null),
                entry("ecc.errors.corrected.volatile.total", null));
    }

    @Test
    void headerWithoutUnitsAndAliases() {
        NvidiaSmiCsvParser parser = new NvidiaSmiCsvParser();
        assertThat(parser.parseLine("gpu_name, gpu_uuid, clocks.current.sm, clocks.current.memory, "
                + "gpu.power.requested_limit")).isEmpty();
        GpuSample s = parser.parseLine("NVIDIA H200, GPU-x, 1980, 3201, 700.00").orElseThrow();
        assertThat(s.name()).isEqualTo("NVIDIA H200");
        assertThat(s.uuid()).isEqualTo("GPU-x");
        assertThat(s.smClockMHz()).isEqualTo(1980);
        assertThat(s.memClockMHz()).isEqualTo(3201);
        assertThat(s.powerLimitW()).isEqualTo(700.0);
        assertThat(s.extra()).isEmpty();
    }

    @Test
    void oneRowPerGpuAndHeaderCanChange() {
        NvidiaSmiCsvParser parser = new NvidiaSmiCsvParser();
        List<GpuSample> samples = parseAll(parser, List.of(
                "index, utilization.gpu [%]",
                "0, 10 %",
                "1, 20 %",
                "",
                "index, temperature.gpu",
                "0, 50"));
        assertThat(samples).extracting(GpuSample::index).containsExactly(0, 1, 0);
        assertThat(samples).extracting(GpuSample::gpuLoadPercent).containsExactly(10, 20, null);
        assertThat(samples).extracting(GpuSample::temperatureC).containsExactly(null, null, 50.0);
    }

    @Test
    void headerOverridesTheGivenFieldList() {
        NvidiaSmiCsvParser parser = NvidiaSmiCsvParser.forFields(List.of("index", "temperature.gpu"));
        assertThat(parser.parseLine("temperature.gpu, index")).isEmpty();
        GpuSample s = parser.parseLine("45, 3").orElseThrow();
        assertThat(s.index()).isEqualTo(3);
        assertThat(s.temperatureC()).isEqualTo(45.0);
    }

    @Test
    void blankLineGivesNothing() {
        assertThat(new NvidiaSmiCsvParser().parseLine("   ")).isEqualTo(Optional.empty());
    }

    @Test
    void rowBeforeHeader() {
        assertThatThrownBy(() -> new NvidiaSmiCsvParser().parseLine("0, NVIDIA H200, 43, 0, 143771, 0, 128.84"))
                .isInstanceOf(TelemetryParseException.class)
                .hasMessageContaining("before any header");
    }

    @Test
    void wrongNumberOfValues() {
        NvidiaSmiCsvParser parser = NvidiaSmiCsvParser.forQuery("index,name,temperature.gpu");
        assertThatThrownBy(() -> parser.parseLine("0, NVIDIA H200"))
                .isInstanceOf(TelemetryParseException.class)
                .hasMessage("nvidia-smi CSV row has 2 values, expected 3 (index,name,temperature.gpu)");
    }

    @Test
    void badValues() {
        NvidiaSmiCsvParser parser = NvidiaSmiCsvParser.forQuery("--query-gpu=timestamp,index,temperature.gpu");
        assertThatThrownBy(() -> parser.parseLine("2026/11/28 18:13:36.595, 0, hot"))
                .isInstanceOf(TelemetryParseException.class)
                .hasMessage("nvidia-smi column temperature.gpu: 'hot' is not a number");
        assertThatThrownBy(() -> parser.parseLine("2026/11/28 18:13:36.595, 0.5, 40"))
                .isInstanceOf(TelemetryParseException.class)
                .hasMessage("nvidia-smi column index: '0.5' is not an integer");
        assertThatThrownBy(() -> parser.parseLine("yesterday, 0, 40"))
                .isInstanceOf(TelemetryParseException.class)
                .hasMessageContaining("timestamp 'yesterday'");
        assertThatThrownBy(() -> parser.parseLine("2026/11/28 18:13:36.595, 0, 40 degrees celsius"))
                .isInstanceOf(TelemetryParseException.class);
        // the parser is still usable after a bad row
        assertThat(parser.parseLine("2026/11/28 18:13:36, 0, 40").orElseThrow().time())
                .isEqualTo(LocalDateTime.of(2026, 11, 28, 18, 13, 36));
    }

    @Test
    void emptyFieldListIsRejected() {
        assertThatThrownBy(() -> NvidiaSmiCsvParser.forFields(List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void mappedFieldNamesAreRealQueryFields() {
        String help = Fixtures.text("nvidia-smi/help-query-gpu.txt");
        List<String> mapped = List.of("timestamp", "index", "name", "gpu_name", "uuid", "gpu_uuid", "utilization.gpu",
                "utilization.memory", "memory.used", "memory.total", "temperature.gpu", "power.draw", "power.limit",
                "gpu.power.requested_limit", "clocks.sm", "clocks.current.sm", "clocks.mem", "clocks.current.memory");
        for (String field : mapped) {
            assertThat(help).as(field).contains("\"" + field + "\"");
            String value = field.equals("timestamp") ? "2026/11/28 18:13:36.595" : "7";
            GpuSample s = NvidiaSmiCsvParser.forFields(List.of(field)).parseLine(value).orElseThrow();
            assertThat(s.extra()).as(field + " is mapped, not extra").isEmpty();
        }
    }
}
