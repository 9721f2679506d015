package io.k3gpu.core.workloads;

import tools.jackson.databind.JsonNode;

/**
 * The trainer's first line ({@code "event":"start"}): what it trains on, where.
 *
 * @param framework    {@code "tensorflow"}, {@code "torch"} or {@code "numpy"}
 * @param device       {@code "cuda:0 (NVIDIA H200)"} or {@code "cpu"}
 * @param dataset      {@code "mnist"} or {@code "fashion-mnist"}
 * @param dataSource   the folder the IDX files came from, or the downloader used
 * @param trainSamples images trained on per epoch
 * @param testSamples  images tested on at the end
 * @param epochs       epochs planned
 * @param batchSize    images per step
 */
public record TrainingStart(
        String framework,
        String device,
        String dataset,
        String dataSource,
        Integer trainSamples,
        Integer testSamples,
        Integer epochs,
        Integer batchSize) implements TrainingEvent {

    public static final String EVENT = "start";

    @Override
    public String event() {
        return EVENT;
    }

    /** Parses a start line; any other line is an {@link IllegalArgumentException}. */
    public static TrainingStart parse(String jsonLine) {
        if (TrainingEvent.parse(jsonLine) instanceof TrainingStart s) {
            return s;
        }
        throw new IllegalArgumentException("not a trainer start line");
    }

    static TrainingStart of(JsonNode n) {
        return new TrainingStart(
                WorkloadJson.string(n, "framework"),
                WorkloadJson.string(n, "device"),
                WorkloadJson.string(n, "dataset"),
                WorkloadJson.string(n, "dataSource"),
                WorkloadJson.smallInteger(n, "trainSamples"),
                WorkloadJson.smallInteger(n, "testSamples"),
                WorkloadJson.smallInteger(n, "epochs"),
                WorkloadJson.smallInteger(n, "batchSize"));
    }
}
