package io.k3gpu.core.train;

import io.k3gpu.core.kube.GpuPodSpec;
import io.k3gpu.core.kube.Manifests;
import io.k3gpu.core.verify.GpuTestPod;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The seed's mnist-training pod as a Job (no retries, cleaned up after it ends): either the seed's git-clone init
 * container and {@code python3 /workspace/SCRIPT}, or the shipped trainer mounted from a ConfigMap. Pure.
 */
public final class TrainingJob {
    public static final String LABEL = "k3gpu.dev/training";
    public static final String NODE_LABEL = "k3gpu.dev/node";
    public static final String CONTAINER = "train";
    public static final String GIT_IMAGE = "iceci/utils";

    /**
     * @param repo      git URL for the seed's flow, or null for the built-in trainer
     * @param script    the script inside the repository (seed: mnist.py)
     * @param dataset   for the built-in trainer: mnist or fashion-mnist
     * @param epochs    null to leave it to the script
     * @param gpu       how the pod asks for the node's GPU ({@link GpuPodSpec}); null when --gpu was not given
     * @param dataDir   a host path on the node with the IDX files, mounted at /data; null for none
     * @param limitTrain for the built-in trainer: train on the first N images only; null for all
     */
    public record Spec(String name, String namespace, String node, String image, String repo, String script,
                       String dataset, Integer epochs, GpuPodSpec gpu, String dataDir, String workloadsConfigMap,
                       Integer limitTrain) {
        public Spec(String name, String namespace, String node, String image, String repo, String script,
                    String dataset, Integer epochs, GpuPodSpec gpu, String dataDir, String workloadsConfigMap) {
            this(name, namespace, node, image, repo, script, dataset, epochs, gpu, dataDir, workloadsConfigMap, null);
        }
    }

    private TrainingJob() {
    }

    @SuppressWarnings("unchecked")
    public static String manifest(Spec s) {
        Map<String, Object> job = Manifests.load("mnist-training-job.yaml");
        Map<String, Object> meta = (Map<String, Object>) job.get("metadata");
        meta.put("name", s.name());
        meta.put("namespace", s.namespace());
        Map<String, Object> labels = (Map<String, Object>) meta.get("labels");
        labels.put(LABEL, "true");
        labels.put(NODE_LABEL, s.node());
        Map<String, Object> template = (Map<String, Object>) ((Map<String, Object>) job.get("spec")).get("template");
        ((Map<String, Object>) ((Map<String, Object>) template.get("metadata")).get("labels")).put(LABEL, "true");
        Map<String, Object> pod = (Map<String, Object>) template.get("spec");
        ((Map<String, Object>) pod.get("nodeSelector")).put("kubernetes.io/hostname", s.node());
        List<Map<String, Object>> volumes = (List<Map<String, Object>>) pod.get("volumes");
        Map<String, Object> main = ((List<Map<String, Object>>) pod.get("containers")).get(0);
        main.put("name", CONTAINER);
        main.put("image", s.image());
        List<Object> mounts = (List<Object>) main.get("volumeMounts");
        List<String> command = new ArrayList<>(List.of("python3"));
        if (s.repo() != null) {
            Map<String, Object> clone = ((List<Map<String, Object>>) pod.get("initContainers")).get(0);
            clone.put("command", new ArrayList<>(List.of("git", "clone", s.repo(), "/workspace")));
            command.add("/workspace/" + s.script());
        } else {
            pod.remove("initContainers");
            volumes.clear();
            mounts.clear();
            volumes.add(map("name", "k3gpu", "configMap", Map.of("name", s.workloadsConfigMap())));
            mounts.add(map("name", "k3gpu", "mountPath", GpuTestPod.PROBE_DIR));
            command.add(GpuTestPod.PROBE_DIR + "/mnist_train.py");
            command.add("--dataset");
            command.add(s.dataset());
            if (s.limitTrain() != null) {
                command.add("--limit-train");
                command.add(Integer.toString(s.limitTrain()));
            }
        }
        if (s.epochs() != null) {
            command.add("--epochs");
            command.add(Integer.toString(s.epochs()));
        }
        if (s.dataDir() != null) {
            volumes.add(map("name", "data", "hostPath", map("path", s.dataDir(), "type", "Directory")));
            mounts.add(map("name", "data", "mountPath", "/data", "readOnly", true));
            command.add("--data-dir");
            command.add("/data");
        }
        main.put("command", command);
        if (s.gpu() != null) {
            s.gpu().applyTo(pod, main);
        }
        return Manifests.dump(job);
    }

    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
