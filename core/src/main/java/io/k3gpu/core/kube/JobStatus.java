package io.k3gpu.core.kube;

import java.time.Instant;
import java.util.Map;

/**
 * A Job as k3gpu shows it.
 *
 * @param state       Running, Complete or Failed (from the Job's conditions and counts)
 * @param completions the Job's spec.completions (null when unset: one pod's success completes it)
 * @param parallelism the Job's spec.parallelism (null when unset: 1)
 */
public record JobStatus(String name, String namespace, String state, Instant started, Instant finished,
                        Map<String, String> labels, Integer completions, Integer parallelism) {

    public JobStatus(String name, String namespace, String state, Instant started, Instant finished,
                     Map<String, String> labels) {
        this(name, namespace, state, started, finished, labels, null, null);
    }

    /**
     * How many pods train together: the larger of completions and parallelism (an Indexed Job of a multi-node run
     * sets both to the world size; a single-pod Job leaves them at 1 or unset).
     */
    public int worldSize() {
        return Math.max(1, Math.max(completions == null ? 1 : completions, parallelism == null ? 1 : parallelism));
    }
}
