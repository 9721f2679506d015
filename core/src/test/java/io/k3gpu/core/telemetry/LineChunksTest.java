package io.k3gpu.core.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Chunks of whole lines give exactly the lines, and line numbers, that BufferedReader.readLine gives. */
class LineChunksTest {

    /** An input that hands out at most a few bytes per read, as a pipe does. */
    private static InputStream trickle(byte[] bytes, Random random) {
        return new ByteArrayInputStream(bytes) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1 + random.nextInt(7)));
            }
        };
    }

    private static List<String> readLines(byte[] bytes) throws IOException {
        List<String> lines = new ArrayList<>();
        BufferedReader r = new BufferedReader(new InputStreamReader(new ByteArrayInputStream(bytes),
                StandardCharsets.UTF_8));
        for (String l = r.readLine(); l != null; l = r.readLine()) {
            lines.add(l);
        }
        return lines;
    }

    private static List<String> chunked(InputStream in, int size) throws IOException {
        List<String> lines = new ArrayList<>();
        LineChunks chunks = new LineChunks(in, size);
        long expected = 1;
        for (LineChunks.Chunk c = chunks.next(); c != null; c = chunks.next()) {
            assertThat(c.first()).isEqualTo(expected);
            List<String> mine = new ArrayList<>();
            long[] at = {c.first()};
            c.eachLine((line, n) -> {
                assertThat(n).isEqualTo(at[0]++);
                mine.add(line);
            });
            assertThat(mine).hasSize(c.lines());
            lines.addAll(mine);
            expected += c.lines();
        }
        return lines;
    }

    @Test
    void everyLineEndAndChunkEndGivesReadLinesLines() throws IOException {
        String[] ends = {"\n", "\r\n", "\r", "\n\n", "\r\r\n"};
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            StringBuilder s = new StringBuilder();
            int lines = random.nextInt(40);
            for (int i = 0; i < lines; i++) {
                s.append("RAM ").append(i).append("é".repeat(random.nextInt(3))).append("x".repeat(random.nextInt(30)));
                if (i < lines - 1 || random.nextBoolean()) {
                    s.append(ends[random.nextInt(ends.length)]);
                }
            }
            byte[] bytes = s.toString().getBytes(StandardCharsets.UTF_8);
            List<String> expected = readLines(bytes);
            assertThat(chunked(new ByteArrayInputStream(bytes), 16)).as(s.toString()).isEqualTo(expected);
            assertThat(chunked(trickle(bytes, random), 8)).as(s.toString()).isEqualTo(expected);
        }
    }

    @Test
    void aLineLongerThanAChunkStaysWholeAndMalformedBytesAreReplacedAsReadLineDoes() throws IOException {
        byte[] bytes = ("short\n" + "y".repeat(100) + "\nbad \u00ff\n").getBytes(StandardCharsets.ISO_8859_1);
        assertThat(chunked(new ByteArrayInputStream(bytes), 16)).containsExactly("short", "y".repeat(100), "bad \ufffd")
                .isEqualTo(readLines(bytes));
    }

    @Test
    void aLiveStreamGivesTheLineItHasWithoutWaitingForMore() throws IOException {
        java.io.PipedOutputStream out = new java.io.PipedOutputStream();
        LineChunks chunks = new LineChunks(new java.io.PipedInputStream(out), 1024);
        out.write("one\ntw".getBytes(StandardCharsets.US_ASCII));
        LineChunks.Chunk c = chunks.next(); // would block forever if it waited for a full chunk
        assertThat(c.lines()).isEqualTo(1);
        assertThat(chunks.ready()).isFalse();
        out.write("o\n".getBytes(StandardCharsets.US_ASCII));
        out.close();
        LineChunks.Chunk d = chunks.next();
        assertThat(d.first()).isEqualTo(2);
        List<String> got = new ArrayList<>();
        d.eachLine((line, n) -> got.add(line));
        assertThat(got).containsExactly("two");
        assertThat(chunks.next()).isNull();
    }
}
