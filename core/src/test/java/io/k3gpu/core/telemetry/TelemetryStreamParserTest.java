package io.k3gpu.core.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3gpu.core.telemetry.TelemetryStreamParser.SourceOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class TelemetryStreamParserTest {

    private static List<String> parse(TelemetryStreamParser parser, SourceOption source, String... lines) {
        return parser.parse(Stream.of(lines), source).toList();
    }

    @Test
    void wholeTegrastatsFixtureFileAuto() {
        List<String> out = new TelemetryStreamParser()
                .parse(Fixtures.lines("tegrastats/samples.txt").stream(), SourceOption.AUTO).toList();
        assertThat(out).hasSize(27).allMatch(j -> j.startsWith("{\"source\":\"tegrastats\""))
                .allMatch(j -> j.endsWith("\"unparsed\":[]}"));
    }

    @Test
    void badLinesGiveErrorObjectsAndParsingGoesOn() {
        String good = Fixtures.tegrastats(0);
        List<String> out = parse(new TelemetryStreamParser(), SourceOption.TEGRASTATS,
                "# a comment",
                good,
                "",
                "garbage here",
                "   ",
                good,
                "Connection to 10.0.0.5 closed.");
        assertThat(out).hasSize(4);
        assertThat(out.get(0)).isEqualTo(GpuSampleJson.toJson(TegrastatsParser.parse(good)));
        assertThat(out.get(1)).isEqualTo(
                "{\"error\":\"not tegrastats output: no tegrastats field in 'garbage here'\",\"line\":4}");
        assertThat(out.get(2)).isEqualTo(out.get(0));
        assertThat(out.get(3)).isEqualTo("{\"error\":\"not tegrastats output: no tegrastats field in "
                + "'Connection to 10.0.0.5 closed.'\",\"line\":7}");
    }

    @Test
    void autoDetectsFromFirstRecognisedLine() {
        List<String> out = parse(new TelemetryStreamParser(), SourceOption.AUTO,
                "hello",
                Fixtures.tegrastats(3),
                "0, NVIDIA H200, 43");
        assertThat(out).hasSize(3);
        assertThat(out.get(0)).isEqualTo("{\"error\":\"not tegrastats or nvidia-smi output: 'hello'\",\"line\":1}");
        assertThat(out.get(1)).startsWith("{\"source\":\"tegrastats\"");
        assertThat(out.get(2)).startsWith("{\"error\":\"not tegrastats output").endsWith("\"line\":3}");
    }

    @Test
    void nvidiaSmiWithHeaderAutoAndABadRowInBetween() {
        List<String> lines = new ArrayList<>(Fixtures.lines("nvidia-smi/q-header.csv"));
        String row = lines.get(1);
        lines.add("0, NVIDIA H200, only three");
        lines.add(row);
        List<String> out = new TelemetryStreamParser().parse(lines.stream(), SourceOption.AUTO).toList();
        assertThat(out).hasSize(3);
        assertThat(out.get(0)).startsWith("{\"source\":\"nvidia-smi\",\"time\":\"2026-11-28T17:53:10.329\"");
        assertThat(out.get(1)).isEqualTo("{\"error\":\"nvidia-smi CSV row has 3 values, expected 23 (timestamp,"
                + "index,name,uuid,pci.bus_id,driver_version,pstate,temperature.gpu,temperature.memory,"
                + "utilization.gpu,utilization.memory,memory.total,memory.used,memory.free,power.draw,"
                + "power.draw.average,power.draw.instant,power.limit,clocks.current.sm,clocks.current.memory,"
                + "clocks.current.graphics,fan.speed,compute_cap)\",\"line\":3}");
        assertThat(out.get(2)).isEqualTo(out.get(0));
    }

    @Test
    void nvidiaSmiNoHeaderNeedsTheFieldList() {
        List<String> rows = Fixtures.lines("nvidia-smi/busy_noheader_nounits.csv");
        List<String> withoutFields = new TelemetryStreamParser().parse(rows.stream(), SourceOption.NVIDIA_SMI)
                .toList();
        assertThat(withoutFields).hasSize(15).allMatch(j -> j.startsWith("{\"error\":\"nvidia-smi CSV row before"));

        List<String> fields = List.of(Fixtures.text("nvidia-smi/query_fields.txt").strip().split(","));
        List<String> out = new TelemetryStreamParser(fields).parse(rows.stream(), SourceOption.AUTO).toList();
        assertThat(out).hasSize(15).allMatch(j -> j.startsWith("{\"source\":\"nvidia-smi\""));
        assertThat(out.get(0)).contains("\"gpuLoadPercent\":100", "\"powerDrawW\":692.6",
                "\"extra\":{\"pstate\":\"P0\",\"memory.free\":\"142146\"}");
    }

    @Test
    void eachParseHasItsOwnState() {
        TelemetryStreamParser parser = new TelemetryStreamParser();
        List<String> header = Fixtures.lines("nvidia-smi/q-header.csv");
        assertThat(parser.parse(header.stream(), SourceOption.NVIDIA_SMI).toList()).hasSize(1);
        // a second stream does not inherit the first stream's header
        assertThat(parser.parse(Stream.of(header.get(1)), SourceOption.NVIDIA_SMI).toList())
                .singleElement().asString().startsWith("{\"error\":");
    }

    @Test
    void sourceOption() {
        assertThat(SourceOption.fromOption("auto")).isEqualTo(SourceOption.AUTO);
        assertThat(SourceOption.fromOption("Tegrastats")).isEqualTo(SourceOption.TEGRASTATS);
        assertThat(SourceOption.fromOption("nvidia-smi")).isEqualTo(SourceOption.NVIDIA_SMI);
        assertThatThrownBy(() -> SourceOption.fromOption("dcgm")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("auto, tegrastats or nvidia-smi");
    }
}
