package io.k3gpu.core.telemetry.live;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.GpuSampleJson;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Writes followed samples to a file as they arrive: {@code .jsonl} (one object per line: {@code node},
 * {@code received}, then the {@link GpuSampleJson} keys; everything is kept) or {@code .csv} (the
 * {@link SampleColumns} of each sample after {@code received, node, source, time}). A CSV's header is fixed once every
 * node has sent a sample (or after 5 s): columns that appear only later are left out, so {@code .jsonl} is the
 * format that keeps everything. Thread-safe; written through a buffer flushed at least every second and on close.
 */
public abstract class Recorder implements TelemetryListener, AutoCloseable {
    static final DateTimeFormatter TIME = DateTimeFormatter.ISO_LOCAL_DATE_TIME;
    private static final long FLUSH_NANOS = 1_000_000_000L;

    final Writer out;
    private final Path file;
    private long lastFlush = System.nanoTime();
    private IOException failure;

    private Recorder(Path file) {
        this.file = file;
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            this.out = new BufferedWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8), 64 * 1024);
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.USAGE, "cannot write " + file + ": " + e.getMessage(),
                    "pass --record with a writable path", e);
        }
    }

    /**
     * A recorder for {@code file}, chosen by its extension ({@code .jsonl}, {@code .ndjson}, {@code .csv}).
     *
     * @param nodes how many nodes will be recorded (a CSV waits for each one's first sample to fix its header)
     */
    public static Recorder open(Path file, int nodes) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
            return new Jsonl(file);
        }
        if (name.endsWith(".csv")) {
            return new Csv(file, nodes);
        }
        throw new K3gpuException(ExitCode.USAGE, "unknown recording format: " + file,
                "name the file FILE.jsonl (everything) or FILE.csv (flat columns)");
    }

    /** The file written. */
    public Path file() {
        return file;
    }

    @Override
    public final synchronized void sample(String node, LocalDateTime received, GpuSample sample) {
        if (failure != null) {
            return;
        }
        try {
            write(node, received.truncatedTo(ChronoUnit.MILLIS), sample);
            long now = System.nanoTime();
            if (now - lastFlush > FLUSH_NANOS) {
                out.flush();
                lastFlush = now;
            }
        } catch (IOException e) {
            failure = e;
        }
    }

    abstract void write(String node, LocalDateTime received, GpuSample sample) throws IOException;

    void finish() throws IOException {
    }

    /** Flushes and closes the file. @throws UncheckedIOException when a write failed */
    @Override
    public synchronized void close() {
        try {
            if (failure == null) {
                finish();
            }
            out.close();
        } catch (IOException e) {
            if (failure == null) {
                failure = e;
            }
        }
        if (failure != null) {
            throw new UncheckedIOException("writing " + file + " failed: " + failure.getMessage(), failure);
        }
    }

    private static final class Jsonl extends Recorder {
        Jsonl(Path file) {
            super(file);
        }

        @Override
        void write(String node, LocalDateTime received, GpuSample sample) throws IOException {
            out.write(line(node, received, sample));
            out.write('\n');
        }

        static String line(String node, LocalDateTime received, GpuSample sample) {
            return GpuSampleJson.toJson(sample, "node", node, "received", TIME.format(received));
        }
    }

    /** The JSONL line of one recorded sample (for tests and tools that write recordings themselves). */
    public static String jsonLine(String node, LocalDateTime received, GpuSample sample) {
        return Jsonl.line(node, received.truncatedTo(ChronoUnit.MILLIS), sample);
    }

    private static final class Csv extends Recorder {
        private static final long HEADER_WAIT_NANOS = 5_000_000_000L;
        private final int nodes;
        private final long opened = System.nanoTime();
        private final Set<String> seen = new HashSet<>();
        private final List<String[]> pending = new ArrayList<>();
        private final List<Map<String, String>> pendingValues = new ArrayList<>();
        private List<String> header;

        Csv(Path file, int nodes) {
            super(file);
            this.nodes = Math.max(1, nodes);
        }

        @Override
        void write(String node, LocalDateTime received, GpuSample sample) throws IOException {
            String[] fixed = {TIME.format(received), node, sample.source().id(),
                    sample.time() == null ? null : TIME.format(sample.time())};
            Map<String, String> values = SampleColumns.flatten(sample);
            if (header != null) {
                row(fixed, values);
                return;
            }
            pending.add(fixed);
            pendingValues.add(values);
            seen.add(node);
            if (seen.size() >= nodes || System.nanoTime() - opened > HEADER_WAIT_NANOS) {
                writePending();
            }
        }

        @Override
        void finish() throws IOException {
            if (header == null) {
                writePending();
            }
        }

        private void writePending() throws IOException {
            Set<String> columns = new LinkedHashSet<>();
            pendingValues.forEach(v -> columns.addAll(v.keySet()));
            header = new ArrayList<>(columns);
            List<String> all = new ArrayList<>(List.of("received", "node", "source", "time"));
            all.addAll(header);
            out.write(csvLine(all.toArray(new String[0])));
            for (int i = 0; i < pending.size(); i++) {
                row(pending.get(i), pendingValues.get(i));
            }
            pending.clear();
            pendingValues.clear();
        }

        private void row(String[] fixed, Map<String, String> values) throws IOException {
            String[] cells = new String[fixed.length + header.size()];
            System.arraycopy(fixed, 0, cells, 0, fixed.length);
            for (int i = 0; i < header.size(); i++) {
                cells[fixed.length + i] = values.get(header.get(i));
            }
            out.write(csvLine(cells));
        }
    }

    /** One CSV line (RFC 4180 quoting, null as an empty cell), ending in a newline. */
    static String csvLine(String[] cells) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            String c = cells[i];
            if (c == null) {
                continue;
            }
            if (c.indexOf(',') >= 0 || c.indexOf('"') >= 0 || c.indexOf('\n') >= 0 || c.indexOf('\r') >= 0) {
                sb.append('"').append(c.replace("\"", "\"\"")).append('"');
            } else {
                sb.append(c);
            }
        }
        return sb.append('\n').toString();
    }
}
