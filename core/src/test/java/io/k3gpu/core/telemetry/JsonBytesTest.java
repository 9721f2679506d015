package io.k3gpu.core.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;

/** The byte writer behind GpuSampleJson writes what Jackson's generator wrote before it, byte for byte. */
class JsonBytesTest {
    private static final JsonFactory JACKSON = JsonFactory.builder().build();

    private static String jackson(String s) {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = JACKSON.createGenerator(w)) {
            g.writeString(s);
        }
        // through the UTF-8 encoder, as the output stream got it (a lone surrogate becomes '?')
        return new String(w.toString().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }

    private static String ours(String s) {
        return new JsonBytes(4).string(s).text();
    }

    @Test
    void everyCharIsEscapedAsJacksonDoesExceptDelAndC1WhichAreEscapedToo() {
        for (int base = 0; base < 0x10000; base += 256) {
            StringBuilder chunk = new StringBuilder();
            for (int c = base; c < base + 256; c++) {
                if (c < 0x7f || c > 0x9f) {
                    chunk.append((char) c);
                }
            }
            assertThat(ours(chunk.toString())).as("chars from %04x", base).isEqualTo(jackson(chunk.toString()));
        }
        for (char c = 0x7f; c <= 0x9f; c++) {
            assertThat(ours("a" + c + "b")).isEqualTo(String.format("\"a\\u%04Xb\"", (int) c));
        }
        assertThat(ours("x\uD83D\uDE00y\uD800")).isEqualTo(jackson("x\uD83D\uDE00y\uD800")).isEqualTo("\"x\uD83D\uDE00y?\"");
        assertThat(ours("\u001b[31mred\u009b0m")).isEqualTo("\"\\u001B[31mred\\u009B0m\"");
    }

    @Test
    void aStringLongerThanTheBufferGrowsIt() {
        String s = "é\"".repeat(5000);
        assertThat(ours(s)).isEqualTo(jackson(s));
    }

    @Test
    void numbersAreJavasOwnDigits() {
        Random random = new Random(16);
        for (int k = 0; k < 20_000; k++) {
            int i = k < 10_000 ? random.nextInt() : random.nextInt(20_000) - 10_000;
            assertThat(new JsonBytes(1).number(i).text()).isEqualTo(Integer.toString(i));
            double d = k % 3 == 0 ? random.nextInt(2_000_000) / 100.0 - 10_000 : k % 3 == 1 ? Math.rint(d(random))
                    : d(random);
            assertThat(new JsonBytes(1).number(d).text()).as("%s", d).isEqualTo(Double.toString(d));
        }
        for (double d : new double[] {0.0, -0.0, 1e7, -1e7, 9_999_999.0, 1e-3, 1e23}) {
            assertThat(new JsonBytes(1).number(d).text()).isEqualTo(Double.toString(d));
        }
        assertThat(new JsonBytes(1).number(Integer.MIN_VALUE).raw(',').number(Long.MAX_VALUE).raw(',')
                .number(Double.NaN).raw(',').number(Double.NEGATIVE_INFINITY).text())
                .isEqualTo("-2147483648,9223372036854775807,\"NaN\",\"-Infinity\"");
    }

    private static double d(Random random) {
        return (random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(20) - 5);
    }

    @Test
    void timesAreIsoLocalDateTime() {
        Random random = new Random(25);
        for (int k = 0; k < 4000; k++) {
            LocalDateTime t = LocalDateTime.of(k < 100 ? random.nextInt(30_000) - 10_000 : random.nextInt(10_000),
                    1 + random.nextInt(12), 1 + random.nextInt(28), random.nextInt(24), random.nextInt(60),
                    random.nextInt(60), switch (k % 4) {
                        case 0 -> 0;
                        case 1 -> random.nextInt(1000) * 1_000_000;
                        case 2 -> random.nextInt(1_000_000) * 1000;
                        default -> random.nextInt(1_000_000_000);
                    });
            assertThat(new JsonBytes(1).time(t).text()).isEqualTo("\"" + DateTimeFormatter.ISO_LOCAL_DATE_TIME
                    .format(t) + "\"");
        }
    }

    @Test
    void lineWriterWritesUtf8JsonLinesThatJacksonReadsBack() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GpuSampleJson.LineWriter w = new GpuSampleJson.LineWriter(out);
        GpuSample odd = TegrastatsParser.parse("RAM 1/2MB GR3D_FREQ 5% naïve\u001b]0;title\u0007 x\u0085y");
        List<String> samples = Fixtures.tegrastatsSamples();
        for (int i = 0; i < 1000; i++) {
            w.sample(TegrastatsParser.parse(samples.get(i % samples.size())));
            w.error("bad \"line\"", i);
            w.sample(odd);
        }
        w.flush();
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n", -1);
        assertThat(lines).hasSize(3001);
        assertThat(lines[3000]).isEmpty();
        JsonMapper mapper = JsonMapper.builder().build();
        for (int i = 0; i < 3000; i += 3) {
            assertThat(lines[i]).isEqualTo(GpuSampleJson.toJson(TegrastatsParser.parse(samples.get(i / 3 % samples
                    .size()))));
            assertThat(mapper.readTree(lines[i + 1]).get("line").asInt()).isEqualTo(i / 3);
            assertThat(GpuSampleJson.fromJson(lines[i + 2])).isEqualTo(odd);
            assertThat(lines[i + 2]).doesNotContain("\u001b", "\u0007", "\u0085").contains("naïve");
        }
    }
}
