package io.k3gpu.lab.k3s;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

import tools.jackson.databind.JsonNode;

/**
 * Label selectors (equality and set-based: {@code a=b}, {@code a!=b}, {@code a in (x,y)}, {@code a notin (x)},
 * {@code a}, {@code !a}) and field selectors ({@code spec.nodeName=n}, {@code status.phase!=Failed}, any dotted
 * path; a missing field reads as empty) evaluated on objects, for lists and watches alike.
 */
final class Selectors {
    private Selectors() {
    }

    /** Matches everything when the selector is null or blank. */
    static Predicate<JsonNode> labels(String selector) {
        if (selector == null || selector.isBlank()) {
            return o -> true;
        }
        List<Predicate<JsonNode>> all = new ArrayList<>();
        for (String req : splitTopLevel(selector)) {
            all.add(labelRequirement(req.strip()));
        }
        return o -> all.stream().allMatch(p -> p.test(o));
    }

    static Predicate<JsonNode> fields(String selector) {
        if (selector == null || selector.isBlank()) {
            return o -> true;
        }
        List<Predicate<JsonNode>> all = new ArrayList<>();
        for (String req : selector.split(",")) {
            String r = req.strip();
            if (r.isEmpty()) {
                continue;
            }
            boolean negate = r.contains("!=");
            String[] kv = negate ? r.split("!=", 2) : r.split("==?", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("invalid field selector: '" + r + "'");
            }
            String key = kv[0].strip();
            String value = kv[1].strip();
            all.add(o -> {
                String actual = Json.text(o, key);
                boolean eq = value.equals(actual == null ? "" : actual);
                return negate != eq;
            });
        }
        return o -> all.stream().allMatch(p -> p.test(o));
    }

    private static Predicate<JsonNode> labelRequirement(String req) {
        if (req.startsWith("!")) {
            String key = req.substring(1).strip();
            return o -> label(o, key) == null;
        }
        java.util.regex.Matcher set = java.util.regex.Pattern.compile("^(\\S+)\\s+(in|notin)\\s*\\((.*)\\)$")
                .matcher(req);
        if (set.matches()) {
            String key = set.group(1);
            boolean in = set.group(2).equals("in");
            Set<String> values = new java.util.HashSet<>();
            for (String v : set.group(3).split(",")) {
                values.add(v.strip());
            }
            return o -> {
                String actual = label(o, key);
                return in ? actual != null && values.contains(actual) : actual == null || !values.contains(actual);
            };
        }
        if (req.contains("!=")) {
            String[] kv = req.split("!=", 2);
            String key = kv[0].strip();
            String value = kv[1].strip();
            return o -> !value.equals(label(o, key));
        }
        if (req.contains("=")) {
            String[] kv = req.split("==?", 2);
            String key = kv[0].strip();
            String value = kv[1].strip();
            return o -> value.equals(label(o, key));
        }
        if (req.isEmpty() || !req.matches("[A-Za-z0-9._/-]+")) {
            throw new IllegalArgumentException("unable to parse requirement: '" + req + "'");
        }
        return o -> label(o, req) != null;
    }

    private static String label(JsonNode o, String key) {
        JsonNode labels = o.path("metadata").path("labels");
        JsonNode v = labels.get(key);
        return v == null || v.isNull() ? null : v.asString();
    }

    private static List<String> splitTopLevel(String s) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                out.add(s.substring(start, i));
                start = i + 1;
            }
        }
        out.add(s.substring(start));
        return out.stream().filter(x -> !x.isBlank()).toList();
    }
}
