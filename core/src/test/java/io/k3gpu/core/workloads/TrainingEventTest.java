package io.k3gpu.core.workloads;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingEventTest {

    @Test
    void parsesTheH200RunLineByLine() {
        List<TrainingEvent> events = Golden.lines("train-h200-torch.jsonl").stream().map(TrainingEvent::parse).toList();

        assertThat(events).hasSize(7);
        assertThat(events.get(0)).isEqualTo(new TrainingStart("torch", "cuda:0 (NVIDIA H200)", "fashion-mnist",
                "/work/main/.data/fashion-mnist", 60000, 10000, 5, 128));
        assertThat(events.get(1)).isEqualTo(
                new TrainingProgress(1, 5, 0.42572, 0.84673, 11243.0, 5.337, "cuda:0 (NVIDIA H200)"));
        assertThat(events.subList(1, 6)).allSatisfy(e -> assertThat(e).isInstanceOf(TrainingProgress.class));
        assertThat(events.get(5)).isEqualTo(
                new TrainingProgress(5, 5, 0.20418, 0.92343, 41875.1, 1.433, "cuda:0 (NVIDIA H200)"));
        TrainingSummary done = (TrainingSummary) events.get(6);
        assertThat(done).isEqualTo(new TrainingSummary(0.9109, 0.24539, 19.11, "torch", "cuda:0 (NVIDIA H200)",
                "fashion-mnist", 5, 60000, 10000));
        assertThat(done.onGpu()).isTrue();
        assertThat(done.testAccuracy()).isGreaterThanOrEqualTo(0.90);
        assertThat(events).extracting(TrainingEvent::event)
                .containsExactly("start", "epoch", "epoch", "epoch", "epoch", "epoch", "done");
    }

    @Test
    void typedParsers() {
        String epoch = Golden.line("train-local-numpy.jsonl", 3);
        String done = Golden.line("train-local-numpy.jsonl", 4);

        assertThat(TrainingProgress.parse(epoch).epoch()).isEqualTo(3);
        assertThat(TrainingProgress.parse(epoch).accuracy()).isEqualTo(0.86755);
        assertThat(TrainingSummary.parse(done).testAccuracy()).isEqualTo(0.8584);
        assertThat(TrainingSummary.parse(done).onGpu()).isFalse();
        assertThat(TrainingStart.parse(Golden.line("train-local-numpy.jsonl", 0)).framework()).isEqualTo("numpy");
        assertThat(TrainingError.parse(Golden.line("train-local-noframework.jsonl", 0)).message())
                .isEqualTo("no usable framework (torch: No module named 'torch')");

        assertThatThrownBy(() -> TrainingProgress.parse(done)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("epoch line");
        assertThatThrownBy(() -> TrainingSummary.parse(epoch)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("done line");
        assertThatThrownBy(() -> TrainingStart.parse(done)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TrainingError.parse(done)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void errorLineFromTheH200() {
        TrainingEvent e = TrainingEvent.parse(Golden.line("train-h200-error.jsonl", 0));

        assertThat(e).isInstanceOf(TrainingError.class);
        assertThat(((TrainingError) e).message())
                .startsWith("no mnist IDX files (--data-dir /nonexistent, none in /usr/share/datasets/mnist)")
                .contains("Temporary failure in name resolution");
        assertThat(TrainingEvent.outcome(Golden.text("train-h200-error.jsonl"))).contains(e);
    }

    @Test
    void podLogsMixTensorflowOutputWithTheJsonLines() {
        String logs = Golden.text("train-local-tensorflow-podlog.txt");

        List<TrainingEvent> events = TrainingEvent.fromLogs(logs);
        assertThat(events).extracting(TrainingEvent::event).containsExactly("start", "epoch", "epoch", "done");
        assertThat(TrainingEvent.lastProgress(logs)).hasValueSatisfying(p -> {
            assertThat(p.epoch()).isEqualTo(2);
            assertThat(p.epochs()).isEqualTo(2);
            assertThat(p.device()).isEqualTo("cpu");
        });
        assertThat(TrainingEvent.outcome(logs)).hasValueSatisfying(o -> {
            assertThat(o).isInstanceOf(TrainingSummary.class);
            assertThat(((TrainingSummary) o).framework()).isEqualTo("tensorflow");
            assertThat(((TrainingSummary) o).testAccuracy()).isBetween(0.5, 1.0);
        });
    }

    @Test
    void aRunStillGoingHasNoOutcome() {
        String logs = String.join("\n", Golden.lines("train-h200-torch.jsonl").subList(0, 3));

        assertThat(TrainingEvent.outcome(logs)).isEmpty();
        assertThat(TrainingEvent.lastProgress(logs)).hasValueSatisfying(p -> assertThat(p.epoch()).isEqualTo(2));
        assertThat(TrainingEvent.fromLogs("")).isEmpty();
        assertThat(TrainingEvent.lastProgress("Adding visible gpu devices: 0")).isEmpty();
    }

    @Test
    void rejectsOtherLines() {
        assertThatThrownBy(() -> TrainingEvent.parse("{\"epoch\":1}")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no \"event\"");
        assertThatThrownBy(() -> TrainingEvent.parse("{\"event\":\"probe\"}")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a trainer event: probe");
        assertThatThrownBy(() -> TrainingEvent.parse("{\"event\":\"epoch\",\"epochs\":3}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"epoch\"");
        assertThatThrownBy(() -> TrainingEvent.parse("{\"event\":\"done\",\"durationSeconds\":1}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("testAccuracy");
        assertThatThrownBy(() -> TrainingEvent.parse("[1,2]")).isInstanceOf(IllegalArgumentException.class);
        assertThat(TrainingEvent.tryParse("mnist-train: epoch 1/5")).isEmpty();
        assertThat(TrainingEvent.tryParse(null)).isEmpty();
    }

    @Test
    void nullAndNonFiniteLossReadAsNull() {
        TrainingProgress p = TrainingProgress.parse(
                "{\"event\":\"epoch\",\"epoch\":2,\"epochs\":3,\"loss\":null,\"accuracy\":NaN,\"device\":\"cpu\"}");

        assertThat(p.loss()).isNull();
        assertThat(p.accuracy()).isNull();
        assertThat(p.samplesPerSecond()).isNull();
    }
}
