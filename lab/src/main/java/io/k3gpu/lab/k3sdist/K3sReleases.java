package io.k3gpu.lab.k3sdist;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The K3s releases the lab's install mirror offers, and its release channels (what update.k3s.io answers for them).
 * Versions and channel targets are a fixed snapshot chosen for the lab: stable v1.31.4+k3s1, latest v1.32.0+k3s1,
 * v1.30.8+k3s1, and v1.24.3+k3s1 (the last release that refuses {@code --docker}). Go versions are the ones those
 * releases were built with (approximately); the commit ids printed by {@code k3s --version} are simulated: the first
 * 8 hex digits of the SHA-256 of the version.
 */
public final class K3sReleases {
    public static final String STABLE = "v1.31.4+k3s1";
    public static final String LATEST = "v1.32.0+k3s1";
    /** Architectures the mirror serves a binary for, by Kubernetes name; amd64's binary is {@code k3s}. */
    public static final List<String> ARCHES = List.of("amd64", "arm64");

    private static final Map<String, String> GO_VERSIONS = new LinkedHashMap<>();
    private static final Map<String, String> CHANNELS = new LinkedHashMap<>();

    static {
        GO_VERSIONS.put("v1.24.3+k3s1", "go1.18.1");
        GO_VERSIONS.put("v1.30.8+k3s1", "go1.22.9");
        GO_VERSIONS.put(STABLE, "go1.22.9");
        GO_VERSIONS.put(LATEST, "go1.23.3");
        CHANNELS.put("stable", STABLE);
        CHANNELS.put("latest", LATEST);
        CHANNELS.put("testing", LATEST);
        CHANNELS.put("v1.24", "v1.24.3+k3s1");
        CHANNELS.put("v1.30", "v1.30.8+k3s1");
        CHANNELS.put("v1.31", STABLE);
        CHANNELS.put("v1.32", LATEST);
    }

    /**
     * The images of a release's air-gap tarball (approximately those of v1.31's k3s-images.txt; the same list for
     * every release of the lab).
     */
    static final List<String> IMAGES = List.of(
            "docker.io/rancher/klipper-helm:v0.9.3-build20241008",
            "docker.io/rancher/klipper-lb:v0.4.9",
            "docker.io/rancher/local-path-provisioner:v0.0.30",
            "docker.io/rancher/mirrored-coredns-coredns:1.11.3",
            "docker.io/rancher/mirrored-library-busybox:1.36.1",
            "docker.io/rancher/mirrored-library-traefik:2.11.10",
            "docker.io/rancher/mirrored-metrics-server:v0.7.2",
            "docker.io/rancher/mirrored-pause:3.6");

    private K3sReleases() {
    }

    /** Every version the mirror serves, oldest first. */
    public static List<String> versions() {
        return List.copyOf(GO_VERSIONS.keySet());
    }

    /** Channel name to version, as {@code /v1-release/channels/<name>} redirects. */
    public static Map<String, String> channels() {
        return Map.copyOf(CHANNELS);
    }

    /** Channels in a stable order (for the channel list document). */
    static Map<String, String> orderedChannels() {
        return new LinkedHashMap<>(CHANNELS);
    }

    public static boolean offered(String version) {
        return GO_VERSIONS.containsKey(version);
    }

    /** The simulated short commit id {@code k3s --version} prints. */
    public static String commit(String version) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(version.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d).substring(0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String goVersion(String version) {
        String go = GO_VERSIONS.get(version);
        if (go == null) {
            throw new IllegalArgumentException("the lab mirror does not offer " + version);
        }
        return go;
    }

    /** {@code k3s} for amd64, {@code k3s-arm64} for arm64: the asset names of a K3s release. */
    public static String binaryName(String arch) {
        return switch (arch) {
            case "amd64" -> "k3s";
            case "arm64" -> "k3s-arm64";
            default -> throw new IllegalArgumentException("no K3s binary for " + arch);
        };
    }

    public static String airgapImagesName(String arch) {
        binaryName(arch);
        return "k3s-airgap-images-" + arch + ".tar";
    }
}
