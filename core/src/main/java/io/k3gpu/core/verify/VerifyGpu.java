package io.k3gpu.core.verify;

import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.GpuAccess;
import io.k3gpu.core.kube.GpuPodSpec;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.PodOutcome;
import io.k3gpu.core.kube.PodSummary;
import io.k3gpu.core.workloads.Workloads;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Proves a node's pods get the GPU: runs the seed's gpu-test pod (or the shipped probe) on it, reads its logs and
 * decides PASS or FAIL, saying why and what to do, and keeps that outcome on the Node for the dashboard.
 */
public final class VerifyGpu {
    public static final String NAMESPACE = "default";
    public static final String WORKLOADS_CONFIGMAP = "k3gpu-workloads";

    /**
     * @param resource         the resource the pod requested ("nvidia.com/gpu"), or null (the seed's pod)
     * @param runtimeClassName the RuntimeClass the pod named, or null
     * @param notes            more diagnoses with their fixes that do not decide PASS or FAIL (e.g. a GPU node
     *                         whose device plugin is missing)
     */
    public record Result(String node, boolean pass, String reason, String hint, List<String> evidence, String pod,
                         String image, PodOutcome outcome, String resource, String runtimeClassName,
                         List<Verdict> notes) {
        public Result {
            evidence = List.copyOf(evidence);
            notes = notes == null ? List.of() : List.copyOf(notes);
        }

        Result(String node, Verdict v, String pod, String image, PodOutcome outcome, GpuPodSpec gpu,
               List<Verdict> notes) {
            this(node, v.pass(), v.reason(), v.hint(), v.evidence(), pod, image, outcome, gpu.resource(),
                    gpu.runtimeClassName(), notes);
        }
    }

    private final Events events;

    public VerifyGpu(Events events) {
        this.events = events;
    }

    public Result run(ClusterApi api, String node, String image, boolean probe, Duration timeout, boolean keep) {
        return run(api, node, image, probe, timeout, keep, false);
    }

    /** As {@link #run(ClusterApi, String, String, boolean, Duration, boolean)}; {@code onCordoned}: see GpuTestPod. */
    public Result run(ClusterApi api, String node, String image, boolean probe, Duration timeout, boolean keep,
                      boolean onCordoned) {
        Optional<NodeStatus> status = api.node(node);
        if (status.isEmpty()) {
            String known = String.join(", ", api.nodes().stream().map(NodeStatus::name).toList());
            return new Result(node, false, "there is no node named " + node + " in the cluster (nodes: " + known + ")",
                    "pass one of those names to --node", List.of(), null, null, null, null, null, List.of());
        }
        Result r = verify(api, status.get(), image, probe, timeout, keep, onCordoned);
        record(api, r, Instant.now());
        return r;
    }

    /**
     * Keeps the outcome on the Node ({@link VerifyRecord#ANNOTATION}) for the dashboard. Verify's own answer stands
     * whatever happens here: a refused write (RBAC, the API server gone meanwhile) is only a warning.
     */
    void record(ClusterApi api, Result r, Instant at) {
        try {
            api.annotate(r.node(), Map.of(VerifyRecord.ANNOTATION, VerifyRecord.of(r, at).toAnnotation()));
        } catch (RuntimeException e) {
            events.warn(r.node(), "the result is not kept on the node (annotation " + VerifyRecord.ANNOTATION
                    + "): " + e.getMessage());
        }
    }

