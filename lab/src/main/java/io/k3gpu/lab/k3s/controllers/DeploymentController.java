package io.k3gpu.lab.k3s.controllers;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import io.k3gpu.lab.k3s.K3sLog;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Deployment controller (apps/v1, kube-controller-manager's deployment-controller; pkg/controller/deployment/
 * deployment_controller.go, sync.go, rolling.go, recreate.go, progress.go, v1.31), over ReplicaSets it controls:
 * the ReplicaSet of the current template is {@code <deploy>-<pod-template-hash>} with revision annotations (max old
 * revision + 1; an old one brought back by {@code rollout undo} takes the next revision and keeps its old one in
 * revision-history), and the Deployment carries the newest revision. RollingUpdate grows the new ReplicaSet within
 * replicas + maxSurge and shrinks the old ones while replicas − maxUnavailable stay available
 * ({@link Deployments#newRsReplicas}, {@link Deployments#rollingScaleDown}); Recreate scales the old ones to 0, waits
 * for their pods to be gone, then creates the new one at full size. Every size change is a Normal
 * {@code ScalingReplicaSet} event "Scaled up|down replica set x from a to b". Old ReplicaSets with no replicas beyond
 * {@code revisionHistoryLimit} are deleted once a rollout completes. The status (replicas, updated, ready,
 * available, unavailable; Available and Progressing with the controller's reasons NewReplicaSetCreated,
 * FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable, ProgressDeadlineExceeded,
 * MinimumReplicasAvailable/Unavailable) is what {@code kubectl rollout status} reads.
 *
 * A paused Deployment ({@code kubectl rollout pause}) gets no new ReplicaSet, only its sizes followed, and the
 * Progressing condition DeploymentPaused, then DeploymentResumed.
 *
 * <p>Not simulated: proportional scaling of several active ReplicaSets in the middle of a rollout or while paused
 * (a scale then goes through the rollout's own arithmetic), adoption of
 * orphaned ReplicaSets, hash collisions, and the ReplicaFailure conditions copied from ReplicaSets.
 */
final class DeploymentController {
    private static final String COMPONENT = "deployment-controller";

    private final KubeApi api;
    private final Events events;
    private final Clock clock;
    private final K3sLog log;

    DeploymentController(KubeApi api, Events events, Clock clock, K3sLog log) {
        this.api = api;
        this.events = events;
        this.clock = clock;
        this.log = log;
    }

    static String path(String namespace, String name) {
        return "/apis/apps/v1/namespaces/" + namespace + "/deployments/" + name;
    }

    void syncAll() {
        for (ObjectNode d : J.items(api.call("GET", "/apis/apps/v1/deployments", null, null))) {
            sync(d);
        }
    }

    void sync(String namespace, String name) {
        KubeApi.Result r = api.call("GET", path(namespace, name), null, null);
        if (r.ok()) {
            sync(r.object());
        }
    }

    void sync(ObjectNode d) {
        if (J.deleting(d)) {
            return;
        }
        Instant now = clock.instant();
        List<ObjectNode> all = ownedReplicaSets(d);
        checkPausedConditions(d, now);
        if (d.path("spec").path("paused").asBoolean(false)) {
            syncPaused(d, all, now);
        } else if (Deployments.rolling(d)) {
            rolloutRolling(d, all, now);
        } else {
            rolloutRecreate(d, all, now);
        }
    }

    private List<ObjectNode> ownedReplicaSets(JsonNode d) {
        List<ObjectNode> out = new ArrayList<>();
        String uid = J.uid(d);
        for (ObjectNode rs : J.items(api.call("GET", "/apis/apps/v1/namespaces/" + J.namespace(d) + "/replicasets",
                null, null))) {
            JsonNode owner = ReplicaSetController.controllerRef(rs, "Deployment");
            if (owner != null && uid.equals(owner.path("uid").asString(""))) {
                out.add(rs);
            }
        }
        out.sort(Comparator.comparing((ObjectNode rs) -> J.text(rs, "metadata.creationTimestamp", ""))
                .thenComparing(J::name));
        return out;
    }

    /** FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's, the hash label aside. */
    private static ObjectNode findNew(JsonNode d, List<ObjectNode> all) {
        for (ObjectNode rs : all) {
            if (Deployments.equalIgnoreHash(rs.path("spec").path("template"), d.path("spec").path("template"))) {
                return rs;
            }
        }
        return null;
    }

    private static List<ObjectNode> olds(List<ObjectNode> all, ObjectNode newRs) {
        List<ObjectNode> out = new ArrayList<>(all);
        if (newRs != null) {
            out.removeIf(rs -> J.uid(rs).equals(J.uid(newRs)));
        }
        return out;
    }

    private static List<ObjectNode> active(List<ObjectNode> rss) {
        return rss.stream().filter(rs -> rs.path("spec").path("replicas").asInt(1) > 0).toList();
    }

    /**
     * getNewReplicaSet: the existing one gets the Deployment's annotations and the newest revision (a status write
     * adds FoundNewReplicaSet when there is no Progressing condition yet); otherwise, when {@code create}, a new one
     * sized by {@link Deployments#newRsReplicas}, and the Deployment's Progressing becomes NewReplicaSetCreated.
     */
    private ObjectNode newReplicaSet(ObjectNode d, List<ObjectNode> all, boolean create, Instant now) {
        ObjectNode existing = findNew(d, all);
        List<ObjectNode> olds = olds(all, existing);
        long newRevision = olds.stream().mapToLong(Deployments::revision).max().orElse(0) + 1;
        if (existing != null) {
            ObjectNode copy = existing.deepCopy();
            boolean annotations = Deployments.setNewRsAnnotations(d, copy, newRevision, true);
            int minReady = d.path("spec").path("minReadySeconds").asInt(0);
            if (annotations || copy.path("spec").path("minReadySeconds").asInt(0) != minReady) {
                J.objectAt(copy, "spec").put("minReadySeconds", minReady);
                KubeApi.Result r = api.call("PUT", ReplicaSetController.path(J.namespace(copy), J.name(copy)),
                        "application/json", J.write(copy));
                return r.ok() ? r.object() : null; // the next sync goes on from the written one
            }
            boolean write = setRevision(d, J.text(copy, "metadata.annotations." + Deployments.REVISION, ""));
            if (Deployments.hasProgressDeadline(d)
                    && Deployments.getCondition(d.path("status"), "Progressing") == null) {
                Deployments.setCondition(J.objectAt(d, "status"), Deployments.condition("Progressing", "True",
                        "FoundNewReplicaSet", "Found new replica set \"" + J.name(copy) + "\"", now));
                write = true;
            }
            if (write) {
                writeStatus(d);
            }
            return copy;
        }
        if (!create) {
            return null;
        }
        String hash = Deployments.templateHash(d);
        ObjectNode rs = Deployments.newReplicaSet(d, hash, 0);
        List<Deployments.Rs> sizes = new ArrayList<>(all.stream().map(Deployments::rs).toList());
        Deployments.Rs fresh = Deployments.rs(rs).withSpec(0);
        sizes.add(fresh);
        int replicas = Deployments.newRsReplicas(d, sizes, fresh);
        J.objectAt(rs, "spec").put("replicas", replicas);
        Deployments.setNewRsAnnotations(d, rs, newRevision, false);
        KubeApi.Result r = api.call("POST", "/apis/apps/v1/namespaces/" + J.namespace(d) + "/replicasets",
                "application/json", J.write(rs));
        if (!r.ok()) {
            String message = "Failed to create new replica set \"" + J.name(rs) + "\": "
                    + r.json().path("message").asString("error " + r.status());
            if (Deployments.hasProgressDeadline(d)) {
                Deployments.setCondition(J.objectAt(d, "status"), Deployments.condition("Progressing", "False",
                        "ReplicaSetCreateError", message, now));
                writeStatus(d);
            }
            events.record(d, "Warning", "ReplicaSetCreateError", message, COMPONENT);
            return null;
        }
        ObjectNode created = r.object();
        if (replicas > 0) {
            events.record(d, "Normal", "ScalingReplicaSet", "Scaled up replica set " + J.name(created)
                    + " from 0 to " + replicas, COMPONENT);
        }
        setRevision(d, String.valueOf(newRevision));
        if (Deployments.hasProgressDeadline(d)) {
            Deployments.setCondition(J.objectAt(d, "status"), Deployments.condition("Progressing", "True",
                    "NewReplicaSetCreated", "Created new replica set \"" + J.name(created) + "\"", now));
        }
        writeStatus(d);
        return created;
    }

    /** SetDeploymentRevision, written at once (an annotation: no new generation). */
    private boolean setRevision(ObjectNode d, String revision) {
        if (revision.equals(J.text(d, "metadata.annotations." + Deployments.REVISION, ""))) {
            return false;
        }
        KubeApi.Result fresh = api.call("GET", path(J.namespace(d), J.name(d)), null, null);
        if (!fresh.ok()) {
            return false;
        }
        ObjectNode latest = fresh.object();
        J.objectAt(J.objectAt(latest, "metadata"), "annotations").put(Deployments.REVISION, revision);
        KubeApi.Result r = api.call("PUT", path(J.namespace(d), J.name(d)), "application/json", J.write(latest));
        if (r.ok()) {
            J.objectAt(J.objectAt(d, "metadata"), "annotations").put(Deployments.REVISION, revision);
            d.set("metadata", r.object().path("metadata").deepCopy());
        }
        return r.ok();
    }

    private void writeStatus(ObjectNode d) {
        KubeApi.Result fresh = api.call("GET", path(J.namespace(d), J.name(d)), null, null);
        if (!fresh.ok() || !J.uid(fresh.object()).equals(J.uid(d))) {
            return;
        }
        ObjectNode latest = fresh.object();
        if (latest.path("status").equals(d.path("status"))) {
            return;
        }
        latest.set("status", d.path("status").deepCopy());
        KubeApi.Result r = api.call("PUT", path(J.namespace(d), J.name(d)) + "/status", "application/json",
                J.write(latest));
        if (!r.ok()) {
            log.debug(COMPONENT + ": status of " + J.namespace(d) + "/" + J.name(d) + ": " + r.status());
        }
    }

    /** scaleReplicaSetAndRecordEvent + scaleReplicaSet: the size and the replicas annotations, one event. */
    private boolean scale(ObjectNode d, ObjectNode rs, int size) {
        int old = rs.path("spec").path("replicas").asInt(1);
        if (old == size) {
            return false;
        }
        ObjectNode copy = rs.deepCopy();
        J.objectAt(copy, "spec").put("replicas", size);
        Deployments.setReplicasAnnotations(copy, Deployments.replicas(d), Deployments.replicas(d)
                + Deployments.maxSurge(d));
        KubeApi.Result r = api.call("PUT", ReplicaSetController.path(J.namespace(rs), J.name(rs)),
                "application/json", J.write(copy));
        if (!r.ok()) {
            log.debug(COMPONENT + ": scaling " + J.name(rs) + ": " + r.status());
            return false;
        }
        rs.removeAll();
        rs.setAll(r.object());
        events.record(d, "Normal", "ScalingReplicaSet", "Scaled " + (old < size ? "up" : "down") + " replica set "
                + J.name(rs) + " from " + old + " to " + size, COMPONENT);
        return true;
    }

    // ---- strategies

    /** rolloutRolling: grow the new ReplicaSet, else shrink the old ones, else clean up; then the status. */
    private void rolloutRolling(ObjectNode d, List<ObjectNode> all, Instant now) {
        ObjectNode newRs = newReplicaSet(d, all, true, now);
        if (newRs == null) {
            return;
        }
        List<ObjectNode> olds = olds(ownedReplicaSets(d), newRs);
        List<ObjectNode> allRss = new ArrayList<>(olds);
        allRss.add(newRs);
        if (reconcileNew(d, allRss, newRs)) {
            syncRolloutStatus(d, allRss, newRs, now);
            return;
        }
        boolean scaledDown = false;
        Map<String, Integer> plan = Deployments.rollingScaleDown(d, active(olds).stream().map(Deployments::rs)
                .toList(), Deployments.rs(newRs));
        for (ObjectNode rs : olds) {
            Integer size = plan.get(J.name(rs));
            if (size != null) {
                scaledDown |= scale(d, rs, size);
            }
        }
        if (!scaledDown && Deployments.complete(d, d.path("status"))) {
            cleanup(d, olds);
        }
        syncRolloutStatus(d, allRss, newRs, now);
    }

    /** reconcileNewReplicaSet: down to the replicas when above, else up by newRsReplicas. */
    private boolean reconcileNew(ObjectNode d, List<ObjectNode> all, ObjectNode newRs) {
        int replicas = Deployments.replicas(d);
        int current = newRs.path("spec").path("replicas").asInt(1);
        if (current == replicas) {
            return false;
        }
        if (current > replicas) {
            return scale(d, newRs, replicas);
        }
        int size = Deployments.newRsReplicas(d, all.stream().map(Deployments::rs).toList(), Deployments.rs(newRs));
        return scale(d, newRs, size);
    }

    /**
     * rolloutRecreate: old ReplicaSets to 0; while any of their pods is not finished nothing more; then the new
     * ReplicaSet, created now if need be, scaled to the replicas.
     */
    private void rolloutRecreate(ObjectNode d, List<ObjectNode> all, Instant now) {
        ObjectNode newRs = newReplicaSet(d, all, false, now);
        List<ObjectNode> olds = olds(ownedReplicaSets(d), newRs);
        List<ObjectNode> allRss = new ArrayList<>(olds);
        if (newRs != null) {
            allRss.add(newRs);
        }
        boolean scaledDown = false;
        for (ObjectNode rs : active(olds)) {
            scaledDown |= scale(d, rs, 0);
        }
        if (scaledDown || oldPodsRunning(d, olds)) {
            syncRolloutStatus(d, allRss, newRs, now);
            return;
        }
        if (newRs == null) {
            newRs = newReplicaSet(d, ownedReplicaSets(d), true, now);
            if (newRs == null) {
                return;
            }
            allRss.add(newRs);
        }
        scale(d, newRs, Deployments.replicas(d));
        if (Deployments.complete(d, d.path("status"))) {
            cleanup(d, olds);
        }
        syncRolloutStatus(d, allRss, newRs, now);
    }

    /**
     * checkPausedConditions: Progressing Unknown DeploymentPaused "Deployment is paused" while paused, DeploymentResumed
     * "Deployment is resumed" after; a ProgressDeadlineExceeded is not overwritten.
     */
    private void checkPausedConditions(ObjectNode d, Instant now) {
        if (!Deployments.hasProgressDeadline(d)) {
            return;
        }
        JsonNode cond = Deployments.getCondition(d.path("status"), "Progressing");
        if (cond != null && "ProgressDeadlineExceeded".equals(cond.path("reason").asString(""))) {
            return;
        }
        boolean pausedCond = cond != null && "DeploymentPaused".equals(cond.path("reason").asString(""));
        boolean paused = d.path("spec").path("paused").asBoolean(false);
        if (paused && !pausedCond) {
            Deployments.setCondition(J.objectAt(d, "status"), Deployments.condition("Progressing", "Unknown",
                    "DeploymentPaused", "Deployment is paused", now));
        } else if (!paused && pausedCond) {
            Deployments.setCondition(J.objectAt(d, "status"), Deployments.condition("Progressing", "Unknown",
                    "DeploymentResumed", "Deployment is resumed", now));
        } else {
            return;
        }
        writeStatus(d);
    }

    /**
     * sync (a paused Deployment): no new ReplicaSet; the only active one (or the newest) follows the replicas, a
     * saturated new one sends the old ones to 0; old ones beyond the history limit go; the status without the
     * rollout's Progressing changes. Proportional scaling of several active ones is not simulated.
     */
    private void syncPaused(ObjectNode d, List<ObjectNode> all, Instant now) {
        ObjectNode newRs = newReplicaSet(d, all, false, now);
        List<ObjectNode> olds = olds(ownedReplicaSets(d), newRs);
        List<ObjectNode> allRss = new ArrayList<>(olds);
        if (newRs != null) {
            allRss.add(newRs);
        }
        List<ObjectNode> active = active(allRss);
        ObjectNode target = active.size() == 1 ? active.get(0) : null;
        if (active.isEmpty() && !allRss.isEmpty()) {
            target = newRs != null ? newRs : allRss.stream().max(Comparator.comparing((ObjectNode rs) ->
                    J.text(rs, "metadata.creationTimestamp", "")).thenComparing(J::name)).orElseThrow();
        }
        if (target != null) {
            scale(d, target, Deployments.replicas(d));
        } else if (newRs != null && newRs.path("spec").path("replicas").asInt(1) == Deployments.replicas(d)
                && newRs.path("status").path("availableReplicas").asInt(0) == Deployments.replicas(d)) {
            for (ObjectNode rs : active(olds)) { // IsSaturated
                scale(d, rs, 0);
            }
        }
        cleanup(d, olds);
        List<JsonNode> fresh = new ArrayList<>();
        JsonNode newOne = null;
        for (ObjectNode rs : allRss) {
            KubeApi.Result r = api.call("GET", ReplicaSetController.path(J.namespace(rs), J.name(rs)), null, null);
            if (r.ok()) {
                fresh.add(r.object());
                if (newRs != null && J.uid(rs).equals(J.uid(newRs))) {
                    newOne = r.object();
                }
            }
        }
        ObjectNode status = Deployments.calculateStatus(d, fresh, newOne, now);
        if (!status.equals(d.path("status"))) {
            d.set("status", status);
            writeStatus(d);
        }
    }

    /** oldPodsRunning: old ReplicaSets still report replicas, or own a pod that has not finished. */
    private boolean oldPodsRunning(JsonNode d, List<ObjectNode> olds) {
        if (olds.stream().mapToInt(rs -> rs.path("status").path("replicas").asInt(0)).sum() > 0) {
            return true;
        }
        List<String> uids = olds.stream().map(J::uid).toList();
        for (ObjectNode pod : J.items(api.call("GET", J.pods(J.namespace(d)), null, null))) {
            JsonNode owner = ReplicaSetController.controllerOf(pod);
            if (owner != null && uids.contains(owner.path("uid").asString(""))
                    && !Scheduling.TERMINAL.contains(J.text(pod, "status.phase", ""))) {
                return true;
            }
        }
        return false;
    }

    /** cleanupDeployment: the oldest (by revision) old ReplicaSets beyond the limit that are empty and observed. */
    private void cleanup(JsonNode d, List<ObjectNode> olds) {
        if (!d.path("spec").path("revisionHistoryLimit").isNumber()) {
            return;
        }
        List<ObjectNode> cleanable = new ArrayList<>(olds.stream().filter(rs -> !J.deleting(rs)).toList());
        int diff = cleanable.size() - d.path("spec").path("revisionHistoryLimit").asInt();
        if (diff <= 0) {
            return;
        }
        cleanable.sort(Comparator.comparingLong(Deployments::revision));
        for (int i = 0; i < diff; i++) {
            ObjectNode rs = cleanable.get(i);
            if (rs.path("status").path("replicas").asInt(0) != 0 || rs.path("spec").path("replicas").asInt(1) != 0
                    || rs.path("metadata").path("generation").asLong(0)
                    > rs.path("status").path("observedGeneration").asLong(0)) {
                continue;
            }
            api.call("DELETE", ReplicaSetController.path(J.namespace(rs), J.name(rs)), null, null);
        }
    }

    /** syncRolloutStatus: calculateStatus, the Progressing condition, written when it changed. */
    private void syncRolloutStatus(ObjectNode d, List<ObjectNode> all, ObjectNode newRs, Instant now) {
        List<JsonNode> fresh = new ArrayList<>();
        for (ObjectNode rs : all) {
            KubeApi.Result r = api.call("GET", ReplicaSetController.path(J.namespace(rs), J.name(rs)), null, null);
            if (r.ok()) {
                fresh.add(r.object());
            }
        }
        JsonNode newOne = null;
        for (JsonNode rs : fresh) {
            if (newRs != null && J.uid(rs).equals(J.uid(newRs))) {
                newOne = rs;
            }
        }
        ObjectNode status = Deployments.calculateStatus(d, fresh, newOne, now);
        Deployments.rolloutConditions(d, status, newRs == null ? null : J.name(newRs), now);
        if (status.equals(d.path("status"))) {
            return;
        }
        d.set("status", status);
        writeStatus(d);
    }
}
