package io.k3gpu.lab.k3s.controllers;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The daemon controller's pure parts: node eligibility, the pod it creates, revision hashes, status, rolling update. */
class DaemonSetsTest {
    static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    static ObjectNode ds(String extraPodSpec) {
        return J.parseObject(("""
                {"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"nvidia-device-plugin-daemonset",
                "namespace":"kube-system","uid":"ds-uid","generation":2,
                "annotations":{"deprecated.daemonset.template.generation":"2"}},
                "spec":{"selector":{"matchLabels":{"name":"nvidia-device-plugin-ds"}},
                "updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}},
                "template":{"metadata":{"labels":{"name":"nvidia-device-plugin-ds"},
                "annotations":{"a":"b"}},"spec":{%s"containers":[{"name":"nvidia-device-plugin-ctr",
                "image":"nvcr.io/nvidia/k8s-device-plugin:v0.17.4"}]}}}}""").formatted(extraPodSpec));
    }

    static JsonNode node(String name, String labels, String spec) {
        return J.parse("""
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s"%s}},
                "spec":{%s},"status":{"conditions":[{"type":"Ready","status":"True"}]}}"""
                .formatted(name, name, labels, spec));
    }

    static ObjectNode pod(String name, String node, String hash, boolean ready, String created) {
        return J.parseObject("""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"kube-system",
                "creationTimestamp":"%s","labels":{"controller-revision-hash":"%s","pod-template-generation":"x"}},
                "spec":{"nodeName":"%s"},"status":{"phase":"Running","conditions":[{"type":"Ready",
                "status":"%s","lastTransitionTime":"2026-12-05T11:00:00Z"}]}}"""
                .formatted(name, created, hash, node, ready ? "True" : "False"));
    }

    static final String GPU = ",\"nvidia.com/gpu.present\":\"true\"";
    static final String GPU_SELECTOR = "\"nodeSelector\":{\"nvidia.com/gpu.present\":\"true\"},";

    @Test
    void eligibilityFollowsNodeSelectorAffinityAndTaints() {
        ObjectNode ds = ds(GPU_SELECTOR);
        assertThat(DaemonSets.placement(ds, node("gpu1", GPU, ""))).isEqualTo(new DaemonSets.Placement(true, true));
        assertThat(DaemonSets.placement(ds, node("cpu1", "", ""))).isEqualTo(new DaemonSets.Placement(false, false));
        // cordoned: daemon pods tolerate node.kubernetes.io/unschedulable
        assertThat(DaemonSets.placement(ds, node("gpu2", GPU, "\"unschedulable\":true,\"taints\":[{\"key\":"
                + "\"node.kubernetes.io/unschedulable\",\"effect\":\"NoSchedule\"}]")))
                .isEqualTo(new DaemonSets.Placement(true, true));
        // not-ready NoExecute is tolerated forever by daemon pods
        assertThat(DaemonSets.placement(ds, node("gpu3", GPU, "\"taints\":[{\"key\":\"node.kubernetes.io/not-ready\","
                + "\"effect\":\"NoExecute\"}]"))).isEqualTo(new DaemonSets.Placement(true, true));
        // a NoSchedule taint the template does not tolerate: no new pod, an existing one stays
        String gpuTaint = "\"taints\":[{\"key\":\"nvidia.com/gpu\",\"value\":\"true\",\"effect\":\"NoSchedule\"}]";
        assertThat(DaemonSets.placement(ds, node("gpu4", GPU, gpuTaint)))
                .isEqualTo(new DaemonSets.Placement(false, true));
        assertThat(DaemonSets.placement(ds, node("gpu5", GPU, gpuTaint.replace("NoSchedule", "NoExecute"))))
                .isEqualTo(new DaemonSets.Placement(false, false));
        ObjectNode tolerant = ds(GPU_SELECTOR + "\"tolerations\":[{\"key\":\"nvidia.com/gpu\",\"operator\":\"Exists\","
                + "\"effect\":\"NoSchedule\"}],");
        assertThat(DaemonSets.placement(tolerant, node("gpu4", GPU, gpuTaint)))
                .isEqualTo(new DaemonSets.Placement(true, true));
        ObjectNode affinity = ds("\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                + "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"nvidia.com/gpu.present\",\"operator\":"
                + "\"In\",\"values\":[\"true\"]}]}]}}},");
        assertThat(DaemonSets.placement(affinity, node("gpu1", GPU, "")).shouldRun()).isTrue();
        assertThat(DaemonSets.placement(affinity, node("cpu1", "", "")).shouldRun()).isFalse();
        assertThat(DaemonSets.placement(ds("\"nodeName\":\"gpu2\","), node("gpu1", GPU, "")).shouldRun()).isFalse();
    }

