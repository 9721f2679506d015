package io.k3gpu.core.workloads;

import tools.jackson.databind.JsonNode;

/**
 * One epoch of training ({@code "event":"epoch"}).
 *
 * @param epoch            1-based
 * @param epochs           epochs planned
 * @param loss             mean training loss over the epoch ({@code null} if not finite)
 * @param accuracy         training accuracy over the epoch, 0..1
 * @param samplesPerSecond training images per second
 * @param durationSeconds  the epoch's wall time
 * @param device           {@code "cuda:0 (NVIDIA H200)"} or {@code "cpu"}
 */
public record TrainingProgress(
        int epoch,
        int epochs,
        Double loss,
        Double accuracy,
        Double samplesPerSecond,
        Double durationSeconds,
        String device) implements TrainingEvent {

    public static final String EVENT = "epoch";

    @Override
    public String event() {
        return EVENT;
    }

    /** Parses an epoch line; any other line is an {@link IllegalArgumentException}. */
    public static TrainingProgress parse(String jsonLine) {
        if (TrainingEvent.parse(jsonLine) instanceof TrainingProgress p) {
            return p;
        }
        throw new IllegalArgumentException("not a trainer epoch line");
    }

    static TrainingProgress of(JsonNode n) {
        Integer epoch = WorkloadJson.smallInteger(n, "epoch");
        Integer epochs = WorkloadJson.smallInteger(n, "epochs");
        if (epoch == null || epochs == null) {
            throw new IllegalArgumentException("epoch line without \"epoch\"/\"epochs\"");
        }
        return new TrainingProgress(epoch, epochs,
                WorkloadJson.number(n, "loss"),
                WorkloadJson.number(n, "accuracy"),
                WorkloadJson.number(n, "samplesPerSecond"),
                WorkloadJson.number(n, "durationSeconds"),
                WorkloadJson.string(n, "device"));
    }
}
