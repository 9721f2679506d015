package io.k3gpu.core.verify;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/**
 * The last {@code k3gpu verify} of a node, kept on its Node as one annotation so that the dashboard (or
 * {@code kubectl get node -o yaml}) can show it after the pod is gone. The reason came from the node's pod log: it is
 * made one bounded printable line when written, and again when read, since anyone who may annotate Nodes can write
 * this annotation.
 *
 * @param at     when verify decided, UTC, to the second; null when the annotation's time is unreadable
 * @param reason why it passed or failed (one line)
 * @param image  the image the pod ran, or null
 * @param pod    the pod's name, or null (no pod was made)
 */
public record VerifyRecord(boolean pass, Instant at, String reason, String image, String pod) {
    public static final String ANNOTATION = "k3gpu.dev/verify";
    static final int MAX_REASON = 300;
    static final int MAX_NAME = 256;
    /** Longer values are not k3gpu's: read none of them. */
    static final int MAX_ANNOTATION = 4096;
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    public VerifyRecord {
        at = at == null ? null : at.truncatedTo(ChronoUnit.SECONDS);
        reason = line(reason, MAX_REASON);
        image = line(image, MAX_NAME);
        pod = line(pod, MAX_NAME);
    }

    public static VerifyRecord of(VerifyGpu.Result r, Instant at) {
        return new VerifyRecord(r.pass(), at, r.reason(), r.image(), r.pod());
    }

    /** The annotation's value: compact JSON, fields in this order. Pure. */
    public String toAnnotation() {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("result", pass ? "PASS" : "FAIL");
        o.put("at", at == null ? null : at.toString());
        o.put("reason", reason);
        o.put("image", image);
        o.put("pod", pod);
        return MAPPER.writeValueAsString(o);
    }

    /** The record an annotation holds; empty when it is missing, too long, not JSON or has no PASS/FAIL result. */
    public static Optional<VerifyRecord> parse(String annotation) {
        if (annotation == null || annotation.length() > MAX_ANNOTATION) {
            return Optional.empty();
        }
        JsonNode o;
        try {
            o = MAPPER.readTree(annotation);
        } catch (JacksonException e) {
            return Optional.empty();
        }
        if (o == null || !o.isObject()) {
            return Optional.empty();
        }
        String result = text(o, "result");
        if (!"PASS".equals(result) && !"FAIL".equals(result)) {
            return Optional.empty();
        }
        Instant at = null;
        String when = text(o, "at");
        if (when != null) {
            try {
                at = Instant.parse(when);
            } catch (DateTimeParseException e) {
                // an unreadable time is shown as unknown, the result still counts
            }
        }
        return Optional.of(new VerifyRecord("PASS".equals(result), at, text(o, "reason"), text(o, "image"),
                text(o, "pod")));
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v != null && v.isString() ? v.stringValue() : null;
    }

    /** One printable line of at most {@code max} characters (control characters become spaces); null stays null. */
    static String line(String s, int max) {
        if (s == null) {
            return null;
        }
        String t = s.replaceAll("[\\p{Cntrl}\\p{Zl}\\p{Zp}\\x{2028}\\x{2029}\\x{200E}\\x{200F}\\x{202A}-\\x{202E}"
                + "\\x{2066}-\\x{2069}]+", " ").replaceAll(" {2,}", " ").strip();
        if (t.length() <= max) {
            return t;
        }
        int end = max - 1;
        if (Character.isHighSurrogate(t.charAt(end - 1))) {
            end--;
        }
        return t.substring(0, end) + "…";
    }
}
