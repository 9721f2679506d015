package io.k3gpu.core.telemetry;

import io.k3gpu.core.telemetry.GpuSample.Cpu;
import io.k3gpu.core.telemetry.GpuSample.Engine;
import io.k3gpu.core.telemetry.GpuSample.Power;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses one line of Jetson {@code tegrastats} output, of any L4T release from 28 to 39, into a {@link GpuSample}.
 *
 * <p>The line is split on runs of whitespace and read token by token; every field is optional and may come in any
 * order. A token that is not understood is kept, as printed, in {@link GpuSample#unparsed()} and parsing goes on, so
 * a new field in a future JetPack never loses the rest of the line. The formats understood (see {@link GpuSample}
 * for where each value goes):
 * <ul>
 *   <li>leading timestamp {@code MM-DD-YYYY HH:MM:SS} (only as the first two tokens);</li>
 *   <li>{@code RAM a/bMB (lfb NxSMB)} (also {@code lfb Nx512kB}), {@code SWAP a/bMB (cached cMB)},
 *       {@code IRAM a/bkB(lfb ckB)};</li>
 *   <li>{@code CPU [52%@1479,off,3%,...]}, old {@code cpu [17%,13%]@408};</li>
 *   <li>{@code EMC_FREQ 0%}, {@code EMC_FREQ 7%@408}, {@code EMC_FREQ @408}, old {@code EMC 1%@408};</li>
 *   <li>{@code GR3D_FREQ 9%}, {@code 12%@921}, {@code 0%@[114]}, {@code 0%@[305,305]}, {@code @[314,314,314]},
 *       old {@code GR3D 3%@76};</li>
 *   <li>{@code MTS fg 1% bg 1%};</li>
 *   <li>temperatures {@code NAME@42C}, {@code name@42.5C}, {@code -256C} (no reading: null),
 *       {@code name@42.5C/43C} (JetPack 7.2);</li>
 *   <li>power rails: an upper-case name followed by {@code cur/avg} (no unit: mW), {@code curmW/avgmW} or
 *       {@code curmW/avgmW/maxmW};</li>
 *   <li>engines: an upper-case name followed by {@code off}, {@code 716} (clock), {@code 79%}, {@code 79%@166},
 *       {@code @1556} or {@code @[1556]} ({@code NVENC}, {@code VIC_FREQ}, {@code APE}, {@code GR3D2_FREQ}, ...).</li>
 * </ul>
 *
 * <p>Stateless and thread-safe; no I/O. A line with no recognisable tegrastats field at all (empty, blank, a CSV
 * row, prose) raises {@link TelemetryParseException}; any other line gives a sample.
 */
public final class TegrastatsParser {

    private TegrastatsParser() {
    }

    /**
     * Parses one tegrastats line.
     *
     * @throws TelemetryParseException when the line is empty or has no tegrastats field at all
     */
    public static GpuSample parse(String line) {
        if (line == null) {
            throw new TelemetryParseException("not tegrastats output: no line");
        }
        Run run = new Run(line);
        if (run.n == 0) {
            throw new TelemetryParseException("not tegrastats output: empty line");
        }
        return run.parse();
    }

    private static boolean isSpace(char c) {
        return c <= ' ' || (c > 0x7f && Character.isWhitespace(c));
    }

    /**
     * The state of parsing one line. Tokens are spans of the line (start and end offsets), split on runs of
     * whitespace; values are read in place and only names (sensors, rails, engines) and unknown tokens become
     * strings, which keeps a line to a few small allocations.
     */
    private static final class Run {
        private final String line;
        /** Token k is line[span[2k], span[2k+1]). */
        private int[] span;
        private final int n;
        private final GpuSample.Builder b = GpuSample.ownedBuilder(Source.TEGRASTATS);
        private boolean ram;
        private boolean swap;
        private boolean iram;
        private boolean emc;
        private boolean gpu;
        private boolean mts;
        private List<Cpu> cpus;
        private Map<String, Double> temps;
        private Map<String, Double> tempsMax;
        private Map<String, Power> power;
        private Map<String, Engine> engines;
        private List<String> unparsed;

        Run(String line) {
            this.line = line;
            this.span = new int[Math.min(128, 2 * (line.length() / 2 + 1))];
            int len = line.length();
            int count = 0;
            int i = 0;
            while (i < len) {
                while (i < len && isSpace(line.charAt(i))) {
                    i++;
                }
                int start = i;
                while (i < len && !isSpace(line.charAt(i))) {
                    i++;
                }
                if (i > start) {
                    if (2 * count + 2 > span.length) {
                        span = java.util.Arrays.copyOf(span, span.length * 2);
                    }
                    span[2 * count] = start;
                    span[2 * count + 1] = i;
                    count++;
                }
            }
            this.n = count;
        }

        private int from(int k) {
            return span[2 * k];
        }

        private int to(int k) {
            return span[2 * k + 1];
        }

        private String tok(int k) {
            return line.substring(from(k), to(k));
        }

        /** Token k is exactly {@code word}. */
        private boolean is(int k, String word) {
            return to(k) - from(k) == word.length() && line.startsWith(word, from(k));
        }

        private boolean endsWith(int k, String suffix) {
            return to(k) - from(k) >= suffix.length() && line.startsWith(suffix, to(k) - suffix.length());
        }

        GpuSample parse() {
            int i = 0;
            if (n >= 2) {
                LocalDateTime time = timestamp(line, from(0), to(0), from(1), to(1));
                if (time != null) {
                    b.time(time);
                    i = 2;
                }
            }
            int recognised = 0;
            while (i < n) {
                int used = token(i);
                if (used == 0) {
                    if (unparsed == null) {
                        unparsed = new ArrayList<>();
                    }
                    unparsed.add(tok(i));
                    i++;
                } else {
                    recognised++;
                    i += used;
                }
            }
            if (recognised == 0) {
                throw new TelemetryParseException("not tegrastats output: no tegrastats field in '"
                        + abbreviate(line) + "'");
            }
            return b.cpus(cpus)
                    .temperaturesC(temps)
                    .temperaturesMaxC(tempsMax)
                    .powerMilliwatts(power)
                    .engines(engines)
                    .unparsed(unparsed == null ? List.of() : unparsed)
                    .build();
        }

        /** Reads the field that starts at token i; returns how many tokens it used, 0 if none was recognised. */
        private int token(int i) {
            int f = from(i);
            int t = to(i);
            boolean next = i + 1 < n;
            if (t - f <= 9 && isKeywordStart(line.charAt(f))) {
                if (is(i, "RAM")) {
                    return ram(i);
                } else if (is(i, "SWAP")) {
                    return swap(i);
                } else if (is(i, "IRAM")) {
                    return iram(i);
                } else if (is(i, "cpu")) {
                    return next && cpu(i + 1) ? 2 : 0;
                } else if (is(i, "CPU")) {
                    if (next && cpu(i + 1)) {
                        return 2;
                    }
                    // "CPU 465/465" is a power rail on JetPack 4 Xavier
                } else if (is(i, "EMC_FREQ")) {
                    return next && emc(i + 1) ? 2 : 0;
                } else if (is(i, "EMC")) {
                    if (next && emc(i + 1)) {
                        return 2;
                    }
                } else if (is(i, "GR3D_FREQ") || is(i, "GR3D")) {
                    return next && gpu(i + 1) ? 2 : 0;
                } else if (is(i, "MTS")) {
                    return mts(i);
                }
            }
            if (temperature(i)) {
                return 1;
            }
            if (next && isName(line, f, t, true)) {
                Power p = powerValue(line, from(i + 1), to(i + 1));
                if (p != null) {
                    if (power == null) {
                        power = new LinkedHashMap<>();
                    }
                    power.put(uniqueKey(power, tok(i)), p);
                    return 2;
                }
                Engine e = engineValue(line, from(i + 1), to(i + 1));
                if (e != null) {
                    String name = t - f > 5 && endsWith(i, "_FREQ") ? line.substring(f, t - 5) : tok(i);
                    if (engines == null) {
                        engines = new LinkedHashMap<>();
                    }
                    engines.put(uniqueKey(engines, name), e);
                    return 2;
                }
            }
            return 0;
        }

        // RAM 2462/3964MB (lfb 2x4MB)
        private int ram(int i) {
            if (ram || i + 1 >= n) {
                return 0;
            }
            boolean attached = endsWith(i + 1, "(lfb");
            int[] ab = slash(line, from(i + 1), attached ? to(i + 1) - 4 : to(i + 1), "MB");
            if (ab == null) {
                return 0;
            }
            int used = 2;
            int[] lfb = null;
            if (attached) {
                lfb = i + 2 < n ? lfbBlocks(line, from(i + 2), to(i + 2)) : null;
                if (lfb == null) {
                    return 0;
                }
                used = 3;
            } else if (i + 3 < n && is(i + 2, "(lfb")) {
                lfb = lfbBlocks(line, from(i + 3), to(i + 3));
                if (lfb != null) {
                    used = 4;
                }
            }
            ram = true;
            b.ramUsedMB(box(ab[0])).ramTotalMB(box(ab[1]));
            if (lfb != null) {
                b.ramLfbBlocks(lfb[0]).ramLfbBlockKB(lfb[1]);
            }
            return used;
        }

        // SWAP 362/1982MB (cached 6MB)
        private int swap(int i) {
            if (swap || i + 1 >= n) {
                return 0;
            }
            boolean attached = endsWith(i + 1, "(cached");
            int[] ab = slash(line, from(i + 1), attached ? to(i + 1) - 7 : to(i + 1), "MB");
            if (ab == null) {
                return 0;
            }
            int used = 2;
            int cached = -1;
            if (attached) {
                cached = i + 2 < n ? closedSize(line, from(i + 2), to(i + 2), "MB)") : -1;
                if (cached < 0) {
                    return 0;
                }
                used = 3;
            } else if (i + 3 < n && is(i + 2, "(cached")) {
                cached = closedSize(line, from(i + 3), to(i + 3), "MB)");
                if (cached >= 0) {
                    used = 4;
                }
            }
            swap = true;
            b.swapUsedMB(box(ab[0])).swapTotalMB(box(ab[1]));
            if (cached >= 0) {
                b.swapCachedMB(cached);
            }
            return used;
        }

        // IRAM 0/252kB(lfb 252kB)
        private int iram(int i) {
            if (iram || i + 1 >= n) {
                return 0;
            }
            boolean attached = endsWith(i + 1, "(lfb");
            int[] ab = slash(line, from(i + 1), attached ? to(i + 1) - 4 : to(i + 1), "kB");
            if (ab == null) {
                return 0;
            }
            int used = 2;
            int lfb = -1;
            if (attached) {
                lfb = i + 2 < n ? closedSize(line, from(i + 2), to(i + 2), "kB)") : -1;
                if (lfb < 0) {
                    return 0;
                }
                used = 3;
            } else if (i + 3 < n && is(i + 2, "(lfb")) {
                lfb = closedSize(line, from(i + 3), to(i + 3), "kB)");
                if (lfb >= 0) {
                    used = 4;
                }
            }
            iram = true;
            b.iramUsedKB(ab[0]).iramTotalKB(ab[1]);
            if (lfb >= 0) {
                b.iramLfbKB(lfb);
            }
            return used;
        }

        // [52%@1479,off,...]  or old  [17%,13%]@408
        private boolean cpu(int k) {
            int f = from(k);
            int t = to(k);
            if (cpus != null || line.charAt(f) != '[') {
                return false;
            }
            int close = line.indexOf(']', f);
            if (close < 0 || close >= t) {
                return false;
            }
            Integer shared = null;
            if (close + 1 < t) {
                if (line.charAt(close + 1) != '@') {
                    return false;
                }
                int fr = uint(line, close + 2, t);
                if (fr < 0) {
                    return false;
                }
                shared = box(fr);
            }
            List<Cpu> list = new ArrayList<>(16);
            int start = f + 1;
            if (close > f + 1) {
                while (true) {
                    int comma = line.indexOf(',', start);
                    int end = comma < 0 || comma > close ? close : comma;
                    Cpu c = core(line, start, end, shared);
                    if (c == null) {
                        return false;
                    }
                    list.add(c);
                    if (end == close) {
                        break;
                    }
                    start = end + 1;
                }
            }
            cpus = list;
            return true;
        }

        private boolean emc(int k) {
            if (emc) {
                return false;
            }
            LoadFreq lf = loadFreq(line, from(k), to(k), true);
            if (lf == null || lf.freqs.size() > 1) {
                return false;
            }
            emc = true;
            b.emcLoadPercent(lf.load).emcFreqMHz(lf.freqs.isEmpty() ? null : lf.freqs.get(0));
            return true;
        }

        private boolean gpu(int k) {
            if (gpu) {
                return false;
            }
            LoadFreq lf = loadFreq(line, from(k), to(k), true);
            if (lf == null) {
                return false;
            }
            gpu = true;
            b.gpuLoadPercent(lf.load).gpuFreqMHz(lf.freqs);
            return true;
        }

        // MTS fg 1% bg 1%
        private int mts(int i) {
            if (mts || i + 4 >= n || !is(i + 1, "fg") || !is(i + 3, "bg")) {
                return 0;
            }
            int fg = percent(line, from(i + 2), to(i + 2));
            int bg = percent(line, from(i + 4), to(i + 4));
            if (fg < 0 || bg < 0) {
                return 0;
            }
            mts = true;
            b.mtsFgPercent(fg).mtsBgPercent(bg);
            return 5;
        }

        // NAME@42C, name@42.5C, name@-256C, name@42.5C/43C
        private boolean temperature(int k) {
            int f = from(k);
            int t = to(k);
            int at = line.indexOf('@', f);
            if (at <= f || at >= t || !isName(line, f, at, false)) {
                return false;
            }
            int slash = line.indexOf('/', at);
            if (slash >= t) {
                slash = -1;
            }
            int end1 = slash < 0 ? t : slash;
            if (line.charAt(end1 - 1) != 'C') {
                return false;
            }
            double cur = decimal(line, at + 1, end1 - 1);
            if (Double.isNaN(cur)) {
                return false;
            }
            double max = Double.NaN;
            if (slash >= 0) {
                if (line.charAt(t - 1) != 'C') {
                    return false;
                }
                max = decimal(line, slash + 1, t - 1);
                if (Double.isNaN(max)) {
                    return false;
                }
            }
            if (temps == null) {
                temps = new LinkedHashMap<>();
            }
            String name = uniqueKey(temps, line.substring(f, at));
            temps.put(name, reading(cur));
            if (slash >= 0) {
                if (tempsMax == null) {
                    tempsMax = new LinkedHashMap<>();
                }
                tempsMax.put(name, reading(max));
            }
            return true;
        }
    }

    /** {@code off}, {@code 52%@1479}, {@code 17%} (old format: the shared clock) or {@code @1479}; else null. */
    private static Cpu core(String v, int from, int to, Integer shared) {
        if (from >= to) {
            return null;
        }
        if (to - from == 3 && v.startsWith("off", from)) {
            return new Cpu(false, null, null);
        }
        int at = v.indexOf('@', from);
        if (at < 0 || at >= to) {
            at = to;
        }
        Integer load = null;
        if (at > from) {
            int l = v.charAt(at - 1) == '%' ? uint(v, from, at - 1) : -1;
            if (l < 0) {
                return null;
            }
            load = l;
        }
        Integer freq = shared;
        if (at < to) {
            int f = uint(v, at + 1, to);
            if (f < 0) {
                return null;
            }
            freq = box(f);
        }
        return new Cpu(true, load, freq);
    }

    /** The first letters of RAM, SWAP, IRAM, cpu/CPU, EMC(_FREQ), GR3D(_FREQ), MTS: no need to hash other tokens. */
    private static boolean isKeywordStart(char c) {
        return c == 'R' || c == 'S' || c == 'I' || c == 'c' || c == 'C' || c == 'E' || c == 'G' || c == 'M';
    }

    /** Boxes of 0..4095 made once: clocks, milliwatts and megabytes repeat from line to line. */
    private static final Integer[] BOXES = new Integer[4096];

    static {
        for (int i = 0; i < BOXES.length; i++) {
            BOXES[i] = i;
        }
    }

    private static Integer box(int v) {
        return v >= 0 && v < BOXES.length ? BOXES[v] : Integer.valueOf(v);
    }

    private static Double reading(double celsius) {
        return celsius == -256.0 ? null : celsius;
    }

    /** A rail value over v[from, to): {@code 3410/3410}, {@code 4520mW/4680mW} or {@code 5139mW/5139mW/5139mW}. */
    private static Power powerValue(String v, int from, int to) {
        int s1 = v.indexOf('/', from);
        if (s1 < 0 || s1 >= to) {
            return null;
        }
        int s2 = v.indexOf('/', s1 + 1);
        if (s2 >= to) {
            s2 = -1;
        }
        if (s2 >= 0) {
            int s3 = v.indexOf('/', s2 + 1);
            if (s3 >= 0 && s3 < to) {
                return null;
            }
        }
        int cur = milliwatts(v, from, s1);
        int avg = milliwatts(v, s1 + 1, s2 < 0 ? to : s2);
        int max = s2 < 0 ? 0 : milliwatts(v, s2 + 1, to);
        if (cur < 0 || avg < 0 || max < 0) {
            return null;
        }
        return new Power(box(cur), box(avg), s2 < 0 ? null : box(max));
    }

    private static int milliwatts(String v, int from, int to) {
        if (to - from > 2 && v.charAt(to - 2) == 'm' && v.charAt(to - 1) == 'W') {
            to -= 2;
        }
        return uint(v, from, to);
    }

    /**
     * An engine value over v[from, to): {@code off}, {@code 716}, {@code 79%}, {@code 79%@166}, {@code @1556},
     * {@code @[1556]}.
     */
    private static Engine engineValue(String v, int from, int to) {
        if (to - from == 3 && v.startsWith("off", from)) {
            return new Engine(false, null, null);
        }
        int f = uint(v, from, to);
        if (f >= 0) {
            return new Engine(true, null, box(f));
        }
        LoadFreq lf = loadFreq(v, from, to, true);
        if (lf == null || lf.freqs.size() > 1) {
            return null;
        }
        return new Engine(true, lf.load, lf.freqs.isEmpty() ? null : lf.freqs.get(0));
    }

    /** A load and clocks: {@code N%}, {@code N%@F}, {@code @F}, and with lists, {@code N%@[F,F]}, {@code @[F]}. */
    private record LoadFreq(Integer load, List<Integer> freqs) {
    }

    private static LoadFreq loadFreq(String v, int from, int to, boolean allowList) {
        if (from >= to) {
            return null;
        }
        Integer load = null;
        int i = from;
        int pct = v.indexOf('%', from);
        if (pct >= 0 && pct < to) {
            int l = uint(v, from, pct);
            if (l < 0) {
                return null;
            }
            load = l;
            i = pct + 1;
        }
        if (i == to) {
            return load == null ? null : new LoadFreq(load, List.of());
        }
        if (v.charAt(i) != '@' || i + 1 >= to) {
            return null;
        }
        i++;
        if (v.charAt(i) != '[') {
            int f = uint(v, i, to);
            return f < 0 ? null : new LoadFreq(load, List.of(box(f)));
        }
        if (!allowList || v.charAt(to - 1) != ']') {
            return null;
        }
        List<Integer> freqs = new ArrayList<>(4);
        int start = i + 1;
        int close = to - 1;
        while (true) {
            int comma = v.indexOf(',', start);
            int end = comma < 0 || comma > close ? close : comma;
            int f = uint(v, start, end);
            if (f < 0) {
                return null;
            }
            freqs.add(box(f));
            if (end == close) {
                break;
            }
            start = end + 1;
        }
        return new LoadFreq(load, Collections.unmodifiableList(freqs));
    }

    /** {@code a/b} followed by the unit, over v[from, to); null if it is not exactly that. */
    private static int[] slash(String v, int from, int to, String unit) {
        int u = to - unit.length();
        if (u <= from || !v.startsWith(unit, u)) {
            return null;
        }
        int s = v.indexOf('/', from);
        if (s < 0 || s >= u) {
            return null;
        }
        int a = uint(v, from, s);
        int c = uint(v, s + 1, u);
        return a < 0 || c < 0 ? null : new int[] {a, c};
    }

    /** {@code NxSMB)} or {@code NxSkB)} over v[from, to): N blocks and the block size in kB; null if not that. */
    private static int[] lfbBlocks(String v, int from, int to) {
        int x = v.indexOf('x', from);
        if (x <= from || x >= to || v.charAt(to - 1) != ')') {
            return null;
        }
        int blocks = uint(v, from, x);
        int kb = closedSize(v, x + 1, to, "kB)");
        if (kb < 0) {
            int mb = closedSize(v, x + 1, to, "MB)");
            kb = mb < 0 || mb > Integer.MAX_VALUE / 1024 ? -1 : mb * 1024;
        }
        return blocks < 0 || kb < 0 ? null : new int[] {blocks, kb};
    }

    /** {@code 6MB)} over v[from, to) with suffix {@code MB)}: 6; -1 if not that. */
    private static int closedSize(String v, int from, int to, String suffix) {
        if (to - from < suffix.length() || !v.startsWith(suffix, to - suffix.length())) {
            return -1;
        }
        return uint(v, from, to - suffix.length());
    }

    private static int percent(String v, int from, int to) {
        return to > from && v.charAt(to - 1) == '%' ? uint(v, from, to - 1) : -1;
    }

    /** Digits only, at most 9 of them; -1 otherwise (so no overflow and no sign). */
    static int uint(String v, int from, int to) {
        if (from >= to || to - from > 9) {
            return -1;
        }
        int r = 0;
        for (int i = from; i < to; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            r = r * 10 + (c - '0');
        }
        return r;
    }

    private static final double[] POW10 = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
        1e14, 1e15};

    /**
     * {@code -?digits(.digits)?} over v[from, to), NaN if it is not that. At most 15 digits, so the mantissa and the
     * power of ten are exact doubles and one division gives the correctly rounded value, as
     * {@link Double#parseDouble} would.
     */
    private static double decimal(String v, int from, int to) {
        int i = from;
        boolean negative = i < to && v.charAt(i) == '-';
        if (negative) {
            i++;
        }
        long mantissa = 0;
        int digits = 0;
        int fraction = -1;
        for (int j = i; j < to; j++) {
            char c = v.charAt(j);
            if (c == '.' && fraction < 0 && digits > 0) {
                fraction = 0;
            } else if (c >= '0' && c <= '9') {
                mantissa = mantissa * 10 + (c - '0');
                digits++;
                if (fraction >= 0) {
                    fraction++;
                }
            } else {
                return Double.NaN;
            }
        }
        if (digits == 0 || digits > 15 || fraction == 0) {
            return Double.NaN;
        }
        double value = fraction > 0 ? mantissa / POW10[fraction] : mantissa;
        return negative ? -value : value;
    }

    /** A sensor/rail/engine name: a letter, then letters, digits and underscores. */
    private static boolean isName(String v, int from, int to, boolean upperFirst) {
        if (from >= to) {
            return false;
        }
        char first = v.charAt(from);
        if (upperFirst ? !(first >= 'A' && first <= 'Z') : !isLetter(first)) {
            return false;
        }
        for (int i = from + 1; i < to; i++) {
            char c = v.charAt(i);
            if (!isLetter(c) && !(c >= '0' && c <= '9') && c != '_') {
                return false;
            }
        }
        return true;
    }

    private static boolean isLetter(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }

    /** The name, or NAME#2, NAME#3, ... when the line already printed it. */
    private static String uniqueKey(Map<String, ?> map, String name) {
        if (!map.containsKey(name)) {
            return name;
        }
        for (int k = 2; ; k++) {
            String candidate = name + "#" + k;
            if (!map.containsKey(candidate)) {
                return candidate;
            }
        }
    }

    /** MM-DD-YYYY HH:MM:SS (the date at v[d, dEnd), the time at v[t, tEnd)), or null. */
    private static LocalDateTime timestamp(String v, int d, int dEnd, int t, int tEnd) {
        if (dEnd - d != 10 || tEnd - t != 8 || v.charAt(d + 2) != '-' || v.charAt(d + 5) != '-'
                || v.charAt(t + 2) != ':' || v.charAt(t + 5) != ':') {
            return null;
        }
        int month = uint(v, d, d + 2);
        int day = uint(v, d + 3, d + 5);
        int year = uint(v, d + 6, d + 10);
        int hour = uint(v, t, t + 2);
        int minute = uint(v, t + 3, t + 5);
        int second = uint(v, t + 6, t + 8);
        if (month < 0 || day < 0 || year < 0 || hour < 0 || minute < 0 || second < 0) {
            return null;
        }
        try {
            return LocalDateTime.of(year, month, day, hour, minute, second);
        } catch (DateTimeException e) {
            return null;
        }
    }

    static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
