package io.k3gpu.lab.k3s.controllers;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.k3gpu.lab.k3s.K3sLog;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The node lifecycle controller (monitor every 5 s) and the taint eviction controller.
 *
 * <p>A node is alive while its kubelet posts: the newest of its Ready condition's {@code lastHeartbeatTime} and its
 * {@code kube-node-lease} Lease's {@code renewTime} (or the moment the controller saw either change). Past the
 * grace period (40 s, {@code --node-monitor-grace-period}; 60 s for a node that never posted Ready) its Ready,
 * MemoryPressure, DiskPressure and PIDPressure conditions become Unknown, reason NodeStatusUnknown,
 * "Kubelet stopped posting node status." (NodeStatusNeverUpdated, "Kubelet never posted node status." for missing
 * ones), a Normal {@code NodeNotReady} event is recorded, and its pods' Ready conditions turn False with a Warning
 * {@code NodeNotReady} event each. Taints follow Ready: Unknown → {@code node.kubernetes.io/unreachable}, False →
 * {@code node.kubernetes.io/not-ready}, each with effects NoSchedule and NoExecute (so the scheduler reports
 * {@code node(s) had untolerated taint {node.kubernetes.io/unreachable: }}); True → none. A kubelet that posts Ready
 * again clears them.
 *
 * <p>Pods on a node with NoExecute taints they do not tolerate are evicted at once, tolerated ones when their
 * {@code tolerationSeconds} (300 s by default, see {@link Admission}) have passed since the taint's timeAdded:
 * condition {@code DisruptionTarget} (DeletionByTaintManager), a {@code TaintManagerEviction} event, then deletion.
 */
final class NodeLifecycle {
    static final String UNREACHABLE = "node.kubernetes.io/unreachable";
    static final String NOT_READY = "node.kubernetes.io/not-ready";
    static final String UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
    private static final List<String> CONDITIONS = List.of("Ready", "MemoryPressure", "DiskPressure", "PIDPressure");

    private record Seen(String heartbeat, Instant at) {
    }

    private final KubeApi api;
    private final Events events;
    private final Clock clock;
    private final Duration grace;
    private final Duration startupGrace;
    private final K3sLog log;
    private final Map<String, Seen> seen = new HashMap<>();

    NodeLifecycle(KubeApi api, Events events, Clock clock, Duration grace, Duration startupGrace, K3sLog log) {
        this.api = api;
        this.events = events;
        this.clock = clock;
        this.grace = grace;
        this.startupGrace = startupGrace;
        this.log = log;
    }

    void monitor() {
        Instant now = clock.instant();
        Map<String, String> renewals = new HashMap<>();
        for (ObjectNode lease : J.items(api.call("GET",
                "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", null, null))) {
            renewals.put(J.name(lease), J.text(lease, "spec.renewTime"));
        }
        List<ObjectNode> nodes = J.items(api.call("GET", "/api/v1/nodes", null, null));
        seen.keySet().retainAll(nodes.stream().map(J::name).toList());
        List<ObjectNode> pods = null;
        for (ObjectNode node : nodes) {
            String name = J.name(node);
            JsonNode ready = J.condition(node, "Ready");
            String heartbeat = ready.path("lastHeartbeatTime").asString("");
            String renew = renewals.get(name);
            String mark = heartbeat + "|" + renew;
            Seen s = seen.get(name);
            if (s == null) {
                s = new Seen(mark, null);
            } else if (!s.heartbeat().equals(mark)) {
                s = new Seen(mark, now);
            }
            seen.put(name, s);
            Instant last = latest(J.instant(heartbeat), J.instant(renew), s.at());
            boolean never = ready.isMissingNode();
            if (never) {
                last = latest(last, J.instant(J.text(node, "metadata.creationTimestamp")));
            }
            Duration allowed = never ? startupGrace : grace;
            ObjectNode current = node;
            if (last != null && last.plus(allowed).isBefore(now) && !allUnknown(node)) {
                if (pods == null) {
                    pods = J.items(api.call("GET", "/api/v1/pods", null, null));
                }
                current = markUnknown(node, now, pods);
            }
            current = reconcileTaints(current, now);
            if (current != null && hasNoExecute(current)) {
                if (pods == null) {
                    pods = J.items(api.call("GET", "/api/v1/pods", null, null));
                }
                evict(current, pods, now);
            }
        }
    }

    private static Instant latest(Instant... times) {
        Instant best = null;
        for (Instant t : times) {
            if (t != null && (best == null || t.isAfter(best))) {
                best = t;
            }
        }
        return best;
    }

