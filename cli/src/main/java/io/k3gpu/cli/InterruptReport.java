package io.k3gpu.cli;

import io.k3gpu.core.remote.ChangesInFlight;

import java.io.PrintWriter;
import java.time.Duration;

/**
 * On Ctrl-C the JVM runs shutdown hooks and exits 130 (143 on SIGTERM): this one rolls back the changes still in
 * flight on nodes and prints, one line per node, what was rolled back or what was left and how to restore it.
 */
final class InterruptReport {
    /** How long the hook may spend rolling back: a restart has its own deadline, and the user is waiting. */
    static final Duration UNDO_LIMIT = Duration.ofSeconds(30);
    private static volatile boolean finished;

    private InterruptReport() {
    }

    static void install(PrintWriter err) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> report(err), "k3gpu-interrupted"));
    }

    /** The run ended on its own: the hook has nothing to say (a flow closes its changes before it returns). */
    static void finished() {
        finished = true;
    }

    private static void report(PrintWriter err) {
        if (finished) {
            return;
        }
        err.println("error: interrupted");
        for (ChangesInFlight.Outcome o : ChangesInFlight.process().undoAll(UNDO_LIMIT)) {
            err.println("interrupted: " + o.host() + ": " + (o.undone() ? "rolled back: " : "NOT rolled back: ")
                    + o.detail());
        }
        err.flush();
    }
}
