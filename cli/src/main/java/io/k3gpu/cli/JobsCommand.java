package io.k3gpu.cli;

import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.JobStatus;
import io.k3gpu.core.kube.PodState;
import io.k3gpu.core.train.DistributedTrainingJob;
import io.k3gpu.core.train.TrainingJob;
import io.k3gpu.core.verify.VerifyGpu;
import io.k3gpu.core.workloads.TrainingEvent;
import io.k3gpu.core.workloads.TrainingSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "jobs", description = "List training jobs with their node(s), state, duration, test accuracy and world size.")
final class JobsCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    KubeOptions kube;

    JobsCommand(Terminal terminal) {
        this.terminal = terminal;
        this.kube = new KubeOptions(terminal);
    }

    @Override
    public Integer call() {
        try (ClusterApi api = kube.api()) {
            terminal.out().printf("%-40s %-12s %-10s %-9s %-9s %s%n", "NAME", "NODE", "STATE", "DURATION", "ACCURACY", "WORLD");
            for (JobStatus j : api.jobs(VerifyGpu.NAMESPACE, TrainingJob.LABEL + "=true")) {
                String world = j.labels().getOrDefault(DistributedTrainingJob.WORLD_LABEL, "1");
                String node = j.labels().getOrDefault(TrainingJob.NODE_LABEL, "-");
                Optional<String> reporter = api.podOfJob(VerifyGpu.NAMESPACE, j.name());
                if (!"1".equals(world)) {
                    // a multi-node run: its workers' nodes, and rank 0's pod, which reports the accuracy
                    List<PodState> pods = api.pods(VerifyGpu.NAMESPACE, "job-name=" + j.name());
                    String nodes = pods.stream().map(PodState::node).filter(Objects::nonNull).sorted()
                            .collect(Collectors.joining(","));
                    node = nodes.isEmpty() ? "-" : nodes;
                    reporter = pods.stream().filter(p -> "0".equals(p.annotations().get(DistributedTrainingJob.INDEX_ANNOTATION))
                            || p.name().startsWith(j.name() + "-0-")).map(PodState::name).findFirst();
                }
                String accuracy = reporter
                        .map(p -> api.podLogs(VerifyGpu.NAMESPACE, p, TrainingJob.CONTAINER))
                        .flatMap(TrainingEvent::outcome)
                        .filter(e -> e instanceof TrainingSummary)
                        .map(e -> String.format("%.4f", ((TrainingSummary) e).testAccuracy())).orElse("-");
                Instant end = j.finished() != null ? j.finished() : Instant.now();
                String duration = j.started() == null ? "-" : Duration.between(j.started(), end).toSeconds() + "s";
                terminal.out().printf("%-40s %-12s %-10s %-9s %-9s %s%n", j.name(), node, j.state(), duration, accuracy, world);
            }
            return 0;
        }
    }
}
