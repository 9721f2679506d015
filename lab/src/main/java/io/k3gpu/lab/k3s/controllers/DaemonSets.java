package io.k3gpu.lab.k3s.controllers;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The daemon controller's decisions as pure functions (pkg/controller/daemon/daemon_controller.go, update.go and
 * util/daemonset_util.go, v1.31): which nodes a DaemonSet's pod should run on, the pod it creates for a node, the
 * revision hash of a template, which pods a rolling update may delete, and the status it writes.
 */
final class DaemonSets {
    static final String REVISION_HASH = "controller-revision-hash";
    static final String TEMPLATE_GENERATION_LABEL = "pod-template-generation";
    static final String TEMPLATE_GENERATION = "deprecated.daemonset.template.generation";
    private static final String ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

    private DaemonSets() {
    }

    /** NodeShouldRunDaemonPod's answer: whether a new pod should run there, whether an existing one may stay. */
    record Placement(boolean shouldRun, boolean shouldContinueRunning) {
    }

    /**
     * NodeShouldRunDaemonPod: the template with the daemon tolerations must name this node (if it names one), match
     * the node's labels (nodeSelector, required node affinity) and tolerate its NoSchedule and NoExecute taints; a
     * pod already there may stay while it tolerates the NoExecute ones. Unschedulable nodes are not excluded (the
     * pods tolerate {@code node.kubernetes.io/unschedulable}).
     */
    static Placement placement(JsonNode ds, JsonNode node) {
        ObjectNode pod = J.obj();
        ObjectNode spec = ds.path("spec").path("template").path("spec") instanceof ObjectNode s ? s.deepCopy()
                : J.obj();
        addDaemonTolerations(spec);
        pod.set("spec", spec);
        String wanted = J.text(spec, "nodeName");
        if (wanted != null && !wanted.isEmpty() && !wanted.equals(J.name(node))) {
            return new Placement(false, false);
        }
        if (!Scheduling.matchesNodeSelector(pod, node) || !Scheduling.matchesRequiredAffinity(pod, node)) {
            return new Placement(false, false);
        }
        boolean untolerated = false;
        boolean untoleratedNoExecute = false;
        for (JsonNode taint : node.path("spec").path("taints")) {
            String effect = taint.path("effect").asString("");
            if (!effect.equals("NoSchedule") && !effect.equals("NoExecute")) {
                continue;
            }
            if (!Scheduling.tolerated(spec.path("tolerations"), taint.path("key").asString(""),
                    taint.path("value").asString(""), effect)) {
                untolerated = true;
                untoleratedNoExecute |= effect.equals("NoExecute");
            }
        }
        if (untolerated) {
            return new Placement(false, !untoleratedNoExecute);
        }
        return new Placement(true, true);
    }

    /**
     * AddOrUpdateDaemonPodTolerations: not-ready and unreachable NoExecute (no tolerationSeconds: daemon pods are
     * never evicted for them), disk-pressure, memory-pressure, pid-pressure, unschedulable NoSchedule, and
     * network-unavailable NoSchedule for hostNetwork pods; one the template has already (same key, operator, value,
     * effect) is replaced in place.
     */
    static void addDaemonTolerations(ObjectNode spec) {
        List<String[]> add = new ArrayList<>(List.of(new String[] {"node.kubernetes.io/not-ready", "NoExecute"},
                new String[] {"node.kubernetes.io/unreachable", "NoExecute"},
                new String[] {"node.kubernetes.io/disk-pressure", "NoSchedule"},
                new String[] {"node.kubernetes.io/memory-pressure", "NoSchedule"},
                new String[] {"node.kubernetes.io/pid-pressure", "NoSchedule"},
                new String[] {"node.kubernetes.io/unschedulable", "NoSchedule"}));
        if (spec.path("hostNetwork").asBoolean(false)) {
            add.add(new String[] {"node.kubernetes.io/network-unavailable", "NoSchedule"});
        }
        ArrayNode tolerations = J.arrayAt(spec, "tolerations");
        for (String[] t : add) {
            ObjectNode toleration = J.obj().put("key", t[0]).put("operator", "Exists").put("effect", t[1]);
            boolean replaced = false;
            for (int i = 0; i < tolerations.size(); i++) {
                JsonNode e = tolerations.get(i);
                if (t[0].equals(e.path("key").asString("")) && "Exists".equals(e.path("operator").asString(""))
                        && e.path("value").asString("").isEmpty() && t[1].equals(e.path("effect").asString(""))) {
                    tolerations.set(i, toleration);
                    replaced = true;
                    break;
                }
            }
            if (!replaced) {
                tolerations.add(toleration);
            }
        }
    }

