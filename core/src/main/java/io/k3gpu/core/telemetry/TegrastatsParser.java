package io.k3gpu.core.telemetry;

import io.k3gpu.core.telemetry.GpuSample.Cpu;
import io.k3gpu.core.telemetry.GpuSample.Engine;
import io.k3gpu.core.telemetry.GpuSample.Power;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.RandomAccess;

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
 * <p>Thread-safe; no I/O. A line with no recognisable tegrastats field at all (empty, blank, a CSV row, prose)
 * raises {@link TelemetryParseException}; any other line gives a sample.
 *
 * <h2>How it is made fast</h2>
 * The parser is measured in lines per second ({@code bench/}, docs/benchmarks.md: about twice as many as the
 * parser it replaced, which tokenized the line first and filled {@code LinkedHashMap}s of boxed values). A line is
 * handled in two steps, both in a per-thread {@link Run} that is reused from line to line:
 * <ol>
 *   <li><b>Read</b>, in one pass over a copy of the characters: each field's tokens are checked and their numbers
 *       read as the characters go by, into the Run's {@code int}/{@code double} arrays; names are kept as offsets.
 *       No object is made and no character is looked at twice but for a few look-aheads.</li>
 *   <li><b>Make</b>, once at the end, sized exactly: the {@link GpuSample}, and for temperatures, rails, engines
 *       and cores a small collection that holds the numbers read in a primitive array and makes the value object
 *       ({@code Double}, {@link Power}, {@link Engine}, {@link Cpu}) when it is asked for ({@link ArrayMap},
 *       {@code Cpus}). The keys come from a per-thread cache: a board prints the same names in the same order on
 *       every line, so the key array of each map is found (and checked character by character) once a line and
 *       shared between samples. Boxes of 0..4095 and the {@code off} core and engine are shared constants.</li>
 * </ol>
 * None of this shows in the result: a sample equals, field by field and in iteration order, the one the previous
 * parser made, its collections are unmodifiable, and the same line gives the same sample on any thread. The only
 * difference: a value read twice from a map or the core list is two equal objects, not the same one.
 */
public final class TegrastatsParser {

    private TegrastatsParser() {
    }

    /** One {@link Run} per thread, reset at the start of every line. */
    private static final ThreadLocal<Run> RUN = ThreadLocal.withInitial(Run::new);

    /**
     * Parses one tegrastats line.
     *
     * @throws TelemetryParseException when the line is empty or has no tegrastats field at all
     */
    public static GpuSample parse(String line) {
        if (line == null) {
            throw new TelemetryParseException("not tegrastats output: no line");
        }
        return RUN.get().parse(line);
    }

    private static boolean isSpace(char c) {
        return c <= ' ' || (c > 0x7f && Character.isWhitespace(c));
    }

    /** An int value that was not printed (every value read is a count of digits, so never negative). */
    private static final int NONE = -1;
    /** The load of a core printed {@code off}. */
    private static final int OFF = -2;
    /** The clock of a core printed without one, while the clock all cores share is not read yet. */
    private static final int SHARED = -3;

    private static final Cpu CPU_OFF = new Cpu(false, null, null);
    private static final Engine ENGINE_OFF = new Engine(false, null, null);
    /** What GpuSample made of {@code List.of()}: {@code unparsed} of a clean line, GR3D with a load only. */
    private static final List<String> NO_TOKENS = Collections.unmodifiableList(List.of());
    private static final List<Integer> NO_CLOCKS = Collections.unmodifiableList(List.of());

    /**
     * Parsing on one thread: the scratch of the current line, reused for the next. The Run holds only primitives
     * and primitive arrays (see the class comment); {@link #sample} turns them into the objects of the sample.
     *
     * <p>The line is read in one pass: {@code c} holds its characters and one more, a space (the sentinel), so a
     * token always ends at a space and a look at {@code c[j]} never needs a bounds test. Each field is read by a
     * method that is given the position of its first token and returns the position just after its last one, or -1
     * when the tokens there are not that field; the grammar of each is the one the javadoc of the class gives, token
     * by token, exactly as a split on whitespace would see it.
     */
    private static final class Run {
        /** Up to this many characters a line is read in the Run's own array; a longer one gets one of its own. */
        private static final int KEEP_CHARS = 4096;

        private char[] c = new char[512];
        /** The length of the line: c[len] is the sentinel space. */
        private int len;
        /** Set by the readers of numbers ({@link #digits}, {@link #decimal}, ...): the position after what they read. */
        private int end;

        // Fields read so far (NONE: not printed). A flag says a field was read, so a second one is not merged.
        private boolean ram;
        private boolean swap;
        private boolean iram;
        private boolean emc;
        private boolean gpu;
        private boolean mts;
        private boolean cpus;
        private int ramUsedMB;
        private int ramTotalMB;
        private int ramLfbBlocks;
        private int ramLfbBlockKB;
        private int swapUsedMB;
        private int swapTotalMB;
        private int swapCachedMB;
        private int iramUsedKB;
        private int iramTotalKB;
        private int iramLfbKB;
        private int emcLoadPercent;
        private int emcFreqMHz;
        private int mtsFgPercent;
        private int mtsBgPercent;
        private int gpuLoadPercent;
        private int[] gpuFreqMHz = new int[8];
        private int gpuFreqCount;
        /** Cores: load (NONE, OFF or percent) and clock (NONE or MHz) of core k at 2k and 2k + 1. */
        private int[] cores = new int[32];
        private int cpuCount;
        /** Temperatures: current and maximum ({@code NaN}: not printed; a parsed value is never NaN). */
        private final Table temps = new Table();
        /** How many temperatures have a maximum. */
        private int maxima;
        /** Rails: current, average, maximum (NONE if not printed). */
        private final Table rails = new Table();
        /** Engines: online (0 or 1), load, clock. */
        private final Table engines = new Table();
        /** Start and end of each token not understood. */
        private int[] unparsed = new int[16];
        private int unparsedCount;

