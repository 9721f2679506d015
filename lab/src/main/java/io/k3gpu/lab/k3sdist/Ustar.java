package io.k3gpu.lab.k3sdist;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** A POSIX ustar archive of regular files, written in memory (for the lab's small air-gap image tarballs). */
final class Ustar {
    private static final int BLOCK = 512;

    private Ustar() {
    }

    /**
     * The archive of {@code files} (name to content, in order), each mode 0644, owner root, dated {@code mtime}
     * (seconds since the epoch), ended by two zero blocks.
     */
    static byte[] write(Map<String, byte[]> files, long mtime) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> e : new LinkedHashMap<>(files).entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            if (name.length > 100) {
                throw new IllegalArgumentException("tar member name longer than 100 bytes: " + e.getKey());
            }
            byte[] h = new byte[BLOCK];
            System.arraycopy(name, 0, h, 0, name.length);
            octal(h, 100, 8, 0644);
            octal(h, 108, 8, 0);
            octal(h, 116, 8, 0);
            octal(h, 124, 12, e.getValue().length);
            octal(h, 136, 12, mtime);
            for (int i = 148; i < 156; i++) {
                h[i] = ' ';
            }
            h[156] = '0';
            ascii(h, 257, "ustar\0");
            ascii(h, 263, "00");
            ascii(h, 265, "root");
            ascii(h, 297, "root");
            long sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            octal(h, 148, 7, sum);
            h[155] = ' ';
            out.writeBytes(h);
            out.writeBytes(e.getValue());
            int pad = (BLOCK - e.getValue().length % BLOCK) % BLOCK;
            out.writeBytes(new byte[pad]);
        }
        out.writeBytes(new byte[2 * BLOCK]);
        return out.toByteArray();
    }

    /** {@code value} as zero-padded octal digits filling {@code len - 1} bytes, then NUL. */
    private static void octal(byte[] h, int off, int len, long value) {
        String s = Long.toOctalString(value);
        if (s.length() > len - 1) {
            throw new IllegalArgumentException("value too large for a tar header field: " + value);
        }
        s = "0".repeat(len - 1 - s.length()) + s;
        ascii(h, off, s);
        h[off + len - 1] = 0;
    }

    private static void ascii(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
    }
}
