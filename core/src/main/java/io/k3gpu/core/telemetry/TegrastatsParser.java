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
        String[] tokens = tokenize(line);
        if (tokens.length == 0) {
            throw new TelemetryParseException("not tegrastats output: empty line");
        }
        return new Run(tokens, line).parse();
    }

    /** Splits on runs of whitespace (spaces, tabs, CR), dropping leading and trailing whitespace. */
    static String[] tokenize(String line) {
        List<String> out = new ArrayList<>(48);
        int len = line.length();
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
                out.add(line.substring(start, i));
            }
        }
        return out.toArray(new String[0]);
    }

    private static boolean isSpace(char c) {
        return c <= ' ' || (c > 0x7f && Character.isWhitespace(c));
    }

    /** The state of parsing one line. */
    private static final class Run {
        private final String[] t;
        private final int n;
        private final String line;
        private final GpuSample.Builder b = GpuSample.ownedBuilder(Source.TEGRASTATS);
        private boolean ram;
        private boolean swap;
        private boolean iram;
        private boolean emc;
        private boolean gpu;
        private boolean mts;
        private List<Cpu> cpus;
        private final Map<String, Double> temps = new LinkedHashMap<>();
        private Map<String, Double> tempsMax;
        private final Map<String, Power> power = new LinkedHashMap<>();
        private final Map<String, Engine> engines = new LinkedHashMap<>();
        private final List<String> unparsed = new ArrayList<>();

        Run(String[] tokens, String line) {
            this.t = tokens;
            this.n = tokens.length;
            this.line = line;
        }

        GpuSample parse() {
            int i = 0;
            if (n >= 2) {
                LocalDateTime time = timestamp(t[0], t[1]);
                if (time != null) {
                    b.time(time);
                    i = 2;
                }
            }
            int recognised = 0;
            while (i < n) {
                int used = token(i);
                if (used == 0) {
                    unparsed.add(t[i]);
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
                    .temperaturesC(temps.isEmpty() ? null : temps)
                    .temperaturesMaxC(tempsMax)
                    .powerMilliwatts(power.isEmpty() ? null : power)
                    .engines(engines.isEmpty() ? null : engines)
                    .unparsed(unparsed)
                    .build();
        }

        /** Reads the field that starts at token i; returns how many tokens it used, 0 if none was recognised. */
        private int token(int i) {
            String k = t[i];
            String next = i + 1 < n ? t[i + 1] : null;
            switch (k.length() <= 9 && isKeywordStart(k.charAt(0)) ? k : "") {
                case "RAM":
                    return ram(i);
                case "SWAP":
                    return swap(i);
                case "IRAM":
                    return iram(i);
                case "cpu":
                    return next != null && cpu(next) ? 2 : 0;
                case "CPU":
                    if (next != null && cpu(next)) {
                        return 2;
                    }
                    break; // "CPU 465/465" is a power rail on JetPack 4 Xavier
                case "EMC_FREQ":
                    return next != null && emc(next) ? 2 : 0;
                case "EMC":
                    if (next != null && emc(next)) {
                        return 2;
                    }
                    break;
                case "GR3D_FREQ":
                case "GR3D":
                    return next != null && gpu(next) ? 2 : 0;
                case "MTS":
                    return mts(i);
                default:
                    break;
            }
            if (temperature(k)) {
                return 1;
            }
            if (next != null && isUpperName(k)) {
                Power p = powerValue(next);
                if (p != null) {
                    power.put(uniqueKey(power, k), p);
                    return 2;
                }
                Engine e = engineValue(next);
                if (e != null) {
                    String name = k.length() > 5 && k.endsWith("_FREQ") ? k.substring(0, k.length() - 5) : k;
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
            String v = t[i + 1];
            boolean attached = v.endsWith("(lfb");
            int[] ab = slash(v, 0, attached ? v.length() - 4 : v.length(), "MB");
            if (ab == null) {
                return 0;
            }
            int used = 2;
            int[] lfb = null;
            if (attached) {
                lfb = i + 2 < n ? lfbBlocks(t[i + 2]) : null;
                if (lfb == null) {
                    return 0;
                }
                used = 3;
            } else if (i + 3 < n && t[i + 2].equals("(lfb")) {
                lfb = lfbBlocks(t[i + 3]);
                if (lfb != null) {
                    used = 4;
                }
            }
            ram = true;
            b.ramUsedMB(ab[0]).ramTotalMB(ab[1]);
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
            String v = t[i + 1];
            boolean attached = v.endsWith("(cached");
            int[] ab = slash(v, 0, attached ? v.length() - 7 : v.length(), "MB");
            if (ab == null) {
                return 0;
            }
            int used = 2;
            int cached = -1;
            if (attached) {
                cached = i + 2 < n ? closedSize(t[i + 2], "MB)") : -1;
                if (cached < 0) {
                    return 0;
                }
                used = 3;
            } else if (i + 3 < n && t[i + 2].equals("(cached")) {
                cached = closedSize(t[i + 3], "MB)");
                if (cached >= 0) {
                    used = 4;
                }
            }
            swap = true;
            b.swapUsedMB(ab[0]).swapTotalMB(ab[1]);
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
            String v = t[i + 1];
            boolean attached = v.endsWith("(lfb");
            int[] ab = slash(v, 0, attached ? v.length() - 4 : v.length(), "kB");
            if (ab == null) {
                return 0;
            }
            int used = 2;
            int lfb = -1;
            if (attached) {
                lfb = i + 2 < n ? closedSize(t[i + 2], "kB)") : -1;
                if (lfb < 0) {
                    return 0;
                }
                used = 3;
            } else if (i + 3 < n && t[i + 2].equals("(lfb")) {
                lfb = closedSize(t[i + 3], "kB)");
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
        private boolean cpu(String v) {
            if (cpus != null || v.isEmpty() || v.charAt(0) != '[') {
                return false;
            }
            int close = v.indexOf(']');
            if (close < 0) {
                return false;
            }
            Integer shared = null;
            if (close + 1 < v.length()) {
                if (v.charAt(close + 1) != '@') {
                    return false;
                }
                int f = uint(v, close + 2, v.length());
                if (f < 0) {
                    return false;
                }
                shared = f;
            }
            List<Cpu> list = new ArrayList<>(16);
            int start = 1;
            if (close > 1) {
                while (true) {
                    int comma = v.indexOf(',', start);
                    int end = comma < 0 || comma > close ? close : comma;
                    Cpu c = core(v, start, end, shared);
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

        /** {@code off}, {@code 52%@1479}, {@code 17%} (old format: the shared clock) or {@code @1479}; else null. */
        private Cpu core(String v, int from, int to, Integer shared) {
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
                freq = f;
            }
            return new Cpu(true, load, freq);
        }

        private boolean emc(String v) {
            if (emc) {
                return false;
            }
            LoadFreq lf = loadFreq(v, 0, v.length(), true);
            if (lf == null || lf.freqs.size() > 1) {
                return false;
            }
            emc = true;
            b.emcLoadPercent(lf.load).emcFreqMHz(lf.freqs.isEmpty() ? null : lf.freqs.get(0));
            return true;
        }

        private boolean gpu(String v) {
            if (gpu) {
                return false;
            }
            LoadFreq lf = loadFreq(v, 0, v.length(), true);
            if (lf == null) {
                return false;
            }
            gpu = true;
            b.gpuLoadPercent(lf.load).gpuFreqMHz(lf.freqs);
            return true;
        }

        // MTS fg 1% bg 1%
        private int mts(int i) {
            if (mts || i + 4 >= n || !t[i + 1].equals("fg") || !t[i + 3].equals("bg")) {
                return 0;
            }
            int fg = percent(t[i + 2]);
            int bg = percent(t[i + 4]);
            if (fg < 0 || bg < 0) {
                return 0;
            }
            mts = true;
            b.mtsFgPercent(fg).mtsBgPercent(bg);
            return 5;
        }

        // NAME@42C, name@42.5C, name@-256C, name@42.5C/43C
        private boolean temperature(String tok) {
            int at = tok.indexOf('@');
            if (at <= 0 || !isName(tok, 0, at, false)) {
                return false;
            }
            int len = tok.length();
            int slash = tok.indexOf('/', at);
            int end1 = slash < 0 ? len : slash;
            if (tok.charAt(end1 - 1) != 'C') {
                return false;
            }
            double cur = decimal(tok, at + 1, end1 - 1);
            if (Double.isNaN(cur)) {
                return false;
            }
            double max = Double.NaN;
            if (slash >= 0) {
                if (tok.charAt(len - 1) != 'C') {
                    return false;
                }
                max = decimal(tok, slash + 1, len - 1);
                if (Double.isNaN(max)) {
                    return false;
                }
            }
            String name = uniqueKey(temps, tok.substring(0, at));
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

    /** The first letters of RAM, SWAP, IRAM, cpu/CPU, EMC(_FREQ), GR3D(_FREQ), MTS: no need to hash other tokens. */
    private static boolean isKeywordStart(char c) {
        return c == 'R' || c == 'S' || c == 'I' || c == 'c' || c == 'C' || c == 'E' || c == 'G' || c == 'M';
    }

    private static Double reading(double celsius) {
        return celsius == -256.0 ? null : celsius;
    }

    /** A rail value: {@code 3410/3410}, {@code 4520mW/4680mW} or {@code 5139mW/5139mW/5139mW}; else null. */
    static Power powerValue(String v) {
        int s1 = v.indexOf('/');
        if (s1 < 0) {
            return null;
        }
        int s2 = v.indexOf('/', s1 + 1);
        if (s2 >= 0 && v.indexOf('/', s2 + 1) >= 0) {
            return null;
        }
        int cur = milliwatts(v, 0, s1);
        int avg = milliwatts(v, s1 + 1, s2 < 0 ? v.length() : s2);
        int max = s2 < 0 ? 0 : milliwatts(v, s2 + 1, v.length());
        if (cur < 0 || avg < 0 || max < 0) {
            return null;
        }
        return new Power(cur, avg, s2 < 0 ? null : max);
    }

    private static int milliwatts(String v, int from, int to) {
        if (to - from > 2 && v.charAt(to - 2) == 'm' && v.charAt(to - 1) == 'W') {
            to -= 2;
        }
        return uint(v, from, to);
    }

    /** An engine value: {@code off}, {@code 716}, {@code 79%}, {@code 79%@166}, {@code @1556}, {@code @[1556]}. */
    static Engine engineValue(String v) {
        if (v.equals("off")) {
            return new Engine(false, null, null);
        }
        int f = uint(v, 0, v.length());
        if (f >= 0) {
            return new Engine(true, null, f);
        }
        LoadFreq lf = loadFreq(v, 0, v.length(), true);
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
            return f < 0 ? null : new LoadFreq(load, List.of(f));
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
            freqs.add(f);
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

    /** {@code NxSMB)} or {@code NxSkB)}: N blocks and the block size in kB; null if it is not that. */
    private static int[] lfbBlocks(String v) {
        int x = v.indexOf('x');
        if (x <= 0 || !v.endsWith(")")) {
            return null;
        }
        int blocks = uint(v, 0, x);
        int kb = closedSize(v.substring(x + 1), "kB)");
        if (kb < 0) {
            int mb = closedSize(v.substring(x + 1), "MB)");
            kb = mb < 0 || mb > Integer.MAX_VALUE / 1024 ? -1 : mb * 1024;
        }
        return blocks < 0 || kb < 0 ? null : new int[] {blocks, kb};
    }

    /** {@code 6MB)} with suffix {@code MB)}: 6; -1 if not that. */
    private static int closedSize(String v, String suffix) {
        if (!v.endsWith(suffix)) {
            return -1;
        }
        return uint(v, 0, v.length() - suffix.length());
    }

    private static int percent(String v) {
        return v.endsWith("%") ? uint(v, 0, v.length() - 1) : -1;
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

    private static boolean isUpperName(String v) {
        return isName(v, 0, v.length(), true);
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

    /** MM-DD-YYYY HH:MM:SS, or null. */
    private static LocalDateTime timestamp(String date, String time) {
        if (date.length() != 10 || time.length() != 8 || date.charAt(2) != '-' || date.charAt(5) != '-'
                || time.charAt(2) != ':' || time.charAt(5) != ':') {
            return null;
        }
        int month = uint(date, 0, 2);
        int day = uint(date, 3, 5);
        int year = uint(date, 6, 10);
        int hour = uint(time, 0, 2);
        int minute = uint(time, 3, 5);
        int second = uint(time, 6, 8);
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
