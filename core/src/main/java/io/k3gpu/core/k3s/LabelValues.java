package io.k3gpu.core.k3s;

/** Kubernetes label values: at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric. Pure. */
public final class LabelValues {
    private LabelValues() {
    }

    /** "NVIDIA Jetson Nano Developer Kit" → "NVIDIA-Jetson-Nano-Developer-Kit" (as GFD turns spaces into dashes). */
    public static String sanitize(String value) {
        String s = value.strip().replaceAll("[^A-Za-z0-9._-]+", "-");
        if (s.length() > 63) {
            s = s.substring(0, 63);
        }
        s = s.replaceAll("^[^A-Za-z0-9]+", "").replaceAll("[^A-Za-z0-9]+$", "");
        return s;
    }
}
