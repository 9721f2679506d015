package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.TegrastatsParser;
import io.k3gpu.core.telemetry.live.RecordedSample;
import io.k3gpu.core.telemetry.live.Recordings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** k3gpu stats against lab nodes that replay a Jetson Nano's tegrastats and an H200's nvidia-smi. */
class StatsIT {
    static TestLab lab;

    @TempDir
    Path tmp;

    @BeforeAll
    static void up() {
        lab = TestLab.up("itstats", 232, "jetson-nano", "dgpu");
    }

    @AfterAll
    static void down() {
        if (lab != null) {
            lab.close();
        }
    }

    private String[] ssh(String... more) {
        String[] base = lab.ssh("jetson1", more);
        base[1] = lab.ip("jetson1") + "," + lab.ip("gpu1");
        return base;
    }

    @Test
    void aJetsonAndAGpuNodeAreFollowedRecordedAndPlottedAndNoToolIsLeftRunning() throws Exception {
        Path rec = tmp.resolve("run.jsonl");
        Path png = tmp.resolve("run.png");
        Cli.Result r = Cli.run(TestLab.args("stats", ssh(), "--interval", "500", "--duration", "3s",
                "--record", rec.toString(), "--plot", png.toString()));
        assertThat(r.exit()).as(r.err()).isZero();

        // not a terminal: one plain line per sample, for both nodes
        assertThat(r.out()).contains(" " + lab.ip("jetson1") + " cpu ", " " + lab.ip("gpu1") + " gpu0 NVIDIA H200 ");
        assertThat(r.err()).contains("recorded ", "samples to " + rec, "plotted ");

        List<RecordedSample> samples = Recordings.read(rec).samples();
        List<GpuSample> jetson = samples.stream().filter(s -> s.node().equals(lab.ip("jetson1")))
                .map(RecordedSample::sample).toList();
        List<GpuSample> gpu = samples.stream().filter(s -> s.node().equals(lab.ip("gpu1")))
                .map(RecordedSample::sample).toList();
        assertThat(jetson).hasSizeGreaterThanOrEqualTo(4);
        assertThat(gpu).hasSizeGreaterThanOrEqualTo(4);

        // the Jetson replays its board's recorded lines in order (as root: the sudo captures), from the first
        List<String> replayed = lab.read("jetson1", "/usr/local/lib/k3gpu-lab/tegrastats/root.txt").lines()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        for (int i = 0; i < jetson.size(); i++) {
            assertThat(jetson.get(i)).isEqualTo(TegrastatsParser.parse(replayed.get(i % replayed.size())));
        }
        assertThat(jetson.get(0).ramTotalMB()).isBetween(3964, 3965);
        assertThat(jetson.get(0).cpus()).hasSize(4);

        // the H200 replays its idle capture: values of q-header.csv and q-loop.csv
        for (GpuSample g : gpu) {
            assertThat(g.source()).isEqualTo(Source.NVIDIA_SMI);
            assertThat(g.index()).isZero();
            assertThat(g.name()).isEqualTo("NVIDIA H200");
            assertThat(g.uuid()).isEqualTo("GPU-eed3be17-8c4b-3ec0-67f4-92cf24bce06f");
            assertThat(g.memoryTotalMiB()).isEqualTo(143771);
            assertThat(g.powerLimitW()).isEqualTo(700.0);
            assertThat(g.powerDrawW()).isIn(128.84, 106.75, 79.96);
            assertThat(g.temperatureC()).isIn(42.0, 43.0);
            assertThat(g.time()).isNotNull();
        }
        assertThat(Files.size(png)).isGreaterThan(10_000);

        // stopping stopped the tools on the nodes too
        assertThat(lab.processesLeft("jetson1", "tegrastats")).isEmpty();
        assertThat(lab.processesLeft("gpu1", "nvidia-smi")).isEmpty();
    }

    @Test
    void aCsvRecordingHasOneRowPerSample() throws Exception {
        Path rec = tmp.resolve("run.csv");
        Cli.Result r = Cli.run(TestLab.args("stats", lab.ssh("jetson1"), "--interval", "300", "--duration", "1500ms",
                "--record", rec.toString()));
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> rows = Files.readAllLines(rec);
        assertThat(rows.get(0)).startsWith("received,node,source,time,ram_used_mb,ram_total_mb,");
        assertThat(rows).hasSizeGreaterThanOrEqualTo(3);
        assertThat(rows.get(1)).contains("," + lab.ip("jetson1") + ",tegrastats,");
        assertThat(lab.processesLeft("jetson1", "tegrastats")).isEmpty();
    }

    @Test
    void aNodeThatRefusesTheConnectionFailsTheRunAsAnSshError() {
        Cli.Result r = Cli.run(TestLab.args("stats", lab.ssh("jetson1", "--ssh-port", "2"), "--duration", "2s"));
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).startsWith("error: connection refused by " + lab.ip("jetson1") + ":2");
    }
}
