package io.k3gpu.core.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import io.k3gpu.core.telemetry.GpuSample.Cpu;
import io.k3gpu.core.telemetry.GpuSample.Engine;
import io.k3gpu.core.telemetry.GpuSample.Power;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class TegrastatsParserTest {

    private static final Cpu OFF = new Cpu(false, null, null);
    private static final Engine ENGINE_OFF = new Engine(false, null, null);

    static Stream<String> samples() {
        return Fixtures.tegrastatsSamples().stream();
    }

    @Test
    void fixtureHasAllSamples() {
        assertThat(Fixtures.lines("tegrastats/samples.txt")).hasSize(58);
        assertThat(Fixtures.tegrastatsSamples()).hasSize(27);
    }

    /** Every fixture line: nothing left unparsed, and values equal to what an independent regex reading finds. */
    @ParameterizedTest
    @MethodSource("samples")
    void everyFixtureLineParsesCompletelyAndAgreesWithRegexOracle(String line) {
        GpuSample s = TegrastatsParser.parse(line);

        assertThat(s.source()).isEqualTo(Source.TEGRASTATS);
        assertThat(s.unparsed()).isEmpty();

        Matcher ram = Pattern.compile("RAM (\\d+)/(\\d+)MB \\(lfb (\\d+)x(\\d+)(MB|kB)\\)").matcher(line);
        assertThat(ram.find()).isTrue();
        assertThat(s.ramUsedMB()).isEqualTo(Integer.parseInt(ram.group(1)));
        assertThat(s.ramTotalMB()).isEqualTo(Integer.parseInt(ram.group(2)));
        assertThat(s.ramLfbBlocks()).isEqualTo(Integer.parseInt(ram.group(3)));
        assertThat(s.ramLfbBlockKB())
                .isEqualTo(Integer.parseInt(ram.group(4)) * (ram.group(5).equals("MB") ? 1024 : 1));

        Matcher swap = Pattern.compile("SWAP (\\d+)/(\\d+)MB \\(cached (\\d+)MB\\)").matcher(line);
        if (swap.find()) {
            assertThat(List.of(s.swapUsedMB(), s.swapTotalMB(), s.swapCachedMB())).containsExactly(
                    Integer.parseInt(swap.group(1)), Integer.parseInt(swap.group(2)),
                    Integer.parseInt(swap.group(3)));
        } else {
            assertThat(s.swapUsedMB()).isNull();
            assertThat(s.swapTotalMB()).isNull();
            assertThat(s.swapCachedMB()).isNull();
        }

        Matcher cpu = Pattern.compile("(?:CPU|cpu) \\[([^\\]]*)\\](?:@(\\d+))?").matcher(line);
        assertThat(cpu.find()).isTrue();
        String[] cores = cpu.group(1).split(",");
        assertThat(s.cpus()).hasSize(cores.length);
        for (int i = 0; i < cores.length; i++) {
            Cpu c = s.cpus().get(i);
            if (cores[i].equals("off")) {
                assertThat(c).isEqualTo(OFF);
            } else {
                Matcher m = Pattern.compile("(\\d+)%(?:@(\\d+))?").matcher(cores[i]);
                assertThat(m.matches()).as(cores[i]).isTrue();
                String freq = m.group(2) != null ? m.group(2) : cpu.group(2);
                assertThat(c).isEqualTo(new Cpu(true, Integer.valueOf(m.group(1)), Integer.valueOf(freq)));
            }
        }

        Matcher gpu = Pattern.compile("GR3D(?:_FREQ)? (?:(\\d+)%)?(?:@\\[?([\\d,]+)\\]?)?(?:\\s|$)").matcher(line);
        assertThat(gpu.find()).isTrue();
        assertThat(s.gpuLoadPercent()).isEqualTo(gpu.group(1) == null ? null : Integer.valueOf(gpu.group(1)));
        List<Integer> clocks = new ArrayList<>();
        if (gpu.group(2) != null) {
            for (String f : gpu.group(2).split(",")) {
                clocks.add(Integer.valueOf(f));
            }
        }
        assertThat(s.gpuFreqMHz()).isEqualTo(clocks);

        Map<String, Double> temps = new LinkedHashMap<>();
        Map<String, Double> maxTemps = new LinkedHashMap<>();
        Map<String, Power> rails = new LinkedHashMap<>();
        String[] tokens = line.split(" ");
        Pattern temp = Pattern.compile("([A-Za-z][A-Za-z0-9_]*)@(-?[\\d.]+)C(?:/(-?[\\d.]+)C)?");
        Pattern railName = Pattern.compile("[A-Z][A-Z0-9_]*");
        Pattern railValue = Pattern.compile("(\\d+)(?:mW)?/(\\d+)(?:mW)?(?:/(\\d+)(?:mW)?)?");
        for (int i = 0; i < tokens.length; i++) {
            Matcher t = temp.matcher(tokens[i]);
            if (t.matches()) {
                temps.put(t.group(1), Double.valueOf(t.group(2)));
                if (t.group(3) != null) {
                    maxTemps.put(t.group(1), Double.valueOf(t.group(3)));
                }
            }
            if (i + 1 < tokens.length && railName.matcher(tokens[i]).matches()) {
                Matcher r = railValue.matcher(tokens[i + 1]);
                if (r.matches()) {
                    rails.put(tokens[i], new Power(Integer.valueOf(r.group(1)), Integer.valueOf(r.group(2)),
                            r.group(3) == null ? null : Integer.valueOf(r.group(3))));
                }
            }
        }
        assertThat(s.temperaturesC()).isEqualTo(temps.isEmpty() ? null : temps);
        assertThat(s.temperaturesC() == null ? List.of() : List.copyOf(s.temperaturesC().keySet()))
                .containsExactlyElementsOf(temps.keySet());
        assertThat(s.temperaturesMaxC()).isEqualTo(maxTemps.isEmpty() ? null : maxTemps);
        assertThat(s.powerMilliwatts()).isEqualTo(rails.isEmpty() ? null : rails);

        Matcher ts = Pattern.compile("^(\\d\\d)-(\\d\\d)-(\\d{4}) (\\d\\d):(\\d\\d):(\\d\\d) ").matcher(line);
        if (ts.find()) {
            assertThat(s.time()).isEqualTo(LocalDateTime.of(Integer.parseInt(ts.group(3)),
                    Integer.parseInt(ts.group(1)), Integer.parseInt(ts.group(2)), Integer.parseInt(ts.group(4)),
                    Integer.parseInt(ts.group(5)), Integer.parseInt(ts.group(6))));
        } else {
            assertThat(s.time()).isNull();
        }
        assertThat(s.index()).isNull();
        assertThat(s.name()).isNull();
        assertThat(s.extra()).isNull();
    }

    @Test
    void nanoJetPack4() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(0));
        assertThat(s.time()).isNull();
        assertThat(s.ramUsedMB()).isEqualTo(2462);
        assertThat(s.ramTotalMB()).isEqualTo(3964);
        assertThat(s.ramLfbBlocks()).isEqualTo(2);
        assertThat(s.ramLfbBlockKB()).isEqualTo(4096);
        assertThat(s.swapUsedMB()).isEqualTo(362);
        assertThat(s.swapTotalMB()).isEqualTo(1982);
        assertThat(s.swapCachedMB()).isEqualTo(6);
        assertThat(s.iramUsedKB()).isNull();
        assertThat(s.cpus()).containsExactly(new Cpu(true, 52, 1479), new Cpu(true, 41, 1479),
                new Cpu(true, 43, 1479), new Cpu(true, 34, 1479));
        assertThat(s.emcLoadPercent()).isZero();
        assertThat(s.emcFreqMHz()).isNull();
        assertThat(s.gpuLoadPercent()).isEqualTo(9);
        assertThat(s.gpuFreqMHz()).isEmpty();
        assertThat(s.temperaturesC()).containsExactly(entry("PLL", 23.5), entry("CPU", 26.0),
                entry("PMIC", 100.0), entry("GPU", 24.0), entry("AO", 28.5), entry("thermal", 25.0));
        assertThat(s.temperaturesMaxC()).isNull();
        assertThat(s.powerMilliwatts()).containsExactly(
                entry("POM_5V_IN", new Power(3410, 3410, null)),
                entry("POM_5V_GPU", new Power(451, 451, null)),
                entry("POM_5V_CPU", new Power(1355, 1355, null)));
        assertThat(s.engines()).isNull();
        assertThat(s.mtsFgPercent()).isNull();
        assertThat(s.unparsed()).isEmpty();
    }

    @Test
    void nanoJetPack4RootWithEncoderAndIram() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(12));
        assertThat(s.ramLfbBlockKB()).isEqualTo(2048);
        assertThat(s.iramUsedKB()).isZero();
        assertThat(s.iramTotalKB()).isEqualTo(252);
        assertThat(s.iramLfbKB()).isEqualTo(252);
        assertThat(s.emcLoadPercent()).isEqualTo(10);
        assertThat(s.emcFreqMHz()).isEqualTo(1600);
        assertThat(s.gpuLoadPercent()).isZero();
        assertThat(s.gpuFreqMHz()).containsExactly(76);
        assertThat(s.engines()).containsExactly(entry("NVENC", new Engine(true, null, 716)),
                entry("NVDEC", new Engine(true, null, 716)), entry("APE", new Engine(true, null, 25)));
        assertThat(s.powerMilliwatts()).containsEntry("POM_5V_IN", new Power(4520, 4680, null));
    }

    @Test
    void tx1OldFormat() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(3));
        assertThat(s.ramUsedMB()).isEqualTo(3468);
        assertThat(s.ramTotalMB()).isEqualTo(3983);
        assertThat(s.ramLfbBlocks()).isEqualTo(48);
        assertThat(s.swapUsedMB()).isEqualTo(873);
        assertThat(s.swapTotalMB()).isEqualTo(8192);
        assertThat(s.swapCachedMB()).isEqualTo(295);
        assertThat(s.cpus()).containsExactly(new Cpu(true, 17, 408), new Cpu(true, 13, 408),
                new Cpu(true, 29, 408), new Cpu(true, 5, 408));
        assertThat(s.emcLoadPercent()).isEqualTo(1);
        assertThat(s.emcFreqMHz()).isEqualTo(408);
        assertThat(s.gpuLoadPercent()).isEqualTo(3);
        assertThat(s.gpuFreqMHz()).containsExactly(76);
        assertThat(s.engines()).containsExactly(entry("APE", new Engine(true, null, 25)));
        assertThat(s.temperaturesC()).isNull();
        assertThat(s.powerMilliwatts()).isNull();
        assertThat(s.unparsed()).isEmpty();
    }

    @Test
    void tx2RootWithMtsAndCoresOff() {
        GpuSample mts = TegrastatsParser.parse(Fixtures.tegrastats(6));
        assertThat(mts.mtsFgPercent()).isEqualTo(1);
        assertThat(mts.mtsBgPercent()).isEqualTo(1);
        assertThat(mts.cpus()).extracting(Cpu::freqMHz).containsExactly(1421, 2031, 2034, 1420, 1419, 1420);
        assertThat(mts.powerMilliwatts()).containsEntry("VDD_4V0_WIFI", new Power(0, 0, null));

        GpuSample off = TegrastatsParser.parse(Fixtures.tegrastats(7));
        assertThat(off.cpus()).containsExactly(new Cpu(true, 2, 345), OFF, OFF, OFF, OFF, OFF);
        assertThat(off.emcLoadPercent()).isEqualTo(13);
        assertThat(off.emcFreqMHz()).isEqualTo(40);
        assertThat(off.gpuFreqMHz()).containsExactly(114);
    }

    @Test
    void xavierJetPack4RailsNamedLikeTemperatures() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(10));
        assertThat(s.cpus()).hasSize(8);
        assertThat(s.cpus().subList(4, 8)).containsOnly(OFF);
        assertThat(s.emcLoadPercent()).isZero();
        assertThat(s.emcFreqMHz()).isEqualTo(665);
        assertThat(s.gpuLoadPercent()).isZero();
        assertThat(s.gpuFreqMHz()).containsExactly(318);
        assertThat(s.mtsFgPercent()).isZero();
        assertThat(s.mtsBgPercent()).isZero();
        assertThat(s.engines()).containsExactly(entry("APE", new Engine(true, null, 150)));
        // "GPU@37.5C" is a temperature, "GPU 0/0" a rail (JetPack 4 Xavier)
        assertThat(s.temperaturesC()).containsEntry("GPU", 37.5).containsEntry("CPU", 37.5);
        assertThat(s.powerMilliwatts()).containsExactly(
                entry("GPU", new Power(0, 0, null)), entry("CPU", new Power(311, 311, null)),
                entry("SOC", new Power(932, 932, null)), entry("CV", new Power(0, 0, null)),
                entry("VDDRQ", new Power(621, 621, null)), entry("SYS5V", new Power(1482, 1482, null)));
    }

    @Test
    void xavierNxJetPack5Milliwatts() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(15));
        assertThat(s.time()).isEqualTo(LocalDateTime.of(2024, 7, 9, 13, 31, 31));
        assertThat(s.gpuLoadPercent()).isZero();
        assertThat(s.gpuFreqMHz()).containsExactly(114);
        assertThat(s.emcLoadPercent()).isEqualTo(2);
        assertThat(s.emcFreqMHz()).isEqualTo(204);
        assertThat(s.engines()).containsExactly(entry("VIC", new Engine(true, null, 115)),
                entry("APE", new Engine(true, null, 150)));
        assertThat(s.powerMilliwatts()).containsExactly(
                entry("VDD_IN", new Power(2763, 2846, null)),
                entry("VDD_CPU_GPU_CV", new Power(650, 670, null)),
                entry("VDD_SOC", new Power(650, 711, null)));
    }

    @Test
    void orinNxJetPack5() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(16));
        assertThat(s.time()).isNull();
        assertThat(s.cpus()).containsExactly(new Cpu(true, 6, 729), new Cpu(true, 9, 729), new Cpu(true, 5, 729),
                new Cpu(true, 16, 729), OFF, OFF, OFF, OFF);
        assertThat(s.gpuFreqMHz()).containsExactly(611);
        assertThat(s.temperaturesC()).containsExactly(entry("CV0", 45.812), entry("CPU", 47.937),
                entry("SOC2", 46.093), entry("SOC0", 46.968), entry("CV1", 46.406), entry("GPU", 45.875),
                entry("tj", 48.875), entry("SOC1", 48.875), entry("CV2", 45.75));
        assertThat(s.powerMilliwatts()).containsEntry("VDD_IN", new Power(5299, 5299, null));
    }

    @Test
    void orinNanoJetPack6EnginesOff() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(17));
        assertThat(s.time()).isEqualTo(LocalDateTime.of(2024, 11, 15, 8, 38, 9));
        assertThat(s.gpuLoadPercent()).isEqualTo(63);
        assertThat(s.gpuFreqMHz()).containsExactly(621);
        assertThat(s.emcLoadPercent()).isEqualTo(43);
        assertThat(s.emcFreqMHz()).isEqualTo(2133);
        assertThat(s.engines()).containsExactly(entry("NVDEC", ENGINE_OFF), entry("NVJPG", ENGINE_OFF),
                entry("NVJPG1", ENGINE_OFF), entry("VIC", ENGINE_OFF), entry("OFA", ENGINE_OFF),
                entry("APE", new Engine(true, null, 200)));
        assertThat(s.temperaturesC()).containsExactly(entry("cpu", 53.968), entry("soc2", 52.437),
                entry("soc0", 50.75), entry("gpu", 53.343), entry("tj", 53.968), entry("soc1", 51.656));
        assertThat(s.powerMilliwatts()).containsExactly(
                entry("VDD_IN", new Power(12479, 12479, null)),
                entry("VDD_CPU_GPU_CV", new Power(4667, 4667, null)),
                entry("VDD_SOC", new Power(2817, 2817, null)));
    }

    @Test
    void orinNanoNonRootHasNoEmcNoEngines() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(18));
        assertThat(s.emcLoadPercent()).isNull();
        assertThat(s.emcFreqMHz()).isNull();
        assertThat(s.engines()).isNull();
        assertThat(s.gpuLoadPercent()).isZero();
        assertThat(s.gpuFreqMHz()).isEmpty();
        assertThat(s.cpus()).extracting(Cpu::freqMHz).containsExactly(1036, 1036, 1036, 1036, 729, 729);
    }

    @Test
    void agxOrinJetPack6PerGpcClocksAndBusyEngines() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(20));
        assertThat(s.time()).isEqualTo(LocalDateTime.of(2026, 5, 9, 18, 42, 6));
        assertThat(s.gpuLoadPercent()).isZero();
        assertThat(s.gpuFreqMHz()).containsExactly(0, 0);
        assertThat(s.engines()).containsExactly(entry("NVENC", new Engine(true, 79, 166)),
                entry("NVDEC", ENGINE_OFF), entry("NVJPG", ENGINE_OFF), entry("NVJPG1", ENGINE_OFF),
                entry("VIC", new Engine(true, 36, 115)), entry("OFA", ENGINE_OFF), entry("NVDLA0", ENGINE_OFF),
                entry("NVDLA1", ENGINE_OFF), entry("PVA0", ENGINE_OFF), entry("APE", new Engine(true, null, 174)));
        assertThat(s.temperaturesC()).doesNotContainKey("gpu").containsEntry("tj", 52.562);
        assertThat(s.powerMilliwatts()).containsExactly(
                entry("VDD_GPU_SOC", new Power(2412, 2412, null)),
                entry("VDD_CPU_CV", new Power(1607, 1607, null)),
                entry("VIN_SYS_5V0", new Power(4707, 4707, null)));
    }

    @Test
    void agxOrinJetPack72MaxPowerAndTwoTemperatureValues() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(22));
        assertThat(s.time()).isEqualTo(LocalDateTime.of(2026, 7, 25, 9, 8, 28));
        assertThat(s.swapUsedMB()).isNull();
        assertThat(s.swapTotalMB()).isNull();
        assertThat(s.swapCachedMB()).isNull();
        assertThat(s.gpuLoadPercent()).isEqualTo(12);
        assertThat(s.gpuFreqMHz()).containsExactly(1300, 1300);
        assertThat(s.emcLoadPercent()).isEqualTo(3);
        assertThat(s.emcFreqMHz()).isEqualTo(3199);
        assertThat(s.engines()).containsKeys("NVENC0", "NVDEC0", "NVJPG0", "NVJPG1", "VIC", "OFA", "NVDLA0",
                "NVDLA1", "PVA0", "APE");
        assertThat(s.temperaturesC()).containsExactly(entry("cpu", 52.968), entry("soc2", 48.406),
                entry("soc0", 49.531), entry("gpu", 47.625));
        assertThat(s.temperaturesMaxC()).containsExactly(entry("cpu", 52.968), entry("soc2", 48.406),
                entry("soc0", 49.531), entry("gpu", 47.625));
        assertThat(s.powerMilliwatts()).containsExactly(
                entry("VDD_GPU_SOC", new Power(5139, 5139, 5139)),
                entry("VDD_CPU_CV", new Power(3268, 3268, 3268)),
                entry("VIN_SYS_5V0", new Power(5500, 5500, 5500)));
    }

    @Test
    void thorJetPack71ClocksWithoutLoad() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(23));
        assertThat(s.time()).isEqualTo(LocalDateTime.of(2026, 5, 17, 10, 0, 32));
        assertThat(s.ramTotalMB()).isEqualTo(125773);
        assertThat(s.cpus()).hasSize(14).allMatch(c -> c.online() && c.freqMHz() == 972);
        assertThat(s.gpuLoadPercent()).isNull();
        assertThat(s.gpuFreqMHz()).containsExactly(0, 0, 0);
        assertThat(s.engines()).containsExactly(entry("NVENC0", new Engine(true, null, 0)),
                entry("NVENC1", new Engine(true, null, 0)), entry("NVDEC0", new Engine(true, null, 0)),
                entry("NVDEC1", new Engine(true, null, 0)), entry("NVJPG0", new Engine(true, null, 0)),
                entry("VIC", ENGINE_OFF), entry("OFA", new Engine(true, null, 0)), entry("PVA0", ENGINE_OFF),
                entry("APE", new Engine(true, null, 300)));
        assertThat(s.temperaturesC()).containsExactly(entry("cpu", 34.468), entry("tj", 34.5),
                entry("soc012", 33.781), entry("soc345", 34.5));
        assertThat(s.powerMilliwatts()).containsExactly(
                entry("VDD_GPU", new Power(0, 0, null)),
                entry("VDD_CPU_SOC_MSS", new Power(4165, 4165, null)),
                entry("VIN_SYS_5V0", new Power(4126, 4126, null)));
    }

    @Test
    void thorJetPack72() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(26));
        assertThat(s.time()).isEqualTo(LocalDateTime.of(2026, 7, 23, 15, 29, 27));
        assertThat(s.gpuLoadPercent()).isNull();
        assertThat(s.gpuFreqMHz()).containsExactly(314, 314, 314);
        assertThat(s.emcLoadPercent()).isEqualTo(7);
        assertThat(s.emcFreqMHz()).isEqualTo(3200);
        assertThat(s.engines()).containsEntry("NVDEC0", new Engine(true, null, 1556))
                .containsEntry("VIC", new Engine(true, 59, 423))
                .containsEntry("PVA0", ENGINE_OFF);
        assertThat(s.temperaturesC()).containsExactly(entry("cpu", 34.312), entry("tj", 35.906),
                entry("soc012", 34.093), entry("gpu", 35.906), entry("soc345", 34.437));
        assertThat(s.temperaturesMaxC()).containsExactly(entry("cpu", 34.843), entry("tj", 35.906),
                entry("soc012", 34.437), entry("gpu", 35.906), entry("soc345", 34.437));
        assertThat(s.powerMilliwatts()).containsExactly(
                entry("VDD_GPU", new Power(4925, 4925, 4925)),
                entry("VDD_CPU_SOC_MSS", new Power(7953, 8332, 8710)),
                entry("VIN_SYS_5V0", new Power(6667, 6717, 6767)));
    }

    @Test
    void jetPack6TwoGpcClocks() {
        GpuSample s = TegrastatsParser.parse("RAM 3503/7337MB (lfb 7x1MB) GR3D_FREQ 0%@[305,305] VIC_FREQ 115");
        assertThat(s.gpuLoadPercent()).isZero();
        assertThat(s.gpuFreqMHz()).containsExactly(305, 305);
        assertThat(s.ramLfbBlockKB()).isEqualTo(1024);
        assertThat(s.unparsed()).isEmpty();
    }

    @Test
    void noReadingIsNull() {
        GpuSample s = TegrastatsParser.parse(
                "RAM 1205/30623MB (lfb 6429x4MB) CV0@-256C CPU@43.5C GPU@-256C/-256C tj@42.593C");
        assertThat(s.temperaturesC()).containsExactly(entry("CV0", null), entry("CPU", 43.5), entry("GPU", null),
                entry("tj", 42.593));
        assertThat(s.temperaturesMaxC()).containsExactly(entry("GPU", null));
    }

    @Test
    void gr3d2IsAnEngine() {
        GpuSample s = TegrastatsParser.parse("RAM 1282/62795MB (lfb 15152x4MB) EMC_FREQ 0%@2133 "
                + "GR3D_FREQ 0%@305 GR3D2_FREQ 4%@306 VIC_FREQ 729 APE 174");
        assertThat(s.gpuLoadPercent()).isZero();
        assertThat(s.gpuFreqMHz()).containsExactly(305);
        assertThat(s.engines()).containsExactly(entry("GR3D2", new Engine(true, 4, 306)),
                entry("VIC", new Engine(true, null, 729)), entry("APE", new Engine(true, null, 174)));

        GpuSample bare = TegrastatsParser.parse("GR3D_FREQ 78% GR3D2_FREQ 0%");
        assertThat(bare.engines()).containsExactly(entry("GR3D2", new Engine(true, 0, null)));
        GpuSample bracketed = TegrastatsParser.parse("GR3D_FREQ 0%@[114] GR3D2_FREQ 0%@[114]");
        assertThat(bracketed.engines()).containsExactly(entry("GR3D2", new Engine(true, 0, 114)));
    }

    @Test
    void repeatedNamesAreNumbered() {
        GpuSample s = TegrastatsParser.parse("VDD_GPU_SOC 4788mW/4788mW NC 0mW/0mW VDDQ_VDD2_1V8AO 707mW/707mW "
                + "NC 0mW/0mW");
        assertThat(s.powerMilliwatts()).containsExactly(entry("VDD_GPU_SOC", new Power(4788, 4788, null)),
                entry("NC", new Power(0, 0, null)), entry("VDDQ_VDD2_1V8AO", new Power(707, 707, null)),
                entry("NC#2", new Power(0, 0, null)));
    }

    @Test
    void runsOfWhitespaceTabsAndCarriageReturn() {
        GpuSample s = TegrastatsParser.parse("  RAM  2462/3964MB   (lfb 2x4MB)\tSWAP 362/1982MB  (cached  6MB) "
                + "CPU [52%@1479,off]    GR3D_FREQ 9%  GPU@24C   VDD_IN   3410/3410 \r");
        assertThat(s.ramUsedMB()).isEqualTo(2462);
        assertThat(s.ramLfbBlocks()).isEqualTo(2);
        assertThat(s.swapCachedMB()).isEqualTo(6);
        assertThat(s.cpus()).containsExactly(new Cpu(true, 52, 1479), OFF);
        assertThat(s.gpuLoadPercent()).isEqualTo(9);
        assertThat(s.temperaturesC()).containsExactly(entry("GPU", 24.0));
        assertThat(s.powerMilliwatts()).containsExactly(entry("VDD_IN", new Power(3410, 3410, null)));
        assertThat(s.unparsed()).isEmpty();
    }

    @Test
    void variantSpacingOfParenthesesAndUnits() {
        GpuSample s = TegrastatsParser.parse("RAM 4722/7844MB(lfb 1x512kB) IRAM 0/252kB (lfb 252kB) "
                + "SWAP 0/512MB(cached 0MB) EMC_FREQ @1866 CPU [3%,off,5%@102]");
        assertThat(s.ramLfbBlocks()).isEqualTo(1);
        assertThat(s.ramLfbBlockKB()).isEqualTo(512);
        assertThat(s.iramLfbKB()).isEqualTo(252);
        assertThat(s.swapCachedMB()).isZero();
        assertThat(s.emcLoadPercent()).isNull();
        assertThat(s.emcFreqMHz()).isEqualTo(1866);
        assertThat(s.cpus()).containsExactly(new Cpu(true, 3, null), OFF, new Cpu(true, 5, 102));
        assertThat(s.unparsed()).isEmpty();
    }

    @Test
    void unknownTokensAreKeptInOrderAndTheRestStillParses() {
        GpuSample s = TegrastatsParser.parse("RAM 1/2MB FOO bar 12 PVA0_FREQ [12%,3%]@1100 NEWRAIL 3W/4W "
                + "GR3D_FREQ 5% zzz VDD_IN 10/20");
        assertThat(s.ramUsedMB()).isEqualTo(1);
        assertThat(s.gpuLoadPercent()).isEqualTo(5);
        assertThat(s.powerMilliwatts()).containsExactly(entry("VDD_IN", new Power(10, 20, null)));
        assertThat(s.unparsed()).containsExactly("FOO", "bar", "12", "PVA0_FREQ", "[12%,3%]@1100", "NEWRAIL",
                "3W/4W", "zzz");
    }

    @Test
    void aSecondRamFieldIsNotMerged() {
        GpuSample s = TegrastatsParser.parse("RAM 1/2MB RAM 3/4MB");
        assertThat(s.ramUsedMB()).isEqualTo(1);
        assertThat(s.unparsed()).containsExactly("RAM", "3/4MB");
    }

    @Test
    void timestampOnlyAtTheStartAndOnlyWhenValid() {
        GpuSample s = TegrastatsParser.parse("13-45-2024 25:00:00 RAM 1/2MB");
        assertThat(s.time()).isNull();
        assertThat(s.unparsed()).containsExactly("13-45-2024", "25:00:00");
    }

    @Test
    void hugeNumbersAreNotUnderstoodRatherThanOverflowing() {
        GpuSample s = TegrastatsParser.parse("RAM 99999999999/2MB GR3D_FREQ 3%");
        assertThat(s.ramUsedMB()).isNull();
        assertThat(s.unparsed()).containsExactly("RAM", "99999999999/2MB");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "\t", "hello world", "0, NVIDIA H200, 43, 0, 143771, 0, 128.84",
        "timestamp, index, name", "07-09-2024 13:31:31", "Connection to 10.0.0.5 closed."})
    void notTegrastatsAtAll(String line) {
        assertThatThrownBy(() -> TegrastatsParser.parse(line))
                .isInstanceOf(TelemetryParseException.class)
                .hasMessageStartingWith("not tegrastats output");
    }

    @Test
    void nullLineIsAnError() {
        assertThatThrownBy(() -> TegrastatsParser.parse(null)).isInstanceOf(TelemetryParseException.class);
    }

    @Test
    void sampleCollectionsAreUnmodifiable() {
        GpuSample s = TegrastatsParser.parse(Fixtures.tegrastats(0));
        assertThatThrownBy(() -> s.cpus().add(OFF)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> s.temperaturesC().put("x", 1.0))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> s.unparsed().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void decimalTemperaturesEqualJavasOwnParsing() {
        java.util.Random random = new java.util.Random(1L);
        for (int i = 0; i < 20_000; i++) {
            String number = (random.nextBoolean() ? "-" : "") + random.nextInt(1000)
                    + (random.nextBoolean() ? "" : "." + random.nextInt(1_000_000));
            GpuSample s = TegrastatsParser.parse("T@" + number + "C");
            Double expected = number.equals("-256") ? null : Double.valueOf(number);
            assertThat(s.temperaturesC()).as(number).containsExactly(entry("T", expected));
        }
    }

    @Test
    void emptyCpuEntriesAreNotCores() {
        GpuSample s = TegrastatsParser.parse("CPU [1%,,2%] GR3D_FREQ 1%");
        assertThat(s.cpus()).isNull();
        assertThat(s.unparsed()).containsExactly("CPU", "[1%,,2%]");
        assertThat(TegrastatsParser.parse("CPU [] GR3D_FREQ 1%").cpus()).isEmpty();
    }
}
