package io.k3gpu.core.telemetry;

import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Turns a stream of tegrastats or nvidia-smi lines into JSON lines, for {@code k3gpu stats parse}: one
 * {@link GpuSampleJson} object per sample, and for a line that cannot be parsed the error object
 * {@code {"error":"...","line":N}} (N counts every input line from 1, comments and blank lines included) &mdash; a
 * bad line never stops the stream. Blank lines and lines starting with {@code #} are skipped; an nvidia-smi header
 * line sets the columns and prints nothing.
 *
 * <p>With {@link SourceOption#AUTO} the source is taken from the first line that {@link SourceDetector} recognises
 * and kept for the rest of the stream; lines before it that are not recognised give error objects.
 */
public final class TelemetryStreamParser {

    /** The {@code --source} option. */
    public enum SourceOption {
        AUTO, TEGRASTATS, NVIDIA_SMI;

        /** {@code auto}, {@code tegrastats} or {@code nvidia-smi} (case-insensitive). */
        public static SourceOption fromOption(String option) {
            switch (option.strip().toLowerCase(Locale.ROOT)) {
                case "auto":
                    return AUTO;
                case "tegrastats":
                    return TEGRASTATS;
                case "nvidia-smi":
                case "nvidia_smi":
                    return NVIDIA_SMI;
                default:
                    throw new IllegalArgumentException("unknown telemetry source '" + option
                            + "': expected auto, tegrastats or nvidia-smi");
            }
        }
    }

    private final List<String> nvidiaSmiFields;

    /** nvidia-smi input must then carry a header line ({@code --format=csv}). */
    public TelemetryStreamParser() {
        this.nvidiaSmiFields = null;
    }

    /** For nvidia-smi {@code noheader} input: the {@code --query-gpu} fields, in order. */
    public TelemetryStreamParser(List<String> nvidiaSmiFields) {
        this.nvidiaSmiFields = nvidiaSmiFields == null ? null : List.copyOf(nvidiaSmiFields);
    }

    /** What a stream gives, line by line: its samples and the lines that are not telemetry. */
    public interface Sink {
        void sample(GpuSample sample);

        /** Input line {@code line} (1-based, every line counted) could not be read as telemetry. */
        void error(String message, long line);
    }

    /** How many lines of a stream gave samples, and how many could not be read (comments and blanks are neither). */
    public record Counts(long samples, long errors) {
    }

    /**
     * The JSON lines for the input lines, lazily and in order. Each call has its own state (detected source,
     * nvidia-smi columns); the input stream is consumed sequentially.
     */
    public Stream<String> parse(Stream<String> lines, SourceOption source) {
        Session session = new Session(source);
        AtomicLong number = new AtomicLong();
        List<String> out = new ArrayList<>(1);
        Sink json = new Sink() {
            @Override
            public void sample(GpuSample sample) {
                out.add(GpuSampleJson.toJson(sample));
            }

            @Override
            public void error(String message, long line) {
                out.add(GpuSampleJson.error(message, line));
            }
        };
        return lines.sequential().flatMap(line -> {
            out.clear();
            session.line(line, number.incrementAndGet(), json);
            return out.isEmpty() ? Stream.empty() : Stream.of(out.get(0));
        });
    }

    /** Reads {@code lines} to the end (streaming: one line in memory at a time), giving each result to the sink. */
    public Counts parse(BufferedReader lines, SourceOption source, Sink sink) throws IOException {
        Session session = new Session(source);
        long n = 0;
        long samples = 0;
        long errors = 0;
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            switch (session.line(line, ++n, sink)) {
                case SAMPLE -> samples++;
                case ERROR -> errors++;
                default -> { }
            }
        }
        return new Counts(samples, errors);
    }

    private enum Outcome { NOTHING, SAMPLE, ERROR }

    /** The state of one stream. */
    private final class Session {
        private Source source;
        private NvidiaSmiCsvParser smi;

        Session(SourceOption option) {
            if (option == SourceOption.TEGRASTATS) {
                source = Source.TEGRASTATS;
            } else if (option == SourceOption.NVIDIA_SMI) {
                source = Source.NVIDIA_SMI;
            }
        }

        Outcome line(String line, long n, Sink sink) {
            String s = line.strip();
            if (s.isEmpty() || s.startsWith("#")) {
                return Outcome.NOTHING;
            }
            GpuSample sample;
            String error = null;
            try {
                sample = sample(s);
            } catch (TelemetryParseException e) {
                sample = null;
                error = e.getMessage();
            } catch (RuntimeException e) {
                sample = null;
                error = "cannot parse line: " + e;
            }
            // the sink is called outside the try: its own failures (output) are not the line's
            if (error != null) {
                sink.error(error, n);
                return Outcome.ERROR;
            }
            if (sample == null) {
                return Outcome.NOTHING; // an nvidia-smi header line: it sets the columns
            }
            sink.sample(sample);
            return Outcome.SAMPLE;
        }

        private GpuSample sample(String s) {
            if (source == null) {
                Optional<Source> detected = SourceDetector.detect(s).source();
                if (detected.isEmpty()) {
                    throw new TelemetryParseException("not tegrastats or nvidia-smi output: '"
                            + TegrastatsParser.abbreviate(s) + "'");
                }
                source = detected.get();
            }
            if (source == Source.TEGRASTATS) {
                return TegrastatsParser.parse(s);
            }
            if (smi == null) {
                smi = nvidiaSmiFields == null ? new NvidiaSmiCsvParser() : NvidiaSmiCsvParser.forFields(nvidiaSmiFields);
            }
            return smi.parseLine(s).orElse(null);
        }
    }
}
