package io.k3gpu.core.train;

import io.k3gpu.core.kube.GpuPodSpec;
import io.k3gpu.core.kube.Manifests;
import io.k3gpu.core.verify.GpuTestPod;
import io.k3gpu.core.workloads.Workloads;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training run over N nodes (issue 13): an Indexed Job (completions = parallelism = N, no retries) whose pods are
 * pinned one per chosen node, and a headless Service of the same name with {@code subdomain}, so that rank i's pod
 * is {@code <job>-i.<job>.<namespace>.svc.cluster.local} and rank 0 is the rendezvous. Pure.
 *
 * <p>Workers run {@code torchrun} with the static rendezvous ({@code --master_addr}/{@code --master_port}
 * {@code --node_rank $JOB_COMPLETION_INDEX}): PyTorch's c10d rendezvous ignores {@code --node_rank} and numbers the
 * nodes by their sorted descriptors ({@code torch/distributed/elastic/rendezvous/dynamic_rendezvous.py}, 1.13:
 * {@code for rank, node in enumerate(sorted(state.participants))}), so only the static one makes the rank the
 * Job's completion index. Options are spelt with underscores, which torchrun 1.10 through 2.x all accept.
 */
public final class DistributedTrainingJob {
    public static final String JOB_LABEL = "k3gpu.dev/job";
    public static final String WORLD_LABEL = "k3gpu.dev/world-size";
    public static final String NODES_ANNOTATION = "k3gpu.dev/nodes";
    /** Kubernetes' annotation (and, since 1.28, label) on an Indexed Job's pods. */
    public static final String INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";
    public static final int PORT = 29500;

    /**
     * @param nodes              the chosen nodes (N &gt; 1), one worker each
     * @param repo               git URL, or null for the shipped trainer
     * @param script             the script in the repository: a {@code .py} runs under torchrun; any other file
     *                           is the script's own launcher, run with {@code sh} and the rendezvous in its
     *                           environment (MASTER_ADDR, MASTER_PORT, NNODES, NODE_RANK, K3GPU_BACKEND)
     * @param limitTrain         train on the first N images only (shipped trainer); null for all
     * @param rendezvousSeconds  how long the ranks may take to find each other
     */
    public record Spec(String name, String namespace, List<String> nodes, String image, String repo, String script,
                       String dataset, Integer epochs, Integer limitTrain, String backend, long rendezvousSeconds,
                       GpuPodSpec gpu, String dataDir, String workloadsConfigMap) {
        public Spec {
            nodes = List.copyOf(nodes);
        }

        public int worldSize() {
            return nodes.size();
        }

        /** Rank 0's DNS name: {@code <hostname>.<subdomain>}, found through the pod's search domains. */
        public String master() {
            return name + "-0." + name;
        }
    }

    private DistributedTrainingJob() {
    }

    /** The Service and the Job, as one YAML stream. */
    public static String manifest(Spec s) {
        return Manifests.dump(service(s)) + "---\n" + Manifests.dump(job(s));
    }

    /**
     * The worker's command: {@code sh -c SCRIPT}, where the script execs the shipped launcher (rank 0's name resolved,
     * GLOO_SOCKET_IFNAME and NCCL_SOCKET_IFNAME set to the interface of the route to it), which runs torchrun or
     * the user's launcher.
     */
    public static List<String> workerCommand(Spec s) {
        String master = s.master();
        long t = s.rendezvousSeconds();
        StringBuilder sh = new StringBuilder("export NODE_RANK=\"$JOB_COMPLETION_INDEX\"; exec python3 ")
                .append(GpuTestPod.PROBE_DIR).append('/').append(Workloads.DIST_WORKER)
                .append(" --master ").append(master).append(" --timeout ").append(t).append(" --");
        boolean ownLauncher = s.repo() != null && !s.script().endsWith(".py");
        if (ownLauncher) {
            sh.append(" sh ").append(quote("/workspace/" + s.script()));
        } else {
            sh.append(" torchrun --nnodes ").append(s.worldSize()).append(" --nproc_per_node 1")
                    .append(" --node_rank \"$JOB_COMPLETION_INDEX\" --master_addr ").append(master)
                    .append(" --master_port ").append(PORT).append(" --max_restarts 0 --rdzv_conf timeout=").append(t);
            if (s.repo() != null) {
                sh.append(' ').append(quote("/workspace/" + s.script()));
            } else {
                sh.append(' ').append(GpuTestPod.PROBE_DIR).append('/').append(Workloads.MNIST_TRAIN)
                        .append(" --dataset ").append(quote(s.dataset())).append(" --backend ").append(s.backend())
                        .append(" --rendezvous-timeout ").append(t);
                if (s.limitTrain() != null) {
                    sh.append(" --limit-train ").append(s.limitTrain());
                }
            }
        }
        if (!ownLauncher) {
            if (s.epochs() != null) {
                sh.append(" --epochs ").append(s.epochs());
            }
            if (s.dataDir() != null) {
                sh.append(" --data-dir /data");
            }
        }
        return List.of("sh", "-c", sh.toString());
    }

