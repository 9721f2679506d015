package io.k3gpu.core.k3s;

import io.k3gpu.core.facts.Gpu;
import io.k3gpu.core.facts.NodeFacts;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The labels that describe a node's GPU, with NVIDIA GPU Feature Discovery's names where GFD has them (so selectors
 * written for GFD work), and k3gpu.dev/ ones for what GFD does not know (L4T, Jetson model, runtime). Pure.
 */
public final class GpuLabels {
    public static final String PRESENT = "nvidia.com/gpu.present";
    public static final String PRODUCT = "nvidia.com/gpu.product";
    public static final String MEMORY = "nvidia.com/gpu.memory";
    public static final String COUNT = "nvidia.com/gpu.count";
    public static final String CUDA = "nvidia.com/cuda.runtime-version.full";
    public static final String L4T = "k3gpu.dev/l4t";
    public static final String JETSON_MODEL = "k3gpu.dev/jetson-model";
    public static final String RUNTIME = "k3gpu.dev/container-runtime";
    /** The NVIDIA Container Toolkit's version: the device plugin needs 1.11 or later on a Jetson. */
    public static final String TOOLKIT = "k3gpu.dev/nvidia-container-toolkit";

    private GpuLabels() {
    }

    /**
     * @param containerRuntime how pods on this node get the GPU, e.g. {@code docker-nvidia}, {@code containerd-nvidia},
     *                         {@code docker-runc}; null to leave the label out
     * @return every k3gpu-managed label; null values mean "remove" (a node that has no GPU any more)
     */
    public static Map<String, String> of(NodeFacts f, String containerRuntime) {
        Map<String, String> l = new LinkedHashMap<>();
        boolean gpu = f.hasGpu();
        l.put(PRESENT, gpu ? "true" : null);
        if (!f.gpus().isEmpty()) {
            Gpu first = f.gpus().get(0);
            l.put(PRODUCT, LabelValues.sanitize(first.name()));
            l.put(MEMORY, first.memoryTotalMiB() == null ? null : Long.toString(first.memoryTotalMiB()));
            l.put(COUNT, Integer.toString(f.gpus().size()));
        } else if (f.isJetson()) {
            l.put(PRODUCT, LabelValues.sanitize(f.jetsonModel() != null ? f.jetsonModel() : "NVIDIA Jetson " + f.socFamily()));
            l.put(MEMORY, null);
            l.put(COUNT, "1");
        } else {
            l.put(PRODUCT, null);
            l.put(MEMORY, null);
            l.put(COUNT, null);
        }
        l.put(CUDA, gpu && f.cudaVersion() != null ? LabelValues.sanitize(f.cudaVersion()) : null);
        l.put(L4T, f.l4tVersion() == null ? null : LabelValues.sanitize(f.l4tVersion()));
        l.put(JETSON_MODEL, f.isJetson() && f.jetsonModel() != null ? LabelValues.sanitize(f.jetsonModel()) : null);
        l.put(TOOLKIT, gpu && f.nvidiaContainerToolkitVersion() != null
                ? LabelValues.sanitize(f.nvidiaContainerToolkitVersion()) : null);
        if (containerRuntime != null) {
            l.put(RUNTIME, LabelValues.sanitize(containerRuntime));
        }
        return l;
    }
}
