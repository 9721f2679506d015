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
        assertThat(r.err()).isEqualTo("stats parse: 1 line of stdin could not be read as telemetry (error objects in "
                + "the output)\n");
    }

    @Test
    void inputWithoutAnyTelemetryFailsAndCountsTheLinesOnStderr() {
        Cli.Result r = Cli.run("# a comment\nhello\n\nworld\n", Map.of(), "stats", "parse");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).isEqualTo("{\"error\":\"not tegrastats or nvidia-smi output: 'hello'\",\"line\":2}\n"
                + "{\"error\":\"not tegrastats or nvidia-smi output: 'world'\",\"line\":4}\n");
        assertThat(r.err()).isEqualTo("stats parse: 2 lines of stdin could not be read as telemetry (error objects in "
                + "the output)\nerror: no line of stdin is tegrastats or nvidia-smi output; give the output of "
                + "tegrastats or nvidia-smi --query-gpu=... --format=csv (with --source and --fields for noheader "
                + "CSV)\n");
    }

    @Test
    void textOutputWarnsOnStderrForEachLineItCannotRead() {
        Cli.Result r = Cli.run("garbage\n" + StatsPlainLineTest.ORIN + "\n", Map.of(), "stats", "parse", "-o", "text",
                "--source", "tegrastats");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).startsWith("08:38:09 cpu 15,off,14% @729MHz+ gpu 63%");
        assertThat(r.err()).startsWith("warning: line 1: ")
                .endsWith("\nstats parse: 1 line of stdin could not be read as telemetry\n");
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
    void controlCharactersReachTheOutputOnlyAsJsonEscapesAndUtf8StaysWhole() {
        Cli.Result r = Cli.run("RAM 1/2MB caf\u00e9\u001b]0;x\u0007 \u009b2J\n", Map.of(), "stats", "parse");
        assertThat(r.exit()).isZero();
        // C0 controls split tokens (the parser's whitespace); a C1 CSI stays in its token, escaped
        assertThat(r.out()).endsWith(",\"unparsed\":[\"caf\u00e9\",\"]0;x\",\"\\u009B2J\"]}\n");
    }

    @Test
    void aMissingFileIsAUsageError() {
        Cli.Result r = Cli.run("stats", "parse", "/nonexistent/tegrastats.log");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: no such file: /nonexistent/tegrastats.log");
    }
}
