package io.k3gpu.lab.k3s.controllers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

/** kube-scheduler's predicates and its FailedScheduling messages, golden strings as v1.31 words them. */
class SchedulingTest {
    static JsonNode node(String name, String gpus, String extraSpec) {
        return J.parse("""
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s",
                "kubernetes.io/arch":"arm64"}},"spec":{%s},
                "status":{"allocatable":{"cpu":"4","memory":"3963Mi","pods":"110"%s},
                "conditions":[{"type":"Ready","status":"True"}]}}"""
                .formatted(name, name, extraSpec, gpus == null ? "" : ",\"nvidia.com/gpu\":\"" + gpus + "\""));
    }

    static JsonNode pod(String spec) {
        return J.parse("""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"gpu-test","namespace":"default"},
                "spec":{%s}}""".formatted(spec));
    }

    static final String CONTAINER = "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]";
    static final String GPU_CONTAINER = "\"containers\":[{\"name\":\"c\",\"image\":\"l4t\",\"resources\":{\"limits\":"
            + "{\"nvidia.com/gpu\":\"1\"}}}]";

    static List<Scheduling.NodeInfo> infos(JsonNode... nodes) {
        List<Scheduling.NodeInfo> out = new ArrayList<>();
        for (JsonNode n : nodes) {
            out.add(new Scheduling.NodeInfo(n, new ArrayList<>()));
        }
        return out;
    }

    @Test
    void aNodeSelectorForAMissingNodeMatchesNoNode() {
        Scheduling.Decision d = Scheduling.schedule(pod("\"nodeSelector\":{\"kubernetes.io/hostname\":\"jetson\"},"
                + CONTAINER), infos(node("k3s-server", null, ""), node("jetson1", "1", "")));
        assertThat(d.scheduled()).isFalse();
        assertThat(d.message()).isEqualTo("0/2 nodes are available: 2 node(s) didn't match Pod's node "
                + "affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.");
    }

    @Test
    void aGpuRequestOnANodeWithoutGpusIsInsufficientAndNoVictimsHelp() {
        Scheduling.Decision d = Scheduling.schedule(pod(GPU_CONTAINER), infos(node("k3s-server", null, "")));
        assertThat(d.message()).isEqualTo("0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: "
                + "0/1 nodes are available: 1 No preemption victims found for incoming pod.");
    }

    @Test
    void reasonsAreCountedPerNodeAndSortedAsGoSortsStrings() {
        Scheduling.Decision d = Scheduling.schedule(pod("\"nodeSelector\":{\"kubernetes.io/arch\":\"arm64\"},"
                + GPU_CONTAINER), infos(node("k3s-server", null, ""), J.parse(J.write(node("amd", "1", ""))
                .replace("arm64", "amd64"))));
        assertThat(d.message()).isEqualTo("0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) didn't "
                + "match Pod's node affinity/selector. preemption: 0/2 nodes are available: 1 No preemption victims "
                + "found for incoming pod, 1 Preemption is not helpful for scheduling.");
    }

    @Test
    void anUnreachableNodesTaintIsUntoleratedAndComesBeforeResources() {
        String taint = "\"taints\":[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoSchedule\"},"
                + "{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\"}]";
        Scheduling.Decision d = Scheduling.schedule(pod(GPU_CONTAINER), infos(node("jetson1", "1", taint),
                node("k3s-server", null, "")));
        assertThat(d.message()).isEqualTo("0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) had "
                + "untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/2 nodes are available: 1 No "
                + "preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.");
        // a toleration of the NoSchedule effect alone is not enough: NoExecute is filtered too
        JsonNode tolerant = pod("\"tolerations\":[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":"
                + "\"Exists\",\"effect\":\"NoSchedule\"}]," + GPU_CONTAINER);
        assertThat(Scheduling.schedule(tolerant, infos(node("jetson1", "1", taint))).scheduled()).isFalse();
        JsonNode all = pod("\"tolerations\":[{\"operator\":\"Exists\"}]," + GPU_CONTAINER);
        assertThat(Scheduling.schedule(all, infos(node("jetson1", "1", taint))).node()).isEqualTo("jetson1");
        String valued = "\"taints\":[{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]";
        assertThat(Scheduling.schedule(pod(CONTAINER), infos(node("a", null, valued))).message())
                .startsWith("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}.");
    }

    @Test
    void aCordonedNodeIsUnschedulable() {
        assertThat(Scheduling.schedule(pod(CONTAINER), infos(node("a", null, "\"unschedulable\":true"))).message())
                .isEqualTo("0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are "
                        + "available: 1 Preemption is not helpful for scheduling.");
    }

