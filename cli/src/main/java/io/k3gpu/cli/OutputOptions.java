package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import picocli.CommandLine.Option;

/** -o text|json for commands that report. */
public final class OutputOptions {
    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text",
            description = "text (default) or json.")
    String output;

    public boolean json() {
        return switch (output) {
            case "json" -> true;
            case "text" -> false;
            default -> throw new K3gpuException(ExitCode.USAGE, "unknown output format '" + output + "'",
                    "use -o text or -o json");
        };
    }
}
