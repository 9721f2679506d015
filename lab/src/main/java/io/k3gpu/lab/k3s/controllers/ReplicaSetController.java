package io.k3gpu.lab.k3s.controllers;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.k3gpu.lab.k3s.K3sLog;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The ReplicaSet controller (apps/v1, kube-controller-manager's replicaset-controller; pkg/controller/replicaset/
 * replica_set.go and replica_set_utils.go, v1.31): keeps {@code spec.replicas} active pods (not finished, not being
 * deleted) among those it controls — creating {@code <rs>-<5 random>} from the template (Normal SuccessfulCreate
 * "Created pod: x", Warning FailedCreate "Error creating: ..."), deleting the surplus in the order of
 * {@link #deleteFirst} (Normal SuccessfulDelete "Deleted pod: x") — and writes replicas, fullyLabeledReplicas,
 * readyReplicas, availableReplicas (Ready for minReadySeconds) and observedGeneration.
 *
 * <p>Not simulated: adoption and release of pods by selector (only pods it created, by controllerRef, count),
 * slow-start batches, expectations (each sync lists the API), LogarithmicScaleDown's time buckets (exact times are
 * compared), and the ReplicaFailure condition.
 */
final class ReplicaSetController {
    private static final String COMPONENT = "replicaset-controller";

    private final KubeApi api;
    private final Events events;
    private final Clock clock;
    private final K3sLog log;

    ReplicaSetController(KubeApi api, Events events, Clock clock, K3sLog log) {
        this.api = api;
        this.events = events;
        this.clock = clock;
        this.log = log;
    }

    static String path(String namespace, String name) {
        return "/apis/apps/v1/namespaces/" + namespace + "/replicasets/" + name;
    }

    /** The ReplicaSet that controls a pod, or null. */
    static JsonNode controllerOf(JsonNode o) {
        return controllerRef(o, "ReplicaSet");
    }

    static JsonNode controllerRef(JsonNode o, String kind) {
        for (JsonNode ref : o.path("metadata").path("ownerReferences")) {
            if (kind.equals(ref.path("kind").asString("")) && ref.path("controller").asBoolean(false)) {
                return ref;
            }
        }
        return null;
    }

    void syncAll() {
        for (ObjectNode rs : J.items(api.call("GET", "/apis/apps/v1/replicasets", null, null))) {
            sync(rs);
        }
    }

    void sync(String namespace, String name) {
        KubeApi.Result r = api.call("GET", path(namespace, name), null, null);
        if (r.ok()) {
            sync(r.object());
        }
    }

    void sync(ObjectNode rs) {
        List<JsonNode> owned = ownedPods(rs);
        List<JsonNode> active = new ArrayList<>();
        for (JsonNode pod : owned) {
            if (!J.deleting(pod) && !Scheduling.TERMINAL.contains(J.text(pod, "status.phase", ""))) {
                active.add(pod);
            }
        }
        if (!J.deleting(rs)) {
            int diff = active.size() - rs.path("spec").path("replicas").asInt(1);
            if (diff < 0) {
                for (int i = 0; i < -diff; i++) {
                    if (!createPod(rs)) {
                        break;
                    }
                }
            } else if (diff > 0) {
                for (JsonNode pod : podsToDelete(active, owned, diff)) {
                    deletePod(rs, J.name(pod));
                }
            }
        }
        updateStatus(rs, J.uid(rs));
    }

    private List<JsonNode> ownedPods(JsonNode rs) {
        List<JsonNode> out = new ArrayList<>();
        String uid = J.uid(rs);
        for (ObjectNode pod : J.items(api.call("GET", J.pods(J.namespace(rs)), null, null))) {
            JsonNode owner = controllerOf(pod);
            if (owner != null && uid.equals(owner.path("uid").asString(""))) {
                out.add(pod);
            }
        }
        return out;
    }

