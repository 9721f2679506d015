package io.k3gpu.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.event.Events;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.JobStatus;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.PodOutcome;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import org.junit.jupiter.api.Test;

/** The Job's verdict is read once its pod has ended, and read again while the job controller has not recorded it. */
class RunTrainingTest {

    /** A cluster whose training pod ends as {@code phase} and whose Job reads as each of {@code jobStates} in turn. */
    private static ClusterApi cluster(String phase, int exitCode, String... jobStates) {
        Queue<String> states = new ArrayDeque<>(List.of(jobStates));
        return (ClusterApi) Proxy.newProxyInstance(ClusterApi.class.getClassLoader(), new Class<?>[] {ClusterApi.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "node" -> Optional.of(new NodeStatus("orin1", true, List.of(), Instant.now(), "v1.31.4+k3s1",
                            null, null, null, null, null, "arm64", null, Map.of()));
                    case "applyConfigMap", "create" -> null;
                    case "podOfJob" -> Optional.of("t-abcde");
                    case "awaitPod" -> (Boolean) args[3] ? new PodOutcome("Running", null, null, null, null, false)
                            : new PodOutcome(phase, exitCode, null, null, null, false);
                    case "podLogs" -> "";
                    case "job" -> Optional.ofNullable(states.size() > 1 ? states.poll() : states.peek())
                            .map(s -> new JobStatus("t", "default", s, Instant.now(), null, Map.of()));
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static TrainingJob.Spec spec() {
        return new TrainingJob.Spec("t", "default", "orin1", "img", null, null, "mnist", 1, null, "/data",
                "k3gpu-workloads");
    }

    @Test
    void aJobStillRunningRightAfterItsPodSucceededIsReadAgainUntilComplete() {
        RunTraining.Result r = new RunTraining(Events.NONE).run(cluster("Succeeded", 0, "Running", "Running", "Complete"),
                spec(), Duration.ofSeconds(60), null);
        assertThat(r.state()).isEqualTo("Complete");
        assertThat(r.failure()).isNull();
    }

    @Test
    void aFailedPodGivesTheJobsFailedVerdict() {
        RunTraining.Result r = new RunTraining(Events.NONE).run(cluster("Failed", 1, "Running", "Failed"), spec(),
                Duration.ofSeconds(60), null);
        assertThat(r.state()).isEqualTo("Failed");
        assertThat(r.failure()).startsWith("the trainer exited 1");
    }

    @Test
    void aJobDeletedMeanwhileLeavesThePodsVerdict() {
        RunTraining.Result r = new RunTraining(Events.NONE).run(cluster("Succeeded", 0), spec(), Duration.ofSeconds(60),
                null);
        assertThat(r.state()).isEqualTo("Complete");
    }
}
