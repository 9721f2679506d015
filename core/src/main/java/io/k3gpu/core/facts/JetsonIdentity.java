package io.k3gpu.core.facts;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the device tree says about a board. The model text is the board maker's ({@code NVIDIA Jetson Nano Developer
 * Kit}, or anything on a vendor carrier board); the SoC family comes from the {@code compatible} list
 * ({@code nvidia,tegra234}), which every Jetson carries whatever its carrier.
 *
 * @param model the device-tree model without NULs and surrounding space, null when absent
 * @param socFamily {@code tegra210} (Nano, TX1), {@code tegra186} (TX2), {@code tegra194} (Xavier),
 *        {@code tegra234} (Orin), {@code tegra264} (Thor), ...; null when the board is not a Tegra
 */
public record JetsonIdentity(String model, String socFamily) {
    private static final Pattern COMPATIBLE_SOC = Pattern.compile("nvidia,(tegra\\d+)");
    private static final Pattern SOC0_FAMILY = Pattern.compile("tegra\\d+");

    /**
     * Reads the identity from raw file contents, each may be null.
     *
     * @param model {@code /proc/device-tree/model}: NUL-terminated text (or with the NUL turned into a newline)
     * @param compatible {@code /proc/device-tree/compatible}: entries separated by NULs, newlines or spaces
     * @param soc0Family {@code /sys/devices/soc0/family}, used when compatible names no Tegra, e.g. {@code Tegra234}
     */
    public static JetsonIdentity parse(String model, String compatible, String soc0Family) {
        return new JetsonIdentity(cleanModel(model), socFamily(compatible, soc0Family));
    }

    /** True when the SoC is an NVIDIA Tegra, as on every Jetson. */
    public boolean isTegra() {
        return socFamily != null;
    }

    private static String cleanModel(String raw) {
        if (raw == null) {
            return null;
        }
        String text = raw.replace('\0', '\n').strip();
        int newline = text.indexOf('\n');
        String first = (newline < 0 ? text : text.substring(0, newline)).strip();
        return first.isEmpty() ? null : first;
    }

    private static String socFamily(String compatible, String soc0Family) {
        if (compatible != null) {
            for (String entry : compatible.split("[\\s\\x00]+")) {
                Matcher m = COMPATIBLE_SOC.matcher(entry.strip());
                if (m.matches()) {
                    return m.group(1);
                }
            }
        }
        if (soc0Family != null) {
            String family = soc0Family.replace("\0", "").strip().toLowerCase(Locale.ROOT);
            if (SOC0_FAMILY.matcher(family).matches()) {
                return family;
            }
        }
        return null;
    }
}
