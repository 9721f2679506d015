package io.k3gpu.core.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The full one-line JSON of representative samples, exactly as `k3gpu stats parse` prints them. */
class GpuSampleJsonTest {

    @Test
    void nanoJetPack4() {
        assertThat(GpuSampleJson.toJson(TegrastatsParser.parse(Fixtures.tegrastats(0))))
                .isEqualTo("""
                        {"source":"tegrastats","time":null,"ramUsedMB":2462,"ramTotalMB":3964,"ramLfbBlocks":2,"ramLfbBlockKB":4096,"swapUsedMB":362,"swapTotalMB":1982,"swapCachedMB":6,"iramUsedKB":null,"iramTotalKB":null,"iramLfbKB":null,"cpus":[{"online":true,"loadPercent":52,"freqMHz":1479},{"online":true,"loadPercent":41,"freqMHz":1479},{"online":true,"loadPercent":43,"freqMHz":1479},{"online":true,"loadPercent":34,"freqMHz":1479}],"gpuLoadPercent":9,"gpuFreqMHz":[],"emcLoadPercent":0,"emcFreqMHz":null,"mtsFgPercent":null,"mtsBgPercent":null,"temperaturesC":{"PLL":23.5,"CPU":26.0,"PMIC":100.0,"GPU":24.0,"AO":28.5,"thermal":25.0},"temperaturesMaxC":null,"powerMilliwatts":{"POM_5V_IN":{"current":3410,"average":3410},"POM_5V_GPU":{"current":451,"average":451},"POM_5V_CPU":{"current":1355,"average":1355}},"engines":null,"unparsed":[]}""");
    }

    @Test
    void tx1OldFormat() {
        assertThat(GpuSampleJson.toJson(TegrastatsParser.parse(Fixtures.tegrastats(3))))
                .isEqualTo("""
                        {"source":"tegrastats","time":null,"ramUsedMB":3468,"ramTotalMB":3983,"ramLfbBlocks":48,"ramLfbBlockKB":4096,"swapUsedMB":873,"swapTotalMB":8192,"swapCachedMB":295,"iramUsedKB":null,"iramTotalKB":null,"iramLfbKB":null,"cpus":[{"online":true,"loadPercent":17,"freqMHz":408},{"online":true,"loadPercent":13,"freqMHz":408},{"online":true,"loadPercent":29,"freqMHz":408},{"online":true,"loadPercent":5,"freqMHz":408}],"gpuLoadPercent":3,"gpuFreqMHz":[76],"emcLoadPercent":1,"emcFreqMHz":408,"mtsFgPercent":null,"mtsBgPercent":null,"temperaturesC":null,"temperaturesMaxC":null,"powerMilliwatts":null,"engines":{"APE":{"online":true,"loadPercent":null,"freqMHz":25}},"unparsed":[]}""");
    }

    @Test
    void xavierNxJetPack5Timestamped() {
        assertThat(GpuSampleJson.toJson(TegrastatsParser.parse(Fixtures.tegrastats(15))))
                .isEqualTo("""
                        {"source":"tegrastats","time":"2024-07-09T13:31:31","ramUsedMB":3168,"ramTotalMB":6851,"ramLfbBlocks":2,"ramLfbBlockKB":4096,"swapUsedMB":161,"swapTotalMB":3426,"swapCachedMB":0,"iramUsedKB":null,"iramTotalKB":null,"iramLfbKB":null,"cpus":[{"online":true,"loadPercent":23,"freqMHz":1397},{"online":true,"loadPercent":17,"freqMHz":1192},{"online":true,"loadPercent":16,"freqMHz":1190},{"online":true,"loadPercent":13,"freqMHz":1190},{"online":true,"loadPercent":23,"freqMHz":1190},{"online":true,"loadPercent":10,"freqMHz":1190}],"gpuLoadPercent":0,"gpuFreqMHz":[114],"emcLoadPercent":2,"emcFreqMHz":204,"mtsFgPercent":null,"mtsBgPercent":null,"temperaturesC":{"AUX":45.0,"CPU":46.5,"thermal":45.6,"AO":45.0,"GPU":45.5,"PMIC":50.0},"temperaturesMaxC":null,"powerMilliwatts":{"VDD_IN":{"current":2763,"average":2846},"VDD_CPU_GPU_CV":{"current":650,"average":670},"VDD_SOC":{"current":650,"average":711}},"engines":{"VIC":{"online":true,"loadPercent":null,"freqMHz":115},"APE":{"online":true,"loadPercent":null,"freqMHz":150}},"unparsed":[]}""");
    }

