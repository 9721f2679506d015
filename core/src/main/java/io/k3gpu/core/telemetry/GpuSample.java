package io.k3gpu.core.telemetry;

import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One telemetry sample of one GPU node (tegrastats) or one GPU (nvidia-smi row): the model shared by parsing,
 * recording, plotting and the Prometheus exporter.
 *
 * <p>Every field is optional: a value the source did not print is {@code null}, never invented or defaulted. The
 * tegrastats fields are {@code null} in an nvidia-smi sample and the nvidia-smi fields are {@code null} in a
 * tegrastats sample; {@link #gpuLoadPercent()} and {@link #time()} are shared. Collections are unmodifiable and keep
 * the order in which the source printed the values.
 *
 * <h2>tegrastats fields</h2>
 * <ul>
 *   <li>{@code ramUsedMB/ramTotalMB} from {@code RAM a/bMB}; {@code ramLfbBlocks/ramLfbBlockKB} from its
 *       {@code (lfb NxSMB)} or {@code (lfb Nx512kB)} (largest free block: N blocks of S, size in kB).</li>
 *   <li>{@code swapUsedMB/swapTotalMB/swapCachedMB} from {@code SWAP a/bMB (cached cMB)}.</li>
 *   <li>{@code iramUsedKB/iramTotalKB/iramLfbKB} from {@code IRAM a/bkB(lfb ckB)} (root runs on older boards).</li>
 *   <li>{@code cpus}: one {@link Cpu} per core in core order, from {@code CPU [52%@1479,off,...]} or the old
 *       {@code cpu [17%,13%]@408} (the shared clock is given to every core).</li>
 *   <li>{@code gpuLoadPercent/gpuFreqMHz} from {@code GR3D_FREQ} (or the old {@code GR3D}): {@code gpuFreqMHz} has one
 *       clock per GPC ({@code 0%@[305,305]} gives two), is empty when only a load is printed ({@code GR3D_FREQ 9%}),
 *       and {@code gpuLoadPercent} is null when only clocks are printed (Thor: {@code @[314,314,314]}).</li>
 *   <li>{@code emcLoadPercent/emcFreqMHz} from {@code EMC_FREQ 7%@408} (or the old {@code EMC 1%@408}).</li>
 *   <li>{@code mtsFgPercent/mtsBgPercent} from {@code MTS fg 1% bg 1%} (root runs on JetPack 4 boards).</li>
 *   <li>{@code temperaturesC}: sensor name exactly as printed &rarr; degrees Celsius, {@code null} for
 *       {@code -256C} (no reading). JetPack 7.2 prints two values, {@code cpu@34.312C/34.843C}: the first is kept
 *       here as the current temperature, the second goes to {@code temperaturesMaxC} (assumed to be the maximum,
 *       like the third value of JetPack 7.2 power rails; NVIDIA does not document it). {@code temperaturesMaxC} is
 *       {@code null} when no sensor printed a second value.</li>
 *   <li>{@code powerMilliwatts}: rail name as printed &rarr; {@link Power} in milliwatts ({@code VDD_IN 3410/3410}
 *       without unit is milliwatts too, JetPack 4).</li>
 *   <li>{@code engines}: engine name &rarr; {@link Engine}, for {@code NVENC 716}, {@code NVENC 79%@166},
 *       {@code VIC off}, {@code NVDEC0_FREQ @1556}, {@code APE 25}, ... A trailing {@code _FREQ} is dropped from the
 *       name ({@code VIC_FREQ 115} and {@code VIC 36%@115} are both {@code VIC}; {@code PVA0_FREQ off} is
 *       {@code PVA0}). {@code GR3D2_FREQ} (the second GPC of JetPack 5 Orin, printed on its own) is the engine
 *       {@code GR3D2}.</li>
 *   <li>A name printed twice on one line (Orin prints the rail {@code NC} twice) keeps the first under its name
 *       and the later ones under {@code NAME#2}, {@code NAME#3}, ...</li>
 *   <li>{@code unparsed}: every whitespace-separated token the parser did not understand, in order (never null for
 *       tegrastats).</li>
 * </ul>
 *
 * <h2>nvidia-smi fields</h2>
 * {@code index, name, uuid, gpuLoadPercent (utilization.gpu), memoryLoadPercent (utilization.memory), memoryUsedMiB,
 * memoryTotalMiB, temperatureC (temperature.gpu), powerDrawW, powerLimitW, smClockMHz (clocks.sm /
 * clocks.current.sm), memClockMHz (clocks.mem / clocks.current.memory)}; every other queried column is kept in
 * {@code extra} (column name without unit &rarr; value as printed, {@code null} for {@code [N/A]}).
 */
public record GpuSample(
        Source source,
        LocalDateTime time,
        // tegrastats
        Integer ramUsedMB,
        Integer ramTotalMB,
        Integer ramLfbBlocks,
        Integer ramLfbBlockKB,
        Integer swapUsedMB,
        Integer swapTotalMB,
        Integer swapCachedMB,
        Integer iramUsedKB,
        Integer iramTotalKB,
        Integer iramLfbKB,
        List<Cpu> cpus,
        Integer gpuLoadPercent,
        List<Integer> gpuFreqMHz,
        Integer emcLoadPercent,
        Integer emcFreqMHz,
        Integer mtsFgPercent,
        Integer mtsBgPercent,
        Map<String, Double> temperaturesC,
        Map<String, Double> temperaturesMaxC,
        Map<String, Power> powerMilliwatts,
        Map<String, Engine> engines,
        List<String> unparsed,
        // nvidia-smi
        Integer index,
        String name,
        String uuid,
        Integer memoryLoadPercent,
        Integer memoryUsedMiB,
        Integer memoryTotalMiB,
        Double temperatureC,
        Double powerDrawW,
        Double powerLimitW,
        Integer smClockMHz,
        Integer memClockMHz,
        Map<String, String> extra) {

    /** One CPU core: {@code off} is {@code online=false} with null load and clock. */
    public record Cpu(boolean online, Integer loadPercent, Integer freqMHz) {
    }

    /** One engine (NVENC, NVDEC, VIC, APE, ...): {@code off} is {@code online=false} with null load and clock. */
    public record Engine(boolean online, Integer loadPercent, Integer freqMHz) {
    }

    /** One power rail in milliwatts; {@code max} is printed by JetPack 7.2 only. */
    public record Power(Integer current, Integer average, Integer max) {
    }

    /**
     * Wraps the collections unmodifiable without copying them: the caller hands them over and must not change them
     * afterwards. {@link Builder} copies what it is given, so samples built with it are immutable.
     */
    public GpuSample {
        Objects.requireNonNull(source, "source");
        cpus = wrap(cpus);
        gpuFreqMHz = wrap(gpuFreqMHz);
        unparsed = wrap(unparsed);
        temperaturesC = wrap(temperaturesC);
        temperaturesMaxC = wrap(temperaturesMaxC);
        powerMilliwatts = wrap(powerMilliwatts);
        engines = wrap(engines);
        extra = wrap(extra);
    }

    /** A builder that copies the collections given to it. */
    public static Builder builder(Source source) {
        return new Builder(source, true);
    }

    /** For the parsers of this package: a builder that takes over the fresh collections given to it. */
    static Builder ownedBuilder(Source source) {
        return new Builder(source, false);
    }

    private static <T> List<T> wrap(List<T> list) {
        return list == null ? null : Collections.unmodifiableList(list);
    }

    private static <V> Map<String, V> wrap(Map<String, V> map) {
        return map == null ? null : Collections.unmodifiableMap(map);
    }

    /** Mutable builder; every field starts null. Collections are copied (insertion order and null values kept). */
    public static final class Builder {
        private final Source source;
        private LocalDateTime time;
        private Integer ramUsedMB;
        private Integer ramTotalMB;
        private Integer ramLfbBlocks;
        private Integer ramLfbBlockKB;
        private Integer swapUsedMB;
        private Integer swapTotalMB;
        private Integer swapCachedMB;
        private Integer iramUsedKB;
        private Integer iramTotalKB;
        private Integer iramLfbKB;
        private List<Cpu> cpus;
        private Integer gpuLoadPercent;
        private List<Integer> gpuFreqMHz;
        private Integer emcLoadPercent;
        private Integer emcFreqMHz;
        private Integer mtsFgPercent;
        private Integer mtsBgPercent;
        private Map<String, Double> temperaturesC;
        private Map<String, Double> temperaturesMaxC;
        private Map<String, Power> powerMilliwatts;
        private Map<String, Engine> engines;
        private List<String> unparsed;
        private Integer index;
        private String name;
        private String uuid;
        private Integer memoryLoadPercent;
        private Integer memoryUsedMiB;
        private Integer memoryTotalMiB;
        private Double temperatureC;
        private Double powerDrawW;
        private Double powerLimitW;
        private Integer smClockMHz;
        private Integer memClockMHz;
        private Map<String, String> extra;

        private final boolean copy;

        private Builder(Source source, boolean copy) {
            this.source = Objects.requireNonNull(source, "source");
            this.copy = copy;
        }

        private <T> List<T> list(List<T> v) {
            return v == null || !copy ? v : new ArrayList<>(v);
        }

        private <V> Map<String, V> map(Map<String, V> v) {
            return v == null || !copy ? v : new LinkedHashMap<>(v);
        }

        public Builder time(LocalDateTime v) { time = v; return this; }
        public Builder ramUsedMB(Integer v) { ramUsedMB = v; return this; }
        public Builder ramTotalMB(Integer v) { ramTotalMB = v; return this; }
        public Builder ramLfbBlocks(Integer v) { ramLfbBlocks = v; return this; }
        public Builder ramLfbBlockKB(Integer v) { ramLfbBlockKB = v; return this; }
        public Builder swapUsedMB(Integer v) { swapUsedMB = v; return this; }
        public Builder swapTotalMB(Integer v) { swapTotalMB = v; return this; }
        public Builder swapCachedMB(Integer v) { swapCachedMB = v; return this; }
        public Builder iramUsedKB(Integer v) { iramUsedKB = v; return this; }
        public Builder iramTotalKB(Integer v) { iramTotalKB = v; return this; }
        public Builder iramLfbKB(Integer v) { iramLfbKB = v; return this; }
        public Builder cpus(List<Cpu> v) { cpus = list(v); return this; }
        public Builder gpuLoadPercent(Integer v) { gpuLoadPercent = v; return this; }
        public Builder gpuFreqMHz(List<Integer> v) { gpuFreqMHz = list(v); return this; }
        public Builder emcLoadPercent(Integer v) { emcLoadPercent = v; return this; }
        public Builder emcFreqMHz(Integer v) { emcFreqMHz = v; return this; }
        public Builder mtsFgPercent(Integer v) { mtsFgPercent = v; return this; }
        public Builder mtsBgPercent(Integer v) { mtsBgPercent = v; return this; }
        public Builder temperaturesC(Map<String, Double> v) { temperaturesC = map(v); return this; }
        public Builder temperaturesMaxC(Map<String, Double> v) { temperaturesMaxC = map(v); return this; }
        public Builder powerMilliwatts(Map<String, Power> v) { powerMilliwatts = map(v); return this; }
        public Builder engines(Map<String, Engine> v) { engines = map(v); return this; }
        public Builder unparsed(List<String> v) { unparsed = list(v); return this; }
        public Builder index(Integer v) { index = v; return this; }
        public Builder name(String v) { name = v; return this; }
        public Builder uuid(String v) { uuid = v; return this; }
        public Builder memoryLoadPercent(Integer v) { memoryLoadPercent = v; return this; }
        public Builder memoryUsedMiB(Integer v) { memoryUsedMiB = v; return this; }
        public Builder memoryTotalMiB(Integer v) { memoryTotalMiB = v; return this; }
        public Builder temperatureC(Double v) { temperatureC = v; return this; }
        public Builder powerDrawW(Double v) { powerDrawW = v; return this; }
        public Builder powerLimitW(Double v) { powerLimitW = v; return this; }
        public Builder smClockMHz(Integer v) { smClockMHz = v; return this; }
        public Builder memClockMHz(Integer v) { memClockMHz = v; return this; }
        public Builder extra(Map<String, String> v) { extra = map(v); return this; }

        public GpuSample build() {
            return new GpuSample(source, time, ramUsedMB, ramTotalMB, ramLfbBlocks, ramLfbBlockKB, swapUsedMB,
                    swapTotalMB, swapCachedMB, iramUsedKB, iramTotalKB, iramLfbKB, cpus, gpuLoadPercent, gpuFreqMHz,
                    emcLoadPercent, emcFreqMHz, mtsFgPercent, mtsBgPercent, temperaturesC, temperaturesMaxC,
                    powerMilliwatts, engines, unparsed, index, name, uuid, memoryLoadPercent, memoryUsedMiB,
                    memoryTotalMiB, temperatureC, powerDrawW, powerLimitW, smClockMHz, memClockMHz, extra);
        }
    }
}