    private static boolean allUnknown(JsonNode node) {
        for (String type : CONDITIONS) {
            if (!"Unknown".equals(J.condition(node, type).path("status").asString(""))) {
                return false;
            }
        }
        return true;
    }

    private ObjectNode markUnknown(ObjectNode node, Instant now, List<ObjectNode> pods) {
        String name = J.name(node);
        boolean wasReady = "True".equals(J.condition(node, "Ready").path("status").asString(""));
        ArrayNode conditions = J.arr();
        for (JsonNode c : node.path("status").path("conditions")) {
            ObjectNode copy = (ObjectNode) c.deepCopy();
            if (CONDITIONS.contains(c.path("type").asString("")) && !"Unknown".equals(c.path("status").asString(""))) {
                copy.put("status", "Unknown");
                copy.put("reason", "NodeStatusUnknown");
                copy.put("message", "Kubelet stopped posting node status.");
                copy.put("lastTransitionTime", J.time(now));
            }
            conditions.add(copy);
        }
        for (String type : CONDITIONS) {
            if (J.condition(node, type).isMissingNode()) {
                conditions.addObject().put("lastHeartbeatTime", J.text(node, "metadata.creationTimestamp", J.time(now)))
                        .put("lastTransitionTime", J.time(now)).put("message", "Kubelet never posted node status.")
                        .put("reason", "NodeStatusNeverUpdated").put("status", "Unknown").put("type", type);
            }
        }
        ObjectNode patch = J.obj();
        patch.putObject("status").set("conditions", conditions);
        KubeApi.Result r = api.call("PATCH", "/api/v1/nodes/" + name + "/status", "application/merge-patch+json",
                J.write(patch));
        if (!r.ok()) {
            return node;
        }
        log.info("node-lifecycle-controller: node " + name + " hasn't been updated for " + grace.toSeconds()
                + "s, marking its conditions Unknown");
        events.record(node, "Normal", "NodeNotReady", "Node " + name + " status is now: NodeNotReady",
                "node-controller");
        if (wasReady) {
            markPodsNotReady(name, pods, now);
        }
        return r.object();
    }

    private void markPodsNotReady(String node, List<ObjectNode> pods, Instant now) {
        for (ObjectNode pod : pods) {
            if (!node.equals(J.text(pod, "spec.nodeName")) || Scheduling.TERMINAL.contains(J.text(pod, "status.phase", ""))) {
                continue;
            }
            ArrayNode conditions = J.arr();
            boolean changed = false;
            for (JsonNode c : pod.path("status").path("conditions")) {
                ObjectNode copy = (ObjectNode) c.deepCopy();
                if ("Ready".equals(c.path("type").asString("")) && !"False".equals(c.path("status").asString(""))) {
                    copy.put("status", "False");
                    copy.put("lastTransitionTime", J.time(now));
                    changed = true;
                }
                conditions.add(copy);
            }
            if (changed) {
                ObjectNode patch = J.obj();
                patch.putObject("status").set("conditions", conditions);
                api.call("PATCH", J.pod(J.namespace(pod), J.name(pod)) + "/status", "application/merge-patch+json",
                        J.write(patch));
                events.record(pod, "Warning", "NodeNotReady", "Node is not ready", "node-controller");
            }
        }
    }

    /** The node controller's taints for the Ready condition; returns the node as it now is. */
    /** A Node changed (a watch event): its condition and cordon taints follow at once, as the controller's queue does. */
    void nodeChanged(ObjectNode node) {
        reconcileTaints(node, clock.instant());
    }