    /** GetPodFromTemplate: {@code generateName <rs>-}, the template's labels, annotations and spec, the controllerRef. */
    static ObjectNode newPod(JsonNode rs) {
        JsonNode template = rs.path("spec").path("template");
        ObjectNode pod = J.obj();
        pod.put("apiVersion", "v1");
        pod.put("kind", "Pod");
        ObjectNode meta = pod.putObject("metadata");
        meta.put("generateName", J.name(rs) + "-");
        meta.put("namespace", J.namespace(rs));
        if (template.path("metadata").path("labels").isObject()) {
            meta.set("labels", template.path("metadata").path("labels").deepCopy());
        }
        if (template.path("metadata").path("annotations").isObject()) {
            meta.set("annotations", template.path("metadata").path("annotations").deepCopy());
        }
        meta.putArray("ownerReferences").add(J.obj().put("apiVersion", "apps/v1").put("kind", "ReplicaSet")
                .put("name", J.name(rs)).put("uid", J.uid(rs)).put("controller", true)
                .put("blockOwnerDeletion", true));
        pod.set("spec", template.path("spec") instanceof ObjectNode s ? s.deepCopy() : J.obj());
        return pod;
    }

    private boolean createPod(ObjectNode rs) {
        KubeApi.Result r = api.call("POST", J.pods(J.namespace(rs)), "application/json", J.write(newPod(rs)));
        if (!r.ok()) {
            String message = r.json().path("message").asString(r.body() == null ? "error " + r.status() : r.body());
            events.record(rs, "Warning", "FailedCreate", "Error creating: " + message, COMPONENT);
            return false;
        }
        events.record(rs, "Normal", "SuccessfulCreate", "Created pod: " + J.name(r.object()), COMPONENT);
        return true;
    }

    private void deletePod(ObjectNode rs, String pod) {
        KubeApi.Result r = api.call("DELETE", J.pod(J.namespace(rs), pod), null, null);
        if (r.ok()) {
            events.record(rs, "Normal", "SuccessfulDelete", "Deleted pod: " + pod, COMPONENT);
        } else if (r.status() != 404) {
            events.record(rs, "Warning", "FailedDelete", "Error deleting: " + r.json().path("message")
                    .asString("error " + r.status()), COMPONENT);
        }
    }

    /**
     * getPodsToDelete: the first {@code diff} of the active pods in the order of {@link #deleteFirst}, a pod's rank
     * being how many of the ReplicaSet's active pods share its node (doubled-up pods go first).
     */
    static List<JsonNode> podsToDelete(List<JsonNode> active, List<JsonNode> related, int diff) {
        Map<String, Integer> onNode = new HashMap<>();
        for (JsonNode p : related) {
            String node = J.text(p, "spec.nodeName", "");
            if (!node.isEmpty() && !J.deleting(p) && !Scheduling.TERMINAL.contains(J.text(p, "status.phase", ""))) {
                onNode.merge(node, 1, Integer::sum);
            }
        }
        List<JsonNode> sorted = new ArrayList<>(active);
        sorted.sort(deleteFirst(onNode));
        return sorted.subList(0, Math.min(diff, sorted.size()));
    }

    /**
     * ActivePodsWithRanks.Less (pkg/controller/controller_utils.go): unassigned before assigned, Pending before
     * Unknown before Running, not ready before ready, lower pod-deletion-cost first, more pods of the ReplicaSet on
     * the same node first ({@code onNode}), ready for less time first, more restarts first, newer first.
     */
    static Comparator<JsonNode> deleteFirst(Map<String, Integer> onNode) {
        return Comparator
                .comparing((JsonNode p) -> !J.text(p, "spec.nodeName", "").isEmpty())
                .thenComparing(p -> phaseRank(J.text(p, "status.phase", "")))
                .thenComparing(DaemonSets::ready)
                .thenComparing(ReplicaSetController::deletionCost)
                .thenComparing(p -> -onNode.getOrDefault(J.text(p, "spec.nodeName", ""), 0))
                .thenComparing(ReplicaSetController::readySince, Comparator.reverseOrder())
                .thenComparing(p -> -restarts(p))
                .thenComparing(p -> J.text(p, "metadata.creationTimestamp", ""), Comparator.reverseOrder());
    }

