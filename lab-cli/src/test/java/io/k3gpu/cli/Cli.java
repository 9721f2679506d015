package io.k3gpu.cli;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;

/** Runs the lab's jar's entry point in-process, capturing what it prints. */
final class Cli {
    record Result(int exit, String out, String err) {
        String all() {
            return out + err;
        }
    }

    private Cli() {
    }

    static Result lab(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LabMain.run(args, new PrintWriter(out), new PrintWriter(err), new ByteArrayInputStream(new byte[0]),
                new HashMap<>());
        return new Result(code, out.toString(), err.toString());
    }
}