    private ObjectNode reconcileTaints(ObjectNode node, Instant now) {
        String ready = J.condition(node, "Ready").path("status").asString("");
        String wanted = switch (ready) {
            case "Unknown" -> UNREACHABLE;
            case "False" -> NOT_READY;
            default -> null;
        };
        if (ready.isEmpty()) {
            wanted = null; // never posted and still within its startup grace
        }
        ArrayNode taints = J.arr();
        boolean changed = false;
        List<String> present = new ArrayList<>();
        // TaintNodesByCondition's NoSchedule pass (node_lifecycle_controller.go doNoScheduleTaintingPass):
        // spec.unschedulable (kubectl cordon) ⇔ node.kubernetes.io/unschedulable:NoSchedule, without timeAdded.
        boolean cordoned = node.path("spec").path("unschedulable").asBoolean(false);
        boolean hasCordonTaint = false;
        for (JsonNode t : node.path("spec").path("taints")) {
            String key = t.path("key").asString("");
            if (key.equals(UNSCHEDULABLE)) {
                if (!cordoned || hasCordonTaint) {
                    changed = true;
                    continue;
                }
                hasCordonTaint = true;
                taints.add(t);
                continue;
            }
            boolean managed = key.equals(UNREACHABLE) || key.equals(NOT_READY);
            if (managed && !key.equals(wanted)) {
                changed = true;
                continue;
            }
            if (managed) {
                present.add(t.path("effect").asString(""));
            }
            taints.add(t);
        }
        if (wanted != null) {
            for (String effect : List.of("NoSchedule", "NoExecute")) {
                if (!present.contains(effect)) {
                    ObjectNode t = taints.addObject().put("key", wanted).put("effect", effect);
                    if (effect.equals("NoExecute")) {
                        t.put("timeAdded", J.time(now));
                    }
                    changed = true;
                }
            }
        }
        if (cordoned && !hasCordonTaint) {
            taints.addObject().put("key", UNSCHEDULABLE).put("effect", "NoSchedule");
            changed = true;
        }
        if (!changed) {
            return node;
        }
        ObjectNode patch = J.obj();
        patch.putObject("spec").set("taints", taints.isEmpty() ? null : taints);
        KubeApi.Result r = api.call("PATCH", "/api/v1/nodes/" + J.name(node), "application/merge-patch+json",
                J.write(patch));
        return r.ok() ? r.object() : node;
    }

    private static boolean hasNoExecute(JsonNode node) {
        for (JsonNode t : node.path("spec").path("taints")) {
            if ("NoExecute".equals(t.path("effect").asString(""))) {
                return true;
            }
        }
        return false;
    }

    private void evict(JsonNode node, List<ObjectNode> pods, Instant now) {
        for (ObjectNode pod : pods) {
            if (!Objects.equals(J.name(node), J.text(pod, "spec.nodeName")) || J.deleting(pod)
                    || Scheduling.TERMINAL.contains(J.text(pod, "status.phase", ""))) {
                continue;
            }
            Instant deadline = null;
            boolean now_ = false;
            for (JsonNode taint : node.path("spec").path("taints")) {
                if (!"NoExecute".equals(taint.path("effect").asString(""))) {
                    continue;
                }
                Long seconds = toleration(pod, taint);
                if (seconds == null) {
                    now_ = true;
                    break;
                }
                if (seconds >= 0) {
                    Instant added = J.instant(taint.path("timeAdded").asString(null));
                    Instant at = (added == null ? now : added).plusSeconds(seconds);
                    deadline = deadline == null || at.isBefore(deadline) ? at : deadline;
                }
            }
            if (now_ || (deadline != null && !now.isBefore(deadline))) {
                evict(pod, now);
            }
        }
    }

    /** null: not tolerated; -1: tolerated forever; else the seconds tolerated. */
    private static Long toleration(JsonNode pod, JsonNode taint) {
        Long best = null;
        for (JsonNode t : pod.path("spec").path("tolerations")) {
            if (!Scheduling.tolerated(J.arr().add(t), taint.path("key").asString(""), taint.path("value").asString(""),
                    "NoExecute")) {
                continue;
            }
            long s = t.hasNonNull("tolerationSeconds") ? Math.max(0, t.path("tolerationSeconds").asLong()) : -1;
            if (s == -1) {
                return -1L;
            }
            best = best == null ? s : Math.max(best, s);
        }
        return best;
    }

    private void evict(ObjectNode pod, Instant now) {
        String ns = J.namespace(pod);
        String name = J.name(pod);
        events.record(pod, "Normal", "TaintManagerEviction", "Marking for deletion Pod " + ns + "/" + name,
                "taint-eviction-controller");
        ArrayNode conditions = J.arr();
        for (JsonNode c : pod.path("status").path("conditions")) {
            if (!"DisruptionTarget".equals(c.path("type").asString(""))) {
                conditions.add(c);
            }
        }
        conditions.addObject().put("type", "DisruptionTarget").put("status", "True").putNull("lastProbeTime")
                .put("lastTransitionTime", J.time(now)).put("reason", "DeletionByTaintManager")
                .put("message", "Taint manager: deleting due to NoExecute taint");
        ObjectNode patch = J.obj();
        patch.putObject("status").set("conditions", conditions);
        api.call("PATCH", J.pod(ns, name) + "/status", "application/merge-patch+json", J.write(patch));
        api.call("DELETE", J.pod(ns, name), null, null);
        log.info("taint-eviction-controller: deleted pod " + ns + "/" + name);
    }
}
