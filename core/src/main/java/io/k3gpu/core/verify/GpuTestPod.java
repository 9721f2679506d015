package io.k3gpu.core.verify;

import io.k3gpu.core.kube.GpuPodSpec;
import io.k3gpu.core.kube.Manifests;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The seed's gpu-test pod, for one node. Pure; golden-tested. */
public final class GpuTestPod {
    /** Where --probe mounts the shipped probe script (from a ConfigMap). */
    public static final String PROBE_DIR = "/opt/k3gpu";

    private GpuTestPod() {
    }

    /**
     * @param probeConfigMap the ConfigMap holding gpu_probe.py, or null for the seed's import check
     */
    public static String manifest(String name, String namespace, String node, VerifyImage image, String probeConfigMap) {
        return manifest(name, namespace, node, image, probeConfigMap, new GpuPodSpec(null, null));
    }

    /**
     * As {@link #manifest(String, String, String, VerifyImage, String)}, asking for the GPU as {@code gpu} says:
     * {@code nvidia.com/gpu: 1} and the RuntimeClass where the node advertises GPUs, else the seed's pod as it is.
     */
    public static String manifest(String name, String namespace, String node, VerifyImage image, String probeConfigMap,
                                  GpuPodSpec gpu) {
        return manifest(name, namespace, node, image, probeConfigMap, gpu, false);
    }

    /**
     * As {@link #manifest(String, String, String, VerifyImage, String, GpuPodSpec)}; with {@code onCordoned} the pod
     * tolerates {@code node.kubernetes.io/unschedulable:NoSchedule}, so that the scheduler's NodeUnschedulable
     * filter lets it onto a cordoned node (a rolling upgrade's GPU gate runs before the node is uncordoned).
     */
    public static String manifest(String name, String namespace, String node, VerifyImage image, String probeConfigMap,
                                  GpuPodSpec gpu, boolean onCordoned) {
        Map<String, Object> pod = Manifests.load("gpu-test-pod.yaml");
        Map<String, Object> meta = Manifests.map(pod, "metadata");
        meta.put("name", name);
        meta.put("namespace", namespace);
        Map<String, Object> spec = Manifests.map(pod, "spec");
        Manifests.map(spec, "nodeSelector").put("kubernetes.io/hostname", node);
        Map<String, Object> c = Manifests.list(spec, "containers").get(0);
        c.put("image", image.image());
        if (probeConfigMap == null) {
            c.put("command", new ArrayList<>(image.command()));
        } else {
            c.put("command", new ArrayList<>(List.of("python3", PROBE_DIR + "/gpu_probe.py")));
            c.put("volumeMounts", new ArrayList<>(List.of(Map.of("name", "k3gpu", "mountPath", PROBE_DIR))));
            spec.put("volumes", new ArrayList<>(List.of(Map.of("name", "k3gpu",
                    "configMap", Map.of("name", probeConfigMap)))));
        }
        gpu.applyTo(spec, c);
        if (onCordoned) {
            List<Object> tolerations = new ArrayList<>();
            if (spec.get("tolerations") instanceof List<?> l) {
                tolerations.addAll(l);
            }
            tolerations.add(new java.util.LinkedHashMap<>(Map.of("key", "node.kubernetes.io/unschedulable",
                    "operator", "Exists", "effect", "NoSchedule")));
            spec.put("tolerations", tolerations);
        }
        return Manifests.dump(pod);
    }
}
