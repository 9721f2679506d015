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
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
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
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_LOCAL_DATE_TIME;

    private GpuSampleJson() {
    }

    /** The sample as one line of JSON (no line break). */
    public static String toJson(GpuSample sample) {
        return MAPPER.writeValueAsString(toNode(sample));
    }

    /** The error object {@code {"error":"...","line":N}} for input line N (1-based) as one line of JSON. */
    public static String error(String message, long line) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("error", message == null ? "unknown error" : message);
        node.put("line", line);
        return MAPPER.writeValueAsString(node);
    }

    /** The sample as a JSON tree, keys in contract order. */
    public static ObjectNode toNode(GpuSample s) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("source", s.source().id());
        o.put("time", time(s.time()));
        if (s.source() == Source.NVIDIA_SMI) {
            nvidiaSmi(o, s);
        } else {
            tegrastats(o, s);
        }
        return o;
    }

    private static void tegrastats(ObjectNode o, GpuSample s) {
        o.put("ramUsedMB", s.ramUsedMB());
        o.put("ramTotalMB", s.ramTotalMB());
        o.put("ramLfbBlocks", s.ramLfbBlocks());
        o.put("ramLfbBlockKB", s.ramLfbBlockKB());
        o.put("swapUsedMB", s.swapUsedMB());
        o.put("swapTotalMB", s.swapTotalMB());
        o.put("swapCachedMB", s.swapCachedMB());
        o.put("iramUsedKB", s.iramUsedKB());
        o.put("iramTotalKB", s.iramTotalKB());
        o.put("iramLfbKB", s.iramLfbKB());
        if (s.cpus() == null) {
            o.putNull("cpus");
        } else {
            ArrayNode cpus = o.putArray("cpus");
            for (Cpu c : s.cpus()) {
                unit(cpus.addObject(), c.online(), c.loadPercent(), c.freqMHz());
            }
        }
        o.put("gpuLoadPercent", s.gpuLoadPercent());
        integers(o, "gpuFreqMHz", s.gpuFreqMHz());
        o.put("emcLoadPercent", s.emcLoadPercent());
        o.put("emcFreqMHz", s.emcFreqMHz());
        o.put("mtsFgPercent", s.mtsFgPercent());
        o.put("mtsBgPercent", s.mtsBgPercent());
        temperatures(o, "temperaturesC", s.temperaturesC());
        temperatures(o, "temperaturesMaxC", s.temperaturesMaxC());
        if (s.powerMilliwatts() == null) {
            o.putNull("powerMilliwatts");
        } else {
            ObjectNode rails = o.putObject("powerMilliwatts");
            for (Map.Entry<String, Power> e : s.powerMilliwatts().entrySet()) {
                ObjectNode r = rails.putObject(e.getKey());
                r.put("current", e.getValue().current());
                r.put("average", e.getValue().average());
                if (e.getValue().max() != null) {
                    r.put("max", e.getValue().max());
                }
            }
        }
        if (s.engines() == null) {
            o.putNull("engines");
        } else {
            ObjectNode engines = o.putObject("engines");
            for (Map.Entry<String, Engine> e : s.engines().entrySet()) {
                Engine g = e.getValue();
                unit(engines.putObject(e.getKey()), g.online(), g.loadPercent(), g.freqMHz());
            }
        }
        if (s.unparsed() == null) {
            o.putNull("unparsed");
        } else {
            ArrayNode a = o.putArray("unparsed");
            s.unparsed().forEach(a::add);
        }
    }

    private static void nvidiaSmi(ObjectNode o, GpuSample s) {
        o.put("index", s.index());
        o.put("name", s.name());
        o.put("uuid", s.uuid());
        o.put("gpuLoadPercent", s.gpuLoadPercent());
        o.put("memoryLoadPercent", s.memoryLoadPercent());
        o.put("memoryUsedMiB", s.memoryUsedMiB());
        o.put("memoryTotalMiB", s.memoryTotalMiB());
        o.put("temperatureC", s.temperatureC());
        o.put("powerDrawW", s.powerDrawW());
        o.put("powerLimitW", s.powerLimitW());
        o.put("smClockMHz", s.smClockMHz());
        o.put("memClockMHz", s.memClockMHz());
        if (s.extra() == null) {
            o.putNull("extra");
        } else {
            ObjectNode extra = o.putObject("extra");
            s.extra().forEach(extra::put);
        }
    }

    private static void unit(ObjectNode o, boolean online, Integer load, Integer freq) {
        o.put("online", online);
        o.put("loadPercent", load);
        o.put("freqMHz", freq);
    }

    private static void integers(ObjectNode o, String key, List<Integer> values) {
        if (values == null) {
            o.putNull(key);
        } else {
            ArrayNode a = o.putArray(key);
            values.forEach(a::add);
        }
    }

    private static void temperatures(ObjectNode o, String key, Map<String, Double> values) {
        if (values == null) {
            o.putNull(key);
        } else {
            ObjectNode t = o.putObject(key);
            values.forEach(t::put);
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
