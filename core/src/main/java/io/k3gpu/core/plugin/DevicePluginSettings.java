package io.k3gpu.core.plugin;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.util.regex.Pattern;

/**
 * What to install: the plugin's image and, when 2 or more, the time-slicing replicas of each GPU (0: no sharing).
 *
 * @param image        the container image of NVIDIA's k8s-device-plugin
 * @param timeSlicing  replicas per GPU with time-slicing, or 0
 */
public record DevicePluginSettings(String image, int timeSlicing) {
    public static final String REPOSITORY = "nvcr.io/nvidia/k8s-device-plugin";
    public static final String DEFAULT_VERSION = "v0.17.4";
    public static final String DEFAULT_IMAGE = REPOSITORY + ":" + DEFAULT_VERSION;
    /** An image tag as the registry API allows it. */
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

    public DevicePluginSettings {
        if (image == null || image.isBlank()) {
            image = DEFAULT_IMAGE;
        }
        if (timeSlicing == 1) {
            timeSlicing = 0;
        }
        if (timeSlicing < 0) {
            throw new K3gpuException(ExitCode.USAGE, "time-slicing replicas must be 2 or more, not " + timeSlicing,
                    "pass --time-slicing N with N >= 2, or leave it out to give each pod a whole GPU");
        }
    }

    /** NVIDIA's image of plugin {@code version} ({@code v0.17.4}, or without the v). */
    public static String imageOf(String version) {
        String tag = version.startsWith("v") ? version : "v" + version;
        if (!TAG.matcher(tag).matches()) {
            throw new K3gpuException(ExitCode.USAGE, "'" + version + "' is not a device plugin version",
                    "write it like " + DEFAULT_VERSION);
        }
        return REPOSITORY + ":" + tag;
    }

    public boolean sharing() {
        return timeSlicing >= 2;
    }
}
