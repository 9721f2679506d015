package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.telemetry.NvidiaSmiCsvParser;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.TegrastatsParser;
import io.k3gpu.core.telemetry.live.NodeState;
import io.k3gpu.core.telemetry.live.NodeStatus;
import io.k3gpu.core.telemetry.live.TelemetryCommands;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatsLiveViewTest {
    static final LocalDateTime T = LocalDateTime.of(2026, 11, 28, 12, 0, 1);

    static StatsLiveView twoNodes(boolean unicode) {
        StatsLiveView v = new StatsLiveView(List.of("jetson1", "gpu1"), unicode);
        v.status(new NodeStatus("jetson1", NodeState.UP, Source.TEGRASTATS, null, null, 0));
        v.status(new NodeStatus("gpu1", NodeState.UP, Source.NVIDIA_SMI, null, null, 0));
        v.sample("jetson1", T, TegrastatsParser.parse(StatsPlainLineTest.NANO));
        v.sample("gpu1", T, NvidiaSmiCsvParser.forFields(TelemetryCommands.NVIDIA_SMI_FIELDS)
                .parseLine(StatsPlainLineTest.H200).orElseThrow());
        return v;
    }

    @Test
    void nodesAreStackedWithCoreBarsGpuMemoryTemperaturesAndRails() {
        List<String> lines = twoNodes(true).render(100, true);
        assertThat(lines).containsExactly(
                "\u25b6 jetson1  tegrastats  up  12:00:01 \u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500",
                "  CPU0  \u2588\u2588\u2588\u2588\u2588\u258e\u00b7\u00b7\u00b7\u00b7  52% 1479MHz   CPU1  \u2588\u2588\u2588\u2588\u258f\u00b7\u00b7\u00b7\u00b7\u00b7  41% 1479MHz   CPU2  \u2588\u2588\u2588\u2588\u258e\u00b7\u00b7\u00b7\u00b7\u00b7  43% 1479MHz",
                "  CPU3  \u2588\u2588\u2588\u258d\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7  34% 1479MHz",
                "  GPU   \u2589\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7   9%  \u2582   CPU avg \u2584   EMC 0%",
                "  RAM   \u2588\u2588\u2588\u2588\u2588\u2588\u258e\u00b7\u00b7\u00b7 2462/3964MB   SWAP \u2588\u258f\u00b7\u00b7\u00b7\u00b7 362/1982MB (cached 6MB)",
                "  TEMP  PLL 23.5\u00b0C  CPU 26\u00b0C  PMIC 100\u00b0C  GPU 24\u00b0C  AO 28.5\u00b0C  thermal 24.8\u00b0C",
                "  POWER POM_5V_IN 3.41W \u2588  POM_5V_GPU 0.45W  POM_5V_CPU 1.36W",
                "\u25b6 gpu1  nvidia-smi  up  12:00:01 \u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500",
                "  GPU0 NVIDIA H200  \u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588 100%  \u2588  SM 1440MHz  MEM 3201MHz",
                "        mem \u00b7\u00b7\u00b7\u00b7\u00b7\u00b7 1011/143771MiB  mem util 23%  61\u00b0C  692.6/700W \u2588",
                "Ctrl-C to stop");
    }

    @Test
    void aDownNodeShowsWhyAndWhenItIsRetriedAndLinesNeverExceedTheWidth() {
        StatsLiveView v = twoNodes(false);
        v.status(new NodeStatus("jetson1", NodeState.DOWN, Source.TEGRASTATS,
                "the SSH connection to jetson1 was lost", Duration.ofSeconds(4), 0));
        List<String> lines = v.render(60, false);
        assertThat(lines.get(0)).isEqualTo("> jetson1  tegrastats  DOWN, retry in 4s  12:00:01 ---------");
        assertThat(lines.get(1)).isEqualTo("  the SSH connection to jetson1 was lost");
        assertThat(lines.get(2)).startsWith("> gpu1  nvidia-smi  up");
        assertThat(lines).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(60));
        assertThat(lines).noneMatch(l -> l.contains("Ctrl-C"));
    }

    @Test
    void sparklinesFollowTheRecentPast() {
        StatsLiveView v = new StatsLiveView(List.of("n"), true);
        StatsLiveView.History h = new StatsLiveView.History();
        for (int i = 0; i <= 100; i += 25) {
            h.add(i);
        }
        assertThat(v.spark(h, 100)).isEqualTo("\u2581\u2583\u2585\u2586\u2588");
        for (int i = 0; i < StatsLiveView.HISTORY + 3; i++) {
            h.add(50);
        }
        assertThat(v.spark(h, 100)).hasSize(StatsLiveView.HISTORY);
    }

    @Test
    void theFrameRedrawsInPlace() {
        String frame = twoNodes(true).frame(100, true);
        assertThat(frame).startsWith("\033[H\u25b6 jetson1").endsWith("Ctrl-C to stop\033[K\n\033[J");
    }
}
