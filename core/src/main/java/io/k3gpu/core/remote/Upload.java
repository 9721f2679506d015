package io.k3gpu.core.remote;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bytes to send to a node, with their length and SHA-256 known before the first byte goes, so that the node can
 * refuse what did not arrive whole (see {@link RemoteFileCommands#receive}). A local file is streamed from disk on
 * each upload and never held in memory.
 *
 * <p>The length and the hash travel on stdin, in a header line ahead of the content, never on the command line:
 * some uploads hold a secret (the install environment with K3S_TOKEN, a K3s config.yaml with {@code token:}), and a
 * hash of a short, user-chosen token in a process listing would let anyone on the node guess it offline. One way for
 * every upload means no caller can pick the wrong one.
 */
public final class Upload {
    /** A file's hash, computed once however many nodes receive it; keyed by what would change with its content. */
    private static final Map<String, String> FILE_HASHES = new ConcurrentHashMap<>();

    private final String what;
    private final long size;
    private final String sha256;
    private final Source source;

    private interface Source {
        InputStream open() throws IOException;
    }

    private Upload(String what, long size, String sha256, Source source) {
        this.what = what;
        this.size = size;
        this.sha256 = sha256;
        this.source = source;
    }

    /** Content already in memory (a config file, the install environment); the array is not copied. */
    public static Upload of(byte[] content) {
        return new Upload(content.length + " bytes", content.length, hex(digest().digest(content)),
                () -> new ByteArrayInputStream(content));
    }

    /**
     * A local file. Its hash is read once per content (size and modification time), not once per node; should the
     * file change under us anyway, the node's own hash disagrees and it refuses the upload rather than keep it.
     */
    public static Upload of(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        String key = file.toRealPath() + "|" + a.size() + "|" + a.lastModifiedTime().toMillis() + "|" + a.fileKey();
        try {
            String hash = FILE_HASHES.computeIfAbsent(key, k -> {
                try {
                    return hashOf(file);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return new Upload(file.toString(), a.size(), hash, () -> Files.newInputStream(file));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static String hashOf(Path file) throws IOException {
        MessageDigest md = digest();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return hex(md.digest());
    }

    public long size() {
        return size;
    }

    public String sha256() {
        return sha256;
    }

    /** {@code "<size> <sha256>\n"}: what {@link RemoteFileCommands#receive} reads before the content. */
    public byte[] header() {
        return (size + " " + sha256 + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** The header, then the content: the whole stdin of an upload command, {@link #stdinLength()} bytes. */
    public InputStream openStdin() throws IOException {
        return new SequenceInputStream(new ByteArrayInputStream(header()), source.open());
    }

    public long stdinLength() {
        return header().length + size;
    }

    @Override
    public String toString() {
        return what;
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
