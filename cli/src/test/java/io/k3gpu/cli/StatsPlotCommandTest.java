package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.telemetry.TegrastatsParser;
import io.k3gpu.core.telemetry.live.Recorder;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatsPlotCommandTest {

    @Test
    void aRecordingBecomesPngAndSvgCharts(@TempDir Path dir) throws Exception {
        Path rec = dir.resolve("run.jsonl");
        List<String> lines = new ArrayList<>();
        LocalDateTime t = LocalDateTime.of(2026, 11, 28, 12, 0);
        for (int i = 0; i < 30; i++) {
            lines.add(Recorder.jsonLine("jetson1", t.plusSeconds(i), TegrastatsParser.parse(StatsPlainLineTest.NANO)));
        }
        Files.write(rec, lines);
        Cli.Result png = Cli.run("stats", "plot", rec.toString(), "-o", dir.resolve("run.png").toString());
        assertThat(png.exit()).as(png.err()).isZero();
        assertThat(png.out()).isEqualTo("wrote " + dir.resolve("run.png") + " (30 samples)\n");
        BufferedImage img = ImageIO.read(dir.resolve("run.png").toFile());
        assertThat(img.getWidth()).isEqualTo(1280);
        Cli.Result svg = Cli.run("stats", "plot", rec.toString(), "-o", dir.resolve("run.svg").toString());
        assertThat(svg.exit()).isZero();
        assertThat(Files.readString(dir.resolve("run.svg"))).contains(">CPU load (mean of online cores) (%)</text>");
    }

    @Test
    void anEmptyRecordingOrAnUnknownFormatIsAUsageError(@TempDir Path dir) throws Exception {
        Path rec = dir.resolve("empty.jsonl");
        Files.writeString(rec, "{\"error\":\"x\",\"line\":1}\n");
        Cli.Result r = Cli.run("stats", "plot", rec.toString(), "-o", dir.resolve("x.png").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("holds no samples (1 lines were not samples)");
        Cli.Result bad = Cli.run("stats", "plot", rec.toString(), "-o", dir.resolve("x.gif").toString());
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("name the file FILE.png or FILE.svg");
    }
}
