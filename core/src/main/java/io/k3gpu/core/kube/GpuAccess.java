package io.k3gpu.core.kube;

import io.k3gpu.core.k3s.GpuLabels;

import java.util.Optional;

/**
 * How a pod on one node gets that node's GPU, from what the cluster says about the node. Pure.
 *
 * <ul>
 *   <li>The node runs Docker (K3s {@code --docker}, {@code containerRuntimeVersion} {@code docker://...}): the GPU
 *   comes through Docker's default runtime; a pod names no RuntimeClass, since cri-dockerd has no runtime handlers
 *   ({@code RuntimeHandler "nvidia" not supported}).</li>
 *   <li>The node runs K3s's containerd: a pod names {@code runtimeClassName: nvidia} unless NVIDIA is already the
 *   default runtime there (k3gpu's label {@code k3gpu.dev/container-runtime=containerd-nvidia}).</li>
 *   <li>{@code allocatableGpus}: the node's allocatable {@code nvidia.com/gpu}, which only a device plugin
 *   advertises; 0 when absent.</li>
 * </ul>
 */
public record GpuAccess(boolean docker, boolean nvidiaDefault, long allocatableGpus) {
    public static final String RUNTIME_CLASS = "nvidia";

    public static GpuAccess of(NodeStatus n) {
        String runtime = n.containerRuntime();
        boolean docker = runtime != null && runtime.startsWith("docker://");
        String label = n.labels().get(GpuLabels.RUNTIME);
        boolean nvidiaDefault = label != null && label.equals((docker ? "docker" : "containerd") + "-nvidia");
        return new GpuAccess(docker, nvidiaDefault, count(n.gpuAllocatable()));
    }

    /** The RuntimeClass a GPU pod on this node names, if any. */
    public Optional<String> runtimeClassName() {
        return docker || nvidiaDefault ? Optional.empty() : Optional.of(RUNTIME_CLASS);
    }

    /** Whether a device plugin advertises GPUs here (a pod can then request {@code nvidia.com/gpu}). */
    public boolean advertisesGpus() {
        return allocatableGpus > 0;
    }

    /** A whole-number quantity as the API writes extended resources ("1", "4"); 0 for null or anything else. */
    public static long count(String quantity) {
        if (quantity == null || !quantity.matches("[0-9]{1,18}")) {
            return 0;
        }
        return Long.parseLong(quantity);
    }
}