    @Test
    void thePodIsPinnedByMatchFieldsAndCarriesTheDaemonTolerations() {
        ObjectNode pod = DaemonSets.newPod(ds(GPU_SELECTOR + "\"hostNetwork\":true,\"tolerations\":[{\"key\":"
                + "\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
                + "\"tolerationSeconds\":60}],\"affinity\":{\"nodeAffinity\":{"
                + "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{\"matchExpressions\":"
                + "[{\"key\":\"a\",\"operator\":\"Exists\"}]}]}}},"), "gpu1", "6d9c7b5f8");
        assertThat(J.write(pod.path("metadata"))).isEqualTo("{\"generateName\":\"nvidia-device-plugin-daemonset-\","
                + "\"namespace\":\"kube-system\",\"labels\":{\"name\":\"nvidia-device-plugin-ds\","
                + "\"controller-revision-hash\":\"6d9c7b5f8\",\"pod-template-generation\":\"2\"},"
                + "\"annotations\":{\"a\":\"b\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\","
                + "\"name\":\"nvidia-device-plugin-daemonset\",\"uid\":\"ds-uid\",\"controller\":true,"
                + "\"blockOwnerDeletion\":true}]}");
        assertThat(J.write(pod.path("spec").path("affinity"))).isEqualTo("{\"nodeAffinity\":{"
                + "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{\"matchFields\":"
                + "[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"gpu1\"]}]}]}}}");
        // the template's not-ready toleration matches (key, operator, value, effect): replaced, without its seconds
        assertThat(pod.path("spec").path("tolerations").valueStream().map(t -> t.path("key").asString() + ":"
                + t.path("effect").asString() + (t.has("tolerationSeconds") ? "/" + t.path("tolerationSeconds")
                .asInt() : "")).toList()).containsExactly("node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute",
                "node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/memory-pressure:NoSchedule",
                "node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule",
                "node.kubernetes.io/network-unavailable:NoSchedule");
        assertThat(DaemonSets.targetNode(pod)).isEqualTo("gpu1");
        assertThat(Scheduling.matchesRequiredAffinity(pod, node("gpu1", GPU, ""))).isTrue();
        assertThat(Scheduling.matchesRequiredAffinity(pod, node("gpu2", GPU, ""))).isFalse();
        // the DaemonSet's own template is untouched
        assertThat(ds(GPU_SELECTOR).path("spec").path("template").path("spec").has("tolerations")).isFalse();
    }

    @Test
    void hashesAreSafeEncodedAndFollowTheTemplate() {
        String a = DaemonSets.hash(ds("").path("spec").path("template"), 0);
        assertThat(a).matches("[bcdfghjklmnpqrstvwxz2456789]{1,10}");
        assertThat(DaemonSets.hash(ds("").path("spec").path("template"), 0)).isEqualTo(a);
        assertThat(DaemonSets.hash(ds(GPU_SELECTOR).path("spec").path("template"), 0)).isNotEqualTo(a);
        assertThat(DaemonSets.hash(ds("").path("spec").path("template"), 1)).isNotEqualTo(a);
        assertThat(J.write(DaemonSets.revisionData(ds("")).path("spec").path("template").path("$patch")))
                .isEqualTo("\"replace\"");
    }

