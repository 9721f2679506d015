package io.k3gpu.core.workloads;

import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What rank 0's {@code done} line adds in a distributed run (issue 13), next to its {@link TrainingSummary}.
 *
 * @param worldSize               the ranks
 * @param backend                 gloo or nccl
 * @param samplesPerSecond        the run's rate: every rank's images over the slowest rank's training time
 * @param allreduceSecondsPerStep the mean time a step waited for its gradients' all-reduce (over the ranks)
 * @param stepSeconds             the mean time of a training step (over the ranks)
 * @param ranks                   each rank's own numbers
 */
public record DistributedSummary(int worldSize, String backend, Double samplesPerSecond,
                                 Double allreduceSecondsPerStep, Double stepSeconds, List<Rank> ranks) {
    public DistributedSummary {
        ranks = List.copyOf(ranks);
    }

    public record Rank(int rank, String node, Double samplesPerSecond, Double allreduceSecondsPerStep,
                       Double stepSeconds) {
    }

    /** The share of a step spent in the all-reduce, 0..1; null when unknown. */
    public Double communicationShare() {
        return allreduceSecondsPerStep == null || stepSeconds == null || stepSeconds <= 0 ? null
                : allreduceSecondsPerStep / stepSeconds;
    }

    /** The distributed part of the last {@code done} line in the logs that has a world size. */
    public static Optional<DistributedSummary> fromLogs(String logs) {
        List<DistributedSummary> found = WorkloadJson.all(logs, DistributedSummary::tryParse);
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(found.size() - 1));
    }

    static Optional<DistributedSummary> tryParse(String line) {
        if (line == null || !line.strip().startsWith("{")) {
            return Optional.empty();
        }
        try {
            JsonNode n = WorkloadJson.object(line);
            Integer world = WorkloadJson.smallInteger(n, "worldSize");
            if (!TrainingSummary.EVENT.equals(WorkloadJson.event(n)) || world == null) {
                return Optional.empty();
            }
            List<Rank> ranks = new ArrayList<>();
            JsonNode list = n.get("ranks");
            if (list != null && list.isArray()) {
                for (JsonNode r : list) {
                    Integer rank = WorkloadJson.smallInteger(r, "rank");
                    if (rank != null) {
                        ranks.add(new Rank(rank, WorkloadJson.string(r, "node"), WorkloadJson.number(r, "samplesPerSecond"),
                                WorkloadJson.number(r, "allreduceSecondsPerStep"), WorkloadJson.number(r, "stepSeconds")));
                    }
                }
            }
            return Optional.of(new DistributedSummary(world, WorkloadJson.string(n, "backend"),
                    WorkloadJson.number(n, "samplesPerSecond"), WorkloadJson.number(n, "allreduceSecondsPerStep"),
                    WorkloadJson.number(n, "stepSeconds"), ranks));
        } catch (IllegalArgumentException | ArithmeticException e) {
            return Optional.empty();
        }
    }

    /** The {@code "rank"} of a trainer line (every line of a distributed run has one); empty for other lines. */
    public static Optional<Integer> rankOf(String line) {
        if (line == null || !line.strip().startsWith("{")) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(WorkloadJson.smallInteger(WorkloadJson.object(line), "rank"));
        } catch (IllegalArgumentException | ArithmeticException e) {
            return Optional.empty();
        }
    }
}
