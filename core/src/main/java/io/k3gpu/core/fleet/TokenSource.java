package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.util.LocalFiles;

import java.nio.file.Path;
import java.util.function.Function;

/**
 * Where the cluster's join token comes from ({@code cluster.token}). It is never written in the file itself: the
 * default reads the first server's token over SSH (as {@code k3gpu join} does); a file or an environment variable
 * supplies a token of the user's choosing, which the first server is then installed with.
 *
 * @param file a local file holding the token (relative paths are relative to cluster.yaml); null otherwise
 * @param env  the name of an environment variable of the k3gpu process holding it; null otherwise
 */
public record TokenSource(Path file, String env) {
    public static final TokenSource FROM_SERVER = new TokenSource(null, null);

    public boolean fromServer() {
        return file == null && env == null;
    }

    /** The token from the file or the environment; null when it comes from the server. */
    public char[] read(Function<String, String> environment) {
        if (file != null) {
            String t = LocalFiles.read(file).map(String::strip).orElseThrow(() -> new K3gpuException(ExitCode.USAGE,
                    "cluster.token.file: no token file at " + file, "create it (mode 0600) or use token: {fromServer: true}"));
            if (t.isEmpty()) {
                throw new K3gpuException(ExitCode.USAGE, "cluster.token.file: " + file + " is empty", null);
            }
            return t.toCharArray();
        }
        if (env != null) {
            String t = environment.apply(env);
            if (t == null || t.isBlank()) {
                throw new K3gpuException(ExitCode.USAGE, "cluster.token.env: the environment variable " + env
                        + " is not set", "export it, or use token: {fromServer: true}");
            }
            return t.strip().toCharArray();
        }
        return null;
    }

    @Override
    public String toString() {
        return file != null ? "file " + file : env != null ? "env " + env : "fromServer";
    }
}
