package io.k3gpu.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "demo", description = "Run the whole flow on the embedded lab (needs root).")
final class DemoCommand implements Callable<Integer> {
    private final Terminal terminal;

    DemoCommand(Terminal terminal) {
        this.terminal = terminal;
    }

    @Override
    public Integer call() {
        terminal.out().println("k3gpu demo: not yet available");
        return 0;
    }
}
