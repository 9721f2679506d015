package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.telemetry.TelemetryStreamParser;
import io.k3gpu.core.telemetry.TelemetryStreamParser.SourceOption;
import io.k3gpu.core.telemetry.live.RecordedSample;
import io.k3gpu.core.telemetry.live.Recordings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "parse", mixinStandardHelpOptions = true,
        description = {"Parse tegrastats or nvidia-smi CSV output into one JSON object or text line per sample.",
                "Reads a file, or - for stdin. A line that cannot be parsed gives {\"error\": \"...\", "
                + "\"line\": N} and parsing goes on; the exit code is 2 when no line is telemetry."})
final class StatsParseCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", defaultValue = "-",
            description = "The file to read; - (default) reads stdin.")
    String file;

    @Option(names = "--source", paramLabel = "SOURCE", defaultValue = "auto",
            description = "auto (default: from the first recognisable line), tegrastats or nvidia-smi.")
    String source;

    @Option(names = "--fields", paramLabel = "FIELD,...", split = ",",
            description = "The --query-gpu fields of nvidia-smi output printed with noheader, in order.")
    List<String> fields;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "json",
            description = "json (default: one object per line) or text (one readable line per sample).")
    String output;

    StatsParseCommand(Terminal terminal) {
        this.terminal = terminal;
    }

    @Override
    public Integer call() {
        SourceOption option;
        try {
            option = SourceOption.fromOption(source);
        } catch (IllegalArgumentException e) {
            throw new K3gpuException(ExitCode.USAGE, e.getMessage(), "use --source auto, tegrastats or nvidia-smi");
        }
        boolean text = switch (output.toLowerCase(Locale.ROOT)) {
            case "json" -> false;
            case "text" -> true;
            default -> throw new K3gpuException(ExitCode.USAGE, "unknown output format '" + output + "'",
                    "use -o json or -o text");
        };
        TelemetryStreamParser parser = new TelemetryStreamParser(fields == null || fields.isEmpty() ? null
                : fields.stream().map(String::strip).filter(f -> !f.isEmpty()).toList());
        PrintWriter out = terminal.out();
        PrintWriter err = terminal.err();
        try (BufferedReader in = open()) {
            Stream<String> json = parser.parse(in.lines(), option);
            Iterator<String> it = json.iterator();
            while (it.hasNext()) {
                String line = it.next();
                if (!text) {
                    out.println(line);
                    continue;
                }
                RecordedSample s = Recordings.parse(line);
                if (s == null) {
                    err.println("warning: " + line);
                } else {
                    out.println(StatsPlainLine.format(s.sample().time() == null ? null
                            : s.sample().time().toLocalTime(), null, s.sample()));
                }
            }
        } catch (IOException | UncheckedIOException e) {
            throw new K3gpuException(ExitCode.USAGE, "cannot read " + (file.equals("-") ? "stdin" : file) + ": "
                    + e.getMessage(), null, e);
        }
        out.flush();
        return 0;
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
