package io.k3gpu.core.plugin;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The NVIDIA Container Toolkit version rule of the device plugin on Jetson: the plugin supports Jetson (Tegra
 * discovery) since v0.13.0, which needs toolkit 1.11 or later on the node (its CSV mode mounts of the Tegra
 * devices). Pure.
 */
public final class ToolkitVersion {
    public static final int MIN_MAJOR = 1;
    public static final int MIN_MINOR = 11;
    public static final String MINIMUM = MIN_MAJOR + "." + MIN_MINOR;
    private static final Pattern LEADING = Pattern.compile("v?(\\d+)\\.(\\d+)(?:\\D.*)?");

    private ToolkitVersion() {
    }

    /**
     * Whether {@code version} (as the label carries it: {@code 1.7.0}, {@code 1.13.0-rc.1}) is 1.11 or later; empty
     * when it cannot be read.
     */
    public static Optional<Boolean> supportsJetson(String version) {
        if (version == null) {
            return Optional.empty();
        }
        Matcher m = LEADING.matcher(version.strip());
        if (!m.matches() || m.group(1).length() > 6 || m.group(2).length() > 6) {
            return Optional.empty();
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return Optional.of(major > MIN_MAJOR || (major == MIN_MAJOR && minor >= MIN_MINOR));
    }
}
