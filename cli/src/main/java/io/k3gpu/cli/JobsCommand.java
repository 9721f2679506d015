package io.k3gpu.cli;

import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.JobStatus;
import io.k3gpu.core.train.TrainingJob;
import io.k3gpu.core.verify.VerifyGpu;
import io.k3gpu.core.workloads.TrainingEvent;
import io.k3gpu.core.workloads.TrainingSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;

@Command(name = "jobs", description = "List training jobs with their state, duration and test accuracy.")
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
            terminal.out().printf("%-40s %-12s %-10s %-9s %s%n", "NAME", "NODE", "STATE", "DURATION", "ACCURACY");
            for (JobStatus j : api.jobs(VerifyGpu.NAMESPACE, TrainingJob.LABEL + "=true")) {
                String accuracy = api.podOfJob(VerifyGpu.NAMESPACE, j.name())
                        .map(p -> api.podLogs(VerifyGpu.NAMESPACE, p, TrainingJob.CONTAINER))
                        .flatMap(TrainingEvent::outcome)
                        .filter(e -> e instanceof TrainingSummary)
                        .map(e -> String.format("%.4f", ((TrainingSummary) e).testAccuracy())).orElse("-");
                Instant end = j.finished() != null ? j.finished() : Instant.now();
                String duration = j.started() == null ? "-" : Duration.between(j.started(), end).toSeconds() + "s";
                terminal.out().printf("%-40s %-12s %-10s %-9s %s%n", j.name(), j.labels().getOrDefault(TrainingJob.NODE_LABEL, "-"),
                        j.state(), duration, accuracy);
            }
            return 0;
        }
    }
}
