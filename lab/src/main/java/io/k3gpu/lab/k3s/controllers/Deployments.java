package io.k3gpu.lab.k3s.controllers;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The deployment controller's decisions as pure functions (pkg/controller/deployment/util/deployment_util.go,
 * rolling.go, progress.go and sync.go's calculateStatus, v1.31): the pod-template-hash, the rolling update's fenceposts
 * (maxSurge rounds up, maxUnavailable down, never both 0), how far the new ReplicaSet may grow and the old ones
 * shrink, the revision annotations, and the status with its Available and Progressing conditions.
 */
final class Deployments {
    static final String HASH_LABEL = "pod-template-hash";
    static final String REVISION = "deployment.kubernetes.io/revision";
    static final String REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
    static final String DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
    static final String MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";
    /** annotationsToSkip: what a ReplicaSet never copies from its Deployment. */
    static final Set<String> SKIPPED = Set.of("kubectl.kubernetes.io/last-applied-configuration", REVISION,
            REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, "deprecated.deployment.rollback.to");
    private static final int MAX_REVISION_HISTORY_CHARS = 2000;

    private Deployments() {
    }

    /** One ReplicaSet as the arithmetic sees it. */
    record Rs(String name, String created, int specReplicas, int statusReplicas, int available) {
        Rs withSpec(int replicas) {
            return new Rs(name, created, replicas, statusReplicas, available);
        }
    }

    /** ReplicaSetsByCreationTimestamp: oldest first, then by name. */
    static final Comparator<Rs> OLDEST_FIRST = Comparator.comparing(Rs::created).thenComparing(Rs::name);

    static Rs rs(JsonNode rs) {
        return new Rs(J.name(rs), J.text(rs, "metadata.creationTimestamp", ""),
                rs.path("spec").path("replicas").asInt(1), rs.path("status").path("replicas").asInt(0),
                rs.path("status").path("availableReplicas").asInt(0));
    }

    static int replicas(JsonNode d) {
        return d.path("spec").path("replicas").asInt(1);
    }

    static boolean rolling(JsonNode d) {
        return "RollingUpdate".equals(J.text(d, "spec.strategy.type", "RollingUpdate"));
    }

    /** intstr.GetScaledValueFromIntOrPercent: an int as is, {@code N%} of {@code total} rounded up or down. */
    static int scaled(JsonNode v, int total, boolean roundUp) {
        if (v == null || v.isMissingNode() || v.isNull()) {
            return 0;
        }
        if (v.isNumber()) {
            return v.asInt();
        }
        String s = v.asString("").strip();
        if (!s.endsWith("%")) {
            throw new IllegalArgumentException("invalid value for IntOrString: invalid value \"" + s + "\"");
        }
        int percent = Integer.parseInt(s.substring(0, s.length() - 1));
        return roundUp ? (int) Math.ceil(percent * total / 100.0) : (int) Math.floor(percent * total / 100.0);
    }

    /** ResolveFenceposts: {maxSurge, maxUnavailable}; when both are 0, maxUnavailable is 1. */
    static int[] fenceposts(JsonNode maxSurge, JsonNode maxUnavailable, int desired) {
        int surge = scaled(maxSurge, desired, true);
        int unavailable = scaled(maxUnavailable, desired, false);
        if (surge == 0 && unavailable == 0) {
            unavailable = 1;
        }
        return new int[] {surge, unavailable};
    }

    private static int[] fenceposts(JsonNode d) {
        JsonNode ru = d.path("spec").path("strategy").path("rollingUpdate");
        return fenceposts(ru.path("maxSurge"), ru.path("maxUnavailable"), replicas(d));
    }

    /** MaxUnavailable: 0 unless RollingUpdate with replicas; never more than the replicas. */
    static int maxUnavailable(JsonNode d) {
        int replicas = replicas(d);
        if (!rolling(d) || replicas == 0) {
            return 0;
        }
        return Math.min(fenceposts(d)[1], replicas);
    }

    /** MaxSurge: 0 unless RollingUpdate. */
    static int maxSurge(JsonNode d) {
        return rolling(d) ? fenceposts(d)[0] : 0;
    }

