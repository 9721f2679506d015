package io.k3gpu.core.telemetry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An input read as chunks of whole lines, for parsing the lines of each chunk on another thread: the chunk's bytes,
 * the number of its first line and how many lines it holds. Lines end as {@link java.io.BufferedReader#readLine()}
 * ends them ({@code \n}, {@code \r\n} or a lone {@code \r}) and are decoded as UTF-8, malformed bytes replaced.
 * A chunk ends after a {@code \n} whenever there is one, so no {@code \r\n} is ever split; {@link #next()} waits only
 * until a line ends (or the input does), so a live stream on stdin gets each line through at once.
 */
final class LineChunks {
    /** Bytes read at a time: about 1,500 tegrastats lines. */
    static final int CHUNK = 512 * 1024;

    /** Lines {@code first} to {@code first + lines - 1} of the input, in {@code bytes[0, length)}. */
    record Chunk(byte[] bytes, int length, long first, int lines) {

        /** Hands each line of the chunk, decoded, to {@code line} with its number. */
        void eachLine(LineConsumer line) {
            int start = 0;
            long n = first;
            for (int i = 0; i < length; i++) {
                byte b = bytes[i];
                if (b == '\n' || b == '\r') {
                    line.accept(new String(bytes, start, i - start, StandardCharsets.UTF_8), n++);
                    if (b == '\r' && i + 1 < length && bytes[i + 1] == '\n') {
                        i++;
                    }
                    start = i + 1;
                }
            }
            if (start < length) {
                line.accept(new String(bytes, start, length - start, StandardCharsets.UTF_8), n);
            }
        }
    }

    interface LineConsumer {
        void accept(String line, long number);
    }

    private final InputStream in;
    private final int size;
    private byte[] buf;
    private int filled;
    private boolean eof;
    private long next = 1;

    LineChunks(InputStream in) {
        this(in, CHUNK);
    }

    /** With chunks of {@code size} bytes read at a time (tests use small ones to cross many chunk ends). */
    LineChunks(InputStream in, int size) {
        this.in = in;
        this.size = size;
        this.buf = new byte[size];
    }

    /** Whether {@link #next()} would return without waiting for the input. */
    boolean ready() throws IOException {
        return eof || in.available() > 0;
    }

    /** The next chunk of whole lines (the last one may lack its line end), or null at the end of the input. */
    Chunk next() throws IOException {
        while (true) {
            int end = eof ? filled : cut();
            if (end > 0) {
                return take(end);
            }
            if (eof) {
                return null;
            }
            if (filled == buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2); // one line longer than a chunk
            }
            int r = in.read(buf, filled, buf.length - filled);
            if (r < 0) {
                eof = true;
            } else {
                filled += r;
            }
        }
    }

    /** Where the chunk can end: after the last {@code \n}, else (a full buffer) after a {@code \r} not last; or 0. */
    private int cut() {
        for (int i = filled - 1; i >= 0; i--) {
            if (buf[i] == '\n') {
                return i + 1;
            }
        }
        if (filled == buf.length) {
            for (int i = filled - 2; i >= 0; i--) {
                if (buf[i] == '\r') {
                    return i + 1;
                }
            }
        }
        return 0;
    }

    private Chunk take(int end) {
        int lines = 0;
        for (int i = 0; i < end; i++) {
            byte b = buf[i];
            if (b == '\n') {
                lines++;
            } else if (b == '\r') {
                lines++;
                if (i + 1 < end && buf[i + 1] == '\n') {
                    i++;
                }
            }
        }
        byte last = buf[end - 1];
        if (last != '\n' && last != '\r') {
            lines++; // the input's last line, without its line end
        }
        Chunk c = new Chunk(buf, end, next, lines);
        next += lines;
        byte[] rest = new byte[Math.max(size, filled - end)];
        System.arraycopy(buf, end, rest, 0, filled - end);
        buf = rest;
        filled -= end;
        return c;
    }
}
