package io.k3gpu.core.kube;

/**
 * Where a pod ended up, as far as a verdict needs it.
 *
 * @param phase              Pending, Running, Succeeded, Failed
 * @param exitCode           the main container's exit code once terminated, else null
 * @param waitingReason      e.g. ErrImagePull, ImagePullBackOff, ContainerCreating
 * @param waitingMessage     the kubelet's message for that reason
 * @param unschedulable      the scheduler's message when the pod cannot be placed (PodScheduled=False), else null
 * @param timedOut           true when the pod had not finished when the wait ended
 */
public record PodOutcome(String phase, Integer exitCode, String waitingReason, String waitingMessage,
                         String unschedulable, boolean timedOut) {

    public boolean imagePullFailed() {
        return "ErrImagePull".equals(waitingReason) || "ImagePullBackOff".equals(waitingReason)
                || "InvalidImageName".equals(waitingReason);
    }

    public boolean finished() {
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }
}
