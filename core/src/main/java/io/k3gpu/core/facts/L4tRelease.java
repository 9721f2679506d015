package io.k3gpu.core.facts;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An NVIDIA Jetson Linux (L4T) release, such as 32.7.1: from {@code /etc/nv_tegra_release}, where R32 with REVISION
 * 7.1 is 32.7.1, or from the version of the {@code nvidia-l4t-core} package when that file is missing (inside
 * containers, on some vendor images).
 *
 * @param board the BOARD field of nv_tegra_release ({@code t210ref}, {@code t186ref}, {@code generic}), null when
 *        absent or read from the package version
 * @param raw the line or version text it was read from
 */
public record L4tRelease(int major, int minor, int patch, String board, String raw) {
    private static final Pattern NV_TEGRA_RELEASE = Pattern.compile(
            "^#\\s*R(\\d+)\\s*\\(release\\)\\s*,\\s*REVISION:\\s*(\\d+)(?:\\.(\\d+))?\\b.*");
    private static final Pattern BOARD = Pattern.compile("\\bBOARD:\\s*([^,\\s]+)");
    /** {@code 32.7.1-20220219090432}; an epoch and other suffixes are tolerated. */
    private static final Pattern DPKG_VERSION = Pattern.compile("^(?:\\d+:)?(\\d+)\\.(\\d+)(?:\\.(\\d+))?(?:[-+~].*)?$");

    /**
     * JetPack releases by the L4T release they ship, from NVIDIA's JetPack archive. Only pairings NVIDIA published
     * are listed: developer previews and L4T-only security updates are left out, so they map to no JetPack.
     */
    private static final Map<String, String> JETPACK = Map.ofEntries(
            Map.entry("32.1.0", "4.2"),
            Map.entry("32.2.0", "4.2.1"),
            Map.entry("32.3.1", "4.3"),
            Map.entry("32.4.3", "4.4"),
            Map.entry("32.4.4", "4.4.1"),
            Map.entry("32.5.0", "4.5"),
            Map.entry("32.5.1", "4.5.1"),
            Map.entry("32.6.1", "4.6"),
            Map.entry("32.7.1", "4.6.1"),
            Map.entry("32.7.2", "4.6.2"),
            Map.entry("32.7.3", "4.6.3"),
            Map.entry("32.7.4", "4.6.4"),
            Map.entry("32.7.5", "4.6.5"),
            Map.entry("32.7.6", "4.6.6"),
            Map.entry("35.1.0", "5.0.2"),
            Map.entry("35.2.1", "5.1"),
            Map.entry("35.3.1", "5.1.1"),
            Map.entry("35.4.1", "5.1.2"),
            Map.entry("35.5.0", "5.1.3"),
            Map.entry("35.6.0", "5.1.4"),
            Map.entry("35.6.1", "5.1.5"),
            Map.entry("36.3.0", "6.0"),
            Map.entry("36.4.0", "6.1"),
            Map.entry("36.4.3", "6.2"),
            Map.entry("36.4.4", "6.2.1"),
            Map.entry("38.2.0", "7.0"),
            Map.entry("38.4.0", "7.1"),
            Map.entry("39.2.0", "7.2"));

    /**
     * The release named by the first {@code # R<major> (release), REVISION: <minor>.<patch>} line of the content of
     * {@code /etc/nv_tegra_release}; CRLF line ends, extra lines and a missing BOARD field are fine.
     */
    public static Optional<L4tRelease> parseNvTegraRelease(String fileContent) {
        if (fileContent == null) {
            return Optional.empty();
        }
        for (String line : fileContent.split("\r?\n|\r")) {
            String text = line.strip();
            Matcher m = NV_TEGRA_RELEASE.matcher(text);
            if (m.matches()) {
                Matcher board = BOARD.matcher(text);
                return Optional.of(new L4tRelease(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                        m.group(3) == null ? 0 : Integer.parseInt(m.group(3)), board.find() ? board.group(1) : null,
                        text));
            }
        }
        return Optional.empty();
    }

    /** The release of an {@code nvidia-l4t-core} package version such as {@code 32.7.1-20220219090432}. */
    public static Optional<L4tRelease> parseDpkgVersion(String version) {
        if (version == null) {
            return Optional.empty();
        }
        String text = version.strip();
        Matcher m = DPKG_VERSION.matcher(text);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new L4tRelease(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(3) == null ? 0 : Integer.parseInt(m.group(3)), null, text));
    }

    /** {@code major.minor.patch}, e.g. {@code 32.7.1}. */
    public String version() {
        return major + "." + minor + "." + patch;
    }

    /** The JetPack release that ships this L4T release, when it is one NVIDIA published. */
    public Optional<String> jetpack() {
        return Optional.ofNullable(JETPACK.get(version()));
    }
}