        /** What {@link #loadFreq} read: the load (or NONE) and the clocks in {@code freqs[0, freqCount)}. */
        private int lfLoad;
        private int[] freqs = new int[8];
        private int freqCount;
        /** What {@link #slash} read: a/b. */
        private int slashA;
        private int slashB;
        /** What {@link #lfbBlocks} read: N blocks of K kB. */
        private int lfbN;
        private int lfbKB;

        /** The key arrays of recent lines, per map (see keys(Table, Layouts)). */
        private final Layouts tempLayouts = new Layouts();
        private final Layouts railLayouts = new Layouts();
        private final Layouts engineLayouts = new Layouts();

        GpuSample parse(String line) {
            int length = line.length();
            if (length >= c.length) { // one more for the sentinel
                if (length >= KEEP_CHARS) {
                    // a long line gets an array of its own, which the Run does not keep
                    char[] kept = c;
                    c = new char[length + 1];
                    try {
                        return parseLine(line, length);
                    } finally {
                        c = kept;
                    }
                }
                c = new char[KEEP_CHARS + 1];
            }
            return parseLine(line, length);
        }

        private GpuSample parseLine(String line, int length) {
            line.getChars(0, length, c, 0);
            c[length] = ' ';
            len = length;
            int p = skipSpaces(0);
            if (p == len) {
                throw new TelemetryParseException("not tegrastats output: empty line");
            }
            reset();
            // a timestamp: the first two tokens, when they are one
            LocalDateTime time = null;
            int end0 = tokenEnd(p);
            int second = skipSpaces(end0);
            if (second < len) {
                int end1 = tokenEnd(second);
                time = timestamp(p, end0, second, end1);
                if (time != null) {
                    p = skipSpaces(end1);
                }
            }
            int recognised = 0;
            while (p < len) {
                int next = field(p);
                if (next < 0) {
                    next = tokenEnd(p);
                    if (2 * unparsedCount + 2 > unparsed.length) {
                        unparsed = Arrays.copyOf(unparsed, unparsed.length * 2);
                    }
                    unparsed[2 * unparsedCount] = p;
                    unparsed[2 * unparsedCount + 1] = next;
                    unparsedCount++;
                } else {
                    recognised++;
                }
                p = skipSpaces(next);
            }
            if (recognised == 0) {
                throw new TelemetryParseException("not tegrastats output: no tegrastats field in '"
                        + abbreviate(line) + "'");
            }
            return sample(time);
        }

        private void reset() {
            ram = false;
            swap = false;
            iram = false;
            emc = false;
            gpu = false;
            mts = false;
            cpus = false;
            ramUsedMB = NONE;
            ramTotalMB = NONE;
            ramLfbBlocks = NONE;
            ramLfbBlockKB = NONE;
            swapUsedMB = NONE;
            swapTotalMB = NONE;
            swapCachedMB = NONE;
            iramUsedKB = NONE;
            iramTotalKB = NONE;
            iramLfbKB = NONE;
            emcLoadPercent = NONE;
            emcFreqMHz = NONE;
            mtsFgPercent = NONE;
            mtsBgPercent = NONE;
            gpuLoadPercent = NONE;
            gpuFreqCount = 0;
            cpuCount = 0;
            temps.reset();
            maxima = 0;
            rails.reset();
            engines.reset();
            unparsedCount = 0;
            if (unparsed.length > 1024) {
                unparsed = new int[16];
            }
        }

        // ---- tokens ----

        /** The first position from p that is not whitespace, or len. */
        private int skipSpaces(int p) {
            while (p < len && isSpace(c[p])) {
                p++;
            }
            return p;
        }

        /** The end of the token that starts at p (the sentinel stops it at len). */
        private int tokenEnd(int p) {
            while (!isSpace(c[p])) {
                p++;
            }
            return p;
        }

        /** A token starts at {@code start} (a position skipSpaces gave): it is not the end of the line. */
        private boolean hasToken(int start) {
            return start < len;
        }

        /**
         * c[p, p + word.length) is word (p &lt;= len). No word holds a space, so the comparison stops at the
         * sentinel at the latest: no bounds test needed.
         */
        private boolean startsWith(int p, char[] word) {
            for (int j = 0; j < word.length; j++) {
                if (c[p + j] != word[j]) {
                    return false;
                }
            }
            return true;
        }

        /** The token at p is exactly word. */
        private boolean isWord(int p, char[] word) {
            return startsWith(p, word) && isSpace(c[p + word.length]);
        }

        // ---- fields ----

