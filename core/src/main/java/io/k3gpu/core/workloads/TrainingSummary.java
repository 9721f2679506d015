package io.k3gpu.core.workloads;

import tools.jackson.databind.JsonNode;

/**
 * The trainer's last line on success ({@code "event":"done"}).
 *
 * @param testAccuracy    accuracy on the test images, 0..1
 * @param testLoss        mean loss on the test images ({@code null} if not finite)
 * @param durationSeconds the whole run, data loading included
 * @param framework       {@code "tensorflow"}, {@code "torch"} or {@code "numpy"}
 * @param device          {@code "cuda:0 (NVIDIA H200)"} or {@code "cpu"}
 * @param dataset         {@code "mnist"} or {@code "fashion-mnist"}
 * @param epochs          epochs trained
 * @param trainSamples    images trained on per epoch
 * @param testSamples     images tested on
 */
public record TrainingSummary(
        double testAccuracy,
        Double testLoss,
        double durationSeconds,
        String framework,
        String device,
        String dataset,
        Integer epochs,
        Integer trainSamples,
        Integer testSamples) implements TrainingEvent {

    public static final String EVENT = "done";

    @Override
    public String event() {
        return EVENT;
    }

    /** Parses a done line; any other line is an {@link IllegalArgumentException}. */
    public static TrainingSummary parse(String jsonLine) {
        if (TrainingEvent.parse(jsonLine) instanceof TrainingSummary s) {
            return s;
        }
        throw new IllegalArgumentException("not a trainer done line");
    }

    static TrainingSummary of(JsonNode n) {
        Double accuracy = WorkloadJson.number(n, "testAccuracy");
        Double duration = WorkloadJson.number(n, "durationSeconds");
        if (accuracy == null || duration == null) {
            throw new IllegalArgumentException("done line without \"testAccuracy\"/\"durationSeconds\"");
        }
        return new TrainingSummary(accuracy,
                WorkloadJson.number(n, "testLoss"),
                duration,
                WorkloadJson.string(n, "framework"),
                WorkloadJson.string(n, "device"),
                WorkloadJson.string(n, "dataset"),
                WorkloadJson.smallInteger(n, "epochs"),
                WorkloadJson.smallInteger(n, "trainSamples"),
                WorkloadJson.smallInteger(n, "testSamples"));
    }

    /** Whether the device is a CUDA device. */
    public boolean onGpu() {
        return device != null && device.startsWith("cuda");
    }
}
