package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.GpuSampleJson;
import io.k3gpu.core.telemetry.TelemetryStreamParser;
import io.k3gpu.core.telemetry.TelemetryStreamParser.SourceOption;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import io.k3gpu.core.text.TerminalText;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "parse", mixinStandardHelpOptions = true,
        description = {"Parse tegrastats or nvidia-smi CSV output into one JSON object or text line per sample.",
                "Reads a file, or - for stdin. A line that cannot be parsed gives {\"error\": \"...\", "
                + "\"line\": N} and parsing goes on; the exit code is 2 when no line is telemetry."})
final class StatsParseCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", defaultValue = "-",
            description = "The file to read; - (default) reads stdin.")
    String file;

    @Option(names = "--source", paramLabel = "SOURCE", defaultValue = "auto", converter = SourceConverter.class,
            description = "auto (default: from the first recognisable line), tegrastats or nvidia-smi.")
    SourceOption source;

    @Option(names = "--fields", paramLabel = "FIELD,...", split = ",",
            description = "The --query-gpu fields of nvidia-smi output printed with noheader, in order.")
    List<String> fields;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "json",
            description = "json (default: one object per line) or text (one readable line per sample).")
    OutputOptions.Format output;

    StatsParseCommand(Terminal terminal) {
        this.terminal = terminal;
    }

    @Override
    public Integer call() {
        SourceOption option = source;
        boolean text = output == OutputOptions.Format.text;
        TelemetryStreamParser parser = new TelemetryStreamParser(fields == null || fields.isEmpty() ? null
                : fields.stream().map(String::strip).filter(f -> !f.isEmpty()).toList());
        PrintWriter err = terminal.err();
        // Straight from each parsed sample to stdout's bytes (no JSON round trip for text, no tree or generator per
        // line for JSON, no char writers): the output path, not the parser, bounded the end-to-end rate
        // (docs/benchmarks.md, "stats parse").
        OutputStream stdout = terminal.outBytes();
        GpuSampleJson.LineWriter json = text ? null : new GpuSampleJson.LineWriter(stdout);
        BufferedOutputStream lines = text ? new BufferedOutputStream(stdout, 64 * 1024) : null;
        TelemetryStreamParser.Sink sink = text ? new TelemetryStreamParser.Sink() {
            @Override
            public void sample(GpuSample s) {
                // node text (sensor and rail names) reaches the terminal: without control sequences, as out() prints
                String line = TerminalText.strip(StatsPlainLine.format(s.time() == null ? null
                        : s.time().toLocalTime(), null, s));
                try {
                    lines.write(line.getBytes(StandardCharsets.UTF_8));
                    lines.write('\n');
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }

            @Override
            public void error(String message, long line) {
                err.println("warning: line " + line + ": " + message);
            }
        } : new TelemetryStreamParser.Sink() {
            @Override
            public void sample(GpuSample s) {
                json.sample(s);
            }

            @Override
            public void error(String message, long line) {
                json.error(message, line);
            }
        };
        TelemetryStreamParser.Counts counts;
        try (BufferedReader in = open()) {
            try {
                counts = parser.parse(in, option, sink);
            } finally {
                if (json != null) {
                    json.flush();
                } else {
                    lines.flush();
                }
            }
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.USAGE, "cannot read " + name() + ": " + e.getMessage(), null, e);
        } catch (UncheckedIOException e) {
            // only the sinks throw it: stdout is gone (a closed pipe) or full; stop reading
            throw new K3gpuException(ExitCode.FAILED, "cannot write the output: " + e.getCause().getMessage(),
                    "check where standard output goes", e);
        }
        if (counts.errors() > 0) {
            err.println("stats parse: " + counts.errors() + (counts.errors() == 1 ? " line" : " lines") + " of "
                    + name() + " could not be read as telemetry" + (text ? "" : " (error objects in the output)"));
        }
        err.flush();
        if (counts.samples() == 0) {
            throw new K3gpuException(ExitCode.USAGE, "no line of " + name() + " is tegrastats or nvidia-smi output",
                    "give the output of tegrastats or nvidia-smi --query-gpu=... --format=csv (with --source and "
                            + "--fields for noheader CSV)");
        }
        return 0;
    }

    private String name() {
        return file.equals("-") ? "stdin" : file;
    }

    private BufferedReader open() throws IOException {
        if (file.equals("-")) {
            return new BufferedReader(new InputStreamReader(terminal.in(), StandardCharsets.UTF_8));
        }
        try {
            return Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new K3gpuException(ExitCode.USAGE, "no such file: " + file, "give a tegrastats or nvidia-smi "
                    + "output file, or - for stdin");
        }
    }

}