    /**
     * NewRSNewReplicas: with RollingUpdate the new ReplicaSet grows while all ReplicaSets together stay within
     * replicas + maxSurge, never past replicas; with Recreate it is the replicas at once.
     */
    static int newRsReplicas(JsonNode d, List<Rs> all, Rs newRs) {
        int replicas = replicas(d);
        if (!rolling(d)) {
            return replicas;
        }
        int surge = scaled(d.path("spec").path("strategy").path("rollingUpdate").path("maxSurge"), replicas, true);
        int current = all.stream().mapToInt(Rs::specReplicas).sum();
        int maxTotal = replicas + surge;
        if (current >= maxTotal) {
            return newRs.specReplicas();
        }
        return newRs.specReplicas() + Math.min(maxTotal - current, replicas - newRs.specReplicas());
    }

    /**
     * reconcileOldReplicaSets (rolling.go) as a plan: the new sizes of the active old ReplicaSets, oldest first —
     * first their unavailable replicas go (cleanupUnhealthyReplicas, at most allPods − minAvailable − the new
     * ReplicaSet's unavailable ones), then available ones while more than replicas − maxUnavailable are available
     * (scaleDownOldReplicaSetsForRollingUpdate). Unchanged ReplicaSets are left out.
     */
    static Map<String, Integer> rollingScaleDown(JsonNode d, List<Rs> oldActive, Rs newRs) {
        Map<String, Integer> out = new java.util.LinkedHashMap<>();
        int oldPods = oldActive.stream().mapToInt(Rs::specReplicas).sum();
        if (oldPods == 0) {
            return out;
        }
        List<Rs> old = new ArrayList<>(oldActive);
        old.sort(OLDEST_FIRST);
        int allPods = oldPods + (newRs == null ? 0 : newRs.specReplicas());
        int minAvailable = replicas(d) - maxUnavailable(d);
        int newUnavailable = newRs == null ? 0 : newRs.specReplicas() - newRs.available();
        int maxScaledDown = allPods - minAvailable - newUnavailable;
        if (maxScaledDown <= 0) {
            return out;
        }
        int cleaned = 0;
        for (int i = 0; i < old.size() && cleaned < maxScaledDown; i++) {
            Rs rs = old.get(i);
            if (rs.specReplicas() == 0 || rs.specReplicas() == rs.available()) {
                continue;
            }
            int down = Math.min(maxScaledDown - cleaned, rs.specReplicas() - rs.available());
            old.set(i, rs.withSpec(rs.specReplicas() - down));
            out.put(rs.name(), rs.specReplicas() - down);
            cleaned += down;
        }
        int available = old.stream().mapToInt(Rs::available).sum() + (newRs == null ? 0 : newRs.available());
        if (available <= minAvailable) {
            return out;
        }
        int total = available - minAvailable;
        int done = 0;
        for (Rs rs : old) {
            if (done >= total) {
                break;
            }
            if (rs.specReplicas() == 0) {
                continue;
            }
            int down = Math.min(rs.specReplicas(), total - done);
            out.put(rs.name(), rs.specReplicas() - down);
            done += down;
        }
        return out;
    }

    /** EqualIgnoreHash: the templates are equal once the pod-template-hash label is dropped from both. */
    static boolean equalIgnoreHash(JsonNode a, JsonNode b) {
        return withoutHash(a).equals(withoutHash(b));
    }

    private static JsonNode withoutHash(JsonNode template) {
        ObjectNode t = template instanceof ObjectNode o ? o.deepCopy() : J.obj();
        if (t.path("metadata").path("labels") instanceof ObjectNode labels) {
            labels.remove(HASH_LABEL);
            if (labels.isEmpty()) {
                ((ObjectNode) t.get("metadata")).remove("labels");
            }
        }
        return t;
    }

    /** ComputeHash of the Deployment's template with its collision count (the same function as DaemonSets'). */
    static String templateHash(JsonNode d) {
        return DaemonSets.hash(d.path("spec").path("template"), d.path("status").path("collisionCount").asInt(0));
    }

