package io.k3gpu.core.workloads;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadsTest {

    @Test
    void loadsBothScriptsFromTheClasspath() {
        String probe = Workloads.gpuProbe();
        String trainer = Workloads.mnistTrain();

        assertThat(probe).startsWith("#!/usr/bin/env python3\n").contains("\"copyBandwidthCountsReadAndWrite\": True")
                .contains("def probe_torch(").contains("def probe_tensorflow(");
        assertThat(trainer).startsWith("#!/usr/bin/env python3\n")
                .contains("--data-dir", "--dataset", "--epochs", "--batch-size", "--framework", "--limit-train", "--seed")
                .contains("def train_numpy(", "def train_torch(", "def train_tensorflow(");
        assertThat(Workloads.load(Workloads.GPU_PROBE)).isEqualTo(probe);
        assertThat(Workloads.all()).containsOnlyKeys("gpu_probe.py", "mnist_train.py", "dist_worker.py");
        assertThat(Workloads.all().keySet()).containsExactly("gpu_probe.py", "mnist_train.py", "dist_worker.py");
        assertThat(Workloads.resourcePath("mnist_train.py")).isEqualTo("/io/k3gpu/workloads/mnist_train.py");
    }

    @Test
    void unknownWorkload() {
        assertThatThrownBy(() -> Workloads.load("../../etc/passwd")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown workload");
    }

    /** Runs the shipped probe with no framework, where a python3 is installed. */
    @Test
    void probeWithoutAFrameworkPrintsOneJsonLine(@TempDir Path dir) throws Exception {
        Optional<String> python = python(false);
        assumeTrue(python.isPresent(), "no python3");
        Path script = dir.resolve("gpu_probe.py");
        Files.writeString(script, Workloads.gpuProbe());

        Run run = run(List.of(python.get(), script.toString(), "--framework", "none"), dir);

        assertThat(run.exit).isZero();
        assertThat(run.stdout.lines().toList()).hasSize(1);
        ProbeResult p = ProbeResult.parse(run.stdout);
        assertThat(p.framework()).isNull();
        assertThat(p.cudaVisible()).isFalse();
        assertThat(p.copyBandwidthCountsReadAndWrite()).isTrue();
        assertThat(run.stderr).contains("no GPU framework found");
    }

    /** Trains the NumPy CNN for one epoch on a tiny synthetic IDX set, where python3 with numpy is installed. */
    @Test
    void numpyTrainerRunsOnSyntheticIdxFiles(@TempDir Path dir) throws Exception {
        Optional<String> python = python(true);
        assumeTrue(python.isPresent(), "no python3 with numpy");
        Random random = new Random(7);
        writeIdx(dir, "train", 512, random, true);
        writeIdx(dir, "t10k", 128, random, false);
        Path script = dir.resolve("mnist_train.py");
        Files.writeString(script, Workloads.mnistTrain());

        Run run = run(List.of(python.get(), script.toString(), "--framework", "numpy", "--data-dir", dir.toString(),
                "--dataset", "mnist", "--epochs", "2", "--batch-size", "64"), dir);

        assertThat(run.exit).as(run.stderr).isZero();
        List<TrainingEvent> events = TrainingEvent.fromLogs(run.stdout);
        assertThat(events).extracting(TrainingEvent::event).containsExactly("start", "epoch", "epoch", "done");
        TrainingSummary done = (TrainingSummary) events.get(3);
        assertThat(done.framework()).isEqualTo("numpy");
        assertThat(done.device()).isEqualTo("cpu");
        assertThat(done.trainSamples()).isEqualTo(512);
        assertThat(done.testSamples()).isEqualTo(128);
        // the classes are told apart by where a bright square sits: learnable in two epochs
        assertThat(done.testAccuracy()).isGreaterThan(0.5);
        assertThat(TrainingEvent.lastProgress(run.stdout)).hasValueSatisfying(p -> assertThat(p.epoch()).isEqualTo(2));
    }

    @Test
    void trainerReportsAnErrorLineAndExitsNonZero(@TempDir Path dir) throws Exception {
        Optional<String> python = python(false);
        assumeTrue(python.isPresent(), "no python3");
        Path script = dir.resolve("mnist_train.py");
        Files.writeString(script, Workloads.mnistTrain());

        Run run = run(List.of(python.get(), script.toString(), "--epochs", "0"), dir);

        assertThat(run.exit).isEqualTo(1);
        assertThat(TrainingEvent.outcome(run.stdout)).contains(new TrainingError("--epochs and --batch-size must be at least 1"));
    }

    // ----------------------------------------------------------------------------------------------- helpers

    private record Run(int exit, String stdout, String stderr) {
    }

    private static Run run(List<String> command, Path dir) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        Path out = dir.resolve("stdout.txt");
        Path err = dir.resolve("stderr.txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** A python3 (with numpy if asked) on this machine, or empty. */
    private static Optional<String> python(boolean numpy) {
        List<String> candidates = new ArrayList<>(List.of("python3", "/usr/bin/python3"));
        for (String candidate : candidates) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", numpy ? "import numpy" : "pass")
                        .redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return Optional.of(candidate);
                }
            } catch (IOException | InterruptedException e) {
                // not there: try the next
            }
        }
        return Optional.empty();
    }

    /** Gzipped IDX images and labels: class k is a bright 6x6 square in the k-th cell of a grid, with noise. */
    private static void writeIdx(Path dir, String prefix, int count, Random random, boolean gzip) throws IOException {
        ByteBuffer images = ByteBuffer.allocate(16 + count * 784);
        images.putInt(0x00000803).putInt(count).putInt(28).putInt(28);
        ByteBuffer labels = ByteBuffer.allocate(8 + count);
        labels.putInt(0x00000801).putInt(count);
        for (int i = 0; i < count; i++) {
            int label = random.nextInt(10);
            labels.put((byte) label);
            int row = (label / 4) * 9 + 1;
            int col = (label % 4) * 7;
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    boolean on = y >= row && y < row + 6 && x >= col && x < col + 6;
                    images.put((byte) (on ? 200 + random.nextInt(56) : random.nextInt(40)));
                }
            }
        }
        write(dir.resolve(prefix + "-images-idx3-ubyte" + (gzip ? ".gz" : "")), images.array(), gzip);
        write(dir.resolve(prefix + "-labels-idx1-ubyte" + (gzip ? ".gz" : "")), labels.array(), gzip);
    }

    private static void write(Path path, byte[] bytes, boolean gzip) throws IOException {
        if (!gzip) {
            Files.write(path, bytes);
            return;
        }
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(buffer)) {
            out.write(bytes);
        }
        Files.write(path, buffer.toByteArray());
    }
}
