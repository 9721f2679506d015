package io.k3gpu.cli;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** Runs the k3gpu CLI in-process, as a user would from a shell, capturing what it prints. */
final class Cli {
    record Result(int exit, String out, String err) {
        String all() {
            return out + err;
        }
    }

    private Cli() {
    }

    static Result run(String... args) {
        return run("", Map.of(), args);
    }

    static Result run(String stdin, Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Map<String, String> environment = new HashMap<>(env);
        int code = K3gpu.run(args, new PrintWriter(out), new PrintWriter(err),
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), environment);
        return new Result(code, out.toString(), err.toString());
    }
}