    static long revision(JsonNode o) {
        try {
            return Long.parseLong(o.path("metadata").path("annotations").path(REVISION).asString("0"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * SetNewReplicaSetAnnotations: copies the Deployment's annotations (but {@link #SKIPPED}), raises the revision
     * to {@code newRevision} when it is lower (a revision it had before goes to revision-history: a rollback), and
     * for a ReplicaSet about to be created sets desired-replicas and max-replicas. Returns whether anything changed.
     */
    static boolean setNewRsAnnotations(JsonNode d, ObjectNode rs, long newRevision, boolean exists) {
        ObjectNode annotations = J.objectAt(J.objectAt(rs, "metadata"), "annotations");
        boolean changed = false;
        for (Map.Entry<String, JsonNode> e : d.path("metadata").path("annotations").properties()) {
            if (SKIPPED.contains(e.getKey()) || e.getValue().equals(annotations.get(e.getKey()))) {
                continue;
            }
            annotations.set(e.getKey(), e.getValue().deepCopy());
            changed = true;
        }
        String oldRevision = annotations.path(REVISION).asString("");
        long old;
        try {
            old = oldRevision.isEmpty() ? 0 : Long.parseLong(oldRevision);
        } catch (NumberFormatException e) {
            return false;
        }
        if (old < newRevision) {
            annotations.put(REVISION, String.valueOf(newRevision));
            changed = true;
            if (!oldRevision.isEmpty()) {
                String history = annotations.path(REVISION_HISTORY).asString("");
                List<String> revisions = new ArrayList<>(history.isEmpty() ? List.of() : List.of(history.split(",")));
                int total = history.length() + oldRevision.length() + 1;
                while (total > MAX_REVISION_HISTORY_CHARS && !revisions.isEmpty()) {
                    total -= revisions.remove(0).length() + 1;
                }
                revisions.add(oldRevision);
                annotations.put(REVISION_HISTORY, String.join(",", revisions));
            }
        }
        if (!exists) {
            changed |= setReplicasAnnotations(rs, replicas(d), replicas(d) + maxSurge(d));
        }
        return changed;
    }

    /** SetReplicasAnnotations: desired-replicas and max-replicas; returns whether they changed. */
    static boolean setReplicasAnnotations(ObjectNode rs, int desired, int max) {
        ObjectNode annotations = J.objectAt(J.objectAt(rs, "metadata"), "annotations");
        boolean changed = !String.valueOf(desired).equals(annotations.path(DESIRED_REPLICAS).asString(null))
                || !String.valueOf(max).equals(annotations.path(MAX_REPLICAS).asString(null));
        annotations.put(DESIRED_REPLICAS, String.valueOf(desired));
        annotations.put(MAX_REPLICAS, String.valueOf(max));
        return changed;
    }

    /**
     * The ReplicaSet for a Deployment's current template (getNewReplicaSet): {@code <deploy>-<hash>}, the template's
     * labels plus pod-template-hash on itself, its template and its selector, the Deployment as controller.
     */
    static ObjectNode newReplicaSet(JsonNode d, String hash, int replicas) {
        ObjectNode template = d.path("spec").path("template") instanceof ObjectNode t ? t.deepCopy() : J.obj();
        ObjectNode templateLabels = J.objectAt(J.objectAt(template, "metadata"), "labels");
        templateLabels.put(HASH_LABEL, hash);
        ObjectNode rs = J.obj();
        rs.put("apiVersion", "apps/v1");
        rs.put("kind", "ReplicaSet");
        ObjectNode meta = rs.putObject("metadata");
        meta.put("name", J.name(d) + "-" + hash);
        meta.put("namespace", J.namespace(d));
        meta.set("labels", templateLabels.deepCopy());
        meta.putArray("ownerReferences").add(J.obj().put("apiVersion", "apps/v1").put("kind", "Deployment")
                .put("name", J.name(d)).put("uid", J.uid(d)).put("controller", true)
                .put("blockOwnerDeletion", true));
        ObjectNode spec = rs.putObject("spec");
        spec.put("replicas", replicas);
        int minReady = d.path("spec").path("minReadySeconds").asInt(0);
        if (minReady != 0) {
            spec.put("minReadySeconds", minReady);
        }
        ObjectNode selector = d.path("spec").path("selector") instanceof ObjectNode s ? s.deepCopy() : J.obj();
        J.objectAt(selector, "matchLabels").put(HASH_LABEL, hash);
        spec.set("selector", selector);
        spec.set("template", template);
        return rs;
    }

    // ---- status

    /**
     * calculateStatus: counts over all ReplicaSets (replicas, ready, available; updated = the new one's), the
     * unavailable ones against the spec sizes, and Available True (MinimumReplicasAvailable) once at least
     * replicas − maxUnavailable are available, else False (MinimumReplicasUnavailable). Fields in the API's order.
     */
    static ObjectNode calculateStatus(JsonNode d, List<JsonNode> allRss, JsonNode newRs, Instant now) {
        int replicas = 0;
        int ready = 0;
        int available = 0;
        int total = 0;
        for (JsonNode rs : allRss) {
            replicas += rs.path("status").path("replicas").asInt(0);
            ready += rs.path("status").path("readyReplicas").asInt(0);
            available += rs.path("status").path("availableReplicas").asInt(0);
            total += rs.path("spec").path("replicas").asInt(1);
        }
        int updated = newRs == null ? 0 : newRs.path("status").path("replicas").asInt(0);
        ObjectNode s = J.obj();
        long generation = d.path("metadata").path("generation").asLong(0);
        putNonZero(s, "observedGeneration", generation);
        putNonZero(s, "replicas", replicas);
        putNonZero(s, "updatedReplicas", updated);
        putNonZero(s, "readyReplicas", ready);
        putNonZero(s, "availableReplicas", available);
        putNonZero(s, "unavailableReplicas", Math.max(0, total - available));
        ArrayNode conditions = d.path("status").path("conditions") instanceof ArrayNode c ? c.deepCopy() : J.arr();
        s.set("conditions", conditions);
        if (available >= replicas(d) - maxUnavailable(d)) {
            setCondition(s, condition("Available", "True", "MinimumReplicasAvailable",
                    "Deployment has minimum availability.", now));
        } else {
            setCondition(s, condition("Available", "False", "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.", now));
        }
        JsonNode collisions = d.path("status").path("collisionCount");
        if (collisions.isNumber()) {
            s.set("collisionCount", collisions);
        }
        return s;
    }

    private static void putNonZero(ObjectNode o, String field, long value) {
        if (value != 0) {
            o.put(field, value);
        }
    }

    static ObjectNode condition(String type, String status, String reason, String message, Instant now) {
        ObjectNode c = J.obj();
        c.put("type", type);
        c.put("status", status);
        c.put("lastUpdateTime", J.time(now));
        c.put("lastTransitionTime", J.time(now));
        c.put("reason", reason);
        c.put("message", message);
        return c;
    }

    static JsonNode getCondition(JsonNode status, String type) {
        for (JsonNode c : status.path("conditions")) {
            if (type.equals(c.path("type").asString(""))) {
                return c;
            }
        }
        return null;
    }

    /**
     * SetDeploymentCondition: nothing when the same status and reason are there; the transition time kept when only
     * the reason changes; the condition then moves to the end of the list.
     */
    static void setCondition(ObjectNode status, ObjectNode condition) {
        JsonNode current = getCondition(status, condition.path("type").asString(""));
        if (current != null && current.path("status").equals(condition.path("status"))
                && current.path("reason").equals(condition.path("reason"))) {
            return;
        }
        if (current != null && current.path("status").equals(condition.path("status"))) {
            condition.set("lastTransitionTime", current.path("lastTransitionTime").deepCopy());
        }
        removeCondition(status, condition.path("type").asString(""));
        J.arrayAt(status, "conditions").add(condition);
    }

    static void removeCondition(ObjectNode status, String type) {
        ArrayNode kept = J.arr();
        for (JsonNode c : status.path("conditions")) {
            if (!type.equals(c.path("type").asString(""))) {
                kept.add(c);
            }
        }
        status.set("conditions", kept);
    }

    /** DeploymentComplete: every replica updated and available, and this generation observed. */
    static boolean complete(JsonNode d, JsonNode status) {
        int replicas = replicas(d);
        return status.path("updatedReplicas").asInt(0) == replicas && status.path("replicas").asInt(0) == replicas
                && status.path("availableReplicas").asInt(0) == replicas
                && status.path("observedGeneration").asLong(0) >= d.path("metadata").path("generation").asLong(0);
    }

    /** DeploymentProgressing: more updated, ready or available replicas, or fewer old ones, than last time. */
    static boolean progressing(JsonNode d, JsonNode status) {
        JsonNode old = d.path("status");
        int oldOld = old.path("replicas").asInt(0) - old.path("updatedReplicas").asInt(0);
        int newOld = status.path("replicas").asInt(0) - status.path("updatedReplicas").asInt(0);
        return status.path("updatedReplicas").asInt(0) > old.path("updatedReplicas").asInt(0) || newOld < oldOld
                || status.path("readyReplicas").asInt(0) > old.path("readyReplicas").asInt(0)
                || status.path("availableReplicas").asInt(0) > old.path("availableReplicas").asInt(0);
    }

    /** DeploymentTimedOut: the Progressing condition was last updated more than progressDeadlineSeconds ago. */
    static boolean timedOut(JsonNode d, JsonNode status, Instant now) {
        JsonNode c = getCondition(status, "Progressing");
        if (c == null || "NewReplicaSetAvailable".equals(c.path("reason").asString(""))) {
            return false;
        }
        if ("ProgressDeadlineExceeded".equals(c.path("reason").asString(""))) {
            return true;
        }
        Instant from = J.instant(c.path("lastUpdateTime").asString(null));
        int deadline = d.path("spec").path("progressDeadlineSeconds").asInt(600);
        return from != null && from.plusSeconds(deadline).isBefore(now);
    }

    /**
     * syncRolloutStatus's conditions (progress.go): unless the last rollout already completed, Progressing becomes
     * NewReplicaSetAvailable when complete, ReplicaSetUpdated (its transition time kept) when it moved, or False
     * ProgressDeadlineExceeded past the deadline.
     */
    static void rolloutConditions(JsonNode d, ObjectNode status, String newRsName, Instant now) {
        if (!hasProgressDeadline(d)) {
            removeCondition(status, "Progressing");
            return;
        }
        JsonNode current = getCondition(d.path("status"), "Progressing");
        boolean completeBefore = status.path("replicas").asInt(0) == status.path("updatedReplicas").asInt(0)
                && current != null && "NewReplicaSetAvailable".equals(current.path("reason").asString(""));
        if (completeBefore) {
            return;
        }
        String what = newRsName == null ? "Deployment \"" + J.name(d) + "\"" : "ReplicaSet \"" + newRsName + "\"";
        if (complete(d, status)) {
            setCondition(status, condition("Progressing", "True", "NewReplicaSetAvailable",
                    what + " has successfully progressed.", now));
        } else if (progressing(d, status)) {
            ObjectNode c = condition("Progressing", "True", "ReplicaSetUpdated", what + " is progressing.", now);
            JsonNode existing = getCondition(status, "Progressing");
            if (existing != null) {
                if ("True".equals(existing.path("status").asString(""))) {
                    c.set("lastTransitionTime", existing.path("lastTransitionTime").deepCopy());
                }
                removeCondition(status, "Progressing");
            }
            setCondition(status, c);
        } else if (timedOut(d, status, now)) {
            setCondition(status, condition("Progressing", "False", "ProgressDeadlineExceeded",
                    what + " has timed out progressing.", now));
        }
    }

    /** HasProgressDeadline: set and not MaxInt32. */
    static boolean hasProgressDeadline(JsonNode d) {
        JsonNode p = d.path("spec").path("progressDeadlineSeconds");
        return p.isNumber() && p.asLong() != Integer.MAX_VALUE;
    }
}
