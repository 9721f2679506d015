package io.k3gpu.core.train;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.JobStatus;
import io.k3gpu.core.kube.PodOutcome;
import io.k3gpu.core.kube.PodSummary;
import io.k3gpu.core.verify.GpuTestDiagnosis;
import io.k3gpu.core.verify.VerifyGpu;
import io.k3gpu.core.workloads.TrainingEvent;
import io.k3gpu.core.workloads.TrainingSummary;
import io.k3gpu.core.workloads.Workloads;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** Runs a training Job on a node, follows its log live, and sums up how it went. */
public final class RunTraining {
    /** How long a Job may take to record the end of its pod (the job controller's sync, usually well under 1 s). */
    static final Duration JOB_VERDICT = Duration.ofSeconds(30);


    /** @param summary the trainer's final line, when it printed one */
    public record Result(String job, String node, String state, Duration duration, TrainingSummary summary,
                         String failure) {
    }

    private final Events events;

    public RunTraining(Events events) {
        this.events = events;
    }

    /** @param logLines receives each log line as it arrives (null: do not follow) */
    public Result run(ClusterApi api, TrainingJob.Spec spec, Duration timeout, Consumer<String> logLines) {
        if (api.node(spec.node()).isEmpty()) {
            throw new K3gpuException(ExitCode.FAILED, "there is no node named " + spec.node() + " in the cluster",
                    "pass a name from: k3gpu nodes");
        }
        if (spec.repo() == null) {
            api.applyConfigMap(spec.namespace(), VerifyGpu.WORKLOADS_CONFIGMAP, Workloads.all());
        }
        Instant start = Instant.now();
        events.info(spec.node(), "creating job " + spec.name() + " (" + spec.image() + ")");
        api.create(spec.namespace(), TrainingJob.manifest(spec));
        String pod = awaitPodOf(api, spec, timeout);
        PodOutcome running = api.awaitPod(spec.namespace(), pod, timeout, true);
        if (running.imagePullFailed() || running.unschedulable() != null) {
            String why = running.unschedulable() != null ? "could not be scheduled: " + running.unschedulable()
                    : "could not pull its image (" + running.waitingReason() + ")";
            if (spec.gpu() != null && spec.gpu().requestsGpu() && GpuTestDiagnosis.gpusTaken(running)) {
                // As verify says it: who holds the node's GPUs.
                List<String> holders = api.activePods(spec.node()).stream()
                        .filter(p -> p.gpus() > 0 && !pod.equals(p.name())).map(PodSummary::id).toList();
                why += holders.isEmpty() ? "" : " (the node's GPUs are held by " + String.join(", ", holders) + ")";
            }
            return new Result(spec.name(), spec.node(), "Failed", Duration.between(start, Instant.now()), null,
                    "the training pod " + why);
        }
        PodOutcome end;
        java.util.concurrent.atomic.AtomicInteger shown = new java.util.concurrent.atomic.AtomicInteger();
        if (logLines != null && !running.finished()) {
            Consumer<String> counting = line -> {
                shown.incrementAndGet();
                logLines.accept(line);
            };
            try (AutoCloseable follow = api.followLogs(spec.namespace(), pod, TrainingJob.CONTAINER, counting)) {
                end = api.awaitPod(spec.namespace(), pod, timeout, false);
            } catch (K3gpuException e) {
                throw e;
            } catch (Exception e) {
                throw new K3gpuException(ExitCode.KUBERNETES, "following the training log failed: " + e.getMessage(), null, e);
            }
        } else {
            end = api.awaitPod(spec.namespace(), pod, timeout, false);
        }
        String logs = end.finished() ? api.podLogs(spec.namespace(), pod, TrainingJob.CONTAINER) : "";
        if (logLines != null) {
            // The follow may end before its stream is drained (a pod that fails at once): show what it missed.
            logs.lines().skip(shown.get()).forEach(logLines);
        }
        Optional<TrainingEvent> outcome = TrainingEvent.outcome(logs);
        TrainingSummary summary = outcome.filter(e -> e instanceof TrainingSummary).map(e -> (TrainingSummary) e).orElse(null);
        String byPod = "Succeeded".equals(end.phase()) ? "Complete" : "Failed";
        String state = end.timedOut() ? "Running" : jobOutcome(api, spec, byPod);
        String failure = null;
        if (!"Complete".equals(state)) {
            failure = end.timedOut() ? "still running after " + timeout.toSeconds() + "s"
                    : "the trainer exited " + end.exitCode() + outcome.filter(e -> !(e instanceof TrainingSummary))
                    .map(e -> ": " + e).orElse("");
        }
        return new Result(spec.name(), spec.node(), state, Duration.between(start, Instant.now()), summary, failure);
    }

    /**
     * The Job's own verdict once its pod has ended. The job controller records it a moment after the pod's phase
     * (with job tracking, only after it has removed the pod's finalizer), so a Job still Running right after its
     * pod ended is read again, for up to {@link #JOB_VERDICT}; then the pod's phase stands in for it.
     */
    private static String jobOutcome(ClusterApi api, TrainingJob.Spec spec, String byPod) {
        long deadline = System.nanoTime() + JOB_VERDICT.toNanos();
        while (true) {
            Optional<String> state = api.job(spec.namespace(), spec.name()).map(JobStatus::state);
            if (state.isEmpty()) {
                return byPod; // deleted meanwhile (ttlSecondsAfterFinished, or by hand)
            }
            if (!"Running".equals(state.get()) || System.nanoTime() > deadline) {
                return "Running".equals(state.get()) ? byPod : state.get();
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new K3gpuException(ExitCode.INTERRUPTED, "interrupted", null, e);
            }
        }
    }

    private static String awaitPodOf(ClusterApi api, TrainingJob.Spec spec, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<String> pod = api.podOfJob(spec.namespace(), spec.name());
            if (pod.isPresent()) {
                return pod.get();
            }
            if (System.nanoTime() > deadline) {
                throw new K3gpuException(ExitCode.TIMEOUT, "job " + spec.name() + " made no pod within "
                        + timeout.toSeconds() + "s", "is the cluster's job controller running? (k3gpu ready)");
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new K3gpuException(ExitCode.INTERRUPTED, "interrupted", null, e);
            }
        }
    }
}
