package io.k3gpu.core.telemetry;

import io.k3gpu.core.telemetry.GpuSample.Cpu;
import io.k3gpu.core.telemetry.GpuSample.Engine;
import io.k3gpu.core.telemetry.GpuSample.Power;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON form of a {@link GpuSample} printed by {@code k3gpu stats parse} and written to {@code .jsonl}
 * recordings: one compact object per line, keys in a fixed order, every key always present ({@code null} when the
 * value is absent).
 *
 * <p>tegrastats objects: {@code source, time, ramUsedMB, ramTotalMB, ramLfbBlocks, ramLfbBlockKB, swapUsedMB,
 * swapTotalMB, swapCachedMB, iramUsedKB, iramTotalKB, iramLfbKB, cpus, gpuLoadPercent, gpuFreqMHz, emcLoadPercent,
 * emcFreqMHz, mtsFgPercent, mtsBgPercent, temperaturesC, temperaturesMaxC, powerMilliwatts, engines, unparsed}; a
 * rail is {@code {"current":n,"average":n}} plus {@code "max"} only when printed; a cpu or engine is
 * {@code {"online":b,"loadPercent":n,"freqMHz":n}}.
 *
 * <p>nvidia-smi objects: {@code source, time, index, name, uuid, gpuLoadPercent, memoryLoadPercent, memoryUsedMiB,
 * memoryTotalMiB, temperatureC, powerDrawW, powerLimitW, smClockMHz, memClockMHz, extra}.
 *
 * <p>{@code time} is ISO-8601 local date-time ({@code 2024-07-09T13:31:31}, {@code 2026-11-28T18:13:36.595}).
 */
public final class GpuSampleJson {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_LOCAL_DATE_TIME;
    /** Flush the line writer's buffer to its stream once it holds this much (always at a line's end). */
    private static final int FLUSH_AT = 64 * 1024;

    private GpuSampleJson() {
    }

    /** Made on first use: writing JSON needs no Jackson, and {@code stats parse} never loads it. */
    private static final class Reader {
        static final JsonMapper MAPPER = JsonMapper.builder().build();
    }

    /** The sample as one line of JSON (no line break). */
    public static String toJson(GpuSample sample) {
        JsonBytes out = new JsonBytes(1024);
        object(out, sample);
        return out.text();
    }

    /**
     * The sample as one line of JSON after some string properties of the caller's ({@code name, value} pairs; a
     * recording puts its {@code node} and {@code received} first).
     */
    public static String toJson(GpuSample sample, String... leading) {
        JsonBytes out = new JsonBytes(1024);
        out.raw('{');
        for (int i = 0; i + 1 < leading.length; i += 2) {
            out.string(leading[i]).raw(':').string(leading[i + 1]).raw(',');
        }
        fields(out, sample);
        out.raw('}');
        return out.text();
    }

    /** The error object {@code {"error":"...","line":N}} for input line N (1-based) as one line of JSON. */
    public static String error(String message, long line) {
        JsonBytes out = new JsonBytes(128);
        error(out, message, line);
        return out.text();
    }

    /**
     * Writes samples as JSON lines, UTF-8, onto one stream through one buffer, written out at line ends:
     * {@code stats parse}'s output path. The output holds no raw control character (see {@link JsonBytes}). Not
     * thread-safe; I/O failures are {@link java.io.UncheckedIOException}.
     */
    public static final class LineWriter implements Flushable {
        private final OutputStream out;
        private final JsonBytes buf;

        public LineWriter(OutputStream out) {
            this.out = out;
            this.buf = new JsonBytes(2 * FLUSH_AT);
        }

        /**
         * A writer that holds its lines until {@link #writeTo}: for lines made on one thread and written out on
         * another. Its buffer is kept (emptied) for the next lines.
         */
        public LineWriter() {
            this.out = null;
            this.buf = new JsonBytes(2 * FLUSH_AT);
        }

        public void sample(GpuSample s) {
            object(buf, s);
            end();
        }

        public void error(String message, long line) {
            GpuSampleJson.error(buf, message, line);
            end();
        }

