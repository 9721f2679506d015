package io.k3gpu.core.telemetry;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Guesses which tool printed a line, for {@code k3gpu stats parse --source auto}. Cheap and conservative: it looks
 * at the shape of the line, not at every value; the chosen parser then decides whether the line really is valid.
 */
public final class SourceDetector {

    /** The answer of {@link #detect(String)}. */
    public enum Detected {
        TEGRASTATS(Source.TEGRASTATS),
        NVIDIA_SMI(Source.NVIDIA_SMI),
        UNKNOWN(null);

        private final Source source;

        Detected(Source source) {
            this.source = source;
        }

        /** The source, empty for {@link #UNKNOWN}. */
        public Optional<Source> source() {
            return Optional.ofNullable(source);
        }
    }

    private static final Pattern TEGRA_TIMESTAMP = Pattern.compile("^\\d\\d-\\d\\d-\\d{4} \\d\\d:\\d\\d:\\d\\d\\s");
    private static final Pattern TEGRA_FIELD = Pattern.compile(
            "(^|\\s)(RAM \\d+/\\d+MB|SWAP \\d+/\\d+MB|CPU \\[|cpu \\[|EMC_FREQ |GR3D_FREQ |GR3D |IRAM \\d+/\\d+kB)");
    private static final Pattern SMI_TIMESTAMP = Pattern.compile("^\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d");
    private static final Pattern INTEGER = Pattern.compile("^\\d+$");

    private SourceDetector() {
    }

    /** TEGRASTATS, NVIDIA_SMI (a --query-gpu CSV header or row) or UNKNOWN (blank, comment, anything else). */
    public static Detected detect(String line) {
        if (line == null) {
            return Detected.UNKNOWN;
        }
        String s = line.strip();
        if (s.isEmpty() || s.startsWith("#")) {
            return Detected.UNKNOWN;
        }
        if (TEGRA_TIMESTAMP.matcher(s).find() || TEGRA_FIELD.matcher(s).find()) {
            return Detected.TEGRASTATS;
        }
        if (s.indexOf(',') > 0) {
            String[] cells = s.split(",", -1);
            for (int i = 0; i < cells.length; i++) {
                cells[i] = cells[i].strip();
            }
            if (NvidiaSmiCsvParser.isHeader(cells)) {
                return Detected.NVIDIA_SMI;
            }
            if (SMI_TIMESTAMP.matcher(cells[0]).find() || INTEGER.matcher(cells[0]).matches()) {
                return Detected.NVIDIA_SMI;
            }
            for (String c : cells) {
                if (c.startsWith("GPU-") || c.startsWith("MIG-") || c.startsWith("NVIDIA ")) {
                    return Detected.NVIDIA_SMI;
                }
            }
        }
        return Detected.UNKNOWN;
    }
}