    @Test
    void gpusInUseByBoundPodsAreNotFreeAndFinishedOnesAreNotCounted() {
        JsonNode jetson = node("jetson1", "1", "");
        List<Scheduling.NodeInfo> nodes = new ArrayList<>();
        nodes.add(new Scheduling.NodeInfo(jetson, new ArrayList<>(List.of(pod(GPU_CONTAINER)))));
        assertThat(Scheduling.schedule(pod(GPU_CONTAINER), nodes).message())
                .startsWith("0/1 nodes are available: 1 Insufficient nvidia.com/gpu.");
        assertThat(Scheduling.schedule(pod(GPU_CONTAINER), infos(jetson)).node()).isEqualTo("jetson1");
        assertThat(Scheduling.schedule(pod(CONTAINER), nodes).node()).isEqualTo("jetson1");
    }

    @Test
    void cpuMemoryAndPodCountAreCheckedInTheSchedulersOrder() {
        JsonNode big = pod("\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"resources\":{\"requests\":{\"cpu\":"
                + "\"8\",\"memory\":\"16Gi\"}}}]");
        assertThat(Scheduling.schedule(big, infos(node("a", null, ""))).message())
                .startsWith("0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.");
        JsonNode full = J.parse(J.write(node("a", null, "")).replace("\"pods\":\"110\"", "\"pods\":\"0\""));
        assertThat(Scheduling.schedule(pod(CONTAINER), infos(full)).message())
                .startsWith("0/1 nodes are available: 1 Too many pods.");
        JsonNode small = pod("\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"resources\":{\"requests\":{\"cpu\":"
                + "\"500m\",\"memory\":\"256Mi\"}}}]");
        assertThat(Scheduling.schedule(small, infos(node("a", null, ""))).node()).isEqualTo("a");
    }

    @Test
    void histogramStringsSortAsGoSortsThem() {
        java.util.Map<String, Scheduling.Status> statuses = new java.util.LinkedHashMap<>();
        for (int i = 0; i < 10; i++) {
            statuses.put("a" + i, Scheduling.Status.unresolvable(Scheduling.REASON_AFFINITY));
        }
        statuses.put("b0", new Scheduling.Status(List.of("Insufficient cpu"), true));
        statuses.put("b1", new Scheduling.Status(List.of("Insufficient cpu"), true));
        assertThat(Scheduling.fitError(12, statuses)).isEqualTo("0/12 nodes are available: 10 node(s) didn't match "
                + "Pod's node affinity/selector, 2 Insufficient cpu.");
    }

