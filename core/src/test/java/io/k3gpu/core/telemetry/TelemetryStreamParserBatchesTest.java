package io.k3gpu.core.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3gpu.core.telemetry.TelemetryStreamParser.Counts;
import io.k3gpu.core.telemetry.TelemetryStreamParser.SourceOption;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The chunked parse of {@code stats parse}: on several threads, the same output in the same order as one line at a time. */
class TelemetryStreamParserBatchesTest {

    /** One batch's results as the JSON lines {@link TelemetryStreamParser#parse(Stream, SourceOption)} gives. */
    private static final class Lines implements TelemetryStreamParser.Sink {
        final List<String> out = new ArrayList<>();
        final String thread = Thread.currentThread().getName();

        @Override
        public void sample(GpuSample sample) {
            out.add(GpuSampleJson.toJson(sample));
        }

        @Override
        public void error(String message, long line) {
            out.add(GpuSampleJson.error(message, line));
        }
    }

    private static List<String> input(int n) {
        List<String> fixtures = Fixtures.lines("tegrastats/samples.txt");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // every 97th line is not telemetry, every 101st a comment, every 103rd blank: numbering must hold
            lines.add(i % 97 == 5 ? "garbage " + i : i % 101 == 7 ? "# comment " + i : i % 103 == 9 ? ""
                    : fixtures.get(i % fixtures.size()));
        }
        return lines;
    }

    private static InputStream reader(List<String> lines) {
        return new ByteArrayInputStream((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Lines enough for five chunks and a bit. */
    private static final int MANY = 5 * LineChunks.CHUNK / 300;

    @Test
    void fourThreadsGiveWhatOneLineAtATimeGivesInTheSameOrder() throws IOException {
        List<String> lines = input(MANY + 17);
        List<String> expected = new TelemetryStreamParser().parse(lines.stream(), SourceOption.AUTO).toList();
        List<String> got = new ArrayList<>();
        List<String> threads = new ArrayList<>();
        Counts counts = new TelemetryStreamParser().parse(reader(lines), SourceOption.AUTO, Lines::new,
                b -> {
                    got.addAll(b.out);
                    threads.add(b.thread);
                }, 4);
        assertThat(got).isEqualTo(expected);
        long errors = expected.stream().filter(l -> l.startsWith("{\"error\"")).count();
        assertThat(counts).isEqualTo(new Counts(expected.size() - errors, errors));
        assertThat(errors).isEqualTo(lines.stream().filter(l -> l.startsWith("garbage")).count());
        // the first batch detects the source on the reading thread; the later ones ran on the parsing threads
        assertThat(threads.get(0)).isEqualTo(Thread.currentThread().getName());
        assertThat(threads.subList(1, threads.size())).containsOnly("stats-parse");
    }

    @Test
    void nvidiaSmiStaysInOrderOnTheReadingThreadAsItsHeaderSetsTheColumns() throws IOException {
        List<String> rows = new ArrayList<>();
        List<String> header = Fixtures.lines("nvidia-smi/q-header.csv");
        for (int i = 0; i < MANY; i++) {
            rows.add(header.get(i == 0 ? 0 : 1 + i % (header.size() - 1)));
        }
        List<String> expected = new TelemetryStreamParser().parse(rows.stream(), SourceOption.AUTO).toList();
        List<String> got = new ArrayList<>();
        List<String> threads = new ArrayList<>();
        new TelemetryStreamParser().parse(reader(rows), SourceOption.AUTO, Lines::new, b -> {
            got.addAll(b.out);
            threads.add(b.thread);
        }, 4);
        assertThat(got).isEqualTo(expected).isNotEmpty();
        assertThat(threads).containsOnly(Thread.currentThread().getName());
    }

    @Test
    void aLiveStreamGetsEachLineOutBeforeTheNextArrives() throws Exception {
        PipedOutputStream pipe = new PipedOutputStream();
        Writer tegrastats = new OutputStreamWriter(pipe, StandardCharsets.UTF_8);
        InputStream in = new PipedInputStream(pipe);
        BlockingQueue<String> out = new LinkedBlockingQueue<>();
        Thread parse = new Thread(() -> {
            try {
                new TelemetryStreamParser().parse(in, SourceOption.TEGRASTATS, Lines::new, b -> out.addAll(b.out), 4);
                out.add("end");
            } catch (IOException e) {
                out.add("failed: " + e);
            }
        });
        parse.start();
        for (int i = 0; i < 3; i++) {
            tegrastats.write(Fixtures.tegrastats(i) + "\n");
            tegrastats.flush();
            // the next line is written only once this one came out: batching must not hold it back
            assertThat(out.poll(30, TimeUnit.SECONDS)).as("line " + (i + 1))
                    .isEqualTo(GpuSampleJson.toJson(TegrastatsParser.parse(Fixtures.tegrastats(i))));
        }
        tegrastats.close();
        assertThat(out.poll(30, TimeUnit.SECONDS)).isEqualTo("end");
        parse.join();
    }

    @Test
    void aFailingOutputStopsTheParseWithItsOwnException() {
        List<String> lines = input(2 * MANY);
        List<Integer> written = new ArrayList<>();
        assertThatThrownBy(() -> new TelemetryStreamParser().parse(reader(lines), SourceOption.TEGRASTATS,
                Lines::new, b -> {
                    written.add(b.out.size());
                    if (written.size() == 2) {
                        throw new java.io.UncheckedIOException(new IOException("Broken pipe"));
                    }
                }, 2)).isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("Broken pipe");
        assertThat(written).hasSize(2);
    }
}
