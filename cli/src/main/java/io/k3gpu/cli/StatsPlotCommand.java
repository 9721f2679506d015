package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.cli.chart.ChartData;
import io.k3gpu.cli.chart.TelemetryChart;
import io.k3gpu.core.telemetry.live.Recordings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "plot", mixinStandardHelpOptions = true,
        description = {"Draw a recording as time-series charts (PNG or SVG).",
                "A recording is k3gpu stats --record FILE.jsonl, or the output of stats parse; charts: GPU load, CPU load, memory, temperatures and power, one line per node."})
final class StatsPlotCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Parameters(index = "0", paramLabel = "FILE.jsonl", description = "The recording.")
    Path input;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", required = true,
            description = "The chart to write: FILE.png or FILE.svg.")
    Path output;

    StatsPlotCommand(Terminal terminal) {
        this.terminal = terminal;
    }

    @Override
    public Integer call() {
        StatsCommand.checkPlotName(output);
        Recordings.Read read = Recordings.read(input);
        if (read.samples().isEmpty()) {
            throw new K3gpuException(ExitCode.USAGE, input + " holds no samples"
                    + (read.skipped() > 0 ? " (" + read.skipped() + " lines were not samples)" : ""),
                    "record one with k3gpu stats --record FILE.jsonl, or convert output with k3gpu stats parse");
        }
        ChartData data = ChartData.of(read.samples());
        TelemetryChart.write(data, output);
        terminal.out().println("wrote " + output + " (" + data.samples() + " samples"
                + (read.skipped() > 0 ? ", " + read.skipped() + " lines skipped" : "") + ")");
        return 0;
    }
}
