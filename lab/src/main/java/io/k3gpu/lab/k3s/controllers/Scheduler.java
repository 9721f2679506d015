package io.k3gpu.lab.k3s.controllers;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
            Scheduling.Decision d = Scheduling.schedule(pod, new ArrayList<>(infos.values()));
            if (d.scheduled()) {
                if (bind(pod, d.node())) {
                    infos.get(d.node()).pods().add(pod);
                }
            } else {
                condition(pod, "Unschedulable", d.message(), true);
            }
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