        /** Reads the field that starts at p; returns the end of its last token, or -1 if there is none. */
        private int field(int p) {
            switch (keyword(p)) {
                case RAM:
                    return ram(p);
                case SWAP:
                    return swap(p);
                case IRAM:
                    return iram(p);
                case CPU_OLD: {
                    int q = skipSpaces(p + 3);
                    return hasToken(q) ? cpu(q) : -1;
                }
                case CPU: {
                    int q = skipSpaces(p + 3);
                    int e = hasToken(q) ? cpu(q) : -1;
                    if (e >= 0) {
                        return e;
                    }
                    break; // "CPU 465/465" is a power rail on JetPack 4 Xavier
                }
                case EMC_FREQ: {
                    int q = skipSpaces(p + 8);
                    return hasToken(q) ? emc(q) : -1;
                }
                case EMC: {
                    int q = skipSpaces(p + 3);
                    int e = hasToken(q) ? emc(q) : -1;
                    if (e >= 0) {
                        return e;
                    }
                    break;
                }
                case GR3D: {
                    int q = skipSpaces(tokenEnd(p));
                    return hasToken(q) ? gpu(q) : -1;
                }
                case MTS:
                    return mts(p);
                default:
                    break;
            }
            // A name (a letter, then letters, digits and '_') up to an '@': NAME@42C is a temperature. A token that
            // is a name as a whole, upper-case first, followed by a value: a rail or an engine. One pass reads the
            // name for both.
            char first = c[p];
            if (!isLetter(first)) {
                return -1;
            }
            int j = p + 1;
            while (true) {
                char ch = c[j];
                if (isNameChar(ch)) {
                    j++;
                } else if (ch == '@') {
                    return temperature(p, j);
                } else if (isSpace(ch)) {
                    break;
                } else {
                    return -1;
                }
            }
            if (first > 'Z') {
                return -1;
            }
            int q = skipSpaces(j);
            if (!hasToken(q)) {
                return -1;
            }
            int e = rail(p, j, q);
            return e >= 0 ? e : engine(p, j, q);
        }

        /**
         * Which keyword the token at p is (RAM, SWAP, ...), or 0: compared character by character, which the
         * sentinel allows (a comparison fails at a space at the latest, and each is made only after the previous
         * character matched one that is not a space).
         */
        private int keyword(int p) {
            char[] c = this.c;
            switch (c[p]) {
                case 'R':
                    return c[p + 1] == 'A' && c[p + 2] == 'M' && isSpace(c[p + 3]) ? RAM : 0;
                case 'S':
                    return c[p + 1] == 'W' && c[p + 2] == 'A' && c[p + 3] == 'P' && isSpace(c[p + 4]) ? SWAP : 0;
                case 'I':
                    return c[p + 1] == 'R' && c[p + 2] == 'A' && c[p + 3] == 'M' && isSpace(c[p + 4]) ? IRAM : 0;
                case 'c':
                    return c[p + 1] == 'p' && c[p + 2] == 'u' && isSpace(c[p + 3]) ? CPU_OLD : 0;
                case 'C':
                    return c[p + 1] == 'P' && c[p + 2] == 'U' && isSpace(c[p + 3]) ? CPU : 0;
                case 'E':
                    if (c[p + 1] == 'M' && c[p + 2] == 'C') {
                        return isSpace(c[p + 3]) ? EMC : isWord(p + 3, FREQ) ? EMC_FREQ : 0;
                    }
                    return 0;
                case 'G':
                    return c[p + 1] == 'R' && c[p + 2] == '3' && c[p + 3] == 'D'
                            && (isSpace(c[p + 4]) || isWord(p + 4, FREQ)) ? GR3D : 0;
                case 'M':
                    return c[p + 1] == 'T' && c[p + 2] == 'S' && isSpace(c[p + 3]) ? MTS : 0;
                default:
                    return 0;
            }
        }

        // RAM 2462/3964MB (lfb 2x4MB), also RAM 4722/7844MB(lfb 1x512kB)
        private int ram(int p) {
            int q = skipSpaces(p + 3);
            if (ram || !hasToken(q)) {
                return -1;
            }
            int e = slash(q, MB);
            if (e < 0) {
                return -1;
            }
            boolean lfb = false;
            int last;
            if (isSpace(c[e])) {
                // "(lfb" as a token of its own, then the blocks: optional
                last = e;
                int r = skipSpaces(e);
                if (hasToken(r) && isWord(r, LFB)) {
                    int b = skipSpaces(r + 4);
                    int be = hasToken(b) ? lfbBlocks(b) : -1;
                    if (be >= 0) {
                        lfb = true;
                        last = be;
                    }
                }
            } else if (isWord(e, LFB)) {
                // "(lfb" attached: the blocks must follow
                int b = skipSpaces(e + 4);
                last = hasToken(b) ? lfbBlocks(b) : -1;
                if (last < 0) {
                    return -1;
                }
                lfb = true;
            } else {
                return -1;
            }
            ram = true;
            ramUsedMB = slashA;
            ramTotalMB = slashB;
            if (lfb) {
                ramLfbBlocks = lfbN;
                ramLfbBlockKB = lfbKB;
            }
            return last;
        }

        // SWAP 362/1982MB (cached 6MB), also SWAP 0/512MB(cached 0MB)
        private int swap(int p) {
            int q = skipSpaces(p + 4);
            if (swap || !hasToken(q)) {
                return -1;
            }
            int e = slash(q, MB);
            if (e < 0) {
                return -1;
            }
            int cached = NONE;
            int last;
            if (isSpace(c[e])) {
                last = e;
                int r = skipSpaces(e);
                if (hasToken(r) && isWord(r, CACHED)) {
                    int b = skipSpaces(r + 7);
                    if (hasToken(b)) {
                        int v = closedSize(b, MB_CLOSED);
                        if (v >= 0) {
                            cached = v;
                            last = end;
                        }
                    }
                }
            } else if (isWord(e, CACHED)) {
                int b = skipSpaces(e + 7);
                cached = hasToken(b) ? closedSize(b, MB_CLOSED) : -1;
                if (cached < 0) {
                    return -1;
                }
                last = end;
            } else {
                return -1;
            }
            swap = true;
            swapUsedMB = slashA;
            swapTotalMB = slashB;
            swapCachedMB = cached;
            return last;
        }

