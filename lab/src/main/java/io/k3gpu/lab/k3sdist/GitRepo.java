package io.k3gpu.lab.k3sdist;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.Deflater;

/**
 * The lab's git server content: bare repositories written object by object (no git needed on the host), served by
 * the mirror daemon over git's "dumb" HTTP protocol ({@code info/refs}, {@code HEAD}, loose objects), so that the
 * seed's init container {@code git clone <url> /workspace} runs for real. One repository today,
 * {@value #MNIST_REPO}: the project's trainer ({@code io/k3gpu/workloads/mnist_train.py}) as {@code mnist.py} and a
 * README, one commit on {@code main} with a fixed author and date (the same commit id in every lab).
 */
final class GitRepo {
    static final String MNIST_REPO = "example-mnist-training.git";
    static final String TRAINER = "/io/k3gpu/workloads/mnist_train.py";
    /** 2024-12-13T00:00:00Z, as for the air-gap tarballs: reproducible. */
    private static final long COMMIT_TIME = 1734048000L;

    /** A file of the commit: its content and whether it is executable. */
    record Entry(byte[] content, boolean executable) {
    }

    private GitRepo() {
    }

    /** Writes the lab's repositories under {@code gitRoot} (the mirror's {@code git/}). */
    static void writeAll(Path gitRoot) throws IOException {
        Map<String, Entry> files = new TreeMap<>();
        files.put("README.md", new Entry(readme().getBytes(StandardCharsets.UTF_8), false));
        files.put("mnist.py", new Entry(trainer(), true));
        write(gitRoot.resolve(MNIST_REPO), files, "Add the k3gpu trainer as mnist.py");
    }

    static String readme() {
        return """
                # example-mnist-training (k3gpu lab)

                The k3gpu lab's stand-in for https://github.com/IceCI/example-mnist-training, served by the lab's
                git server on the bridge address. `mnist.py` is k3gpu's own trainer (`mnist_train.py`): it trains
                a small CNN on MNIST / Fashion-MNIST IDX files and prints one JSON line per epoch and a final one
                with the test accuracy. In the lab it trains with NumPy (the lab's TensorFlow is simulated).

                    python3 mnist.py --data-dir /data --dataset fashion-mnist --epochs 1
                """;
    }

    static byte[] trainer() {
        try (InputStream in = GitRepo.class.getResourceAsStream(TRAINER)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + TRAINER);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A bare repository at {@code dir} with one commit of {@code files} on main; returns the commit id. */
    static String write(Path dir, Map<String, Entry> files, String message) throws IOException {
        Files.createDirectories(dir.resolve("objects/info"));
        Files.createDirectories(dir.resolve("refs/heads"));
        Files.createDirectories(dir.resolve("refs/tags"));
        Files.createDirectories(dir.resolve("info"));
        ByteArrayOutputStream tree = new ByteArrayOutputStream();
        for (Map.Entry<String, Entry> f : new TreeMap<>(files).entrySet()) {
            String blob = object(dir, "blob", f.getValue().content());
            tree.writeBytes(((f.getValue().executable() ? "100755 " : "100644 ") + f.getKey() + "\0")
                    .getBytes(StandardCharsets.UTF_8));
            tree.writeBytes(HexFormat.of().parseHex(blob));
        }
        String treeId = object(dir, "tree", tree.toByteArray());
        String who = "k3gpu lab <lab@k3gpu.invalid> " + COMMIT_TIME + " +0000";
        String commit = object(dir, "commit", ("tree " + treeId + "\nauthor " + who + "\ncommitter " + who + "\n\n"
                + message + "\n").getBytes(StandardCharsets.UTF_8));
        text(dir.resolve("HEAD"), "ref: refs/heads/main\n");
        text(dir.resolve("refs/heads/main"), commit + "\n");
        text(dir.resolve("config"), "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n");
        text(dir.resolve("description"), "k3gpu lab: " + dir.getFileName() + "\n");
        // what `git update-server-info` writes for dumb HTTP clients
        text(dir.resolve("info/refs"), commit + "\trefs/heads/main\n");
        text(dir.resolve("objects/info/packs"), "\n");
        return commit;
    }

    /** Stores a loose object (zlib of "type size\0content"); returns its SHA-1. */
    static String object(Path repo, String type, byte[] content) throws IOException {
        byte[] header = (type + " " + content.length + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] raw = new byte[header.length + content.length];
        System.arraycopy(header, 0, raw, 0, header.length);
        System.arraycopy(content, 0, raw, header.length, content.length);
        String id = sha1(raw);
        Path file = repo.resolve("objects").resolve(id.substring(0, 2)).resolve(id.substring(2));
        if (!Files.exists(file)) {
            Files.createDirectories(file.getParent());
            Deflater d = new Deflater();
            d.setInput(raw);
            d.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (!d.finished()) {
                out.write(buf, 0, d.deflate(buf));
            }
            d.end();
            Files.write(file, out.toByteArray());
        }
        return id;
    }

    private static void text(Path file, String content) throws IOException {
        Files.writeString(file, content);
    }

    private static String sha1(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
