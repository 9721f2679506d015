package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** The streams, stdin and environment of one run; the only place commands read secrets from. */
public final class Terminal {
    private final PrintWriter out;
    private final PrintWriter err;
    private final PrintWriter screen;
    private final InputStream in;
    private final Map<String, String> env;
    private BufferedReader stdinLines;

    /** {@code out} and {@code err} as given; {@link #out()} and {@link #err()} print them without control sequences. */
    Terminal(PrintWriter out, PrintWriter err, InputStream in, Map<String, String> env) {
        this.out = new PrintWriter(new ControlFreeWriter(out));
        this.err = new PrintWriter(new ControlFreeWriter(err));
        this.screen = out;
        this.in = in;
        this.env = env;
    }

    /** Standard output; control sequences in what is printed (from nodes, from the cluster) are removed. */
    public PrintWriter out() {
        return out;
    }

    /**
     * Standard output as is, for the views that draw with escape sequences (the live stats view, apply's live
     * progress); they strip the remote text they draw themselves.
     */
    public PrintWriter screen() {
        return screen;
    }

    /** Standard error; control sequences are removed as on {@link #out()}. */
    public PrintWriter err() {
        return err;
    }

    /** Standard input, for commands that read data from it (e.g. {@code stats parse -}). */
    public InputStream in() {
        return in;
    }

    public String env(String name) {
        return env.get(name);
    }

    /** Reads one line of stdin as a secret (for --password-stdin and --sudo-password-stdin). */
    public char[] secretFromStdin(String flag) {
        try {
            if (stdinLines == null) {
                stdinLines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            }
            String line = stdinLines.readLine();
            if (line == null || line.isEmpty()) {
                throw new K3gpuException(ExitCode.USAGE, flag + " was given but stdin held no password",
                        "pipe the password in, e.g. printf '%s\\n' \"$PASS\" | k3gpu ... " + flag);
            }
            return line.toCharArray();
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.USAGE, "cannot read stdin for " + flag + ": " + e.getMessage(), null);
        }
    }

    /** Asks for a secret on the console without echo; null when there is no console. */
    public char[] prompt(String question) {
        Console console = System.console();
        return console == null ? null : console.readPassword("%s", question);
    }
}