    /**
     * The pod the controller creates for {@code node}: {@code generateName <ds>-}, the template's labels plus
     * {@code controller-revision-hash} and {@code pod-template-generation}, its annotations, the DaemonSet as
     * controller owner, the daemon tolerations, and the required node affinity replaced by
     * {@code matchFields metadata.name In [node]} (the default scheduler then binds it there).
     */
    static ObjectNode newPod(JsonNode ds, String node, String hash) {
        JsonNode template = ds.path("spec").path("template");
        ObjectNode pod = J.obj();
        pod.put("apiVersion", "v1");
        pod.put("kind", "Pod");
        ObjectNode meta = pod.putObject("metadata");
        meta.put("generateName", J.name(ds) + "-");
        meta.put("namespace", J.namespace(ds));
        ObjectNode labels = meta.putObject("labels");
        template.path("metadata").path("labels").properties().forEach(e -> labels.set(e.getKey(), e.getValue()));
        labels.put(REVISION_HASH, hash);
        labels.put(TEMPLATE_GENERATION_LABEL, templateGeneration(ds));
        if (template.path("metadata").path("annotations").isObject()) {
            meta.set("annotations", template.path("metadata").path("annotations").deepCopy());
        }
        meta.putArray("ownerReferences").add(controllerRef(ds));
        ObjectNode spec = template.path("spec") instanceof ObjectNode s ? s.deepCopy() : J.obj();
        addDaemonTolerations(spec);
        ObjectNode nodeAffinity = J.objectAt(J.objectAt(spec, "affinity"), "nodeAffinity");
        ObjectNode required = J.obj();
        ObjectNode field = required.putArray("nodeSelectorTerms").addObject().putArray("matchFields").addObject();
        field.put("key", "metadata.name").put("operator", "In").putArray("values").add(node);
        nodeAffinity.set("requiredDuringSchedulingIgnoredDuringExecution", required);
        pod.set("spec", spec);
        return pod;
    }

    static ObjectNode controllerRef(JsonNode ds) {
        return J.obj().put("apiVersion", "apps/v1").put("kind", "DaemonSet").put("name", J.name(ds))
                .put("uid", J.uid(ds)).put("controller", true).put("blockOwnerDeletion", true);
    }

    /** The DaemonSet's template generation (the pods' pod-template-generation label). */
    static String templateGeneration(JsonNode ds) {
        return ds.path("metadata").path("annotations").path(TEMPLATE_GENERATION).asString("1");
    }