        // IRAM 0/252kB(lfb 252kB), also IRAM 0/252kB (lfb 252kB)
        private int iram(int p) {
            int q = skipSpaces(p + 4);
            if (iram || !hasToken(q)) {
                return -1;
            }
            int e = slash(q, KB);
            if (e < 0) {
                return -1;
            }
            int lfb = NONE;
            int last;
            if (isSpace(c[e])) {
                last = e;
                int r = skipSpaces(e);
                if (hasToken(r) && isWord(r, LFB)) {
                    int b = skipSpaces(r + 4);
                    if (hasToken(b)) {
                        int v = closedSize(b, KB_CLOSED);
                        if (v >= 0) {
                            lfb = v;
                            last = end;
                        }
                    }
                }
            } else if (isWord(e, LFB)) {
                int b = skipSpaces(e + 4);
                lfb = hasToken(b) ? closedSize(b, KB_CLOSED) : -1;
                if (lfb < 0) {
                    return -1;
                }
                last = end;
            } else {
                return -1;
            }
            iram = true;
            iramUsedKB = slashA;
            iramTotalKB = slashB;
            iramLfbKB = lfb;
            return last;
        }

        /**
         * {@code a/b} and the unit at q, a and b into slashA/slashB: returns the position after the unit (the token
         * may go on there: "(lfb"), or -1.
         */
        private int slash(int q, char[] unit) {
            slashA = digits(q);
            if (slashA < 0 || c[end] != '/') {
                return -1;
            }
            slashB = digits(end + 1);
            if (slashB < 0 || !startsWith(end, unit)) {
                return -1;
            }
            return end + unit.length;
        }

        /** The token {@code NxSMB)} or {@code NxSkB)} at q: N into lfbN, S in kB into lfbKB; its end, or -1. */
        private int lfbBlocks(int q) {
            int blocks = digits(q);
            if (blocks < 0 || c[end] != 'x') {
                return -1;
            }
            int size = digits(end + 1);
            if (size < 0) {
                return -1;
            }
            int kb;
            if (isWord(end, KB_CLOSED)) {
                kb = size;
            } else if (isWord(end, MB_CLOSED) && size <= Integer.MAX_VALUE / 1024) {
                kb = size * 1024;
            } else {
                return -1;
            }
            lfbN = blocks;
            lfbKB = kb;
            return end + 3;
        }

        /** The token {@code 6MB)} at q with suffix {@code MB)}: 6, its end in {@code end}; -1 if not that. */
        private int closedSize(int q, char[] suffix) {
            int v = digits(q);
            if (v < 0 || !isWord(end, suffix)) {
                return -1;
            }
            end += suffix.length;
            return v;
        }

        // [52%@1479,off,...]  or old  [17%,13%]@408
        private int cpu(int q) {
            if (cpus || c[q] != '[') {
                return -1;
            }
            int count = 0;
            int j = q + 1;
            if (c[j] != ']') {
                while (true) {
                    if (2 * count + 2 > cores.length) {
                        cores = Arrays.copyOf(cores, cores.length * 2);
                    }
                    j = core(j, count);
                    if (j < 0) {
                        return -1;
                    }
                    count++;
                    if (c[j] == ']') {
                        break;
                    }
                    j++; // the ','
                }
            }
            // after ']': the end of the token, or the clock all cores share
            j++;
            int shared = NONE;
            if (!isSpace(c[j])) {
                if (c[j] != '@') {
                    return -1;
                }
                shared = digits(j + 1);
                if (shared < 0 || !isSpace(c[end])) {
                    return -1;
                }
                j = end;
            }
            for (int k = 0; k < count; k++) {
                if (cores[2 * k + 1] == SHARED) {
                    cores[2 * k + 1] = shared;
                }
            }
            cpus = true;
            cpuCount = count;
            return j;
        }

        /**
         * Core k at j: {@code off}, {@code 52%@1479}, {@code 17%} (old format: the shared clock, SHARED until it is
         * known) or {@code @1479}, followed by ',' or ']': returns the position of that, or -1.
         */
        private int core(int j, int k) {
            if (c[j] == 'o' && startsWith(j, OFF_WORD) && (c[j + 3] == ',' || c[j + 3] == ']')) {
                cores[2 * k] = OFF;
                cores[2 * k + 1] = NONE;
                return j + 3;
            }
            int load = NONE;
            if (c[j] != '@') {
                load = digits(j);
                if (load < 0 || c[end] != '%') {
                    return -1;
                }
                j = end + 1;
            }
            int freq = SHARED;
            if (c[j] == '@') {
                freq = digits(j + 1);
                if (freq < 0) {
                    return -1;
                }
                j = end;
            }
            if (c[j] != ',' && c[j] != ']') {
                return -1;
            }
            cores[2 * k] = load;
            cores[2 * k + 1] = freq;
            return j;
        }

        private int emc(int q) {
            if (emc) {
                return -1;
            }
            int e = loadFreq(q);
            if (e < 0 || freqCount > 1) {
                return -1;
            }
            emc = true;
            emcLoadPercent = lfLoad;
            emcFreqMHz = freqCount == 0 ? NONE : freqs[0];
            return e;
        }

        private int gpu(int q) {
            if (gpu) {
                return -1;
            }
            int e = loadFreq(q);
            if (e < 0) {
                return -1;
            }
            gpu = true;
            gpuLoadPercent = lfLoad;
            if (freqCount > gpuFreqMHz.length) {
                gpuFreqMHz = new int[freqCount];
            }
            System.arraycopy(freqs, 0, gpuFreqMHz, 0, freqCount);
            gpuFreqCount = freqCount;
            return e;
        }

