package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.text.TerminalText;
import picocli.CommandLine;

import java.io.PrintWriter;

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
        err.println("error: " + ex.getMessage() + "; see '" + cl.getCommandSpec().qualifiedName() + " --help'");
        return ExitCode.USAGE.code();
    }
}
