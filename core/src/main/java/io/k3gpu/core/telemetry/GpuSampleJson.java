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
import java.io.StringWriter;
import java.io.Writer;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

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

    private static final JsonMapper MAPPER = JsonMapper.builder().build();
    // no separator between root values: LineWriter ends each with its own line break
    private static final JsonFactory FACTORY = JsonFactory.builder().rootValueSeparator((String) null).build();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_LOCAL_DATE_TIME;

    private GpuSampleJson() {
    }

    /** The sample as one line of JSON (no line break). */
    public static String toJson(GpuSample sample) {
        StringWriter text = new StringWriter(512);
        try (JsonGenerator g = FACTORY.createGenerator(text)) {
            object(g, sample);
        }
        return text.toString();
    }

    /** The error object {@code {"error":"...","line":N}} for input line N (1-based) as one line of JSON. */
    public static String error(String message, long line) {
        StringWriter text = new StringWriter(128);
        try (JsonGenerator g = FACTORY.createGenerator(text)) {
            error(g, message, line);
        }
        return text.toString();
    }

    /**
     * Writes samples as JSON lines onto one writer through one generator, without building a tree per sample:
     * {@code stats parse}'s output path (a tree per line cost more than parsing it). Not thread-safe.
     */
    public static final class LineWriter implements Flushable {
        private final JsonGenerator g;

        public LineWriter(Writer out) {
            this.g = FACTORY.createGenerator(out);
        }

        public void sample(GpuSample s) {
            object(g, s);
            g.writeRaw('\n');
        }

        public void error(String message, long line) {
            GpuSampleJson.error(g, message, line);
            g.writeRaw('\n');
        }

        @Override
        public void flush() {
            g.flush();
        }
    }

    /**
     * The sample's keys, in contract order, into an object the caller has started (a recording puts its own keys
     * first).
     */
    public static void fields(JsonGenerator g, GpuSample s) {
        g.writeStringProperty("source", s.source().id());
        g.writeStringProperty("time", time(s.time()));
        if (s.source() == Source.NVIDIA_SMI) {
            nvidiaSmi(g, s);
        } else {
            tegrastats(g, s);
        }
    }

    private static void object(JsonGenerator g, GpuSample s) {
        g.writeStartObject();
        fields(g, s);
        g.writeEndObject();
    }

    private static void error(JsonGenerator g, String message, long line) {
        g.writeStartObject();
        g.writeStringProperty("error", message == null ? "unknown error" : message);
        g.writeNumberProperty("line", line);
        g.writeEndObject();
    }

    private static void tegrastats(JsonGenerator g, GpuSample s) {
        number(g, "ramUsedMB", s.ramUsedMB());
        number(g, "ramTotalMB", s.ramTotalMB());
        number(g, "ramLfbBlocks", s.ramLfbBlocks());
        number(g, "ramLfbBlockKB", s.ramLfbBlockKB());
        number(g, "swapUsedMB", s.swapUsedMB());
        number(g, "swapTotalMB", s.swapTotalMB());
        number(g, "swapCachedMB", s.swapCachedMB());
        number(g, "iramUsedKB", s.iramUsedKB());
        number(g, "iramTotalKB", s.iramTotalKB());
        number(g, "iramLfbKB", s.iramLfbKB());
        g.writeName("cpus");
        if (s.cpus() == null) {
            g.writeNull();
        } else {
            g.writeStartArray();
            for (Cpu c : s.cpus()) {
                g.writeStartObject();
                unit(g, c.online(), c.loadPercent(), c.freqMHz());
                g.writeEndObject();
            }
            g.writeEndArray();
        }
        number(g, "gpuLoadPercent", s.gpuLoadPercent());
        g.writeName("gpuFreqMHz");
        if (s.gpuFreqMHz() == null) {
            g.writeNull();
        } else {
            g.writeStartArray();
            for (Integer v : s.gpuFreqMHz()) {
                number(g, v);
            }
            g.writeEndArray();
        }
        number(g, "emcLoadPercent", s.emcLoadPercent());
        number(g, "emcFreqMHz", s.emcFreqMHz());
        number(g, "mtsFgPercent", s.mtsFgPercent());
        number(g, "mtsBgPercent", s.mtsBgPercent());
        temperatures(g, "temperaturesC", s.temperaturesC());
        temperatures(g, "temperaturesMaxC", s.temperaturesMaxC());
        g.writeName("powerMilliwatts");
        if (s.powerMilliwatts() == null) {
            g.writeNull();
        } else {
            g.writeStartObject();
            for (Map.Entry<String, Power> e : s.powerMilliwatts().entrySet()) {
                g.writeName(e.getKey());
                g.writeStartObject();
                number(g, "current", e.getValue().current());
                number(g, "average", e.getValue().average());
                if (e.getValue().max() != null) {
                    number(g, "max", e.getValue().max());
                }
                g.writeEndObject();
            }
            g.writeEndObject();
        }
        g.writeName("engines");
        if (s.engines() == null) {
            g.writeNull();
        } else {
            g.writeStartObject();
            for (Map.Entry<String, Engine> e : s.engines().entrySet()) {
                Engine u = e.getValue();
                g.writeName(e.getKey());
                g.writeStartObject();
                unit(g, u.online(), u.loadPercent(), u.freqMHz());
                g.writeEndObject();
            }
            g.writeEndObject();
        }
        g.writeName("unparsed");
        if (s.unparsed() == null) {
            g.writeNull();
        } else {
            g.writeStartArray();
            for (String u : s.unparsed()) {
                g.writeString(u);
            }
            g.writeEndArray();
        }
    }

    private static void nvidiaSmi(JsonGenerator g, GpuSample s) {
        number(g, "index", s.index());
        g.writeStringProperty("name", s.name());
        g.writeStringProperty("uuid", s.uuid());
        number(g, "gpuLoadPercent", s.gpuLoadPercent());
        number(g, "memoryLoadPercent", s.memoryLoadPercent());
        number(g, "memoryUsedMiB", s.memoryUsedMiB());
        number(g, "memoryTotalMiB", s.memoryTotalMiB());
        number(g, "temperatureC", s.temperatureC());
        number(g, "powerDrawW", s.powerDrawW());
        number(g, "powerLimitW", s.powerLimitW());
        number(g, "smClockMHz", s.smClockMHz());
        number(g, "memClockMHz", s.memClockMHz());
        g.writeName("extra");
        if (s.extra() == null) {
            g.writeNull();
        } else {
            g.writeStartObject();
            for (Map.Entry<String, String> e : s.extra().entrySet()) {
                g.writeStringProperty(e.getKey(), e.getValue());
            }
            g.writeEndObject();
        }
    }

    private static void unit(JsonGenerator g, boolean online, Integer load, Integer freq) {
        g.writeBooleanProperty("online", online);
        number(g, "loadPercent", load);
        number(g, "freqMHz", freq);
    }

    private static void temperatures(JsonGenerator g, String key, Map<String, Double> values) {
        g.writeName(key);
        if (values == null) {
            g.writeNull();
        } else {
            g.writeStartObject();
            for (Map.Entry<String, Double> e : values.entrySet()) {
                g.writeName(e.getKey());
                number(g, e.getValue());
            }
            g.writeEndObject();
        }
    }

    private static void number(JsonGenerator g, String key, Number value) {
        g.writeName(key);
        number(g, value);
    }

    /** As ObjectNode.put did: an Integer or Double value, or null. */
    private static void number(JsonGenerator g, Number value) {
        if (value == null) {
            g.writeNull();
        } else if (value instanceof Integer i) {
            g.writeNumber(i.intValue());
        } else if (value instanceof Long l) {
            g.writeNumber(l.longValue());
        } else {
            g.writeNumber(value.doubleValue());
        }
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
            node = MAPPER.readTree(json);
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

    private static String time(LocalDateTime t) {
        return t == null ? null : TIME.format(t);
    }
}
