package io.k3gpu.core.ssh;

import io.k3gpu.core.remote.Shell;

/** How a command gets root on a node, and the exact command line for each way. */
public enum SudoMode {
    /** Logged in as root: run directly. */
    ROOT,
    /** sudo without a password: {@code sudo -n}. */
    NOPASSWD,
    /** sudo with the password on stdin: {@code sudo -S}; -k so sudo always reads it, even with cached credentials. */
    PASSWORD;

    /** The command line that runs {@code command} as root in this mode. Pure; golden-tested. */
    public String wrap(String command) {
        return switch (this) {
            case ROOT -> command;
            case NOPASSWD -> "sudo -n -- sh -c " + Shell.quote(command);
            case PASSWORD -> "sudo -k -S -p '' -- sh -c " + Shell.quote(command);
        };
    }
}
