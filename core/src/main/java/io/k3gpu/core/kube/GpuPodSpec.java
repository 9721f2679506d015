package io.k3gpu.core.kube;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a k3gpu pod (verify's, train's) asks for a node's GPU, as NVIDIA documents it for the device plugin: where the
 * node advertises {@code nvidia.com/gpu}, the container's {@code limits} ask for one (the API makes the request equal)
 * and the pod names {@code runtimeClassName} as {@link GpuAccess} says; elsewhere nothing is added and the pod gets
 * the GPU through the node's default runtime, as the seed's pods do. Pure.
 *
 * @param resource         {@value #RESOURCE} when the pod asks for one, else null
 * @param runtimeClassName the RuntimeClass the pod names, else null
 */
public record GpuPodSpec(String resource, String runtimeClassName) {
    public static final String RESOURCE = "nvidia.com/gpu";

    /** What a GPU pod on a node with this access asks for. */
    public static GpuPodSpec of(GpuAccess access) {
        if (!access.advertisesGpus()) {
            return new GpuPodSpec(null, null);
        }
        return new GpuPodSpec(RESOURCE, access.runtimeClassName().orElse(null));
    }

    /** Whether the pod asks the scheduler for a GPU. */
    public boolean requestsGpu() {
        return resource != null;
    }

    /** Adds the request to {@code container} and the RuntimeClass to {@code podSpec} (manifest maps). */
    @SuppressWarnings("unchecked")
    public void applyTo(Map<String, Object> podSpec, Map<String, Object> container) {
        if (resource == null) {
            return;
        }
        Map<String, Object> resources = (Map<String, Object>) container.computeIfAbsent("resources",
                k -> new LinkedHashMap<String, Object>());
        Map<String, Object> limits = (Map<String, Object>) resources.computeIfAbsent("limits",
                k -> new LinkedHashMap<String, Object>());
        limits.put(resource, 1);
        if (runtimeClassName != null) {
            podSpec.put("runtimeClassName", runtimeClassName);
        }
    }

    /** As verify and train say it: "nvidia.com/gpu: 1, runtimeClassName nvidia" or "the node's default runtime". */
    public String describe() {
        if (resource == null) {
            return "no nvidia.com/gpu request (the node advertises none): the node's default runtime";
        }
        return resource + ": 1" + (runtimeClassName == null ? ", no RuntimeClass (NVIDIA is the node's default)"
                : ", runtimeClassName " + runtimeClassName);
    }
}