    @Test
    void requiredNodeAffinityOperators() {
        JsonNode jetson = J.parse(J.write(node("jetson1", "1", "")).replace("\"kubernetes.io/arch\":\"arm64\"",
                "\"kubernetes.io/arch\":\"arm64\",\"k3gpu.dev/gpu\":\"true\",\"cores\":\"4\""));
        String[][] cases = {
            {"{\"key\":\"kubernetes.io/arch\",\"operator\":\"In\",\"values\":[\"arm64\",\"amd64\"]}", "true"},
            {"{\"key\":\"kubernetes.io/arch\",\"operator\":\"NotIn\",\"values\":[\"arm64\"]}", "false"},
            {"{\"key\":\"missing\",\"operator\":\"NotIn\",\"values\":[\"x\"]}", "true"},
            {"{\"key\":\"k3gpu.dev/gpu\",\"operator\":\"Exists\"}", "true"},
            {"{\"key\":\"k3gpu.dev/gpu\",\"operator\":\"DoesNotExist\"}", "false"},
            {"{\"key\":\"cores\",\"operator\":\"Gt\",\"values\":[\"2\"]}", "true"},
            {"{\"key\":\"cores\",\"operator\":\"Lt\",\"values\":[\"2\"]}", "false"},
        };
        for (String[] c : cases) {
            JsonNode p = pod("\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                    + "{\"nodeSelectorTerms\":[{\"matchExpressions\":[" + c[0] + "]}]}}}," + CONTAINER);
            assertThat(Scheduling.schedule(p, infos(jetson)).scheduled()).as(c[0]).isEqualTo(Boolean.parseBoolean(c[1]));
        }
        JsonNode twoTerms = pod("\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                + "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"Exists\"}]},"
                + "{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"jetson1\"]}]}]}}},"
                + CONTAINER);
        assertThat(Scheduling.schedule(twoTerms, infos(jetson)).node()).isEqualTo("jetson1");
    }

    @Test
    void requestsComeFromLimitsInitContainersAndOverhead() {
        JsonNode p = pod("""
                "initContainers":[{"name":"clone","image":"git","resources":{"requests":{"cpu":"2"}}}],
                "containers":[{"name":"a","image":"x","resources":{"requests":{"cpu":"500m"},"limits":{"memory":"1Gi",
                "nvidia.com/gpu":"1"}}},{"name":"b","image":"x","resources":{"requests":{"cpu":"250m"}}}],
                "overhead":{"cpu":"100m"}""");
        Scheduling.Resources r = Scheduling.requests(p);
        assertThat(r.milliCpu()).isEqualTo(2100);
        assertThat(r.memory()).isEqualTo(1L << 30);
        assertThat(r.scalar("nvidia.com/gpu")).isEqualTo(1);
    }

    @Test
    void noNodesAndPreemptionPolicyNever() {
        assertThat(Scheduling.schedule(pod(CONTAINER), List.of()).message())
                .isEqualTo("no nodes available to schedule pods");
        assertThat(Scheduling.schedule(pod("\"preemptionPolicy\":\"Never\"," + GPU_CONTAINER),
                infos(node("a", null, ""))).message()).isEqualTo("0/1 nodes are available: 1 Insufficient "
                + "nvidia.com/gpu. preemption: not eligible due to preemptionPolicy=Never.");
    }

    @Test
    void theLeastAllocatedFeasibleNodeWinsAndPreferredAffinityFirst() {
        JsonNode busy = node("a", null, "");
        JsonNode idle = node("b", null, "");
        List<Scheduling.NodeInfo> nodes = new ArrayList<>();
        nodes.add(new Scheduling.NodeInfo(busy, new ArrayList<>(List.of(pod(CONTAINER), pod(CONTAINER)))));
        nodes.add(new Scheduling.NodeInfo(idle, new ArrayList<>()));
        assertThat(Scheduling.schedule(pod(CONTAINER), nodes).node()).isEqualTo("b");
        JsonNode prefersA = pod("\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":"
                + "[{\"weight\":100,\"preference\":{\"matchExpressions\":[{\"key\":\"kubernetes.io/hostname\","
                + "\"operator\":\"In\",\"values\":[\"a\"]}]}}]}}," + CONTAINER);
        assertThat(Scheduling.schedule(prefersA, nodes).node()).isEqualTo("a");
    }

    @Test
    void quantities() {
        assertThat(Quantity.milli("500m")).isEqualTo(500);
        assertThat(Quantity.milli("2")).isEqualTo(2000);
        assertThat(Quantity.milli("1.5")).isEqualTo(1500);
        assertThat(Quantity.value("3963Mi")).isEqualTo(3963L * 1024 * 1024);
        assertThat(Quantity.value("1G")).isEqualTo(1_000_000_000L);
        assertThat(Quantity.value("1e3")).isEqualTo(1000);
        assertThat(Quantity.value("100m")).isEqualTo(1);
        assertThat(Quantity.value("4045564Ki")).isEqualTo(4045564L * 1024);
    }

    @Test
    void qosClasses() {
        assertThat(Admission.qosClass(pod(CONTAINER).path("spec"))).isEqualTo("BestEffort");
        assertThat(Admission.qosClass(pod("\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{\"cpu\":\"1\","
                + "\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]").path("spec")))
                .isEqualTo("Guaranteed");
        assertThat(Admission.qosClass(pod("\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":"
                + "\"1\"}}}]").path("spec"))).isEqualTo("Burstable");
    }

    @Test
    void fiveNodesOneWithoutEnoughGpusFourOutsideTheSelector() {
        JsonNode gpuPod = pod(GPU_CONTAINER + ",\"nodeSelector\":{\"nvidia.com/gpu.present\":\"true\"}");
        JsonNode gpu = J.parse(J.write(node("gpu1", "0", "")).replace("\"kubernetes.io/arch\":\"arm64\"",
                "\"kubernetes.io/arch\":\"arm64\",\"nvidia.com/gpu.present\":\"true\""));
        Scheduling.Decision d = Scheduling.schedule(gpuPod, infos(gpu, node("a", null, ""), node("b", null, ""),
                node("c", null, ""), node("d", null, "")));
        assertThat(d.message()).isEqualTo("0/5 nodes are available: 1 Insufficient nvidia.com/gpu, 4 node(s) didn't "
                + "match Pod's node affinity/selector. preemption: 0/5 nodes are available: 1 No preemption victims "
                + "found for incoming pod, 4 Preemption is not helpful for scheduling.");
        // the device plugin registers: allocatable nvidia.com/gpu appears, the same pod fits
        JsonNode registered = J.parse(J.write(gpu).replace("\"nvidia.com/gpu\":\"0\"", "\"nvidia.com/gpu\":\"1\""));
        assertThat(Scheduling.schedule(gpuPod, infos(registered, node("a", null, ""))).node()).isEqualTo("gpu1");
    }

    @Test
    void matchFieldsPinAPodToOneNode() {
        JsonNode pinned = pod(CONTAINER + ",\"affinity\":{\"nodeAffinity\":{"
                + "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{\"matchFields\":"
                + "[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"b\"]}]}]}}}");
        assertThat(Scheduling.schedule(pinned, infos(node("a", null, ""), node("b", null, ""))).node())
                .isEqualTo("b");
    }

    static final String ANTI_AFFINITY = "\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
            + "[{\"labelSelector\":{\"matchExpressions\":[{\"key\":\"job-name\",\"operator\":\"In\",\"values\":[\"t\"]}]},"
            + "\"topologyKey\":\"kubernetes.io/hostname\"}]}},";

    static JsonNode worker(String name, String namespace, String extraSpec) {
        return J.parse("""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"%s","labels":{"job-name":"t"}},
                "spec":{%s"containers":[{"name":"c","image":"busybox"}]}}""".formatted(name, namespace, extraSpec));
    }

    @Test
    void requiredPodAntiAffinityOnTheHostnameKeepsWorkersOnDifferentNodesInTheSchedulersWords() {
        List<Scheduling.NodeInfo> nodes = infos(node("a", "1", ""), node("b", "1", ""), node("c", null, ""));
        nodes.get(0).pods().add(worker("t-0-aaaaa", "default", ANTI_AFFINITY));
        nodes.get(1).pods().add(worker("t-1-bbbbb", "default", ANTI_AFFINITY));
        JsonNode third = J.parse(J.write(worker("t-2-ccccc", "default", ANTI_AFFINITY))
                .replace("\"image\":\"busybox\"", "\"image\":\"l4t\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}"));
        Scheduling.Decision d = Scheduling.schedule(third, nodes);
        assertThat(d.message()).isEqualTo("0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn't "
                + "match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found "
                + "for incoming pod.");
        // a node with no matching pod fits; pods of another namespace do not count
        List<Scheduling.NodeInfo> two = infos(node("a", "1", ""), node("b", "1", ""));
        two.get(0).pods().add(worker("t-0-aaaaa", "default", ANTI_AFFINITY));
        two.get(1).pods().add(worker("t-0-zzzzz", "other", ""));
        assertThat(Scheduling.schedule(worker("t-1-bbbbb", "default", ANTI_AFFINITY), two).node()).isEqualTo("b");
    }

    @Test
    void anExistingPodsAntiAffinityKeepsAMatchingPodAwayAndAffinityNeedsAMatchOrItself() {
        List<Scheduling.NodeInfo> nodes = infos(node("a", "1", ""));
        nodes.get(0).pods().add(worker("t-0-aaaaa", "default", ANTI_AFFINITY));
        assertThat(Scheduling.schedule(worker("plain", "default", ""), nodes).message()).startsWith("0/1 nodes are "
                + "available: 1 node(s) didn't satisfy existing pods anti-affinity rules.");
        String affinity = ANTI_AFFINITY.replace("podAntiAffinity", "podAffinity");
        // no pod matches anywhere and the pod matches its own term: the first of a group may go anywhere
        assertThat(Scheduling.schedule(worker("t-0", "default", affinity), infos(node("a", "1", ""))).node())
                .isEqualTo("a");
        List<Scheduling.NodeInfo> elsewhere = infos(node("a", "1", ""), node("b", "1", ""));
        elsewhere.get(1).pods().add(worker("t-1", "default", ""));
        assertThat(Scheduling.schedule(worker("t-2", "default", affinity), elsewhere).node()).isEqualTo("b");
        assertThat(Scheduling.labelSelectorMatches(J.parse("{}"), J.parse("{\"x\":\"y\"}"))).isTrue();
        assertThat(Scheduling.labelSelectorMatches(J.obj().path("missing"), J.parse("{\"x\":\"y\"}"))).isFalse();
    }
}
