package io.k3gpu.core.workloads;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import tools.jackson.core.JacksonException;
import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Reading the workloads' JSON lines: absent and {@code null} members both read as Java {@code null}. */
final class WorkloadJson {
    /** Python's json module writes NaN and Infinity for non-finite floats: read them (as null). */
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private WorkloadJson() {
    }

    /** The line as a JSON object, or an {@link IllegalArgumentException} saying why not. */
    static JsonNode object(String line) {
        if (line == null || line.isBlank()) {
            throw new IllegalArgumentException("empty line, expected a JSON object");
        }
        String text = line.strip();
        if (!text.startsWith("{")) {
            throw new IllegalArgumentException("not a JSON object: " + abbreviate(text));
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("malformed JSON: " + abbreviate(text), e);
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not a JSON object: " + abbreviate(text));
        }
        return node;
    }

    /** Each line of {@code logs} that parses with {@code parser}; other lines (framework logs, stderr) are skipped. */
    static <T> List<T> all(String logs, Function<String, Optional<T>> parser) {
        List<T> out = new ArrayList<>();
        if (logs == null) {
            return out;
        }
        logs.lines().forEach(l -> parser.apply(l).ifPresent(out::add));
        return out;
    }

    static String event(JsonNode node) {
        return string(node, "event");
    }

    static String string(JsonNode node, String name) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isValueNode()) {
            throw new IllegalArgumentException("'" + name + "' is not a plain value");
        }
        return v.isString() ? v.stringValue() : v.asString();
    }

    static Double number(JsonNode node, String name) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException("'" + name + "' is not a number: " + v);
        }
        double d = v.doubleValue();
        return Double.isFinite(d) ? d : null;
    }

    static Long integer(JsonNode node, String name) {
        Double d = number(node, name);
        return d == null ? null : Math.round(d);
    }

    static Integer smallInteger(JsonNode node, String name) {
        Long l = integer(node, name);
        return l == null ? null : Math.toIntExact(l);
    }

    static boolean bool(JsonNode node, String name) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw new IllegalArgumentException("'" + name + "' is not a boolean: " + v);
        }
        return v.booleanValue();
    }

    static List<String> strings(JsonNode node, String name) {
        List<String> out = new ArrayList<>();
        JsonNode v = node.get(name);
        if (v != null && v.isArray()) {
            for (JsonNode item : v) {
                if (!item.isNull()) {
                    out.add(item.isString() ? item.stringValue() : item.toString());
                }
            }
        }
        return List.copyOf(out);
    }

    static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }
}
