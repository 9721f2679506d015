package io.k3gpu.core.remote;

import java.time.Duration;

/** POSIX sh quoting, and the deadline every remote command runs under. */
public final class Shell {
    private Shell() {
    }

    /** Quotes {@code s} as one sh word: bare when it is made only of safe characters, else in single quotes. */
    public static String quote(String s) {
        if (!s.isEmpty() && s.matches("[A-Za-z0-9_@%+=:,./-]+")) {
            return s;
        }
        return "'" + s.replace("'", "'\"'\"'") + "'";
    }

    /** Seconds {@code timeout} waits after its first signal (TERM) before it sends KILL. */
    public static final int KILL_AFTER_SECONDS = 5;

    /**
     * {@code command} bounded by GNU coreutils {@code timeout}: it leads its own process group and signals the whole
     * group on expiry (TERM, then KILL {@value #KILL_AFTER_SECONDS}s later), so the command's process tree dies on
     * the node even when the SSH link to it is gone. Exit 124 on TERM, 137 on KILL.
     */
    public static String withDeadline(String command, Duration limit) {
        return withDeadline(command, limit, null);
    }

    /**
     * As {@link #withDeadline(String, Duration)}, the command line marked with {@code tag} (a no-op {@code :} word
     * before the command) when the tag is not null, so that {@code pkill -f} can find it on the node.
     */
    public static String withDeadline(String command, Duration limit, String tag) {
        long seconds = Math.max(1, (limit.toMillis() + 999) / 1000);
        String marked = tag == null ? command : ": " + tag + "; " + command;
        return "timeout -k " + KILL_AFTER_SECONDS + "s " + seconds + "s sh -c " + quote(marked);
    }
}
