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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;

@Command(name = "parse", mixinStandardHelpOptions = true,
        description = {"Parse tegrastats or nvidia-smi CSV output into one JSON object or text line per sample.",
                "Reads a file, or - for stdin. A line that cannot be parsed gives {\"error\": \"...\", "
                + "\"line\": N} and parsing goes on; the exit code is 2 when no line is telemetry."})
final class StatsParseCommand implements Callable<Integer> {
    /** Beyond this the reading thread (and the output) is what bounds the rate, and memory grows with each thread. */
    private static final int MAX_THREADS = 4;

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
        // line for JSON, no char writers): the output path, not the parser, bounded the end-to-end rate. Batches of
        // lines are parsed and formatted on every core, and written in input order, one write per batch
        // (docs/benchmarks.md, "stats parse").
        OutputStream stdout = terminal.outBytes();
        TelemetryStreamParser.Counts counts;
        try (InputStream in = open()) {
            // a batch's buffers are used again once written out: at most 2 per thread + 1 are ever made
            Queue<Batch> written = new ConcurrentLinkedQueue<>();
            counts = parser.parse(in, option, () -> Objects.requireNonNullElseGet(written.poll(), () -> new Batch(text)),
                    b -> {
                        b.writeTo(stdout, err);
                        written.add(b);
                    }, Math.min(MAX_THREADS, Runtime.getRuntime().availableProcessors()));
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.USAGE, "cannot read " + name() + ": " + e.getMessage(), null, e);
        } catch (UncheckedIOException e) {
            // only the output throws it: stdout is gone (a closed pipe) or full; stop reading
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

    /** One batch's output, made on a parsing thread: JSON lines, or text lines and their warnings. */
    private static final class Batch implements TelemetryStreamParser.Sink {
        private final ByteArrayOutputStream bytes;
        private final GpuSampleJson.LineWriter json;
        private final List<String> warnings;

        Batch(boolean text) {
            json = text ? null : new GpuSampleJson.LineWriter();
            bytes = text ? new ByteArrayOutputStream(256 * 1024) : null;
            warnings = text ? new ArrayList<>() : null;
        }

        @Override
        public void sample(GpuSample s) {
            if (json != null) {
                json.sample(s);
                return;
            }
            // node text (sensor and rail names) reaches the terminal: without control sequences, as out() prints
            byte[] line = TerminalText.strip(StatsPlainLine.format(s.time() == null ? null : s.time().toLocalTime(),
                    null, s)).getBytes(StandardCharsets.UTF_8);
            bytes.write(line, 0, line.length);
            bytes.write('\n');
        }

        @Override
        public void error(String message, long line) {
            if (json != null) {
                json.error(message, line);
            } else {
                warnings.add("warning: line " + line + ": " + message);
            }
        }

        /** On the reading thread, in input order; the batch is then empty, to be used again. */
        void writeTo(OutputStream stdout, PrintWriter err) {
            if (json != null) {
                json.writeTo(stdout);
                return;
            }
            warnings.forEach(err::println);
            warnings.clear();
            try {
                bytes.writeTo(stdout);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            bytes.reset();
        }
    }

    private String name() {
        return file.equals("-") ? "stdin" : file;
    }

    private InputStream open() throws IOException {
        if (file.equals("-")) {
            return terminal.in();
        }
        try {
            return Files.newInputStream(Path.of(file));
        } catch (NoSuchFileException e) {
            throw new K3gpuException(ExitCode.USAGE, "no such file: " + file, "give a tegrastats or nvidia-smi "
                    + "output file, or - for stdin");
        }
    }

}