        // MTS fg 1% bg 1%
        private int mts(int p) {
            if (mts) {
                return -1;
            }
            int fgWord = skipSpaces(p + 3);
            if (!hasToken(fgWord) || !isWord(fgWord, FG)) {
                return -1;
            }
            int fgAt = skipSpaces(fgWord + 2);
            int fg = hasToken(fgAt) ? percent(fgAt) : -1;
            if (fg < 0) {
                return -1;
            }
            int bgWord = skipSpaces(end);
            if (!hasToken(bgWord) || !isWord(bgWord, BG)) {
                return -1;
            }
            int bgAt = skipSpaces(bgWord + 2);
            int bg = hasToken(bgAt) ? percent(bgAt) : -1;
            if (bg < 0) {
                return -1;
            }
            mts = true;
            mtsFgPercent = fg;
            mtsBgPercent = bg;
            return end;
        }

        /** The token {@code 12%} at q: 12, its end in {@code end}; -1 if not that. */
        private int percent(int q) {
            int v = digits(q);
            if (v < 0 || c[end] != '%' || !isSpace(c[end + 1])) {
                return -1;
            }
            end++;
            return v;
        }

        /**
         * NAME@42C, name@42.5C, name@-256C, name@42.5C/43C: the name is c[p, at), the value after it.
         * Returns the end of the token, or -1.
         */
        private int temperature(int p, int at) {
            double cur = decimal(at + 1);
            if (Double.isNaN(cur) || c[end] != 'C') {
                return -1;
            }
            int j = end + 1;
            double max = Double.NaN;
            if (c[j] == '/') {
                max = decimal(j + 1);
                if (Double.isNaN(max) || c[end] != 'C') {
                    return -1;
                }
                j = end + 1;
            }
            if (!isSpace(c[j])) {
                return -1;
            }
            int e = temps.add(p, at, shape(p, at));
            temps.x[e] = cur;
            temps.y[e] = max;
            if (!Double.isNaN(max)) {
                maxima++;
            }
            return j;
        }

        /**
         * Rail c[p, nameEnd) with its value at q ({@code 3410/3410}, {@code 4520mW/4680mW}
         * or {@code 5139mW/5139mW/5139mW}): returns the end of the value, or -1 if it is not one.
         */
        private int rail(int p, int nameEnd, int q) {
            int cur = milliwatts(q);
            if (cur < 0 || c[end] != '/') {
                return -1;
            }
            int avg = milliwatts(end + 1);
            if (avg < 0) {
                return -1;
            }
            int max = NONE;
            if (c[end] == '/') {
                max = milliwatts(end + 1);
                if (max < 0) {
                    return -1;
                }
            }
            if (!isSpace(c[end])) {
                return -1;
            }
            int e = rails.add(p, nameEnd, shape(p, nameEnd));
            rails.v[3 * e] = cur;
            rails.v[3 * e + 1] = avg;
            rails.v[3 * e + 2] = max;
            return end;
        }

        /** A number of milliwatts at j, {@code 3410} or {@code 3410mW}: its value and end, or -1. */
        private int milliwatts(int j) {
            int v = digits(j);
            if (v >= 0 && c[end] == 'm' && c[end + 1] == 'W') {
                end += 2;
            }
            return v;
        }

        /**
         * Engine c[p, nameEnd) with its value at q: {@code off}, {@code 716},
         * {@code 79%}, {@code 79%@166}, {@code @1556}, {@code @[1556]}; returns the end of the value, or -1 if it
         * is none of them. A trailing {@code _FREQ} is not part of the name.
         */
        private int engine(int p, int nameEnd, int q) {
            int online = 1;
            int load = NONE;
            int freq;
            int last;
            if (isWord(q, OFF_WORD)) {
                online = 0;
                freq = NONE;
                last = q + 3;
            } else {
                freq = digits(q);
                last = end;
                if (freq < 0 || !isSpace(c[last])) {
                    last = loadFreq(q);
                    if (last < 0 || freqCount > 1) {
                        return -1;
                    }
                    load = lfLoad;
                    freq = freqCount == 0 ? NONE : freqs[0];
                }
            }
            int t = nameEnd;
            if (t - p > 5 && c[t - 5] == '_' && startsWith(t - 5, FREQ)) {
                t -= 5;
            }
            int e = engines.add(p, t, shape(p, t));
            engines.v[3 * e] = online;
            engines.v[3 * e + 1] = load;
            engines.v[3 * e + 2] = freq;
            return last;
        }

        /**
         * The token at q as a load and clocks: {@code N%}, {@code N%@F}, {@code @F}, and with lists,
         * {@code N%@[F,F]}, {@code @[F]}. Returns its end, or -1 if it is not that; the load is in lfLoad (NONE if
         * none) and the clocks in freqs[0, freqCount).
         */
        private int loadFreq(int q) {
            int j = q;
            lfLoad = NONE;
            freqCount = 0;
            if (c[j] != '@') {
                lfLoad = digits(j);
                if (lfLoad < 0 || c[end] != '%') {
                    return -1;
                }
                j = end + 1;
                if (isSpace(c[j])) {
                    return j;
                }
                if (c[j] != '@') {
                    return -1;
                }
            }
            j++; // the '@'
            if (c[j] != '[') {
                int f = digits(j);
                if (f < 0 || !isSpace(c[end])) {
                    return -1;
                }
                addFreq(f);
                return end;
            }
            j++;
            while (true) {
                int f = digits(j);
                if (f < 0) {
                    return -1;
                }
                addFreq(f);
                if (c[end] == ']') {
                    break;
                }
                if (c[end] != ',') {
                    return -1;
                }
                j = end + 1;
            }
            return isSpace(c[end + 1]) ? end + 1 : -1;
        }

