package io.k3gpu.core.kube;

import java.util.Map;

/**
 * One pod, as {@code kubectl get pods -o wide} sums it up.
 *
 * @param node       the node it is bound to, null while unscheduled
 * @param phase      Pending, Running, Succeeded, Failed
 * @param ready      whether its Ready condition is True
 * @param reason     why its container is not running (CrashLoopBackOff, ContainerCreating, ImagePullBackOff,
 *                   Error, ...) or, when unscheduled, the scheduler's message; null when it runs
 * @param restarts   its containers' restarts, summed
 */
public record PodState(String name, String node, String phase, boolean ready, String reason, int restarts,
                       Map<String, String> annotations) {
    public PodState {
        annotations = Map.copyOf(annotations);
    }

    /** As kubectl's STATUS column: the reason when there is one, else the phase. */
    public String status() {
        return reason != null ? reason : phase;
    }
}
