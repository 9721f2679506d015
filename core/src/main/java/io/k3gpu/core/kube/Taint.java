package io.k3gpu.core.kube;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Node taint as kubectl writes it: {@code key=value:Effect} or {@code key:Effect}. A node holds at most one taint
 * per key and effect, so {@link #id()} identifies it.
 *
 * @param value null when the taint has none
 */
public record Taint(String key, String value, String effect) {
    public static final List<String> EFFECTS = List.of("NoSchedule", "PreferNoSchedule", "NoExecute");
    private static final Pattern TEXT = Pattern.compile("([^=:\\s]+)(?:=([^:\\s]*))?:([A-Za-z]+)");

    /** {@code key=value:Effect} or {@code key:Effect}; empty when the text is not a taint or the effect unknown. */
    public static Optional<Taint> parse(String text) {
        Matcher m = TEXT.matcher(text == null ? "" : text.strip());
        if (!m.matches() || !EFFECTS.contains(m.group(3))) {
            return Optional.empty();
        }
        String v = m.group(2);
        return Optional.of(new Taint(m.group(1), v == null || v.isEmpty() ? null : v, m.group(3)));
    }

    /** {@code key:Effect}: what tells two taints apart on one node. */
    public String id() {
        return key + ":" + effect;
    }

    @Override
    public String toString() {
        return key + (value == null ? "" : "=" + value) + ":" + effect;
    }
}
