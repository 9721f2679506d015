package io.k3gpu.core.telemetry;

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

    /**
     * The JSON lines for the input lines, lazily and in order. Each call has its own state (detected source,
     * nvidia-smi columns); the input stream is consumed sequentially.
     */
    public Stream<String> parse(Stream<String> lines, SourceOption source) {
        Session session = new Session(source);
        AtomicLong number = new AtomicLong();
        return lines.sequential()
                .map(line -> session.line(line, number.incrementAndGet()))
                .flatMap(Optional::stream);
    }

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

        Optional<String> line(String line, long n) {
            if (line == null) {
                return Optional.empty();
            }
            String s = line.strip();
            if (s.isEmpty() || s.startsWith("#")) {
                return Optional.empty();
            }
            try {
                if (source == null) {
                    Optional<Source> detected = SourceDetector.detect(s).source();
                    if (detected.isEmpty()) {
                        return Optional.of(GpuSampleJson.error(
                                "not tegrastats or nvidia-smi output: '" + TegrastatsParser.abbreviate(s) + "'", n));
                    }
                    source = detected.get();
                }
                if (source == Source.TEGRASTATS) {
                    return Optional.of(GpuSampleJson.toJson(TegrastatsParser.parse(s)));
                }
                if (smi == null) {
                    smi = nvidiaSmiFields == null ? new NvidiaSmiCsvParser()
                            : NvidiaSmiCsvParser.forFields(nvidiaSmiFields);
                }
                return smi.parseLine(s).map(GpuSampleJson::toJson);
            } catch (TelemetryParseException e) {
                return Optional.of(GpuSampleJson.error(e.getMessage(), n));
            } catch (RuntimeException e) {
                return Optional.of(GpuSampleJson.error("cannot parse line: " + e, n));
            }
        }
    }
}
