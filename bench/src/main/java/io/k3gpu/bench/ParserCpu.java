package io.k3gpu.bench;

import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.TegrastatsParser;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.Locale;

/**
 * Lines per second of CPU time of the parsing thread: {@code java -cp bench/target/benchmarks.jar
 * io.k3gpu.bench.ParserCpu [SECONDS] [read]}. JMH measures wall time, which on a shared two-core machine also counts
 * the time other processes held the core; this counts only the time the parsing thread ran (garbage collection,
 * which runs on other threads, is left out, so read it with JMH's figure beside it). With {@code read}, every value
 * of each sample is also read once ({@link SampleReader}).
 */
public final class ParserCpu {

    public static void main(String[] args) {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        boolean read = args.length > 1 && args[1].equals("read");
        List<String> lines = FixtureLines.tegrastats();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long sink = 0;
        for (int round = 0; round < 2; round++) { // warm-up, then measured
            long cpu0 = threads.getCurrentThreadCpuTime();
            long wall0 = System.nanoTime();
            long parsed = 0;
            while (System.nanoTime() - wall0 < seconds * 1_000_000_000L) {
                for (String line : lines) {
                    GpuSample s = TegrastatsParser.parse(line);
                    sink += read ? SampleReader.readAll(s) : s.unparsed().size();
                }
                parsed += lines.size();
            }
            long cpu = threads.getCurrentThreadCpuTime() - cpu0;
            long wall = System.nanoTime() - wall0;
            if (round == 1) {
                System.out.printf(Locale.ROOT, "tegrastats lines%s: %.0f per CPU second of the parsing thread, "
                        + "%.0f per wall second (thread ran %.0f%% of the wall time)%n",
                        read ? " (parsed, every value read)" : "", parsed * 1e9 / cpu,
                        parsed * 1e9 / wall, 100.0 * cpu / wall);
            }
        }
        if (sink == 0x5EED) { // keeps the results alive; practically never true
            System.out.println(sink);
        }
    }
}