    @Test
    void statusCountsNodesAsTheControllerDoes() {
        ObjectNode ds = ds(GPU_SELECTOR);
        List<JsonNode> nodes = List.of(node("gpu1", GPU, ""), node("gpu2", GPU, ""), node("gpu3", GPU, ""),
                node("cpu1", "", ""));
        Map<String, List<JsonNode>> pods = new LinkedHashMap<>();
        pods.put("gpu1", List.of(pod("p1", "gpu1", "new", true, "2026-12-05T10:00:00Z")));
        pods.put("gpu2", List.of(pod("p2", "gpu2", "old", false, "2026-12-05T10:00:00Z")));
        pods.put("cpu1", List.of(pod("p4", "cpu1", "new", true, "2026-12-05T10:00:00Z")));
        ObjectNode status = DaemonSets.status(ds, nodes, pods, "new", NOW);
        assertThat(J.write(status)).isEqualTo("{\"currentNumberScheduled\":2,\"numberMisscheduled\":1,"
                + "\"desiredNumberScheduled\":3,\"numberReady\":1,\"observedGeneration\":2,"
                + "\"updatedNumberScheduled\":1,\"numberAvailable\":1,\"numberUnavailable\":2}");
        // minReadySeconds: ready since 11:00, available only after that many seconds
        ds.withObjectProperty("spec").put("minReadySeconds", 7200);
        assertThat(DaemonSets.status(ds, nodes, pods, "new", NOW).has("numberAvailable")).isFalse();
    }

    @Test
    void rollingUpdateDeletesOldPodsUpToMaxUnavailable() {
        ObjectNode ds = ds(GPU_SELECTOR);
        List<JsonNode> nodes = List.of(node("gpu1", GPU, ""), node("gpu2", GPU, ""), node("gpu3", GPU, ""));
        Map<String, List<JsonNode>> pods = new LinkedHashMap<>();
        pods.put("gpu1", List.of(pod("p1", "gpu1", "old", true, "2026-12-05T10:00:00Z")));
        pods.put("gpu2", List.of(pod("p2", "gpu2", "old", true, "2026-12-05T10:00:00Z")));
        pods.put("gpu3", List.of(pod("p3", "gpu3", "old", true, "2026-12-05T10:00:00Z")));
        assertThat(DaemonSets.rollingUpdateDeletions(ds, nodes, pods, "new", NOW)).containsExactly("p1");
        // one node replaced but its new pod not ready yet: nothing more
        pods.put("gpu1", List.of(pod("p1b", "gpu1", "new", false, "2026-12-05T11:00:00Z")));
        assertThat(DaemonSets.rollingUpdateDeletions(ds, nodes, pods, "new", NOW)).isEmpty();
        // ready: the next one
        pods.put("gpu1", List.of(pod("p1b", "gpu1", "new", true, "2026-12-05T11:00:00Z")));
        assertThat(DaemonSets.rollingUpdateDeletions(ds, nodes, pods, "new", NOW)).containsExactly("p2");
        // an old pod that is not available is replaced regardless of maxUnavailable
        pods.put("gpu2", List.of(pod("p2", "gpu2", "old", false, "2026-12-05T10:00:00Z")));
        assertThat(DaemonSets.rollingUpdateDeletions(ds, nodes, pods, "new", NOW)).containsExactly("p2", "p3");
        ds.withObjectProperty("spec").withObjectProperty("updateStrategy").withObjectProperty("rollingUpdate").put("maxUnavailable", "50%");
        assertThat(DaemonSets.maxUnavailable(ds, 3)).isEqualTo(2);
        ds.withObjectProperty("spec").withObjectProperty("updateStrategy").withObjectProperty("rollingUpdate").put("maxUnavailable", 0);
        assertThat(DaemonSets.maxUnavailable(ds, 3)).isEqualTo(1);
    }

    @Test
    void podsAreUpdatedByHashOrTemplateGeneration() {
        ObjectNode p = pod("p", "n", "h1", true, "2026-12-05T10:00:00Z");
        assertThat(DaemonSets.updated(p, "h1", "9")).isTrue();
        assertThat(DaemonSets.updated(p, "h2", "9")).isFalse();
        ((ObjectNode) p.path("metadata").path("labels")).put("pod-template-generation", "9");
        assertThat(DaemonSets.updated(p, "h2", "9")).isTrue();
    }
}