        private void addFreq(int f) {
            if (freqCount == freqs.length) {
                freqs = Arrays.copyOf(freqs, freqCount * 2);
            }
            freqs[freqCount++] = f;
        }

        // ---- numbers ----

        /**
         * Digits at j: their value, or -1 if there are none or more than 9 (so no overflow and no sign). The
         * position after them is in {@code end}.
         */
        private int digits(int j) {
            int r = 0;
            int k = j;
            while (true) {
                int d = c[k] - '0';
                if (Integer.compareUnsigned(d, 9) > 0) { // not '0'..'9', in one comparison
                    break;
                }
                r = r * 10 + d;
                k++;
            }
            end = k;
            return k == j || k - j > 9 ? -1 : r;
        }

        /**
         * {@code -?digits(.digits)?} at j, NaN if it is not that; the position after the digits and points read is
         * in {@code end}. At most 15 digits, so the mantissa and the power of ten are exact doubles and one division
         * gives the correctly rounded value, as {@link Double#parseDouble} would.
         */
        private double decimal(int j) {
            boolean negative = c[j] == '-';
            if (negative) {
                j++;
            }
            long mantissa = 0;
            int digits = 0;
            int fraction = -1;
            boolean bad = false;
            for (; ; j++) {
                char ch = c[j];
                if (ch >= '0' && ch <= '9') {
                    mantissa = mantissa * 10 + (ch - '0');
                    digits++;
                    if (fraction >= 0) {
                        fraction++;
                    }
                } else if (ch == '.') {
                    if (fraction >= 0 || digits == 0) {
                        bad = true;
                    }
                    fraction = 0;
                } else {
                    break;
                }
            }
            end = j;
            if (bad || digits == 0 || digits > 15 || fraction == 0) {
                return Double.NaN;
            }
            double value = fraction > 0 ? mantissa / POW10[fraction] : mantissa;
            return negative ? -value : value;
        }

        /** MM-DD-YYYY HH:MM:SS (the date at c[d, dEnd), the time at c[t, tEnd)), or null. */
        private LocalDateTime timestamp(int d, int dEnd, int t, int tEnd) {
            if (dEnd - d != 10 || tEnd - t != 8 || c[d + 2] != '-' || c[d + 5] != '-'
                    || c[t + 2] != ':' || c[t + 5] != ':') {
                return null;
            }
            int month = uint(d, d + 2);
            int day = uint(d + 3, d + 5);
            int year = uint(d + 6, d + 10);
            int hour = uint(t, t + 2);
            int minute = uint(t + 3, t + 5);
            int second = uint(t + 6, t + 8);
            if (month < 0 || day < 0 || year < 0 || hour < 0 || minute < 0 || second < 0) {
                return null;
            }
            try {
                return LocalDateTime.of(year, month, day, hour, minute, second);
            } catch (DateTimeException e) {
                return null;
            }
        }

        /** Exactly the digits c[from, to) (a few): their value, or -1. */
        private int uint(int from, int to) {
            int r = 0;
            for (int i = from; i < to; i++) {
                int d = c[i] - '0';
                if (Integer.compareUnsigned(d, 9) > 0) {
                    return -1;
                }
                r = r * 10 + d;
            }
            return r;
        }

        // ---- make: the objects of the sample, from what was read ----

        private GpuSample sample(LocalDateTime time) {
            List<Cpu> cpuList = null;
            if (cpus) {
                cpuList = Collections.unmodifiableList(new Cpus(Arrays.copyOf(cores, 2 * cpuCount)));
            }
            List<Integer> gpuFreqs = null;
            if (gpu) {
                if (gpuFreqCount == 0) {
                    gpuFreqs = NO_CLOCKS;
                } else if (gpuFreqCount == 1) {
                    // what the parser has always made of one clock
                    gpuFreqs = Collections.unmodifiableList(List.of(box(gpuFreqMHz[0])));
                } else {
                    Integer[] list = new Integer[gpuFreqCount];
                    for (int k = 0; k < gpuFreqCount; k++) {
                        list[k] = box(gpuFreqMHz[k]);
                    }
                    gpuFreqs = Collections.unmodifiableList(Arrays.asList(list));
                }
            }
            Map<String, Double> temperatures = null;
            Map<String, Double> temperaturesMax = null;
            int n = temps.size;
            if (n > 0) {
                String[] keys = keys(temps, tempLayouts);
                temperatures = new Temperatures(keys, Arrays.copyOf(temps.x, n));
                if (maxima > 0) {
                    String[] maxKeys = new String[maxima];
                    double[] max = new double[maxima];
                    int m = 0;
                    for (int e = 0; e < n; e++) {
                        if (!Double.isNaN(temps.y[e])) {
                            maxKeys[m] = keys[e];
                            max[m++] = temps.y[e];
                        }
                    }
                    temperaturesMax = new Temperatures(maxKeys, max);
                }
            }
            Map<String, Power> power = rails.size == 0 ? null
                    : new Rails(keys(rails, railLayouts), Arrays.copyOf(rails.v, 3 * rails.size));
            Map<String, Engine> engineMap = engines.size == 0 ? null
                    : new Engines(keys(engines, engineLayouts), Arrays.copyOf(engines.v, 3 * engines.size));
            List<String> unknown = NO_TOKENS;
            if (unparsedCount > 0) {
                String[] list = new String[unparsedCount];
                for (int k = 0; k < unparsedCount; k++) {
                    int from = unparsed[2 * k];
                    list[k] = new String(c, from, unparsed[2 * k + 1] - from);
                }
                unknown = Collections.unmodifiableList(Arrays.asList(list));
            }
            return new GpuSample(Source.TEGRASTATS, time, box(ramUsedMB), box(ramTotalMB), box(ramLfbBlocks),
                    box(ramLfbBlockKB), box(swapUsedMB), box(swapTotalMB), box(swapCachedMB), box(iramUsedKB),
                    box(iramTotalKB), box(iramLfbKB), cpuList, box(gpuLoadPercent), gpuFreqs, box(emcLoadPercent),
                    box(emcFreqMHz), box(mtsFgPercent), box(mtsBgPercent), temperatures, temperaturesMax, power,
                    engineMap, unknown,
                    // the nvidia-smi fields
                    null, null, null, null, null, null, null, null, null, null, null, null);
        }

