package io.k3gpu.core.telemetry;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;

/**
 * Compact JSON written straight as UTF-8 bytes into one growing buffer: {@link GpuSampleJson}'s writer. No generator
 * state, no chars, no encoder: {@code stats parse} writes hundreds of megabytes of it, and a Jackson generator behind
 * a Writer chain cost more than parsing the lines (docs/benchmarks.md, "stats parse").
 *
 * <p>Strings are escaped as Jackson escapes them ({@code \" \\ \b \t \n \f \r}, other C0 controls as
 * <code>&#92;u00XX</code>), and also DEL and the C1 controls (U+007F to U+009F) as <code>&#92;u00XX</code>, so the
 * output never holds a raw control character that a terminal would act on. A lone surrogate becomes {@code ?}, as
 * Java's UTF-8 encoder writes it. Numbers are {@link Integer#toString}, {@link Long#toString} and {@link Double#toString} (NaN and the
 * infinities as strings, as Jackson writes them).
 */
final class JsonBytes {
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
    /** Per ASCII char: 0 as is, 'u' as &#92;u00XX, else the char after the backslash. */
    private static final byte[] ESCAPE = new byte[128];
    private static final byte[] NULL = ascii("null");
    private static final byte[] TRUE = ascii("true");
    private static final byte[] FALSE = ascii("false");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_LOCAL_DATE_TIME;

    static {
        Arrays.fill(ESCAPE, 0, 0x20, (byte) 'u');
        ESCAPE['\b'] = 'b';
        ESCAPE['\t'] = 't';
        ESCAPE['\n'] = 'n';
        ESCAPE['\f'] = 'f';
        ESCAPE['\r'] = 'r';
        ESCAPE['"'] = '"';
        ESCAPE['\\'] = '\\';
        ESCAPE[0x7f] = 'u';
    }

    private byte[] buf;
    private int pos;

    JsonBytes(int capacity) {
        buf = new byte[capacity];
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    int size() {
        return pos;
    }

    /** Writes what is buffered to {@code out} and empties the buffer. */
    void drainTo(OutputStream out) {
        try {
            out.write(buf, 0, pos);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        pos = 0;
    }

    String text() {
        return new String(buf, 0, pos, StandardCharsets.UTF_8);
    }

    private void room(int n) {
        if (pos + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
        }
    }

    JsonBytes raw(byte[] b) {
        room(b.length);
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
        return this;
    }

    JsonBytes raw(char c) {
        room(1);
        buf[pos++] = (byte) c;
        return this;
    }

    JsonBytes nul() {
        return raw(NULL);
    }

    JsonBytes bool(boolean v) {
        return raw(v ? TRUE : FALSE);
    }

    JsonBytes string(String s) {
        if (s == null) {
            return nul();
        }
        int n = s.length();
        room(n + 2);
        buf[pos++] = '"';
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80 && ESCAPE[c] == 0) {
                if (pos == buf.length) {
                    room(n - i + 1);
                }
                buf[pos++] = (byte) c;
            } else {
                i = special(s, i, c);
            }
        }
        room(1);
        buf[pos++] = '"';
        return this;
    }

    /** Char {@code c} at {@code i} needs an escape or more than one byte; returns the index of the last char used. */
    private int special(String s, int i, char c) {
        room(6);
        if (c < 0x80 || c <= 0x9f) {
            byte e = c < 0x80 ? ESCAPE[c] : (byte) 'u';
            buf[pos++] = '\\';
            if (e == 'u') {
                buf[pos++] = 'u';
                buf[pos++] = '0';
                buf[pos++] = '0';
                buf[pos++] = HEX[c >> 4];
                buf[pos++] = HEX[c & 0xf];
            } else {
                buf[pos++] = e;
            }
        } else if (c < 0x800) {
            buf[pos++] = (byte) (0xc0 | (c >> 6));
            buf[pos++] = (byte) (0x80 | (c & 0x3f));
        } else if (Character.isSurrogate(c)) {
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(i + 1));
                buf[pos++] = (byte) (0xf0 | (cp >> 18));
                buf[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
                buf[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
                buf[pos++] = (byte) (0x80 | (cp & 0x3f));
                return i + 1;
            }
            buf[pos++] = '?';
        } else {
            buf[pos++] = (byte) (0xe0 | (c >> 12));
            buf[pos++] = (byte) (0x80 | ((c >> 6) & 0x3f));
            buf[pos++] = (byte) (0x80 | (c & 0x3f));
        }
        return i;
    }

    JsonBytes number(int v) {
        if (v == Integer.MIN_VALUE) {
            return number((long) v);
        }
        room(11);
        if (v < 0) {
            buf[pos++] = '-';
            v = -v;
        }
        int digits = digits(v);
        int end = pos + digits;
        for (int at = end - 1; at >= pos; at--) {
            buf[at] = (byte) ('0' + v % 10);
            v /= 10;
        }
        pos = end;
        return this;
    }

    private static int digits(int v) {
        int d = 1;
        for (long p = 10; p <= v; p *= 10) {
            d++;
        }
        return d;
    }

    JsonBytes number(long v) {
        return raw(ascii(Long.toString(v)));
    }

    JsonBytes number(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return string(Double.toString(v));
        }
        if (v == (int) v && v != 0 && Math.abs(v) < 1e7) {
            // Double.toString of a whole number below 10^7 is its digits and ".0" (0.0 and -0.0 take the slow path)
            return number((int) v).raw(ascii(".0"));
        }
        return raw(ascii(Double.toString(v)));
    }

    /** An Integer, Long or other Number (as a double), or null. */
    JsonBytes number(Number v) {
        if (v == null) {
            return nul();
        }
        if (v instanceof Integer i) {
            return number(i.intValue());
        }
        if (v instanceof Long l) {
            return number(l.longValue());
        }
        return number(v.doubleValue());
    }

    /** ISO-8601 local date-time as {@link DateTimeFormatter#ISO_LOCAL_DATE_TIME} prints it, quoted; or null. */
    JsonBytes time(LocalDateTime t) {
        if (t == null) {
            return nul();
        }
        int year = t.getYear();
        if (year < 0 || year > 9999) {
            return string(TIME.format(t));
        }
        room(32);
        buf[pos++] = '"';
        two(year / 100);
        two(year % 100);
        buf[pos++] = '-';
        two(t.getMonthValue());
        buf[pos++] = '-';
        two(t.getDayOfMonth());
        buf[pos++] = 'T';
        two(t.getHour());
        buf[pos++] = ':';
        two(t.getMinute());
        buf[pos++] = ':';
        two(t.getSecond());
        int nano = t.getNano();
        if (nano != 0) {
            // as many fraction digits as needed (the formatter drops trailing zeros)
            buf[pos++] = '.';
            int width = 9;
            while (nano % 10 == 0) {
                nano /= 10;
                width--;
            }
            for (int at = pos + width - 1; at >= pos; at--) {
                buf[at] = (byte) ('0' + nano % 10);
                nano /= 10;
            }
            pos += width;
        }
        buf[pos++] = '"';
        return this;
    }

    private void two(int v) {
        buf[pos++] = (byte) ('0' + v / 10);
        buf[pos++] = (byte) ('0' + v % 10);
    }
}
