package io.k3gpu.core.fleet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Which local secrets a cluster file may name ({@code {env: NAME}}, {@code {file: PATH}} of ssh.sudoPassword and
 * cluster.token). A cluster file is easy to receive from someone else, and apply sends what it names to the hosts
 * it names: without a limit, {@code {file: ~/.ssh/id_ed25519}} or {@code {env: AWS_SECRET_ACCESS_KEY}} would be sent
 * as a sudo password. So:
 * <ul>
 *   <li>{@code env:} names start with {@code K3GPU_} or {@code K3S_}, or end in {@code _SUDO_PASSWORD} or
 *       {@code _K3S_TOKEN} (upper case, digits, underscores);</li>
 *   <li>{@code file:} paths lie, once symlinks and {@code ..} are resolved, in the cluster file's directory or a
 *       subdirectory of it that is not hidden (no name below it starts with a dot), in {@code ~/.config/k3gpu/}, or in
 *       a directory listed in {@value #DIRS_VARIABLE} (absolute paths, colon-separated, as PATH).</li>
 * </ul>
 * Pure apart from resolving paths on this machine; nothing is read.
 */
final class SecretPolicy {
    static final String DIRS_VARIABLE = "K3GPU_SECRET_DIRS";
    static final String ENV_RULE = "names start with K3GPU_ or K3S_, or end in _SUDO_PASSWORD or _K3S_TOKEN";
    private static final Pattern ENV = Pattern.compile("(K3GPU|K3S)_[A-Z0-9_]+|[A-Z0-9_]*_(SUDO_PASSWORD|K3S_TOKEN)");

    private final Path clusterDir;
    private final List<Path> allowedDirs;
    private final String allowedText;

    /**
     * @param clusterDir  the cluster file's directory; null when the text has no file
     * @param home        the user's home
     * @param environment the k3gpu process's environment ({@value #DIRS_VARIABLE})
     */
    SecretPolicy(Path clusterDir, Path home, Function<String, String> environment) {
        this.clusterDir = clusterDir == null ? null : real(clusterDir.toAbsolutePath());
        List<Path> dirs = new ArrayList<>();
        dirs.add(real(home.resolve(".config/k3gpu")));
        String listed = environment.apply(DIRS_VARIABLE);
        if (listed != null) {
            for (String d : listed.split(":")) {
                if (!d.isBlank() && Path.of(d).isAbsolute()) {
                    dirs.add(real(Path.of(d)));
                }
            }
        }
        this.allowedDirs = List.copyOf(dirs);
        this.allowedText = (clusterDir == null ? "" : "the cluster file's directory (" + this.clusterDir + "), ")
                + "~/.config/k3gpu/ or a directory of $" + DIRS_VARIABLE;
    }

    /** Why {@code name} may not be read; null when it may. */
    String envProblem(String name) {
        return ENV.matcher(name).matches() ? null
                : "the environment variable " + name + " is not one k3gpu reads secrets from (" + ENV_RULE + ")";
    }

    /** Why {@code file} may not be read; null when it may. */
    String fileProblem(Path file) {
        Path p = real(file.toAbsolutePath());
        if (clusterDir != null && p.startsWith(clusterDir) && !hiddenBelow(clusterDir, p)) {
            return null;
        }
        for (Path dir : allowedDirs) {
            if (p.startsWith(dir)) {
                return null;
            }
        }
        return (p.equals(file) ? file.toString() : file + " (" + p + ")") + " is outside the places secrets are read "
                + "from: " + allowedText;
    }

    private static boolean hiddenBelow(Path dir, Path p) {
        for (Path name : dir.relativize(p)) {
            if (name.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The path as the system opens it: symlinks and {@code ..} resolved as far as it exists (a missing file is judged
     * by where it would be).
     */
    private static Path real(Path p) {
        Path existing = p;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return p.normalize();
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(p)).normalize();
        } catch (IOException e) {
            return p.normalize();
        }
    }
}