    private Result verify(ClusterApi api, NodeStatus n, String image, boolean probe, Duration timeout, boolean keep,
                          boolean onCordoned) {
        String node = n.name();
        GpuAccess access = GpuAccess.of(n);
        GpuPodSpec gpu = GpuPodSpec.of(access);
        List<Verdict> notes = new ArrayList<>();
        if ("true".equals(n.labels().get(GpuLabels.PRESENT)) && !access.advertisesGpus()) {
            notes.add(noAllocatableGpu(api, node));
        }
        VerifyImage choice = VerifyImage.forNode(n.architecture(), n.labels().get(GpuLabels.L4T), image);
        String configMap = null;
        if (probe) {
            api.applyConfigMap(NAMESPACE, WORKLOADS_CONFIGMAP, Workloads.all());
            configMap = WORKLOADS_CONFIGMAP;
        }
        String pod = podName("k3gpu-verify-" + node);
        events.info(node, "creating pod " + pod + " (" + choice.image() + "; " + gpu.describe() + ")");
        try {
            api.create(NAMESPACE, GpuTestPod.manifest(pod, NAMESPACE, node, choice, configMap, gpu, onCordoned));
        } catch (K3gpuException e) {
            if (gpu.runtimeClassName() != null && GpuTestDiagnosis.runtimeClassMissing(e.getMessage())) {
                return new Result(node, GpuTestDiagnosis.runtimeClassMissing(node, gpu.runtimeClassName(),
                        e.getMessage()), null, choice.image(), null, gpu, notes);
            }
            throw e;
        }
        try {
            PodOutcome outcome = api.awaitPod(NAMESPACE, pod, timeout, false);
            if (gpu.requestsGpu() && GpuTestDiagnosis.gpusTaken(outcome)) {
                List<PodSummary> holders = api.activePods(node).stream()
                        .filter(p -> p.gpus() > 0 && !(NAMESPACE.equals(p.namespace()) && pod.equals(p.name())))
                        .toList();
                return new Result(node, GpuTestDiagnosis.gpusTaken(node, outcome.unschedulable(),
                        access.allocatableGpus(), holders), pod, choice.image(), outcome, gpu, notes);
            }
            String logs = outcome.finished() ? api.podLogs(NAMESPACE, pod, "gpu-test") : "";
            for (String line : logs.split("\\R")) {
                if (!line.isBlank()) {
                    events.info(node, "| " + line);
                }
            }
            Verdict v = GpuTestDiagnosis.diagnose(outcome, logs, node, n.internalIp(), probe);
            if (!v.pass() && !"true".equals(n.labels().get(GpuLabels.PRESENT)) && outcome.finished()) {
                // No runtime setting fixes a node without a GPU: say that instead.
                v = new Verdict(false, node + " has no NVIDIA GPU that k3gpu knows of (no " + GpuLabels.PRESENT
                        + "=true label): " + v.reason(), "run it on a GPU node, or if this one has a GPU: k3gpu label --ip "
                        + (n.internalIp() == null ? "<node address>" : n.internalIp()), v.evidence());
            }
            return new Result(node, v, pod, choice.image(), outcome, gpu, notes);
        } finally {
            if (!keep) {
                api.deletePod(NAMESPACE, pod);
            }
        }
    }

    /** Why a GPU node advertises no nvidia.com/gpu: its device plugin pod is missing or not working. */
    private static Verdict noAllocatableGpu(ClusterApi api, String node) {
        List<PodSummary> plugins = api.activePods(node).stream().filter(PodSummary::devicePlugin).toList();
        String tail = null;
        for (PodSummary p : plugins) {
            if (!p.running() && !p.containers().isEmpty()) {
                PodSummary.Container c = p.containers().get(0);
                try {
                    tail = api.podLogTail(p.namespace(), p.name(), c.name(), 5, c.restarts() > 0
                            && !"Running".equals(c.state()));
                } catch (K3gpuException e) {
                    tail = "(its log cannot be read: " + e.getMessage() + ")";
                }
                break;
            }
        }
        return GpuTestDiagnosis.noAllocatableGpu(node, plugins, tail);
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    /** A DNS-1123 name with a random suffix, as generateName would give. */
    public static String podName(String prefix) {
        String base = prefix.toLowerCase().replaceAll("[^a-z0-9-]", "-").replaceAll("-+", "-");
        if (base.length() > 56) {
            base = base.substring(0, 56);
        }
        String alphabet = "bcdfghjklmnpqrstvwxz2456789";
        StringBuilder sb = new StringBuilder(base).append('-');
        for (int i = 0; i < 5; i++) {
            sb.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
