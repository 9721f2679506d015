package io.k3gpu.core.remote;

/** POSIX sh quoting. */
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
}
