package io.k3gpu.core.telemetry;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
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

    /** Reads {@code in} to the end (streaming: a chunk of lines in memory at a time), giving each result to the sink. */
    public Counts parse(InputStream in, SourceOption source, Sink sink) throws IOException {
        return parse(in, source, () -> sink, s -> { }, 1);
    }

    /**
     * Reads {@code in} to the end, a chunk of lines at a time ({@link LineChunks}), on up to {@code threads} threads:
     * each chunk gives its results to its own sink from {@code batches} (used by one thread only), and
     * {@code inOrder} gets every chunk's sink back on the calling thread, in input order, once the chunk is done.
     * Tegrastats lines are independent of each other, so once the stream is known to be tegrastats its chunks are
     * split, decoded and parsed side by side; the lines before that (detection) and nvidia-smi streams (a header line
     * sets the columns of the lines after it) are parsed in order on the calling thread. At most
     * {@code 2 * threads + 1} chunks are held at once, so memory stays bounded whatever the input's length; before
     * waiting for more input, what is parsed goes out (a live tegrastats on stdin gets each line out at once). A
     * failure of {@code inOrder} (the output) stops the reading and is thrown as it is.
     */
    public <S extends Sink> Counts parse(InputStream in, SourceOption source, Supplier<S> batches,
                                         Consumer<S> inOrder, int threads) throws IOException {
        Session session = new Session(source);
        LineChunks chunks = new LineChunks(in);
        ExecutorService pool = threads > 1 ? Executors.newFixedThreadPool(threads, TelemetryStreamParser::daemon) : null;
        ArrayDeque<Future<Batch<S>>> held = new ArrayDeque<>();
        long[] counts = new long[2];
        try {
            while (true) {
                if (!held.isEmpty() && !chunks.ready()) {
                    while (!held.isEmpty()) {
                        done(held.poll(), inOrder, counts);
                    }
                }
                LineChunks.Chunk chunk = chunks.next();
                if (chunk == null) {
                    break;
                }
                if (pool != null && session.source == Source.TEGRASTATS) {
                    held.add(pool.submit(() -> Batch.of(new Session(SourceOption.TEGRASTATS), chunk, batches.get())));
                } else {
                    held.add(CompletableFuture.completedFuture(Batch.of(session, chunk, batches.get())));
                }
                while (held.size() > 2 * threads) {
                    done(held.poll(), inOrder, counts);
                }
            }
            while (!held.isEmpty()) {
                done(held.poll(), inOrder, counts);
            }
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
        }
        return new Counts(counts[0], counts[1]);
    }

    private static <S extends Sink> void done(Future<Batch<S>> next, Consumer<S> inOrder, long[] counts) {
        Batch<S> b;
        try {
            b = next.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while parsing", e);
        } catch (ExecutionException e) {
            // a line's own failures are caught per line: what reaches here is a bug or an Error; rethrow it unwrapped
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
        inOrder.accept(b.sink());
        counts[0] += b.samples();
        counts[1] += b.errors();
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r, "stats-parse");
        t.setDaemon(true);
        return t;
    }

    /** One chunk's lines parsed into its sink. */
    private record Batch<S extends Sink>(S sink, long samples, long errors) {
        static <S extends Sink> Batch<S> of(Session session, LineChunks.Chunk chunk, S sink) {
            long[] counts = new long[2];
            chunk.eachLine((line, n) -> {
                switch (session.line(line, n, sink)) {
                    case SAMPLE -> counts[0]++;
                    case ERROR -> counts[1]++;
                    default -> { }
                }
            });
            return new Batch<>(sink, counts[0], counts[1]);
        }
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
