package io.k3gpu.lab.k3sdist;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the lab's K3s distribution consists of, written to disk: the install mirror's tree, the air-gap bundle and the
 * node-side programs of the shared directory. Everything is generated from the resources in
 * {@code io/k3gpu/lab/k3s-node/} and {@link K3sReleases}, deterministically (a release's checksums are the same in
 * every lab).
 *
 * <p>Mirror tree ({@code k3s-mirror.py} serves it): {@code install.sh}, {@code channels.json},
 * {@code k3s/<version>/{k3s, k3s-arm64, sha256sum-amd64.txt, sha256sum-arm64.txt, k3s-images.txt,
 * k3s-airgap-images-amd64.tar, k3s-airgap-images-arm64.tar}}, and {@code k3s-io/k3s/releases/download}, a symlink to
 * {@code k3s/} so that GitHub's release URLs work under the mirror too.
 */
final class MirrorContent {
    static final String RESOURCES = "/io/k3gpu/lab/k3s-node/";
    /** Where the node-side programs are on every node (the lab's read-only shared directory). */
    static final String NODE_SHARED = "/usr/local/lib/k3gpu-lab/shared/k3s";
    /**
     * The agent's image catalog and the simulated frameworks its images provide (see {@code images/images.json}),
     * beside the agent in the shared directory.
     */
    static final List<String> IMAGE_FILES = List.of("images/images.json",
            "images/python/tensorflow/tensorflow/__init__.py", "images/python/torch/torch/__init__.py",
            "images/python/torch/torch/_image.py", "images/python/torch/torch/cuda.py",
            "images/python/torch/torch/version.py", "images/bin/nvidia-device-plugin", "images/bin/coredns",
            "images/bin/local-path-provisioner", "images/bin/metrics-server", "images/bin/klipper-helm",
            "images/bin/klipper-lb", "images/bin/traefik");
    /** The agent's modules (k3s-agent.py imports the package k3sagent beside it). */
    static final List<String> AGENT_MODULES = List.of("__init__", "common", "options", "api", "node", "images",
            "volumes", "runtime", "ctrdrt", "dockerrt", "sandbox", "containerstart", "podstatus", "podlogs", "pods",
            "streams", "kubelet", "deviceplugins", "proxy", "agent");
    /** Date of every member of the image tarballs: reproducible archives. */
    private static final long TAR_MTIME = 1734048000L;

    private MirrorContent() {
    }

