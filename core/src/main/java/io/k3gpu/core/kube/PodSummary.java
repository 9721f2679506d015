package io.k3gpu.core.kube;

import java.util.List;

/**
 * A pod as far as GPU scheduling needs it: where it is bound, whether it has finished, how many
 * {@code nvidia.com/gpu} it holds, and its containers' states (for a device-plugin pod that crash-loops).
 *
 * @param node the node it is bound to ({@code spec.nodeName}), or null while unscheduled
 * @param gpus the {@code nvidia.com/gpu} it requests, as the scheduler counts them ({@link #effectiveGpus})
 */
public record PodSummary(String namespace, String name, String node, String phase, long gpus,
                         List<Container> containers) {
    /** The image whose pods are NVIDIA's device plugin (any tag). */
    public static final String DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin";

    public PodSummary {
        containers = List.copyOf(containers);
    }

    /**
     * One container's state.
     *
     * @param state    Running, Waiting or Terminated (null when the kubelet has not reported it)
     * @param reason   e.g. CrashLoopBackOff, Error
     * @param restarts restartCount
     */
    public record Container(String name, String image, String state, String reason, String message, int restarts) {
    }

    public boolean finished() {
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    /** Whether this is a pod of NVIDIA's device plugin (its DaemonSet runs them in kube-system). */
    public boolean devicePlugin() {
        return "kube-system".equals(namespace) && containers.stream().anyMatch(c -> c.image() != null
                && (c.image().equals(DEVICE_PLUGIN_IMAGE) || c.image().startsWith(DEVICE_PLUGIN_IMAGE + ":")
                || c.image().startsWith(DEVICE_PLUGIN_IMAGE + "@")));
    }

    /** Whether every container runs. */
    public boolean running() {
        return "Running".equals(phase) && !containers.isEmpty()
                && containers.stream().allMatch(c -> "Running".equals(c.state()));
    }

    /**
     * The pod's request of a resource as the scheduler counts it (Kubernetes' resource helpers): the larger of the
     * containers' sum and the largest init container's. A request left out defaults to the limit.
     */
    public static long effectiveGpus(List<Long> containers, List<Long> initContainers) {
        long sum = containers.stream().mapToLong(Long::longValue).sum();
        long init = initContainers.stream().mapToLong(Long::longValue).max().orElse(0);
        return Math.max(sum, init);
    }

    /** "kube-system/nvidia-device-plugin-x7k2p". */
    public String id() {
        return namespace + "/" + name;
    }
}
