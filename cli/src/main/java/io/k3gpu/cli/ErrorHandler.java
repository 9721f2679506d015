package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.text.TerminalText;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns every failure into one line on stderr ("error: ..." and what to do), with a stack trace only with --debug. */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parseResult) {
        PrintWriter err = cl.getErr();
        boolean debug = parseResult.matchedOptionValue("--debug", false)
                || cl.getCommandSpec().root().userObject() instanceof K3gpu k && k.debug;
        if (ex instanceof K3gpuException k) {
            err.println(line(k));
            if (debug) {
                ex.printStackTrace(err);
            }
            return k.exitCode().code();
        }
        if (ex instanceof InterruptedException) {
            err.println("error: interrupted");
            return ExitCode.INTERRUPTED.code();
        }
        err.println("error: " + (ex.getMessage() == null ? ex.getClass().getSimpleName() : TerminalText.strip(ex.getMessage()))
                + (debug ? "" : " (run with --debug for details)"));
        if (debug) {
            ex.printStackTrace(err);
        }
        return ExitCode.FAILED.code();
    }

    static String line(K3gpuException k) {
        // Messages carry node text (stderr tails, hostnames): printed without its control sequences.
        String msg = TerminalText.strip(k.getMessage().replaceAll("\\s*\\R\\s*", " "));
        return "error: " + msg + (k.hint() == null ? "" : "; " + TerminalText.strip(k.hint()));
    }

    static int usage(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("error: " + message(ex.getMessage()) + "; see '" + cl.getCommandSpec().qualifiedName()
                + " --help'");
        return ExitCode.USAGE.code();
    }

    private static final Pattern EXCLUSIVE =
            Pattern.compile("Error: (.*) are mutually exclusive \\(specify only one\\)");
    private static final Pattern TWICE =
            Pattern.compile("Error: expected only one match but got \\[([^\\]]*)\\].*");

    /**
     * picocli's message, said as k3gpu says errors: what happened and what to do. Its argument-group messages
     * ("Error: --ip=IP, --all are mutually exclusive (specify only one)") name the options given, with labels.
     */
    static String message(String picocli) {
        Matcher m = EXCLUSIVE.matcher(picocli);
        if (m.matches()) {
            List<String> given = names(m.group(1).split(", "));
            return String.join(" and ", given) + " cannot be used together; pass only one of them";
        }
        m = TWICE.matcher(picocli);
        if (m.matches()) {
            return "only one of " + String.join(", ", names(m.group(1).split(" \\| "))) + " can be given, once";
        }
        return picocli.startsWith("Error: ") ? picocli.substring("Error: ".length()) : picocli;
    }

    /** {@code --ip=IP} as {@code --ip}. */
    private static List<String> names(String[] options) {
        List<String> names = new ArrayList<>();
        for (String o : options) {
            names.add(o.strip().replaceFirst("=.*", ""));
        }
        return names;
    }
}