    static byte[] resource(String name) {
        try (InputStream in = MirrorContent.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + RESOURCES + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String resourceText(String name) {
        return new String(resource(name), StandardCharsets.UTF_8);
    }

    /** The "binary" of {@code version} for {@code arch}: the launcher with its release filled in. */
    static String launcher(String version, String arch) {
        K3sReleases.binaryName(arch);
        return resourceText("k3s").replace("@VERSION@", version).replace("@COMMIT@", K3sReleases.commit(version))
                .replace("@GO_VERSION@", K3sReleases.goVersion(version)).replace("@ARCH@", arch)
                .replace("@SHARED@", NODE_SHARED);
    }

    /**
     * The install script: GITHUB_URL and the channel URL default to github.com and update.k3s.io as get.k3s.io's do
     * (lab nodes reach them on the mirror); its comments name the plain HTTP mirror at {@code mirrorHostPort}.
     */
    static String installScript(String mirrorHostPort) {
        return resourceText("install.sh").replace("@MIRROR@", mirrorHostPort);
    }

    /**
     * A simulated air-gap image tarball: a real ustar archive in {@code docker save}'s layout reduced to its
     * {@code manifest.json} (RepoTags per image, no layers; {@code SizeBytes} is the lab's own field, the size the
     * agent reports in the Node's status.images) and a README saying so.
     */
    static byte[] airgapImages(String version, String arch) {
        StringBuilder manifest = new StringBuilder("[");
        for (int i = 0; i < K3sReleases.IMAGES.size(); i++) {
            String image = K3sReleases.IMAGES.get(i);
            String id = sha256Hex((image + "@" + arch).getBytes(StandardCharsets.UTF_8));
            long size = 300_000 + Long.parseLong(id.substring(0, 6), 16) * 3;
            manifest.append(i == 0 ? "\n" : ",\n").append("  {\"Config\": \"").append(id).append(".json\", ")
                    .append("\"RepoTags\": [\"").append(image).append("\"], \"Layers\": [], \"SizeBytes\": ")
                    .append(size).append('}');
        }
        manifest.append("\n]\n");
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("manifest.json", manifest.toString().getBytes(StandardCharsets.UTF_8));
        files.put("README", ("Simulated K3s " + version + " air-gap images for linux/" + arch + " (k3gpu lab):\n"
                + "only the manifest of the images, no layers. The lab's agent imports the image names.\n")
                .getBytes(StandardCharsets.UTF_8));
        return Ustar.write(files, TAR_MTIME);
    }

    static String imagesList() {
        return String.join("\n", K3sReleases.IMAGES) + "\n";
    }

    /** {@code sha256sum-<arch>.txt} of a release: the binary and the image tarball, as the real file lists them. */
    static String sha256sums(String version, String arch) {
        return sha256Hex(launcher(version, arch).getBytes(StandardCharsets.UTF_8)) + "  "
                + K3sReleases.binaryName(arch) + "\n" + sha256Hex(airgapImages(version, arch)) + "  "
                + K3sReleases.airgapImagesName(arch) + "\n";
    }

    static void writeMirror(Path root, String mirrorHostPort) throws IOException {
        Files.createDirectories(root);
        write(root.resolve("install.sh"), installScript(mirrorHostPort).getBytes(StandardCharsets.UTF_8), "rwxr-xr-x");
        StringBuilder channels = new StringBuilder("{");
        for (Map.Entry<String, String> c : K3sReleases.orderedChannels().entrySet()) {
            channels.append(channels.length() == 1 ? "" : ", ").append('"').append(c.getKey()).append("\": \"")
                    .append(c.getValue()).append('"');
        }
        write(root.resolve("channels.json"), (channels + "}\n").getBytes(StandardCharsets.UTF_8), "rw-r--r--");
        for (String version : K3sReleases.versions()) {
            Path dir = root.resolve("k3s").resolve(version);
            Files.createDirectories(dir);
            writeRelease(dir, version);
        }
        Path download = root.resolve("k3s-io/k3s/releases/download");
        Files.createDirectories(download.getParent());
        Files.deleteIfExists(download);
        Files.createSymbolicLink(download, Path.of("../../../k3s"));
    }

    /** The release files of {@code version} into {@code dir}. */
    static void writeRelease(Path dir, String version) throws IOException {
        for (String arch : K3sReleases.ARCHES) {
            write(dir.resolve(K3sReleases.binaryName(arch)), launcher(version, arch).getBytes(StandardCharsets.UTF_8),
                    "rwxr-xr-x");
            write(dir.resolve("sha256sum-" + arch + ".txt"), sha256sums(version, arch)
                    .getBytes(StandardCharsets.UTF_8), "rw-r--r--");
            write(dir.resolve(K3sReleases.airgapImagesName(arch)), airgapImages(version, arch), "rw-r--r--");
        }
        write(dir.resolve("k3s-images.txt"), imagesList().getBytes(StandardCharsets.UTF_8), "rw-r--r--");
    }

    /**
     * The air-gap bundle of {@code version}: what K3s's air-gap instructions have the user copy to a machine —
     * {@code k3s} / {@code k3s-arm64}, {@code k3s-airgap-images-<arch>.tar}, {@code install.sh} — plus the checksum
     * files and {@code k3s-images.txt}.
     */
    static void writeAirgap(Path dir, String mirrorHostPort, String version) throws IOException {
        Files.createDirectories(dir);
        writeRelease(dir, version);
        write(dir.resolve("install.sh"), installScript(mirrorHostPort).getBytes(StandardCharsets.UTF_8), "rwxr-xr-x");
    }

    /**
     * The node-side programs into the lab's shared directory ({@code <shared>/k3s}, {@value #NODE_SHARED} on nodes),
     * the agent also compiled ({@code k3s-agent.pyc}, and its package's modules into {@code k3sagent/__pycache__}
     * where Python's import finds them, by the host's python3, which the nodes share): compiling the source at every
     * start would cost each agent 3 MB of memory for good, and CPU.
     */
    static void writeNodeFiles(Path sharedK3s) throws IOException {
        Files.createDirectories(sharedK3s.resolve("k3sagent"));
        for (String name : List.of("k3s-agent.py", "k3s-service.sh", "k3s-container.py")) {
            write(sharedK3s.resolve(name), resource(name), "rwxr-xr-x");
        }
        List<String> sources = new ArrayList<>();
        for (String module : AGENT_MODULES) {
            String name = "k3sagent/" + module + ".py";
            write(sharedK3s.resolve(name), resource(name), "rw-r--r--");
            sources.add(sharedK3s.resolve(name).toString());
        }
        for (String name : IMAGE_FILES) {
            Path file = sharedK3s.resolve(name);
            Files.createDirectories(file.getParent());
            write(file, resource(name), name.startsWith("images/bin/") ? "rwxr-xr-x" : "rw-r--r--");
        }
        Path pyc = sharedK3s.resolve("k3s-agent.pyc");
        Files.deleteIfExists(pyc);
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", "-S", "-c",
                "import py_compile, sys\npy_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)\n"
                        + "for f in sys.argv[3:]: py_compile.compile(f, doraise=True)",
                sharedK3s.resolve("k3s-agent.py").toString(), pyc.toString()));
        cmd.addAll(sources);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException("compiling k3s-agent.py failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while compiling k3s-agent.py", e);
        }
    }

    /** The image catalog and its simulated frameworks (not the programs) into {@code dir}/images. */
    static void writeImageCatalog(Path dir) throws IOException {
        for (String name : IMAGE_FILES) {
            if (!name.startsWith("images/bin/")) {
                Path file = dir.resolve(name);
                Files.createDirectories(file.getParent());
                write(file, resource(name), "rw-r--r--");
            }
        }
    }

    static void write(Path file, byte[] content, String perms) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, content);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(perms));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static String sha256Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
