package io.k3gpu.core.k3s;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * K3s command lines compared as sets of flags: what a node was installed with (its unit's {@code ExecStart=}, which
 * K3s's install script writes from INSTALL_K3S_EXEC) against what k3gpu would install now. Order does not matter,
 * {@code --flag=value} is {@code --flag value}, {@code -flag} is {@code --flag}, {@code --flag=true} is the bare
 * {@code --flag}, a repeated flag counts once per value. Short aliases are not expanded ({@code -t} stays {@code -t}).
 * Pure; golden-tested.
 */
public final class K3sArgs {
    /** What K3s writes instead of a secret in the k3s.io/node-args annotation; k3gpu prints it the same way. */
    public static final String OMITTED = "********";
    /** The Node annotation where K3s records the flags it last started with (rewritten when they change). */
    public static final String NODE_ARGS_ANNOTATION = "k3s.io/node-args";
    /**
     * Flags whose value is a secret: K3s's own list (pkg/nodeconfig isSecret: --token, -t, --agent-token,
     * --datastore-endpoint, --etcd-s3-access-key, --etcd-s3-secret-key, --vpn-auth) plus --etcd-s3-session-token and
     * the old --cluster-secret. Paths to secrets (--token-file, --vpn-auth-file, --datastore-keyfile) are not secret.
     */
    private static final Set<String> SECRETS = Set.of("--token", "-t", "--agent-token", "--datastore-endpoint",
            "--cluster-secret", "--etcd-s3-access-key", "--etcd-s3-secret-key", "--etcd-s3-session-token",
            "--vpn-auth");
    /** Secret flags whose value is a URL or DSN: only its password is secret, the database it names is shown. */
    private static final Set<String> URLS = Set.of("--datastore-endpoint", "--etcd-s3-proxy");

    private K3sArgs() {
    }

    /** One flag: {@code --disable traefik} is ("--disable", "traefik"), {@code --cluster-init} ("--cluster-init", null). */
    public record Flag(String name, String value) {
        /** As k3gpu prints it: {@code --disable traefik}, secrets' values as {@value #OMITTED}. */
        @Override
        public String toString() {
            if (value == null) {
                return name;
            }
            return name + " " + word(masked(name, value));
        }
    }

    /**
     * The value of flag {@code name} as k3gpu shows it (progress, JSON, plan, --print-command): a secret's value as
     * {@value #OMITTED}; in a datastore URL or DSN only the password ({@code postgres://k3s:********@db:5432/k3s},
     * {@code mysql://k3s:********@tcp(db:3306)/k3s}); any other value as it is. The one masker of K3s flags.
     *
     * @param name the flag as {@link #flags} names it ({@code --token}, {@code -t}); a config.yaml key with "--"
     */
    public static String masked(String name, String value) {
        if (value == null) {
            return null;
        }
        if (URLS.contains(name)) {
            return maskedUrlPassword(value);
        }
        return SECRETS.contains(name) ? OMITTED : value;
    }

    /** Whether the value of flag {@code name} is, or holds, a secret. */
    public static boolean isSecret(String name) {
        return SECRETS.contains(name) || URLS.contains(name);
    }

    /**
     * An INSTALL_K3S_EXEC as k3gpu shows it: the words of {@link #splitExec}, each secret flag's value
     * {@link #masked}; a line that cannot be split (an unpaired quote) is shown as {@value #OMITTED} entirely.
     */
    public static String masked(String exec) {
        List<String> words;
        try {
            words = splitExec(exec);
        } catch (IllegalArgumentException e) {
            return OMITTED;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            String shown = w;
            if (w.startsWith("-")) {
                String bare = w.replaceFirst("^--?", "");
                int eq = bare.indexOf('=');
                String name = flagName(eq >= 0 ? bare.substring(0, eq) : bare);
                if (eq >= 0) {
                    shown = w.substring(0, w.length() - bare.length() + eq + 1) + masked(name, bare.substring(eq + 1));
                } else if (i + 1 < words.size() && !words.get(i + 1).startsWith("-")) {
                    out.append(out.isEmpty() ? "" : " ").append(word(w));
                    shown = masked(name, words.get(++i));
                }
            }
            out.append(out.isEmpty() ? "" : " ").append(word(shown));
        }
        return out.toString();
    }

    /** {@code scheme://user:PASSWORD@rest} with the password masked (the last @ ends it, as Go's MySQL DSN reads it). */
    private static String maskedUrlPassword(String url) {
        int scheme = url.indexOf("://");
        int at = url.lastIndexOf('@');
        if (scheme < 0 || at < scheme) {
            return url;
        }
        int colon = url.indexOf(':', scheme + 3);
        return colon < 0 || colon > at ? url : url.substring(0, colon + 1) + OMITTED + url.substring(at);
    }

    /** A one-letter alias keeps one dash ({@code -t}); any other flag is named with two. */
    private static String flagName(String bare) {
        return (bare.length() == 1 ? "-" : "--") + bare;
    }

    /** A word as sh reads it back: single-quoted when it holds blanks, quotes or sh's special characters. */
    private static String word(String v) {
        return v.isEmpty() || !v.matches("[^\\s'\"\\\\$`]+") ? "'" + v.replace("'", "'\\''") + "'" : v;
    }

    /**
     * INSTALL_K3S_EXEC split into words as K3s's install script splits it: on blanks, quotes grouping (and removed),
     * nothing else special ({@code \} and {@code $} are literal: the script escapes them before its eval).
     */
    public static List<String> splitExec(String exec) {
        return split(exec, false);
    }

    /**
     * The {@code ExecStart=} of a K3s unit file as K3s's install script writes it ({@code /usr/local/bin/k3s \},
     * then the command and each argument single-quoted on a line of its own ending in {@code \}): the words after the
     * program, e.g. [server, --cluster-init, --tls-san, 10.0.0.1]. Empty when the unit has no ExecStart.
     */
    public static List<String> execStart(String unit) {
        String[] lines = unit.split("\n", -1);
        StringBuilder cmd = null;
        for (String line : lines) {
            if (cmd == null) {
                if (!line.startsWith("ExecStart=")) {
                    continue;
                }
                cmd = new StringBuilder();
                line = line.substring("ExecStart=".length());
            }
            String l = line.stripTrailing();
            if (l.endsWith("\\")) {
                cmd.append(l, 0, l.length() - 1).append(' ');
                continue;
            }
            cmd.append(l);
            break;
        }
        if (cmd == null) {
            return List.of();
        }
        List<String> words = split(cmd.toString(), true);
        return words.isEmpty() ? words : words.subList(1, words.size());
    }

    /** The flags of a command line; a leading command word (server, agent) is not a flag. */
    public static Set<Flag> flags(List<String> args) {
        Set<Flag> out = new LinkedHashSet<>();
        int i = !args.isEmpty() && !args.get(0).startsWith("-") ? 1 : 0;
        for (; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("-")) {
                out.add(new Flag(a, null));
                continue;
            }
            String bare = a.replaceFirst("^--?", "");
            String value = null;
            int eq = bare.indexOf('=');
            if (eq >= 0) {
                value = bare.substring(eq + 1);
                bare = bare.substring(0, eq);
            } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("-")) {
                value = args.get(++i);
            }
            String name = flagName(bare);
            out.add(new Flag(name, "true".equals(value) ? null : value));
        }
        return out;
    }

    /**
     * What changes from {@code installed} to {@code wanted}, e.g. ["--disable traefik added", "--cluster-init
     * added", "--disable servicelb removed"]: additions in {@code wanted}'s order, then removals in
     * {@code installed}'s; empty when the two are the same set of flags.
     */
    public static List<String> diff(List<String> installed, List<String> wanted) {
        Set<Flag> have = flags(installed);
        Set<Flag> want = flags(wanted);
        List<String> out = new ArrayList<>();
        for (Flag f : want) {
            if (!have.contains(f)) {
                out.add(f + " added");
            }
        }
        for (Flag f : have) {
            if (!want.contains(f)) {
                out.add(f + " removed");
            }
        }
        return out;
    }

    /** Whether the command line has this flag (with any value). */
    public static boolean has(List<String> args, String name) {
        return flags(args).stream().anyMatch(f -> f.name().equals(name));
    }

    /** Words separated by blanks; quotes group; with {@code escapes}, sh's backslash rules too. */
    private static List<String> split(String s, boolean escapes) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (escapes && quote == '"' && c == '\\' && i + 1 < s.length() && "$`\"\\\n".indexOf(s.charAt(i + 1)) >= 0) {
                    w.append(s.charAt(++i));
                } else {
                    w.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (escapes && c == '\\' && i + 1 < s.length()) {
                w.append(s.charAt(++i));
                inWord = true;
            } else if (c == ' ' || c == '\t' || c == '\n') {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unterminated " + quote + " in: " + s);
        }
        if (inWord) {
            words.add(w.toString());
        }
        return words;
    }
}
