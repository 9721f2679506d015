package io.k3gpu.core.workloads;

import tools.jackson.databind.JsonNode;

/**
 * The trainer's last line on failure ({@code "event":"error"}); the process then exits non-zero.
 *
 * @param message what went wrong, e.g. {@code "no usable framework (...)"}
 */
public record TrainingError(String message) implements TrainingEvent {

    public static final String EVENT = "error";

    @Override
    public String event() {
        return EVENT;
    }

    /** Parses an error line; any other line is an {@link IllegalArgumentException}. */
    public static TrainingError parse(String jsonLine) {
        if (TrainingEvent.parse(jsonLine) instanceof TrainingError e) {
            return e;
        }
        throw new IllegalArgumentException("not a trainer error line");
    }

    static TrainingError of(JsonNode n) {
        String message = WorkloadJson.string(n, "message");
        return new TrainingError(message == null ? "" : message);
    }
}