    @Test
    void thorJetPack72() {
        assertThat(GpuSampleJson.toJson(TegrastatsParser.parse(Fixtures.tegrastats(26))))
                .isEqualTo("""
                        {"source":"tegrastats","time":"2026-07-23T15:29:27","ramUsedMB":9091,"ramTotalMB":125811,"ramLfbBlocks":19,"ramLfbBlockKB":4096,"swapUsedMB":0,"swapTotalMB":2048,"swapCachedMB":0,"iramUsedKB":null,"iramTotalKB":null,"iramLfbKB":null,"cpus":[{"online":true,"loadPercent":40,"freqMHz":972},{"online":true,"loadPercent":16,"freqMHz":972},{"online":true,"loadPercent":18,"freqMHz":972},{"online":true,"loadPercent":20,"freqMHz":972},{"online":true,"loadPercent":13,"freqMHz":972},{"online":true,"loadPercent":11,"freqMHz":972},{"online":true,"loadPercent":15,"freqMHz":972},{"online":true,"loadPercent":19,"freqMHz":972},{"online":true,"loadPercent":10,"freqMHz":972},{"online":true,"loadPercent":15,"freqMHz":972},{"online":true,"loadPercent":28,"freqMHz":972},{"online":true,"loadPercent":11,"freqMHz":972},{"online":true,"loadPercent":11,"freqMHz":972},{"online":true,"loadPercent":15,"freqMHz":972}],"gpuLoadPercent":null,"gpuFreqMHz":[314,314,314],"emcLoadPercent":7,"emcFreqMHz":3200,"mtsFgPercent":null,"mtsBgPercent":null,"temperaturesC":{"cpu":34.312,"tj":35.906,"soc012":34.093,"gpu":35.906,"soc345":34.437},"temperaturesMaxC":{"cpu":34.843,"tj":35.906,"soc012":34.437,"gpu":35.906,"soc345":34.437},"powerMilliwatts":{"VDD_GPU":{"current":4925,"average":4925,"max":4925},"VDD_CPU_SOC_MSS":{"current":7953,"average":8332,"max":8710},"VIN_SYS_5V0":{"current":6667,"average":6717,"max":6767}},"engines":{"NVENC0":{"online":true,"loadPercent":null,"freqMHz":1556},"NVENC1":{"online":true,"loadPercent":null,"freqMHz":1556},"NVDEC0":{"online":true,"loadPercent":null,"freqMHz":1556},"NVDEC1":{"online":true,"loadPercent":null,"freqMHz":1556},"NVJPG0":{"online":true,"loadPercent":null,"freqMHz":1556},"VIC":{"online":true,"loadPercent":59,"freqMHz":423},"OFA":{"online":true,"loadPercent":null,"freqMHz":1556},"PVA0":{"online":false,"loadPercent":null,"freqMHz":null},"APE":{"online":true,"loadPercent":null,"freqMHz":300}},"unparsed":[]}""");
    }

