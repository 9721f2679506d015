package io.k3gpu.lab.k3s.controllers;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.k3gpu.lab.k3s.K3sLog;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * kube-scheduler's loop: each pass takes the pods that need a node (unbound, {@code schedulerName}
 * default-scheduler, not deleted, not finished), highest priority first then oldest, and places each with
 * {@link Scheduling} against all nodes and the pods bound so far (this pass's bindings included). A placed pod is
 * bound — {@code spec.nodeName} set and condition {@code PodScheduled=True}, phase left Pending for the kubelet — with
 * a Normal {@code Scheduled} event {@code Successfully assigned <ns>/<pod> to <node>}; a pod that fits nowhere gets
 * {@code PodScheduled=False} reason Unschedulable with the scheduler's message and a Warning {@code FailedScheduling}
 * event (again only when the message changes, so retries do not flood the events); a gated pod gets reason
 * SchedulingGated. Passes run on every pod and node change and every few seconds.
 */
final class Scheduler {
    private final KubeApi api;
    private final Events events;
    private final Clock clock;
    private final K3sLog log;

    Scheduler(KubeApi api, Events events, Clock clock, K3sLog log) {
        this.api = api;
        this.events = events;
        this.clock = clock;
        this.log = log;
    }

    void pass() {
        List<ObjectNode> pods = J.items(api.call("GET", "/api/v1/pods", null, null));
        List<ObjectNode> pending = new ArrayList<>();
        for (ObjectNode p : pods) {
            if (Scheduling.needsScheduling(p)) {
                pending.add(p);
            }
        }
        if (pending.isEmpty()) {
            return;
        }
        List<ObjectNode> nodes = J.items(api.call("GET", "/api/v1/nodes", null, null));
        Map<String, List<JsonNode>> byNode = new HashMap<>();
        for (ObjectNode p : pods) {
            String node = J.text(p, "spec.nodeName");
            if (node != null && !node.isEmpty() && !Scheduling.TERMINAL.contains(J.text(p, "status.phase", ""))) {
                byNode.computeIfAbsent(node, k -> new ArrayList<>()).add(p);
            }
        }
        Map<String, Scheduling.NodeInfo> infos = new LinkedHashMap<>();
        for (ObjectNode n : nodes) {
            infos.put(J.name(n), new Scheduling.NodeInfo(n, byNode.computeIfAbsent(J.name(n), k -> new ArrayList<>())));
        }
        pending.sort(Comparator.comparingInt((ObjectNode p) -> -p.path("spec").path("priority").asInt(0))
                .thenComparing(p -> J.text(p, "metadata.creationTimestamp", ""))
                .thenComparing(J::name));
        for (ObjectNode pod : pending) {
            if (Scheduling.gated(pod)) {
                condition(pod, "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates", false);
                continue;
            }
            Claims claims = claims(pod, infos.size());
            if (claims.refused() != null) {
                condition(pod, "Unschedulable", claims.refused(), true);
                continue;
            }
            List<Scheduling.NodeInfo> candidates = new ArrayList<>();
            for (Scheduling.NodeInfo info : infos.values()) {
                if (claims.fits(info.node())) {
                    candidates.add(info);
                }
            }
            Scheduling.Decision d = Scheduling.schedule(pod, candidates);
            if (d.scheduled() && !claims.delayed().isEmpty()) {
                selectNode(claims.delayed(), d.node());
            } else if (d.scheduled()) {
                if (bind(pod, d.node())) {
                    infos.get(d.node()).pods().add(pod);
                }
            } else {
                condition(pod, "Unschedulable", d.message(), true);
            }
        }
    }

    /**
     * The VolumeBinding plugin's view of a pod's claims: {@code refused} when one is missing or unbound without a
     * delayed (WaitForFirstConsumer) class; the nodes a bound claim's PersistentVolume allows
     * ({@code spec.nodeAffinity}, the hostname terms local volumes carry) or an unbound claim's selected node; the
     * unbound delayed claims, which get {@code volume.kubernetes.io/selected-node} when the pod finds a node, the pod
     * waiting unbound until their provisioner has bound them (PreBind).
     */
    record Claims(String refused, List<Set<String>> nodes, List<ObjectNode> delayed) {
        boolean fits(JsonNode node) {
            String host = node.path("metadata").path("labels").path("kubernetes.io/hostname").asString(J.name(node));
            for (Set<String> allowed : nodes) {
                if (!allowed.contains(J.name(node)) && !allowed.contains(host)) {
                    return false;
                }
            }
            return true;
        }
    }

    private Claims claims(ObjectNode pod, int nodeCount) {
        List<Set<String>> nodes = new ArrayList<>();
        List<ObjectNode> delayed = new ArrayList<>();
        for (JsonNode v : pod.path("spec").path("volumes")) {
            String claim = v.path("persistentVolumeClaim").path("claimName").asString(null);
            if (claim == null) {
                continue;
            }
            String ns = J.namespace(pod);
            KubeApi.Result got = api.call("GET", "/api/v1/namespaces/" + ns + "/persistentvolumeclaims/" + claim,
                    null, null);
            if (!got.ok()) {
                return new Claims(unschedulable(nodeCount, "persistentvolumeclaim \"" + claim + "\" not found"),
                        nodes, delayed);
            }
            ObjectNode pvc = got.object();
            String volume = J.text(pvc, "spec.volumeName", "");
            if (!volume.isEmpty()) {
                KubeApi.Result pv = api.call("GET", "/api/v1/persistentvolumes/" + volume, null, null);
                Set<String> allowed = new HashSet<>();
                for (JsonNode term : pv.object().path("spec").path("nodeAffinity").path("required")
                        .path("nodeSelectorTerms")) {
                    for (JsonNode e : term.path("matchExpressions")) {
                        if ("In".equals(e.path("operator").asString(""))) {
                            e.path("values").forEach(x -> allowed.add(x.asString()));
                        }
                    }
                }
                if (!allowed.isEmpty()) {
                    nodes.add(allowed);
                }
                continue;
            }
            String selected = selectedNode(pvc);
            String className = J.text(pvc, "spec.storageClassName", "");
            KubeApi.Result sc = className.isEmpty() ? null
                    : api.call("GET", "/apis/storage.k8s.io/v1/storageclasses/" + className, null, null);
            if (sc == null || !sc.ok() || !"WaitForFirstConsumer".equals(J.text(sc.object(), "volumeBindingMode",
                    ""))) {
                return new Claims(unschedulable(nodeCount, "pod has unbound immediate PersistentVolumeClaims"),
                        nodes, delayed);
            }
            if (!selected.isEmpty()) {
                nodes.add(Set.of(selected));
            }
            delayed.add(pvc);
        }
        return new Claims(null, nodes, delayed);
    }

    private static String selectedNode(JsonNode pvc) {
        return pvc.path("metadata").path("annotations").path("volume.kubernetes.io/selected-node").asString("");
    }

    private static String unschedulable(int nodes, String why) {
        return "0/" + nodes + " nodes are available: " + why + ". preemption: 0/" + nodes + " nodes are available: "
                + nodes + " Preemption is not helpful for scheduling.";
    }

    /** AssumePodVolumes + PreBind for delayed binding: the claims learn their node, the provisioner does the rest. */
    private void selectNode(List<ObjectNode> claims, String node) {
        for (ObjectNode pvc : claims) {
            if (node.equals(selectedNode(pvc))) {
                continue;
            }
            ObjectNode patch = J.obj();
            ObjectNode annotations = J.objectAt(J.objectAt(patch, "metadata"), "annotations");
            annotations.put("volume.kubernetes.io/selected-node", node);
            api.call("PATCH", "/api/v1/namespaces/" + J.namespace(pvc) + "/persistentvolumeclaims/" + J.name(pvc),
                    "application/merge-patch+json", J.write(patch));
            log.debug("scheduler: claim " + J.namespace(pvc) + "/" + J.name(pvc) + " waits for a volume on " + node);
        }
    }

    /** Binds like the binding subresource: nodeName and PodScheduled=True in one write, guarded by resourceVersion. */
    private boolean bind(ObjectNode pod, String node) {
        ObjectNode bound = pod.deepCopy();
        J.objectAt(bound, "spec").put("nodeName", node);
        setCondition(J.objectAt(bound, "status"), "True", null, null);
        String ns = J.namespace(pod);
        KubeApi.Result r = api.call("PUT", J.pod(ns, J.name(pod)), "application/json", J.write(bound));
        if (!r.ok()) {
            return false;
        }
        pod.set("spec", bound.get("spec"));
        events.scheduler(r.object(), "Normal", "Scheduled", "Successfully assigned " + ns + "/" + J.name(pod)
                + " to " + node);
        log.debug("scheduler: bound " + ns + "/" + J.name(pod) + " to " + node);
        return true;
    }

    private void condition(ObjectNode pod, String reason, String message, boolean event) {
        JsonNode current = J.condition(pod, "PodScheduled");
        if ("False".equals(current.path("status").asString("")) && reason.equals(current.path("reason").asString(""))
                && message.equals(current.path("message").asString(""))) {
            return;
        }
        ObjectNode status = J.objectAt(pod.deepCopy(), "status");
        setCondition(status, "False", reason, message);
        ObjectNode patch = J.obj();
        patch.putObject("status").set("conditions", status.get("conditions"));
        String ns = J.namespace(pod);
        KubeApi.Result r = api.call("PATCH", J.pod(ns, J.name(pod)) + "/status", "application/merge-patch+json",
                J.write(patch));
        if (r.ok() && event) {
            events.scheduler(r.object(), "Warning", "FailedScheduling", message);
        }
    }

    private void setCondition(ObjectNode status, String value, String reason, String message) {
        ArrayNode conditions = J.arr();
        ObjectNode c = null;
        for (JsonNode existing : status.path("conditions")) {
            if ("PodScheduled".equals(existing.path("type").asString(""))) {
                c = (ObjectNode) existing.deepCopy();
                conditions.add(c);
            } else {
                conditions.add(existing);
            }
        }
        if (c == null) {
            c = conditions.addObject();
        }
        boolean transition = !value.equals(c.path("status").asString(""));
        c.put("type", "PodScheduled");
        c.put("status", value);
        c.putNull("lastProbeTime");
        if (transition || !c.has("lastTransitionTime")) {
            c.put("lastTransitionTime", J.time(clock.instant()));
        }
        if (reason == null) {
            c.remove("reason");
            c.remove("message");
        } else {
            c.put("reason", reason);
            c.put("message", message);
        }
        status.set("conditions", conditions);
    }
}
