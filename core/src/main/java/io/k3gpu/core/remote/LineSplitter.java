package io.k3gpu.core.remote;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * An output stream that hands each complete line (UTF-8, without its {@code \n} or {@code \r\n}) to a consumer as it
 * arrives: how a streamed remote command's output becomes lines. A line longer than {@link #MAX_LINE} bytes is
 * handed over in pieces of that size, so a command that never prints a newline cannot exhaust memory.
 * {@link #close()} hands over an unfinished last line. Not thread-safe: one writer at a time (an SSH channel
 * delivers its data in order from one thread at a time).
 */
public final class LineSplitter extends OutputStream {
    /** The longest line handed over whole, in bytes. */
    public static final int MAX_LINE = 64 * 1024;

    private final Consumer<String> lines;
    private byte[] buf = new byte[512];
    private int len;
    private boolean closed;

    public LineSplitter(Consumer<String> lines) {
        this.lines = Objects.requireNonNull(lines, "lines");
    }

    @Override
    public void write(int b) {
        if (b == '\n') {
            emit();
        } else {
            append((byte) b);
        }
    }

    @Override
    public void write(byte[] b, int off, int n) {
        Objects.checkFromIndexSize(off, n, b.length);
        int end = off + n;
        int start = off;
        for (int i = off; i < end; i++) {
            if (b[i] == '\n') {
                appendRange(b, start, i);
                emit();
                start = i + 1;
            }
        }
        appendRange(b, start, end);
    }

    private void appendRange(byte[] b, int from, int to) {
        while (from < to) {
            int room = MAX_LINE - len;
            int n = Math.min(room, to - from);
            ensure(len + n);
            System.arraycopy(b, from, buf, len, n);
            len += n;
            from += n;
            if (len == MAX_LINE) {
                emit();
            }
        }
    }

    private void append(byte b) {
        ensure(len + 1);
        buf[len++] = b;
        if (len == MAX_LINE) {
            emit();
        }
    }

    private void ensure(int capacity) {
        if (capacity > buf.length) {
            buf = Arrays.copyOf(buf, Math.min(MAX_LINE, Math.max(capacity, buf.length * 2)));
        }
    }

    private void emit() {
        int n = len;
        if (n > 0 && buf[n - 1] == '\r') {
            n--;
        }
        len = 0;
        lines.accept(new String(buf, 0, n, StandardCharsets.UTF_8));
    }

    /** Hands over the unfinished last line, if any. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (len > 0) {
                emit();
            }
        }
    }
}
