package io.k3gpu.lab.k3s;

import java.io.PrintStream;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * K3s's log lines: logrus's text format on stderr, {@code time="2026-11-28T18:00:00Z" level=info msg="..."}, which
 * is what users grep for in {@code journalctl -u k3s}. Values are quoted the way logrus quotes them (Go's
 * {@code %q}).
 */
public final class K3sLog {
    private final PrintStream out;
    private final Clock clock;
    private final boolean debug;

    public K3sLog(PrintStream out, Clock clock, boolean debug) {
        this.out = out;
        this.clock = clock;
        this.debug = debug;
    }

    public void info(String message) {
        line("info", message);
    }

    public void warn(String message) {
        line("warning", message);
    }

    public void error(String message) {
        line("error", message);
    }

    public void fatal(String message) {
        line("fatal", message);
    }

    public void debug(String message) {
        if (debug) {
            line("debug", message);
        }
    }

    /** One logrus line for {@code level} and {@code message} at {@code time}; public for the agent's author. */
    public static String format(OffsetDateTime time, String level, String message) {
        return "time=" + quote(time.truncatedTo(ChronoUnit.SECONDS).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME))
                + " level=" + level + " msg=" + quote(message);
    }

    private void line(String level, String message) {
        String text = format(OffsetDateTime.now(clock), level, message);
        synchronized (out) {
            out.println(text);
            out.flush();
        }
    }

    static String quote(String value) {
        StringBuilder b = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\x%02x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