    private static int phaseRank(String phase) {
        return switch (phase) {
            case "Pending" -> 0;
            case "Unknown" -> 1;
            case "Running" -> 2;
            default -> 0;
        };
    }

    private static int deletionCost(JsonNode pod) {
        try {
            return Integer.parseInt(pod.path("metadata").path("annotations")
                    .path("controller.kubernetes.io/pod-deletion-cost").asString("0"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** When the pod became Ready (the far future when it is not: "ready for no time" goes first). */
    private static String readySince(JsonNode pod) {
        JsonNode c = J.condition(pod, "Ready");
        return "True".equals(c.path("status").asString("")) ? c.path("lastTransitionTime").asString("")
                : "9999";
    }

    private static int restarts(JsonNode pod) {
        int n = 0;
        for (JsonNode c : pod.path("status").path("containerStatuses")) {
            n = Math.max(n, c.path("restartCount").asInt(0));
        }
        return n;
    }

    /** calculateStatus over the active pods, then the status write when it changed. */
    private void updateStatus(ObjectNode rs, String uid) {
        KubeApi.Result fresh = api.call("GET", path(J.namespace(rs), J.name(rs)), null, null);
        if (!fresh.ok() || !uid.equals(J.uid(fresh.object()))) {
            return;
        }
        ObjectNode latest = fresh.object();
        ObjectNode status = status(rs, ownedPods(rs), clock.instant());
        if (status.equals(latest.path("status"))) {
            return;
        }
        ObjectNode updated = latest.deepCopy();
        updated.set("status", status);
        KubeApi.Result r = api.call("PUT", path(J.namespace(rs), J.name(rs)) + "/status", "application/json",
                J.write(updated));
        if (!r.ok()) {
            log.debug(COMPONENT + ": status of " + J.namespace(rs) + "/" + J.name(rs) + ": " + r.status());
        }
    }

    /**
     * ReplicaSetStatus in the API's order: replicas (always), fullyLabeledReplicas (pods carrying all the template's
     * labels), readyReplicas, availableReplicas, observedGeneration (these omitted when 0), conditions as they were.
     */
    static ObjectNode status(JsonNode rs, List<JsonNode> owned, Instant now) {
        int replicas = 0;
        int labelled = 0;
        int ready = 0;
        int available = 0;
        int minReady = rs.path("spec").path("minReadySeconds").asInt(0);
        JsonNode templateLabels = rs.path("spec").path("template").path("metadata").path("labels");
        for (JsonNode pod : owned) {
            if (J.deleting(pod) || Scheduling.TERMINAL.contains(J.text(pod, "status.phase", ""))) {
                continue;
            }
            replicas++;
            boolean all = true;
            for (var e : templateLabels.properties()) {
                all &= e.getValue().equals(pod.path("metadata").path("labels").path(e.getKey()));
            }
            if (all) {
                labelled++;
            }
            if (DaemonSets.ready(pod)) {
                ready++;
                if (DaemonSets.available(pod, minReady, now)) {
                    available++;
                }
            }
        }
        ObjectNode s = J.obj();
        s.put("replicas", replicas);
        if (labelled != 0) {
            s.put("fullyLabeledReplicas", labelled);
        }
        if (ready != 0) {
            s.put("readyReplicas", ready);
        }
        if (available != 0) {
            s.put("availableReplicas", available);
        }
        long generation = rs.path("metadata").path("generation").asLong(0);
        if (generation != 0) {
            s.put("observedGeneration", generation);
        }
        if (rs.path("status").path("conditions").isArray() && !rs.path("status").path("conditions").isEmpty()) {
            s.set("conditions", rs.path("status").path("conditions"));
        }
        return s;
    }
}