        /**
         * The keys of a table's entries, in order (see {@link #key}). A board prints the same names in the same
         * order on every line, so the key array of a map is looked up as a whole among those of recent lines (by
         * the hash of all its names, then compared character by character) and shared by the samples; only a new
         * layout makes its keys (new strings, as a line of a board not seen yet would need anyway).
         */
        private String[] keys(Table table, Layouts layouts) {
            int n = table.size;
            // two slots per hash (a pair), so that two layouts whose hashes share a pair both stay
            int slot = ((table.layout * 0x9E3779B9) >>> (32 - Layouts.BITS)) & ~1;
            for (int s = slot; s <= slot + 1; s++) {
                String[] known = layouts.keys[s];
                if (known != null && known.length == n && layouts.hashes[s] == table.layout
                        && sameNames(table, layouts.chars[s], layouts.lengths[s])) {
                    return known;
                }
            }
            String[] keys = new String[n];
            int[] lengths = new int[n];
            int total = 0;
            for (int e = 0; e < n; e++) {
                keys[e] = key(table, e);
                lengths[e] = table.to[e] - table.from[e];
                total += lengths[e];
            }
            if (total > Layouts.MAX_CHARS) {
                return keys; // not a board's layout (a board's names take a few hundred characters): not kept
            }
            layouts.moveToSecond(slot);
            char[] chars = new char[total];
            int at = 0;
            for (int e = 0; e < n; e++) {
                System.arraycopy(c, table.from[e], chars, at, lengths[e]);
                at += lengths[e];
            }
            layouts.hashes[slot] = table.layout;
            layouts.keys[slot] = keys;
            layouts.lengths[slot] = lengths;
            layouts.chars[slot] = chars;
            return keys;
        }

        /** The names of the table's entries are, in order, those of the given lengths in chars. */
        private boolean sameNames(Table table, char[] chars, int[] lengths) {
            int at = 0;
            for (int e = 0; e < table.size; e++) {
                int from = table.from[e];
                int len = table.to[e] - from;
                if (lengths[e] != len) {
                    return false;
                }
                for (int j = 0; j < len; j++) {
                    if (c[from + j] != chars[at + j]) {
                        return false;
                    }
                }
                at += len;
            }
            return true;
        }

        /**
         * The key of entry e: its name, or NAME#2, NAME#3, ... for the second, third, ... entry of that name in the
         * same map (Orin prints the rail NC twice). Names hold no '#', so NAME#k can only come from NAME itself.
         */
        private String key(Table table, int e) {
            int from = table.from[e];
            int to = table.to[e];
            int h = table.hash[e];
            int occurrence = 1;
            for (int q = 0; q < e; q++) {
                if (table.hash[q] == h && sameChars(table.from[q], table.to[q], from, to)) {
                    occurrence++;
                }
            }
            String name = new String(c, from, to - from);
            return occurrence == 1 ? name : name + "#" + occurrence;
        }

        private boolean sameChars(int from1, int to1, int from2, int to2) {
            if (to1 - from1 != to2 - from2) {
                return false;
            }
            for (int j = 0; j < to1 - from1; j++) {
                if (c[from1 + j] != c[from2 + j]) {
                    return false;
                }
            }
            return true;
        }

        /**
         * A hash of the name c[from, to) that costs nothing per character: its length, first and last characters.
         * Tables and layouts use it only to skip comparisons (names with the same shape are compared in full).
         */
        private int shape(int from, int to) {
            return ((to - from) * 31 + c[from]) * 31 + c[to - 1];
        }
    }

    /**
     * Key arrays of one map of recent lines, in 2^BITS slots (pairs) by the hash of their names: with the names they
     * were made from (their lengths, and their characters one after the other), to check a line has exactly those.
     */
    private static final class Layouts {
        static final int BITS = 7;
        /** The most characters of names a layout kept may have, so that odd input cannot fill memory. */
        static final int MAX_CHARS = 2048;
        final int[] hashes = new int[1 << BITS];
        final String[][] keys = new String[1 << BITS][];
        final int[][] lengths = new int[1 << BITS][];
        final char[][] chars = new char[1 << BITS][];

        /** The second slot of a pair takes the layout of the first, which is about to get a new one. */
        void moveToSecond(int slot) {
            hashes[slot + 1] = hashes[slot];
            keys[slot + 1] = keys[slot];
            lengths[slot + 1] = lengths[slot];
            chars[slot + 1] = chars[slot];
        }
    }

    // ---- the sample's collections: values kept as the primitives read, boxed when asked for ----

    /** Temperatures in degrees Celsius; -256 (no reading) is null. */
    private static final class Temperatures extends ArrayMap<Double> {
        private final double[] celsius;

