package io.k3gpu.core.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Random and mutated lines: the parsers never throw anything but TelemetryParseException, and never hang. */
class TelemetryFuzzTest {

    private static final String ALPHABET = "0123456789%@[],/ ()-.xCmWkBMoffRAMSWAPCPUcpuGR3D_FREQEMCMTSfgbg\t#:";
    private static final int ROUNDS = 20_000;

    @Test
    void tegrastatsParserSurvivesMutatedLines() {
        List<String> seeds = new ArrayList<>(Fixtures.tegrastatsSamples());
        seeds.add("RAM 1/2MB(lfb 1x4MB) IRAM 0/252kB(lfb 252kB) SWAP 0/1MB(cached 0MB) MTS fg 1% bg 2%");
        Random random = new Random(20260928L);
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            int parsed = 0;
            for (int round = 0; round < ROUNDS; round++) {
                String line = mutate(seeds.get(random.nextInt(seeds.size())), random);
                try {
                    GpuSample s = TegrastatsParser.parse(line);
                    assertThat(s.unparsed()).isNotNull();
                    GpuSampleJson.toJson(s);
                    parsed++;
                } catch (TelemetryParseException expected) {
                    assertThat(expected.getMessage()).startsWith("not tegrastats output");
                }
            }
            assertThat(parsed).isGreaterThan(ROUNDS / 2);
        });
    }

    @Test
    void tegrastatsParserSurvivesRandomStrings() {
        Random random = new Random(7L);
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int round = 0; round < ROUNDS; round++) {
                String line = randomString(random, random.nextInt(200));
                try {
                    GpuSampleJson.toJson(TegrastatsParser.parse(line));
                } catch (TelemetryParseException expected) {
                    // fine: not tegrastats
                }
            }
        });
    }

    @Test
    void nvidiaSmiParserSurvivesMutatedRows() {
        List<String> rows = Fixtures.lines("nvidia-smi/busy_noheader_nounits.csv");
        String header = Fixtures.lines("nvidia-smi/q-header.csv").get(0);
        String headerRow = Fixtures.lines("nvidia-smi/q-header.csv").get(1);
        Random random = new Random(42L);
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            NvidiaSmiCsvParser noheader = NvidiaSmiCsvParser.forQuery(Fixtures.text("nvidia-smi/query_fields.txt"));
            NvidiaSmiCsvParser withHeader = new NvidiaSmiCsvParser();
            withHeader.parseLine(header);
            for (int round = 0; round < ROUNDS; round++) {
                boolean useHeader = random.nextBoolean();
                String seed = useHeader ? headerRow : rows.get(random.nextInt(rows.size()));
                String line = mutate(seed, random);
                try {
                    (useHeader ? withHeader : noheader).parseLine(line).ifPresent(GpuSampleJson::toJson);
                } catch (TelemetryParseException expected) {
                    // fine: a bad row
                }
                if (random.nextInt(50) == 0) {
                    withHeader = new NvidiaSmiCsvParser();
                    withHeader.parseLine(header);
                }
            }
        });
    }

    private static String mutate(String seed, Random random) {
        StringBuilder sb = new StringBuilder(seed);
        int edits = 1 + random.nextInt(8);
        for (int e = 0; e < edits && sb.length() > 0; e++) {
            int pos = random.nextInt(sb.length());
            switch (random.nextInt(5)) {
                case 0 -> sb.setCharAt(pos, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                case 1 -> sb.deleteCharAt(pos);
                case 2 -> sb.insert(pos, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                case 3 -> sb.setLength(pos);
                default -> {
                    int end = Math.min(sb.length(), pos + random.nextInt(20));
                    sb.insert(random.nextInt(sb.length() + 1), sb.substring(pos, end));
                }
            }
        }
        return sb.toString();
    }

    private static String randomString(Random random, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(random.nextInt(10) == 0 ? (char) random.nextInt(0x3000)
                    : ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }
}
