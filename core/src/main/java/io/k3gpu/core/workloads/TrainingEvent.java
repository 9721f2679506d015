package io.k3gpu.core.workloads;

import java.util.List;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * One JSON line of {@code mnist_train.py}, told apart by its {@code "event"} member:
 * {@code start} ({@link TrainingStart}), {@code epoch} ({@link TrainingProgress}), {@code done}
 * ({@link TrainingSummary}) or {@code error} ({@link TrainingError}).
 */
public sealed interface TrainingEvent permits TrainingStart, TrainingProgress, TrainingSummary, TrainingError {

    /** The {@code "event"} value of this kind of line. */
    String event();

    /**
     * Parses one trainer line into the record for its event.
     *
     * @throws IllegalArgumentException if the line is not JSON, has an unknown event, or a member has the wrong type
     */
    static TrainingEvent parse(String jsonLine) {
        JsonNode n = WorkloadJson.object(jsonLine);
        String event = WorkloadJson.event(n);
        if (event == null) {
            throw new IllegalArgumentException("no \"event\" member: " + WorkloadJson.abbreviate(jsonLine.strip()));
        }
        return switch (event) {
            case TrainingStart.EVENT -> TrainingStart.of(n);
            case TrainingProgress.EVENT -> TrainingProgress.of(n);
            case TrainingSummary.EVENT -> TrainingSummary.of(n);
            case TrainingError.EVENT -> TrainingError.of(n);
            default -> throw new IllegalArgumentException("not a trainer event: " + event);
        };
    }

    /** The line parsed, or empty when it is not a trainer line (TensorFlow's log lines, say). */
    static Optional<TrainingEvent> tryParse(String line) {
        if (line == null || !line.strip().startsWith("{")) {
            return Optional.empty();
        }
        try {
            return Optional.of(parse(line));
        } catch (IllegalArgumentException | ArithmeticException e) {
            return Optional.empty();
        }
    }

    /** Every trainer event in a pod's logs (stdout and stderr mixed), in order. */
    static List<TrainingEvent> fromLogs(String logs) {
        return WorkloadJson.all(logs, TrainingEvent::tryParse);
    }

    /** The run's outcome in a pod's logs: its last {@code done} or {@code error} line, if any. */
    static Optional<TrainingEvent> outcome(String logs) {
        List<TrainingEvent> events = fromLogs(logs);
        for (int i = events.size() - 1; i >= 0; i--) {
            TrainingEvent e = events.get(i);
            if (e instanceof TrainingSummary || e instanceof TrainingError) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    /** The last epoch line in a pod's logs, if any. */
    static Optional<TrainingProgress> lastProgress(String logs) {
        List<TrainingEvent> events = fromLogs(logs);
        for (int i = events.size() - 1; i >= 0; i--) {
            if (events.get(i) instanceof TrainingProgress p) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
