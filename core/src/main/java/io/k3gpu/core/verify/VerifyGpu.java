package io.k3gpu.core.verify;

import io.k3gpu.core.event.Events;
import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.PodOutcome;
import io.k3gpu.core.workloads.Workloads;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Proves a node's pods get the GPU: runs the seed's gpu-test pod (or the shipped probe) on it, reads its logs and
 * decides PASS or FAIL, saying why and what to do.
 */
public final class VerifyGpu {
    public static final String NAMESPACE = "default";
    public static final String WORKLOADS_CONFIGMAP = "k3gpu-workloads";

    public record Result(String node, boolean pass, String reason, String hint, List<String> evidence, String pod,
                         String image, PodOutcome outcome) {
    }

    private final Events events;

    public VerifyGpu(Events events) {
        this.events = events;
    }

    public Result run(ClusterApi api, String node, String image, boolean probe, Duration timeout, boolean keep) {
        Optional<NodeStatus> status = api.node(node);
        if (status.isEmpty()) {
            String known = String.join(", ", api.nodes().stream().map(NodeStatus::name).toList());
            return new Result(node, false, "there is no node named " + node + " in the cluster (nodes: " + known + ")",
                    "pass one of those names to --node", List.of(), null, null, null);
        }
        NodeStatus n = status.get();
        VerifyImage choice = VerifyImage.forNode(n.architecture(), n.labels().get(GpuLabels.L4T), image);
        String configMap = null;
        if (probe) {
            api.applyConfigMap(NAMESPACE, WORKLOADS_CONFIGMAP, Workloads.all());
            configMap = WORKLOADS_CONFIGMAP;
        }
        String pod = podName("k3gpu-verify-" + node);
        events.info(node, "creating pod " + pod + " (" + choice.image() + ")");
        api.create(NAMESPACE, GpuTestPod.manifest(pod, NAMESPACE, node, choice, configMap));
        try {
            PodOutcome outcome = api.awaitPod(NAMESPACE, pod, timeout, false);
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
            return new Result(node, v.pass(), v.reason(), v.hint(), v.evidence(), pod, choice.image(), outcome);
        } finally {
            if (!keep) {
                api.deletePod(NAMESPACE, pod);
            }
        }
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