    @Test
    void nvidiaSmiWithHeaderAndUnits() {
        NvidiaSmiCsvParser parser = new NvidiaSmiCsvParser();
        List<String> lines = Fixtures.lines("nvidia-smi/q-header.csv");
        parser.parseLine(lines.get(0));
        assertThat(GpuSampleJson.toJson(parser.parseLine(lines.get(1)).orElseThrow()))
                .isEqualTo("""
                        {"source":"nvidia-smi","time":"2026-11-28T17:53:10.329","index":0,"name":"NVIDIA H200",\
                        "uuid":"GPU-eed3be17-8c4b-3ec0-67f4-92cf24bce06f","gpuLoadPercent":0,"memoryLoadPercent":0,\
                        "memoryUsedMiB":0,"memoryTotalMiB":143771,"temperatureC":43.0,"powerDrawW":128.84,\
                        "powerLimitW":700.0,"smClockMHz":1980,"memClockMHz":3201,"extra":{"pci.bus_id":\
                        "00000000:00:06.0","driver_version":"580.159.04","pstate":"P0","temperature.memory":"41",\
                        "memory.free":"143156 MiB","power.draw.average":"128.84 W","power.draw.instant":"128.92 W",\
                        "clocks.current.graphics":"1980 MHz","fan.speed":null,"compute_cap":"9.0"}}""");
    }

    @Test
    void nvidiaSmiNoHeaderNoUnitsLeavesUnqueriedKeysNull() {
        NvidiaSmiCsvParser parser = NvidiaSmiCsvParser.forQuery(
                "index,name,temperature.gpu,utilization.gpu,memory.total,memory.used,power.draw");
        assertThat(GpuSampleJson.toJson(parser.parseLine(Fixtures.lines("nvidia-smi/q-loop.csv").get(0))
                .orElseThrow()))
                .isEqualTo("""
                        {"source":"nvidia-smi","time":null,"index":0,"name":"NVIDIA H200","uuid":null,\
                        "gpuLoadPercent":0,"memoryLoadPercent":null,"memoryUsedMiB":0,"memoryTotalMiB":143771,\
                        "temperatureC":43.0,"powerDrawW":128.84,"powerLimitW":null,"smClockMHz":null,\
                        "memClockMHz":null,"extra":{}}""");
    }

    @Test
    void noReadingAndMinimalLine() {
        assertThat(GpuSampleJson.toJson(TegrastatsParser.parse("GR3D_FREQ 0%@[305,305] CV0@-256C GR3D2_FREQ 0%@0 X")))
                .isEqualTo("""
                        {"source":"tegrastats","time":null,"ramUsedMB":null,"ramTotalMB":null,"ramLfbBlocks":null,\
                        "ramLfbBlockKB":null,"swapUsedMB":null,"swapTotalMB":null,"swapCachedMB":null,\
                        "iramUsedKB":null,"iramTotalKB":null,"iramLfbKB":null,"cpus":null,"gpuLoadPercent":0,\
                        "gpuFreqMHz":[305,305],"emcLoadPercent":null,"emcFreqMHz":null,"mtsFgPercent":null,\
                        "mtsBgPercent":null,"temperaturesC":{"CV0":null},"temperaturesMaxC":null,\
                        "powerMilliwatts":null,"engines":{"GR3D2":{"online":true,"loadPercent":0,"freqMHz":0}},\
                        "unparsed":["X"]}""");
    }

    @Test
    void errorObject() {
        assertThat(GpuSampleJson.error("not tegrastats output: \"x\"", 12))
                .isEqualTo("{\"error\":\"not tegrastats output: \\\"x\\\"\",\"line\":12}");
    }

    @Test
    void everySampleIsOneLineOfValidJson() {
        JsonMapper mapper = JsonMapper.builder().build();
        for (String line : Fixtures.tegrastatsSamples()) {
            String json = GpuSampleJson.toJson(TegrastatsParser.parse(line));
            assertThat(json).doesNotContain("\n");
            JsonNode node = mapper.readTree(json);
            assertThat(node.get("source").asString()).isEqualTo("tegrastats");
            assertThat(node.propertyNames()).contains("source", "time", "ramUsedMB", "ramTotalMB", "swapUsedMB",
                    "swapTotalMB", "swapCachedMB", "cpus", "gpuLoadPercent", "gpuFreqMHz", "emcLoadPercent",
                    "emcFreqMHz", "temperaturesC", "powerMilliwatts", "engines", "unparsed");
        }
    }
}
