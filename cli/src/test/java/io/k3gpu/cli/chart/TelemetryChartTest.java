package io.k3gpu.cli.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.NvidiaSmiCsvParser;
import io.k3gpu.core.telemetry.TegrastatsParser;
import io.k3gpu.core.telemetry.live.RecordedSample;
import io.k3gpu.core.telemetry.live.TelemetryCommands;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TelemetryChartTest {
    static final String NANO = "RAM %d/3964MB (lfb 2x2MB) SWAP 191/1982MB (cached 6MB) "
            + "CPU [%d%%@1224,4%%@1224,off,6%%@1224] EMC_FREQ 0%%@1600 GR3D_FREQ %d%%@76 PLL@37C CPU@%dC "
            + "PMIC@50C POM_5V_IN %d/1628 POM_5V_GPU 0/0";
    static final String H200 = "2026/11/28 18:13:36.595, 0, NVIDIA H200, GPU-4d, %d, 23, 1011, 143771, 142146, "
            + "61, %d.5, 700.00, 1440, 3201";
    static final LocalDateTime T0 = LocalDateTime.of(2026, 11, 28, 18, 0, 0);

    static List<RecordedSample> run(int seconds) {
        NvidiaSmiCsvParser smi = NvidiaSmiCsvParser.forFields(TelemetryCommands.NVIDIA_SMI_FIELDS);
        List<RecordedSample> out = new ArrayList<>();
        for (int i = 0; i < seconds; i++) {
            GpuSample j = TegrastatsParser.parse(String.format(NANO, 1900 + i, 10 + i % 50, i % 100, 40 + i % 10,
                    1700 + 10 * i));
            out.add(new RecordedSample("jetson1", T0.plusSeconds(i), j));
            GpuSample g = smi.parseLine(String.format(H200, i % 101, 100 + i)).orElseThrow();
            out.add(new RecordedSample("gpu1", T0.plusSeconds(i), g));
        }
        return out;
    }

    @Test
    void panelsShowLoadMemoryTemperatureAndPowerWithJetsonsAndDataCentreGpusApartWhereScalesDiffer() {
        ChartData d = ChartData.of(run(60));
        assertThat(d.views()).extracting(ChartData.View::title).containsExactly("GPU load",
                "CPU load (mean of online cores)", "Memory used, Jetsons", "Memory used, discrete GPUs",
                "Temperature", "Power, Jetsons", "Power, discrete GPUs");
        ChartData.View cpu = d.views().get(1);
        assertThat(cpu.series()).extracting(ChartData.Series::label).containsExactly("jetson1");
        // mean of the online cores: (10 + 4 + 6) / 3 at t = 0
        assertThat(cpu.series().get(0).y(0)).isEqualTo(20.0 / 3);
        ChartData.View power = d.views().get(5);
        assertThat(power.series()).extracting(ChartData.Series::label)
                .containsExactly("jetson1 POM_5V_IN", "jetson1 POM_5V_GPU");
        assertThat(power.series().get(0).y(2)).isEqualTo(1.72);
        assertThat(power.series().get(0).x(2)).isEqualTo(2.0);
        assertThat(d.timed()).isTrue();
        assertThat(d.samples()).isEqualTo(120);
    }

    @Test
    void untimedSamplesArePlottedBySampleNumber() {
        ChartData d = ChartData.of(List.of(
                new RecordedSample(null, null, TegrastatsParser.parse(String.format(NANO, 1, 1, 1, 40, 1))),
                new RecordedSample(null, null, TegrastatsParser.parse(String.format(NANO, 2, 2, 2, 41, 2)))));
        assertThat(d.timed()).isFalse();
        assertThat(d.views().get(0).series().get(0).x(1)).isEqualTo(1.0);
        assertThat(TelemetryChart.svg(d)).contains(">#1<");
    }

    @Test
    void pngIsWrittenWithOnePanelPerView(@TempDir Path dir) throws Exception {
        ChartData d = ChartData.of(run(300));
        Path png = dir.resolve("run.png");
        TelemetryChart.write(d, png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(TelemetryChart.WIDTH);
        assertThat(img.getHeight()).isEqualTo(TelemetryChart.height(d));
    }

    @Test
    void svgHasTitlesLegendsAndClockTicks() {
        String svg = TelemetryChart.svg(ChartData.of(run(120)));
        assertThat(svg).startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")
                .contains(">k3gpu telemetry: nodes jetson1, gpu1</text>", ">GPU load (%)</text>",
                        ">Power, discrete GPUs (W)</text>", ">jetson1 POM_5V_IN</text>", ">gpu1 gpu0</text>",
                        ">18:01:00</text>", "stroke-dasharray")
                .endsWith("</svg>\n");
    }

    @Test
    void ticksAreRound() {
        assertThat(TelemetryChart.ticks(0, 100, 5, false)).containsExactly(0, 20, 40, 60, 80, 100);
        assertThat(TelemetryChart.ticks(0, 3600, 8, true)).containsExactly(0, 600, 1200, 1800, 2400, 3000, 3600);
        assertThat(TelemetryChart.ticks(30, 62, 5, false)).containsExactly(30, 40, 50, 60);
    }
}
