package io.k3gpu.bench;

import io.k3gpu.core.remote.LineSplitter;
import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.NvidiaSmiCsvParser;
import io.k3gpu.core.telemetry.TegrastatsParser;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Lines per second through the telemetry parsers, one thread: each operation is one line; every invocation parses
 * all 27 fixture lines of tegrastats/samples.txt (every JetPack format, 28 to 7.2) or all 15 H200 rows.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
public class TegrastatsParserBenchmark {
    static final int TEGRA_LINES = 27;
    static final int SMI_ROWS = 15;

    private String[] tegra;
    private String[] smi;
    private byte[] tegraBytes;
    private NvidiaSmiCsvParser smiParser;
    private LineSplitter splitter;
    private Blackhole sink;

    @Setup(Level.Trial)
    public void load(Blackhole bh) {
        List<String> t = FixtureLines.tegrastats();
        if (t.size() != TEGRA_LINES) {
            throw new IllegalStateException("expected " + TEGRA_LINES + " fixture lines, found " + t.size());
        }
        tegra = t.toArray(new String[0]);
        List<String> s = FixtureLines.nvidiaSmiRows();
        if (s.size() != SMI_ROWS) {
            throw new IllegalStateException("expected " + SMI_ROWS + " nvidia-smi rows, found " + s.size());
        }
        smi = s.toArray(new String[0]);
        smiParser = NvidiaSmiCsvParser.forQuery(FixtureLines.nvidiaSmiQuery());
        tegraBytes = (String.join("\n", t) + "\n").getBytes(StandardCharsets.UTF_8);
        sink = bh;
        splitter = new LineSplitter(line -> sink.consume(TegrastatsParser.parse(line)));
    }

    /** The parser alone: a line in, a {@link GpuSample} out. */
    @Benchmark
    @OperationsPerInvocation(TEGRA_LINES)
    public void tegrastatsParse(Blackhole bh) {
        for (String line : tegra) {
            bh.consume(TegrastatsParser.parse(line));
        }
    }

    /**
     * The parser, then every value of the sample read once ({@link SampleReader}): the parser makes the objects of
     * its maps' values and cores when they are asked for, so this is the cost of a line to a consumer that uses all
     * of it.
     */
    @Benchmark
    @OperationsPerInvocation(TEGRA_LINES)
    public void tegrastatsParseAndReadAll(Blackhole bh) {
        for (String line : tegra) {
            bh.consume(SampleReader.readAll(TegrastatsParser.parse(line)));
        }
    }

    /** What a followed node costs per line: SSH channel bytes split into lines (UTF-8), then parsed. */
    @Benchmark
    @OperationsPerInvocation(TEGRA_LINES)
    public void tegrastatsBytesToSamples() {
        splitter.write(tegraBytes, 0, tegraBytes.length);
    }

    @Benchmark
    @OperationsPerInvocation(SMI_ROWS)
    public void nvidiaSmiParse(Blackhole bh) {
        for (String row : smi) {
            bh.consume(smiParser.parseLine(row));
        }
    }
}
