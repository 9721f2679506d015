package io.k3gpu.cli;

import picocli.CommandLine.Option;

/** -o text|json for commands that report; picocli refuses any other value (exit 2) before the command runs. */
public final class OutputOptions {
    /** The output formats; lower case, as they are typed. */
    enum Format { text, json }

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text",
            description = "text (default) or json.")
    Format output;

    public boolean json() {
        return output == Format.json;
    }
}
