package io.k3gpu.core.remote;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Runs a command line with the local /bin/sh, as the node's shell would: proves built commands really work. */
public final class LocalSh {
    private LocalSh() {
    }

    public static ExecResult run(String command, String stdin, Map<String, String> env) {
        return run(command, stdin == null ? null : stdin.getBytes(StandardCharsets.UTF_8), env);
    }

    /** With bytes on stdin (an upload's header and content, or a cut part of them). */
    public static ExecResult runBytes(String command, byte[] stdin) {
        return run(command, stdin, Map.of());
    }

    private static ExecResult run(String command, byte[] stdin, Map<String, String> env) {
        try {
            ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command);
            pb.environment().putAll(env);
            Process p = pb.start();
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin);
                }
            }
            byte[] out = p.getInputStream().readAllBytes();
            byte[] err = p.getErrorStream().readAllBytes();
            return new ExecResult(p.waitFor(), out, err);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static ExecResult run(String command, String stdin) {
        return run(command, stdin, Map.of());
    }
}
