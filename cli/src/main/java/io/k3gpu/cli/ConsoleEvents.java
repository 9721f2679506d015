package io.k3gpu.cli;

import io.k3gpu.core.event.Events;

import java.io.PrintWriter;

/** Renders the core's progress events as lines on stderr, so stdout keeps only results. */
final class ConsoleEvents implements Events {
    private final PrintWriter err;

    ConsoleEvents(PrintWriter err) {
        this.err = err;
    }

    @Override
    public void info(String host, String message) {
        err.println((host == null ? "" : host + ": ") + message);
        err.flush();
    }

    @Override
    public void warn(String host, String message) {
        err.println("warning: " + (host == null ? "" : host + ": ") + message);
        err.flush();
    }
}
