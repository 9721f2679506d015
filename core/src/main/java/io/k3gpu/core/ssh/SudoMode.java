package io.k3gpu.core.ssh;

import io.k3gpu.core.remote.Shell;

import java.time.Duration;

/** How a command gets root on a node, and the exact command line for each way. */
public enum SudoMode {
    /** Logged in as root: run directly. */
    ROOT,
    /** sudo without a password: {@code sudo -n}. */
    NOPASSWD,
    /** sudo with the password on stdin: {@code sudo -S}; -k so sudo always reads it, even with cached credentials. */
    PASSWORD;

    /**
     * The command line that runs {@code command} as root in this mode, within {@code limit}: the deadline goes
     * inside sudo so that {@code timeout} runs as root and may kill whatever the command started. Pure; golden-tested.
     */
    public String wrap(String command, Duration limit) {
        return wrap(command, limit, null);
    }

    /** As {@link #wrap(String, Duration)}, the command line marked with {@code tag} (see {@link Shell}). */
    public String wrap(String command, Duration limit, String tag) {
        String bounded = Shell.withDeadline(command, limit, tag);
        return switch (this) {
            case ROOT -> bounded;
            case NOPASSWD -> "sudo -n -- " + bounded;
            case PASSWORD -> "sudo -k -S -p '' -- " + bounded;
        };
    }
}