        private void end() {
            buf.raw('\n');
            if (out != null && buf.size() >= FLUSH_AT) {
                buf.drainTo(out);
            }
        }

        /** Writes the lines held so far to {@code to} and empties the buffer (keeping its room). */
        public void writeTo(OutputStream to) {
            buf.drainTo(to);
        }

        @Override
        public void flush() {
            buf.drainTo(out);
            try {
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static final byte[] SOURCE = JsonBytes.ascii("\"source\":");
    private static final byte[] TIME_KEY = JsonBytes.ascii(",\"time\":");
    private static final byte[] TEGRASTATS = JsonBytes.ascii("\"" + Source.TEGRASTATS.id() + "\"");
    private static final byte[] NVIDIA_SMI = JsonBytes.ascii("\"" + Source.NVIDIA_SMI.id() + "\"");
    private static final byte[] RAM_USED = key("ramUsedMB");
    private static final byte[] RAM_TOTAL = key("ramTotalMB");
    private static final byte[] RAM_LFB_BLOCKS = key("ramLfbBlocks");
    private static final byte[] RAM_LFB_BLOCK_KB = key("ramLfbBlockKB");
    private static final byte[] SWAP_USED = key("swapUsedMB");
    private static final byte[] SWAP_TOTAL = key("swapTotalMB");
    private static final byte[] SWAP_CACHED = key("swapCachedMB");
    private static final byte[] IRAM_USED = key("iramUsedKB");
    private static final byte[] IRAM_TOTAL = key("iramTotalKB");
    private static final byte[] IRAM_LFB = key("iramLfbKB");
    private static final byte[] CPUS = key("cpus");
    private static final byte[] GPU_LOAD = key("gpuLoadPercent");
    private static final byte[] GPU_FREQ = key("gpuFreqMHz");
    private static final byte[] EMC_LOAD = key("emcLoadPercent");
    private static final byte[] EMC_FREQ = key("emcFreqMHz");
    private static final byte[] MTS_FG = key("mtsFgPercent");
    private static final byte[] MTS_BG = key("mtsBgPercent");
    private static final byte[] TEMPS = key("temperaturesC");
    private static final byte[] TEMPS_MAX = key("temperaturesMaxC");
    private static final byte[] POWER = key("powerMilliwatts");
    private static final byte[] ENGINES = key("engines");
    private static final byte[] UNPARSED = key("unparsed");
    private static final byte[] INDEX = key("index");
    private static final byte[] NAME = key("name");
    private static final byte[] UUID = key("uuid");
    private static final byte[] MEM_LOAD = key("memoryLoadPercent");
    private static final byte[] MEM_USED = key("memoryUsedMiB");
    private static final byte[] MEM_TOTAL = key("memoryTotalMiB");
    private static final byte[] TEMP = key("temperatureC");
    private static final byte[] POWER_DRAW = key("powerDrawW");
    private static final byte[] POWER_LIMIT = key("powerLimitW");
    private static final byte[] SM_CLOCK = key("smClockMHz");
    private static final byte[] MEM_CLOCK = key("memClockMHz");
    private static final byte[] EXTRA = key("extra");
    private static final byte[] ONLINE = JsonBytes.ascii("{\"online\":");
    private static final byte[] LOAD = key("loadPercent");
    private static final byte[] FREQ = key("freqMHz");
    private static final byte[] CURRENT = JsonBytes.ascii("{\"current\":");
    private static final byte[] AVERAGE = key("average");
    private static final byte[] MAX = key("max");
    private static final byte[] ERROR = JsonBytes.ascii("{\"error\":");
    private static final byte[] LINE = key("line");

    /** {@code ,"name":} */
    private static byte[] key(String name) {
        return JsonBytes.ascii(",\"" + name + "\":");
    }

    private static void object(JsonBytes out, GpuSample s) {
        out.raw('{');
        fields(out, s);
        out.raw('}');
    }

    /** The sample's keys, in contract order, after the object's opening brace (and any keys of the caller's). */
    private static void fields(JsonBytes out, GpuSample s) {
        out.raw(SOURCE).raw(s.source() == Source.NVIDIA_SMI ? NVIDIA_SMI : TEGRASTATS);
        out.raw(TIME_KEY).time(s.time());
        if (s.source() == Source.NVIDIA_SMI) {
            nvidiaSmi(out, s);
        } else {
            tegrastats(out, s);
        }
    }

    private static void error(JsonBytes out, String message, long line) {
        out.raw(ERROR).string(message == null ? "unknown error" : message).raw(LINE).number(line).raw('}');
    }

    private static void tegrastats(JsonBytes out, GpuSample s) {
        out.raw(RAM_USED).number(s.ramUsedMB());
        out.raw(RAM_TOTAL).number(s.ramTotalMB());
        out.raw(RAM_LFB_BLOCKS).number(s.ramLfbBlocks());
        out.raw(RAM_LFB_BLOCK_KB).number(s.ramLfbBlockKB());
        out.raw(SWAP_USED).number(s.swapUsedMB());
        out.raw(SWAP_TOTAL).number(s.swapTotalMB());
        out.raw(SWAP_CACHED).number(s.swapCachedMB());
        out.raw(IRAM_USED).number(s.iramUsedKB());
        out.raw(IRAM_TOTAL).number(s.iramTotalKB());
        out.raw(IRAM_LFB).number(s.iramLfbKB());
        out.raw(CPUS);
        if (s.cpus() == null) {
            out.nul();
        } else {
            out.raw('[');
            boolean first = true;
            for (Cpu c : s.cpus()) {
                if (!first) {
                    out.raw(',');
                }
                first = false;
                unit(out, c.online(), c.loadPercent(), c.freqMHz());
            }
            out.raw(']');
        }
        out.raw(GPU_LOAD).number(s.gpuLoadPercent());
        out.raw(GPU_FREQ);
        if (s.gpuFreqMHz() == null) {
            out.nul();
        } else {
            out.raw('[');
            boolean first = true;
            for (Integer v : s.gpuFreqMHz()) {
                if (!first) {
                    out.raw(',');
                }
                first = false;
                out.number(v);
            }
            out.raw(']');
        }
        out.raw(EMC_LOAD).number(s.emcLoadPercent());
        out.raw(EMC_FREQ).number(s.emcFreqMHz());
        out.raw(MTS_FG).number(s.mtsFgPercent());
        out.raw(MTS_BG).number(s.mtsBgPercent());
        out.raw(TEMPS);
        temperatures(out, s.temperaturesC());
        out.raw(TEMPS_MAX);
        temperatures(out, s.temperaturesMaxC());
        out.raw(POWER);
        if (s.powerMilliwatts() == null) {
            out.nul();
        } else {
            out.raw('{');
            boolean first = true;
            for (Map.Entry<String, Power> e : s.powerMilliwatts().entrySet()) {
                if (!first) {
                    out.raw(',');
                }
                first = false;
                Power p = e.getValue();
                out.string(e.getKey()).raw(':').raw(CURRENT).number(p.current()).raw(AVERAGE).number(p.average());
                if (p.max() != null) {
                    out.raw(MAX).number(p.max());
                }
                out.raw('}');
            }
            out.raw('}');
        }
        out.raw(ENGINES);
        if (s.engines() == null) {
            out.nul();
        } else {
            out.raw('{');
            boolean first = true;
            for (Map.Entry<String, Engine> e : s.engines().entrySet()) {
                if (!first) {
                    out.raw(',');
                }
                first = false;
                Engine u = e.getValue();
                out.string(e.getKey()).raw(':');
                unit(out, u.online(), u.loadPercent(), u.freqMHz());
            }
            out.raw('}');
        }
        out.raw(UNPARSED);
        if (s.unparsed() == null) {
            out.nul();
        } else {
            out.raw('[');
            boolean first = true;
            for (String u : s.unparsed()) {
                if (!first) {
                    out.raw(',');
                }
                first = false;
                out.string(u);
            }
            out.raw(']');
        }
    }

    private static void nvidiaSmi(JsonBytes out, GpuSample s) {
        out.raw(INDEX).number(s.index());
        out.raw(NAME).string(s.name());
        out.raw(UUID).string(s.uuid());
        out.raw(GPU_LOAD).number(s.gpuLoadPercent());
        out.raw(MEM_LOAD).number(s.memoryLoadPercent());
        out.raw(MEM_USED).number(s.memoryUsedMiB());
        out.raw(MEM_TOTAL).number(s.memoryTotalMiB());
        out.raw(TEMP).number(s.temperatureC());
        out.raw(POWER_DRAW).number(s.powerDrawW());
        out.raw(POWER_LIMIT).number(s.powerLimitW());
        out.raw(SM_CLOCK).number(s.smClockMHz());
        out.raw(MEM_CLOCK).number(s.memClockMHz());
        out.raw(EXTRA);
        if (s.extra() == null) {
            out.nul();
        } else {
            out.raw('{');
            boolean first = true;
            for (Map.Entry<String, String> e : s.extra().entrySet()) {
                if (!first) {
                    out.raw(',');
                }
                first = false;
                out.string(e.getKey()).raw(':').string(e.getValue());
            }
            out.raw('}');
        }
    }

    /** A cpu or engine: {@code {"online":b,"loadPercent":n,"freqMHz":n}}. */
    private static void unit(JsonBytes out, boolean online, Integer load, Integer freq) {
        out.raw(ONLINE).bool(online).raw(LOAD).number(load).raw(FREQ).number(freq).raw('}');
    }

    private static void temperatures(JsonBytes out, Map<String, Double> values) {
        if (values == null) {
            out.nul();
            return;
        }
        out.raw('{');
        boolean first = true;
        for (Map.Entry<String, Double> e : values.entrySet()) {
            if (!first) {
                out.raw(',');
            }
            first = false;
            out.string(e.getKey()).raw(':').number(e.getValue());
        }
        out.raw('}');
    }

    /**
     * The sample that {@link #toJson} wrote, read back (keys not of the contract, like a recording's {@code node},
     * are ignored; missing keys are null).
     *
     * @throws TelemetryParseException when the text is not a JSON object with a known {@code source}
     */
    public static GpuSample fromJson(String json) {
        JsonNode node;
        try {
            node = Reader.MAPPER.readTree(json);
        } catch (JacksonException e) {
            throw new TelemetryParseException("not JSON: " + e.getOriginalMessage(), e);
        }
        return fromNode(node);
    }

    /** Like {@link #fromJson(String)} for a parsed tree. */
    public static GpuSample fromNode(JsonNode o) {
        if (o == null || !o.isObject()) {
            throw new TelemetryParseException("not a JSON object");
        }
        String src = text(o, "source");
        Source source;
        if (Source.TEGRASTATS.id().equals(src)) {
            source = Source.TEGRASTATS;
        } else if (Source.NVIDIA_SMI.id().equals(src)) {
            source = Source.NVIDIA_SMI;
        } else {
            throw new TelemetryParseException("no known \"source\" in the object (" + src + ")");
        }
        GpuSample.Builder b = GpuSample.ownedBuilder(source).time(parseTime(text(o, "time")));
        if (source == Source.NVIDIA_SMI) {
            b.index(integer(o, "index")).name(text(o, "name")).uuid(text(o, "uuid"))
                    .gpuLoadPercent(integer(o, "gpuLoadPercent")).memoryLoadPercent(integer(o, "memoryLoadPercent"))
                    .memoryUsedMiB(integer(o, "memoryUsedMiB")).memoryTotalMiB(integer(o, "memoryTotalMiB"))
                    .temperatureC(number(o, "temperatureC")).powerDrawW(number(o, "powerDrawW"))
                    .powerLimitW(number(o, "powerLimitW")).smClockMHz(integer(o, "smClockMHz"))
                    .memClockMHz(integer(o, "memClockMHz"));
            JsonNode extra = o.get("extra");
            if (extra != null && extra.isObject()) {
                Map<String, String> m = new LinkedHashMap<>();
                extra.forEachEntry((k, v) -> m.put(k, v.isNull() ? null : v.asString()));
                b.extra(m);
            }
            return b.build();
        }
        b.ramUsedMB(integer(o, "ramUsedMB")).ramTotalMB(integer(o, "ramTotalMB"))
                .ramLfbBlocks(integer(o, "ramLfbBlocks")).ramLfbBlockKB(integer(o, "ramLfbBlockKB"))
                .swapUsedMB(integer(o, "swapUsedMB")).swapTotalMB(integer(o, "swapTotalMB"))
                .swapCachedMB(integer(o, "swapCachedMB")).iramUsedKB(integer(o, "iramUsedKB"))
                .iramTotalKB(integer(o, "iramTotalKB")).iramLfbKB(integer(o, "iramLfbKB"))
                .gpuLoadPercent(integer(o, "gpuLoadPercent")).emcLoadPercent(integer(o, "emcLoadPercent"))
                .emcFreqMHz(integer(o, "emcFreqMHz")).mtsFgPercent(integer(o, "mtsFgPercent"))
                .mtsBgPercent(integer(o, "mtsBgPercent"));
        JsonNode cpus = o.get("cpus");
        if (cpus != null && cpus.isArray()) {
            List<Cpu> list = new ArrayList<>();
            for (JsonNode c : cpus) {
                list.add(new Cpu(c.path("online").asBoolean(false), integer(c, "loadPercent"), integer(c, "freqMHz")));
            }
            b.cpus(list);
        }
        JsonNode gpuFreq = o.get("gpuFreqMHz");
        if (gpuFreq != null && gpuFreq.isArray()) {
            List<Integer> list = new ArrayList<>();
            for (JsonNode f : gpuFreq) {
                list.add(f.isNumber() ? f.intValue() : null);
            }
            b.gpuFreqMHz(list);
        }
        b.temperaturesC(numbers(o.get("temperaturesC"))).temperaturesMaxC(numbers(o.get("temperaturesMaxC")));
        JsonNode rails = o.get("powerMilliwatts");
        if (rails != null && rails.isObject()) {
            Map<String, Power> m = new LinkedHashMap<>();
            rails.forEachEntry((k, v) -> m.put(k, new Power(integer(v, "current"), integer(v, "average"),
                    integer(v, "max"))));
            b.powerMilliwatts(m);
        }
        JsonNode engines = o.get("engines");
        if (engines != null && engines.isObject()) {
            Map<String, Engine> m = new LinkedHashMap<>();
            engines.forEachEntry((k, v) -> m.put(k, new Engine(v.path("online").asBoolean(false),
                    integer(v, "loadPercent"), integer(v, "freqMHz"))));
            b.engines(m);
        }
        JsonNode unparsed = o.get("unparsed");
        if (unparsed != null && unparsed.isArray()) {
            List<String> list = new ArrayList<>();
            unparsed.forEach(u -> list.add(u.asString()));
            b.unparsed(list);
        }
        return b.build();
    }

    private static String text(JsonNode o, String key) {
        JsonNode v = o.get(key);
        return v == null || v.isNull() ? null : v.asString();
    }

    private static Integer integer(JsonNode o, String key) {
        JsonNode v = o.get(key);
        return v == null || !v.isNumber() ? null : v.intValue();
    }

    private static Double number(JsonNode o, String key) {
        JsonNode v = o.get(key);
        return v == null || !v.isNumber() ? null : v.doubleValue();
    }

    private static Map<String, Double> numbers(JsonNode o) {
        if (o == null || !o.isObject()) {
            return null;
        }
        Map<String, Double> m = new LinkedHashMap<>();
        o.forEachEntry((k, v) -> m.put(k, v.isNumber() ? v.doubleValue() : null));
        return m;
    }

    /** An ISO-8601 local date-time as {@link #toJson} writes it; null for null or an unreadable value. */
    public static LocalDateTime parseTime(String t) {
        if (t == null) {
            return null;
        }
        try {
            return LocalDateTime.parse(t, TIME);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
