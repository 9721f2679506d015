package io.k3gpu.core.k3s;

import java.util.Comparator;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A K3s release, {@code v1.31.4+k3s1}: the Kubernetes version it packages and K3s's build of it. Ordered as K3s's
 * releases are (Kubernetes major, minor, patch, then the k3s build number). Pure.
 */
public record K3sVersion(int major, int minor, int patch, int build, String text) implements Comparable<K3sVersion> {
    private static final Pattern FORM = Pattern.compile("v(\\d+)\\.(\\d+)\\.(\\d+)(?:[-+][0-9A-Za-z.+-]*?k3s(\\d+))?.*");
    private static final Comparator<K3sVersion> ORDER = Comparator.comparingInt(K3sVersion::major)
            .thenComparingInt(K3sVersion::minor).thenComparingInt(K3sVersion::patch).thenComparingInt(K3sVersion::build);

    /** The release, or empty when {@code text} is not one (e.g. null, "latest"). */
    public static Optional<K3sVersion> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher m = FORM.matcher(text.strip());
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new K3sVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)), m.group(4) == null ? 0 : Integer.parseInt(m.group(4)), text.strip()));
    }

    /** {@code v1.31}: the minor release line (K3s's channel of the same name). */
    public String line() {
        return "v" + major + "." + minor;
    }

    @Override
    public int compareTo(K3sVersion o) {
        return ORDER.compare(this, o);
    }

    @Override
    public String toString() {
        return text;
    }
}
