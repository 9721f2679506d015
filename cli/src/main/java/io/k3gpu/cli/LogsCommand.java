package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.PodState;
import io.k3gpu.core.train.DistributedTrainingJob;
import io.k3gpu.core.train.TrainingJob;
import io.k3gpu.core.verify.VerifyGpu;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "logs", description = {"Show a training job's log (-f to follow it).",
        "A multi-node run: rank 0's log, or --rank N's."})
final class LogsCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    KubeOptions kube;

    @Parameters(paramLabel = "NAME", description = "The job's name (see k3gpu jobs).")
    String job;

    @Option(names = {"-f", "--follow"}, description = "Follow the log until the job ends.")
    boolean follow;

    @Option(names = "--rank", paramLabel = "N", description = "A multi-node run's worker (default: 0).")
    Integer rank;

    LogsCommand(Terminal terminal) {
        this.terminal = terminal;
        this.kube = new KubeOptions(terminal);
    }

    @Override
    public Integer call() throws Exception {
        try (ClusterApi api = kube.api()) {
            String world = api.job(VerifyGpu.NAMESPACE, job).map(j -> j.labels().get(DistributedTrainingJob.WORLD_LABEL))
                    .orElse(null);
            String pod;
            if (world == null) {
                if (rank != null && rank != 0) {
                    throw new K3gpuException(ExitCode.USAGE, "job " + job + " runs on one node: it has no rank " + rank,
                            "leave out --rank");
                }
                pod = api.podOfJob(VerifyGpu.NAMESPACE, job).orElseThrow(() -> new K3gpuException(ExitCode.FAILED,
                        "job " + job + " has no pod (any more)", "list jobs with: k3gpu jobs"));
            } else {
                int r = rank == null ? 0 : rank;
                pod = api.pods(VerifyGpu.NAMESPACE, "job-name=" + job).stream()
                        .filter(p -> Integer.toString(r).equals(p.annotations().get(DistributedTrainingJob.INDEX_ANNOTATION))
                                || p.name().startsWith(job + "-" + r + "-"))
                        .map(PodState::name).findFirst().orElseThrow(() -> new K3gpuException(ExitCode.FAILED,
                                "job " + job + " has no pod for rank " + r + " (world size " + world + ")",
                                "pass --rank 0 to " + (Integer.parseInt(world) - 1) + "; list jobs with: k3gpu jobs"));
            }
            if (!follow) {
                terminal.out().print(api.podLogs(VerifyGpu.NAMESPACE, pod, TrainingJob.CONTAINER));
                return 0;
            }
            api.awaitPod(VerifyGpu.NAMESPACE, pod, Duration.ofMinutes(10), true);
            try (AutoCloseable f = api.followLogs(VerifyGpu.NAMESPACE, pod, TrainingJob.CONTAINER, terminal.out()::println)) {
                api.awaitPod(VerifyGpu.NAMESPACE, pod, Duration.ofHours(24), false);
            }
            return 0;
        }
    }
}