    private static Map<String, Object> service(Spec s) {
        Map<String, Object> svc = map("apiVersion", "v1", "kind", "Service", "metadata", metadata(s));
        svc.put("spec", map("clusterIP", "None",
                // rank 0's name must resolve before its pod is Ready: the rendezvous is what makes it run
                "publishNotReadyAddresses", true,
                "selector", map(JOB_LABEL, s.name()),
                "ports", List.of(map("name", "rendezvous", "port", PORT, "targetPort", PORT))));
        return svc;
    }

    private static Map<String, Object> job(Spec s) {
        Map<String, Object> meta = metadata(s);
        meta.put("annotations", map(NODES_ANNOTATION, String.join(",", s.nodes())));
        Map<String, Object> container = map("name", TrainingJob.CONTAINER, "image", s.image(),
                "command", new ArrayList<>(workerCommand(s)));
        List<Object> env = new ArrayList<>();
        env.add(map("name", "K3GPU_NODE", "valueFrom", map("fieldRef", map("fieldPath", "spec.nodeName"))));
        env.add(map("name", "MASTER_ADDR", "value", s.master()));
        env.add(map("name", "MASTER_PORT", "value", Integer.toString(PORT)));
        env.add(map("name", "NNODES", "value", Integer.toString(s.worldSize())));
        env.add(map("name", "K3GPU_BACKEND", "value", s.backend()));
        container.put("env", env);
        container.put("ports", List.of(map("name", "rendezvous", "containerPort", PORT)));
        List<Object> mounts = new ArrayList<>();
        List<Object> volumes = new ArrayList<>();
        mounts.add(map("name", "k3gpu", "mountPath", GpuTestPod.PROBE_DIR));
        volumes.add(map("name", "k3gpu", "configMap", map("name", s.workloadsConfigMap())));
        Map<String, Object> pod = new LinkedHashMap<>();
        pod.put("restartPolicy", "Never");
        pod.put("subdomain", s.name());
        pod.put("affinity", map(
                "nodeAffinity", map("requiredDuringSchedulingIgnoredDuringExecution", map("nodeSelectorTerms",
                        List.of(map("matchExpressions", List.of(map("key", "kubernetes.io/hostname",
                                "operator", "In", "values", new ArrayList<>(s.nodes()))))))),
                "podAntiAffinity", map("requiredDuringSchedulingIgnoredDuringExecution", List.of(map(
                        "labelSelector", map("matchLabels", map(JOB_LABEL, s.name())),
                        "topologyKey", "kubernetes.io/hostname")))));
        if (s.repo() != null) {
            mounts.add(map("name", "workspace", "mountPath", "/workspace"));
            volumes.add(map("name", "workspace", "emptyDir", new LinkedHashMap<>()));
            pod.put("initContainers", List.of(map("name", "git-clone", "image", TrainingJob.GIT_IMAGE,
                    "command", List.of("git", "clone", s.repo(), "/workspace"),
                    "volumeMounts", List.of(map("name", "workspace", "mountPath", "/workspace")))));
        }
        if (s.dataDir() != null) {
            mounts.add(map("name", "data", "mountPath", "/data", "readOnly", true));
            volumes.add(map("name", "data", "hostPath", map("path", s.dataDir(), "type", "Directory")));
        }
        container.put("volumeMounts", mounts);
        pod.put("containers", new ArrayList<>(List.of(container)));
        pod.put("volumes", volumes);
        if (s.gpu() != null) {
            s.gpu().applyTo(pod, container);
        }
        Map<String, Object> templateMeta = map("labels", map("app.kubernetes.io/name", "training",
                "app.kubernetes.io/managed-by", "k3gpu", TrainingJob.LABEL, "true", JOB_LABEL, s.name()));
        Map<String, Object> spec = map("completionMode", "Indexed", "completions", s.worldSize(),
                "parallelism", s.worldSize(), "backoffLimit", 0, "ttlSecondsAfterFinished", 600,
                "template", map("metadata", templateMeta, "spec", pod));
        return map("apiVersion", "batch/v1", "kind", "Job", "metadata", meta, "spec", spec);
    }

    private static Map<String, Object> metadata(Spec s) {
        return map("name", s.name(), "namespace", s.namespace(), "labels", map(
                "app.kubernetes.io/name", "training", "app.kubernetes.io/managed-by", "k3gpu",
                TrainingJob.LABEL, "true", WORLD_LABEL, Integer.toString(s.worldSize())));
    }

    /** A POSIX shell single-quoted word. */
    static String quote(String word) {
        if (word.matches("[A-Za-z0-9_./:=-]+")) {
            return word;
        }
        return "'" + word.replace("'", "'\\''") + "'";
    }

    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