    /**
     * controller.ComputeHash: FNV-32a of the template (here its JSON with sorted keys: Go hashes its own dump of the
     * struct, so the value differs from a real cluster's, the form does not), then the collision count, written in
     * decimal and each digit mapped onto {@code bcdfghjklmnpqrstvwxz2456789} (rand.SafeEncodeString).
     */
    static String hash(JsonNode template, int collisionCount) {
        int h = 0x811c9dc5;
        byte[] bytes = J.write(sorted(template)).getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x01000193;
        }
        if (collisionCount > 0) {
            for (int i = 0; i < 4; i++) { // binary.LittleEndian.PutUint32
                h ^= (collisionCount >>> (8 * i)) & 0xff;
                h *= 0x01000193;
            }
        }
        String decimal = Long.toString(Integer.toUnsignedLong(h));
        StringBuilder out = new StringBuilder();
        for (char c : decimal.toCharArray()) {
            out.append(ALPHANUMS.charAt(c % ALPHANUMS.length()));
        }
        return out.toString();
    }

    private static JsonNode sorted(JsonNode n) {
        if (n instanceof ObjectNode o) {
            ObjectNode out = J.obj();
            new TreeMap<>(o.properties().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey,
                    Map.Entry::getValue))).forEach((k, v) -> out.set(k, sorted(v)));
            return out;
        }
        if (n instanceof ArrayNode a) {
            ArrayNode out = J.arr();
            a.forEach(v -> out.add(sorted(v)));
            return out;
        }
        return n;
    }

    /** The ControllerRevision's data: the template as a strategic merge patch that replaces it (getPatch). */
    static ObjectNode revisionData(JsonNode ds) {
        ObjectNode template = ds.path("spec").path("template") instanceof ObjectNode t ? t.deepCopy() : J.obj();
        template.put("$patch", "replace");
        ObjectNode data = J.obj();
        data.putObject("spec").set("template", template);
        return data;
    }

    /**
     * GetTargetNodeName: the pod's node, or the node its matchFields affinity names before it is bound; null when
     * neither.
     */
    static String targetNode(JsonNode pod) {
        String node = J.text(pod, "spec.nodeName");
        if (node != null && !node.isEmpty()) {
            return node;
        }
        for (JsonNode term : pod.path("spec").path("affinity").path("nodeAffinity")
                .path("requiredDuringSchedulingIgnoredDuringExecution").path("nodeSelectorTerms")) {
            for (JsonNode f : term.path("matchFields")) {
                if ("metadata.name".equals(f.path("key").asString("")) && "In".equals(f.path("operator")
                        .asString("")) && f.path("values").size() == 1) {
                    return f.path("values").get(0).asString("");
                }
            }
        }
        return null;
    }

    /** IsPodUpdated: the pod carries the current revision hash or the current template generation. */
    static boolean updated(JsonNode pod, String hash, String templateGeneration) {
        JsonNode labels = pod.path("metadata").path("labels");
        return (hash != null && !hash.isEmpty() && hash.equals(labels.path(REVISION_HASH).asString("")))
                || (templateGeneration != null
                && templateGeneration.equals(labels.path(TEMPLATE_GENERATION_LABEL).asString("")));
    }

    static boolean ready(JsonNode pod) {
        return "True".equals(J.condition(pod, "Ready").path("status").asString(""));
    }

    /** podutil.IsPodAvailable: Ready for at least minReadySeconds. */
    static boolean available(JsonNode pod, int minReadySeconds, Instant now) {
        if (!ready(pod)) {
            return false;
        }
        if (minReadySeconds <= 0) {
            return true;
        }
        Instant since = J.instant(J.condition(pod, "Ready").path("lastTransitionTime").asString(null));
        return since != null && !since.plusSeconds(minReadySeconds).isAfter(now);
    }

    /** podByCreationTimestampAndPhase: bound pods first, then the oldest, then by name. */
    static final Comparator<JsonNode> OLDEST_FIRST = Comparator
            .comparing((JsonNode p) -> J.text(p, "spec.nodeName", "").isEmpty())
            .thenComparing(p -> J.text(p, "metadata.creationTimestamp", ""))
            .thenComparing(p -> J.text(p, "metadata.name", ""));

    /** DaemonSetStatus in the API's field order, the omitempty counters left out when 0. */
    static ObjectNode status(JsonNode ds, List<JsonNode> nodes, Map<String, List<JsonNode>> nodeToPods, String hash,
                             Instant now) {
        int desired = 0;
        int current = 0;
        int misscheduled = 0;
        int ready = 0;
        int available = 0;
        int updated = 0;
        int minReady = ds.path("spec").path("minReadySeconds").asInt(0);
        String generation = templateGeneration(ds);
        for (JsonNode node : nodes) {
            Placement p = placement(ds, node);
            List<JsonNode> pods = nodeToPods.getOrDefault(J.name(node), List.of());
            if (p.shouldRun()) {
                desired++;
                if (pods.isEmpty()) {
                    continue;
                }
                current++;
                List<JsonNode> sorted = new ArrayList<>(pods);
                sorted.sort(OLDEST_FIRST);
                JsonNode pod = sorted.get(0);
                if (ready(pod)) {
                    ready++;
                    if (available(pod, minReady, now)) {
                        available++;
                    }
                }
                if (updated(pod, hash, generation)) {
                    updated++;
                }
            } else if (!pods.isEmpty()) {
                misscheduled++;
            }
        }
        ObjectNode s = J.obj();
        s.put("currentNumberScheduled", current);
        s.put("numberMisscheduled", misscheduled);
        s.put("desiredNumberScheduled", desired);
        s.put("numberReady", ready);
        long observed = ds.path("metadata").path("generation").asLong(0);
        if (observed != 0) {
            s.put("observedGeneration", observed);
        }
        if (updated != 0) {
            s.put("updatedNumberScheduled", updated);
        }
        if (available != 0) {
            s.put("numberAvailable", available);
        }
        if (desired - available != 0) {
            s.put("numberUnavailable", desired - available);
        }
        JsonNode collisions = ds.path("status").path("collisionCount");
        if (!collisions.isMissingNode() && !collisions.isNull()) {
            s.set("collisionCount", collisions);
        }
        if (ds.path("status").path("conditions").isArray()) {
            s.set("conditions", ds.path("status").path("conditions"));
        }
        return s;
    }

    /** maxUnavailable resolved against the desired number (percentages round up); 1 when it would be 0. */
    static int maxUnavailable(JsonNode ds, int desired) {
        JsonNode v = ds.path("spec").path("updateStrategy").path("rollingUpdate").path("maxUnavailable");
        int n;
        if (v.isString() && v.asString("").endsWith("%")) {
            int percent = Integer.parseInt(v.asString("").replace("%", "").strip());
            n = (int) Math.ceil(percent * desired / 100.0);
        } else {
            n = v.isMissingNode() || v.isNull() ? 1 : v.asInt(1);
        }
        return n == 0 ? 1 : n;
    }

    /**
     * The rolling update without surge (update.go rollingUpdate, maxSurge 0): on each node the pods not being deleted
     * are split into the new one and the old one; nodes that should run a pod but have none, or have both or several,
     * count as unavailable, as does an unavailable new pod; an unavailable old pod is replaced at once; available old
     * pods are deleted while fewer than maxUnavailable nodes are unavailable. Returns the names of the pods to
     * delete (the manage pass creates their successors once they are gone).
     */
    static List<String> rollingUpdateDeletions(JsonNode ds, List<JsonNode> nodes, Map<String, List<JsonNode>> nodeToPods,
                                               String hash, Instant now) {
        Map<String, List<JsonNode>> byNode = new TreeMap<>(nodeToPods);
        int desired = 0;
        for (JsonNode node : nodes) {
            if (placement(ds, node).shouldRun()) {
                desired++;
                byNode.putIfAbsent(J.name(node), List.of());
            }
        }
        int maxUnavailable = maxUnavailable(ds, desired);
        int minReady = ds.path("spec").path("minReadySeconds").asInt(0);
        String generation = templateGeneration(ds);
        int unavailable = 0;
        List<String> replacements = new ArrayList<>();
        List<String> candidates = new ArrayList<>();
        for (Map.Entry<String, List<JsonNode>> e : byNode.entrySet()) {
            JsonNode newPod = null;
            JsonNode oldPod = null;
            boolean ok = true;
            for (JsonNode pod : e.getValue()) {
                if (J.deleting(pod)) {
                    continue;
                }
                if (updated(pod, hash, generation)) {
                    ok &= newPod == null;
                    newPod = pod;
                } else {
                    ok &= oldPod == null;
                    oldPod = pod;
                }
            }
            if (!ok || (oldPod == null) == (newPod == null)) {
                unavailable++;
            } else if (newPod != null) {
                if (!available(newPod, minReady, now)) {
                    unavailable++;
                }
            } else if (!available(oldPod, minReady, now)) {
                replacements.add(J.name(oldPod));
            } else if (unavailable < maxUnavailable) {
                candidates.add(J.name(oldPod));
            }
        }
        int remaining = Math.max(0, Math.min(maxUnavailable - unavailable, candidates.size()));
        List<String> out = new ArrayList<>(replacements);
        out.addAll(candidates.subList(0, remaining));
        return out;
    }
}