        Temperatures(String[] keys, double[] celsius) {
            super(keys);
            this.celsius = celsius;
        }

        @Override
        Double valueAt(int i) {
            return reading(celsius[i]);
        }
    }

    /** Rails: current, average and maximum (NONE: not printed) milliwatts of rail i at 3i, 3i + 1, 3i + 2. */
    private static final class Rails extends ArrayMap<Power> {
        private final int[] milliwatts;

        Rails(String[] keys, int[] milliwatts) {
            super(keys);
            this.milliwatts = milliwatts;
        }

        @Override
        Power valueAt(int i) {
            return new Power(box(milliwatts[3 * i]), box(milliwatts[3 * i + 1]), box(milliwatts[3 * i + 2]));
        }
    }

    /** Engines: online (0 or 1), load and clock (NONE: not printed) of engine i at 3i, 3i + 1, 3i + 2. */
    private static final class Engines extends ArrayMap<Engine> {
        private final int[] values;

        Engines(String[] keys, int[] values) {
            super(keys);
            this.values = values;
        }

        @Override
        Engine valueAt(int i) {
            return values[3 * i] == 0 ? ENGINE_OFF : new Engine(true, box(values[3 * i + 1]), box(values[3 * i + 2]));
        }
    }

    /**
     * Cores: load (OFF, NONE or percent) and clock (NONE or MHz) of core i at 2i and 2i + 1; the sample gets it
     * behind {@code Collections.unmodifiableList}, as it got its {@code ArrayList} before.
     */
    private static final class Cpus extends AbstractList<Cpu> implements RandomAccess {
        private final int[] values;

        Cpus(int[] values) {
            this.values = values;
        }

        @Override
        public Cpu get(int i) {
            Objects.checkIndex(i, size());
            int load = values[2 * i];
            return load == OFF ? CPU_OFF : new Cpu(true, box(load), box(values[2 * i + 1]));
        }

        @Override
        public int size() {
            return values.length >> 1;
        }
    }

    /**
     * The entries of one map of a line (temperatures, rails or engines) in the order printed: the span and hash of
     * each name, and its values in the columns its map uses (v: three ints an entry; x, y: doubles).
     */
    private static final class Table {
        int size;
        /** A hash of the names of the entries, in order (see Run.keys). */
        int layout;
        int[] from = new int[16];
        int[] to = new int[16];
        /** The shape (see Run.shape) of each name. */
        int[] hash = new int[16];
        /** Three int values of entry e at 3e, 3e + 1, 3e + 2 (rails, engines). */
        int[] v = new int[48];
        double[] x = new double[16];
        double[] y = new double[16];

        void reset() {
            size = 0;
            layout = 0;
            if (from.length > 256) {
                grow(16);
            }
        }

        /** A new entry for the name at [f, t) of shape h; returns its index. */
        int add(int f, int t, int h) {
            if (size == from.length) {
                grow(size * 2);
            }
            from[size] = f;
            to[size] = t;
            hash[size] = h;
            layout = 31 * layout + h;
            return size++;
        }

        private void grow(int capacity) {
            from = Arrays.copyOf(from, capacity);
            to = Arrays.copyOf(to, capacity);
            hash = Arrays.copyOf(hash, capacity);
            v = Arrays.copyOf(v, 3 * capacity);
            x = Arrays.copyOf(x, capacity);
            y = Arrays.copyOf(y, capacity);
        }
    }

    // words compared with the line (see Run.startsWith)
    private static final char[] LFB = "(lfb".toCharArray();
    private static final char[] CACHED = "(cached".toCharArray();
    private static final char[] MB = "MB".toCharArray();
    private static final char[] KB = "kB".toCharArray();
    private static final char[] MB_CLOSED = "MB)".toCharArray();
    private static final char[] KB_CLOSED = "kB)".toCharArray();
    private static final char[] OFF_WORD = "off".toCharArray();
    private static final char[] FG = "fg".toCharArray();
    private static final char[] BG = "bg".toCharArray();
    private static final char[] FREQ = "_FREQ".toCharArray();

    // the keywords (see Run.keyword)
    private static final int RAM = 1;
    private static final int SWAP = 2;
    private static final int IRAM = 3;
    private static final int CPU_OLD = 4;
    private static final int CPU = 5;
    private static final int EMC_FREQ = 6;
    private static final int EMC = 7;
    private static final int GR3D = 8;
    private static final int MTS = 9;

    /** Boxes of 0..4095 made once: clocks, milliwatts and megabytes repeat from line to line. */
    private static final Integer[] BOXES = new Integer[4096];

    static {
        for (int i = 0; i < BOXES.length; i++) {
            BOXES[i] = i;
        }
    }

    /** The box of a value read, null for NONE. */
    private static Integer box(int v) {
        if (v < 0) {
            return null;
        }
        return v < BOXES.length ? BOXES[v] : Integer.valueOf(v);
    }

    private static Double reading(double celsius) {
        return celsius == -256.0 ? null : celsius;
    }

    private static final double[] POW10 = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
        1e14, 1e15};

    private static boolean isLetter(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }

    /** NAME_CHAR[c] for c < 128: c may follow the first letter of a name (a letter, a digit or '_'). */
    private static final boolean[] NAME_CHAR = new boolean[128];

    static {
        for (char ch = 0; ch < 128; ch++) {
            NAME_CHAR[ch] = isLetter(ch) || (ch >= '0' && ch <= '9') || ch == '_';
        }
    }

    /** A character of a name after the first: a letter, a digit or '_' (one table look-up). */
    private static boolean isNameChar(char c) {
        return c < 128 && NAME_CHAR[c];
    }

    static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
