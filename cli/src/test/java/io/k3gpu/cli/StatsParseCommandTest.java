package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatsParseCommandTest {

    @Test
    void stdinBecomesOneJsonObjectPerSampleAndABadLineAnErrorObject() {
        Cli.Result r = Cli.run(StatsPlainLineTest.NANO + "\nthis is not tegrastats\n" + StatsPlainLineTest.ORIN
                + "\n", Map.of(), "stats", "parse");
        assertThat(r.exit()).isZero();
        String[] lines = r.out().split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).startsWith("{\"source\":\"tegrastats\",\"time\":null,\"ramUsedMB\":2462,");
        assertThat(lines[1]).startsWith("{\"error\":\"").endsWith("\"line\":2}");
        assertThat(lines[2]).startsWith("{\"source\":\"tegrastats\",\"time\":\"2024-11-15T08:38:09\",");
    }

    @Test
    void nvidiaSmiNoheaderRowsNeedTheirFields(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("smi.csv");
        Files.writeString(csv, "0, NVIDIA H200, 43, 0, 143771, 0, 128.84\n");
        Cli.Result r = Cli.run("stats", "parse", csv.toString(), "--source", "nvidia-smi", "--fields",
                "index,name,temperature.gpu,utilization.gpu,memory.total,memory.used,power.draw");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).isEqualTo("{\"source\":\"nvidia-smi\",\"time\":null,\"index\":0,\"name\":\"NVIDIA H200\","
                + "\"uuid\":null,\"gpuLoadPercent\":0,\"memoryLoadPercent\":null,\"memoryUsedMiB\":0,"
                + "\"memoryTotalMiB\":143771,\"temperatureC\":43.0,\"powerDrawW\":128.84,\"powerLimitW\":null,"
                + "\"smClockMHz\":null,\"memClockMHz\":null,\"extra\":{}}\n");
    }

    @Test
    void textOutputIsOneReadableLinePerSample() {
        Cli.Result r = Cli.run(StatsPlainLineTest.ORIN + "\n", Map.of(), "stats", "parse", "-", "-o", "text");
        assertThat(r.out()).isEqualTo("08:38:09 cpu 15,off,14% @729MHz+ gpu 63% @621MHz emc 43% ram 6185/7620MB "
                + "swap 851/3810MB temp cpu 54.0C power VDD_IN 12.48W\n");
    }

    @Test
    void aMissingFileIsAUsageError() {
        Cli.Result r = Cli.run("stats", "parse", "/nonexistent/tegrastats.log");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: no such file: /nonexistent/tegrastats.log");
    }
}
