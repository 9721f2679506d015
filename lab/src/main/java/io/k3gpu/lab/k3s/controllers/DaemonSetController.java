package io.k3gpu.lab.k3s.controllers;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.k3gpu.lab.k3s.K3sLog;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The DaemonSet controller (apps/v1, kube-controller-manager's daemonset-controller, v1.31), in the style of
 * {@link JobController}: for each DaemonSet, one pod on every node that should run it ({@link DaemonSets#placement}),
 * created through the API ({@link DaemonSets#newPod}: {@code <ds>-<5 random>}, bound by the default scheduler through
 * its matchFields node affinity), Normal {@code SuccessfulCreate} "Created pod: x" / Warning {@code FailedCreate}
 * "Error creating: ..." (admission refused it: retried after 1 s doubling to 15 min); a failed or succeeded pod is deleted (Warning {@code FailedDaemonPod} "Found failed daemon
 * pod ns/x on node n, will try to kill it", with the controller's back-off of 1 s doubling to 15 min per node) and
 * replaced once gone; a node that stops matching loses its pod (it may keep it while it tolerates the node's
 * NoExecute taints); extra pods on a node are deleted, the oldest kept; unbound pods whose node no longer exists are
 * deleted; deletions are Normal {@code SuccessfulDelete} "Deleted pod: x". The template's revisions are
 * ControllerRevisions {@code <ds>-<hash>} (data: the template as a replacing patch, revision numbers counting up, at
 * most {@code revisionHistoryLimit} old ones kept). With {@code updateStrategy RollingUpdate}, old pods are deleted
 * at most maxUnavailable at a time ({@link DaemonSets#rollingUpdateDeletions}) and new ones created in their place;
 * with OnDelete only deleted pods are replaced. The status: currentNumberScheduled, numberMisscheduled,
 * desiredNumberScheduled, numberReady, observedGeneration, updatedNumberScheduled, numberAvailable,
 * numberUnavailable (what {@code kubectl rollout status ds/x} reads).
 *
 * <p>Not simulated: maxSurge (a surge is treated as 0), adoption of orphaned pods matching the selector, hash
 * collisions (collisionCount), slow-start batches, and the controller's expectations (each sync lists the API).
 */
final class DaemonSetController {
    private static final String COMPONENT = "daemonset-controller";
    private static final Duration BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(15);

    private record Backoff(Instant until, Duration delay) {
    }

    private final KubeApi api;
    private final Events events;
    private final Clock clock;
    private final K3sLog log;
    /** failedPodsBackoff by {@code <ds uid>/<node>}; the work queue's retry after a refused creation by {@code <uid>/#<generation>}. */
    private final Map<String, Backoff> backoffs = new HashMap<>();

    DaemonSetController(KubeApi api, Events events, Clock clock, K3sLog log) {
        this.api = api;
        this.events = events;
        this.clock = clock;
        this.log = log;
    }

    void syncAll() {
        Set<String> alive = new HashSet<>();
        for (ObjectNode ds : J.items(api.call("GET", "/apis/apps/v1/daemonsets", null, null))) {
            alive.add(J.uid(ds));
            sync(ds);
        }
        backoffs.keySet().removeIf(k -> !alive.contains(k.substring(0, k.indexOf('/'))));
    }

    void sync(String namespace, String name) {
        KubeApi.Result r = api.call("GET", path(namespace, name), null, null);
        if (r.ok()) {
            sync(r.object());
        }
    }

    /** The DaemonSet that controls a pod, or null. */
    static JsonNode controllerOf(JsonNode pod) {
        for (JsonNode ref : pod.path("metadata").path("ownerReferences")) {
            if ("DaemonSet".equals(ref.path("kind").asString("")) && ref.path("controller").asBoolean(false)) {
                return ref;
            }
        }
        return null;
    }

    static String path(String namespace, String name) {
        return "/apis/apps/v1/namespaces/" + namespace + "/daemonsets/" + name;
    }

    void sync(ObjectNode ds) {
        if (J.deleting(ds)) {
            return;
        }
        String ns = J.namespace(ds);
        Instant now = clock.instant();
        List<JsonNode> nodes = new ArrayList<>(J.items(api.call("GET", "/api/v1/nodes", null, null)));
        String hash = currentRevision(ds);
        manage(ds, nodes, hash, now);
        String strategy = J.text(ds, "spec.updateStrategy.type", "RollingUpdate");
        if (strategy.equals("RollingUpdate")) {
            List<String> delete = DaemonSets.rollingUpdateDeletions(ds, nodes, nodeToPods(ds, nodes), hash, now);
            for (String pod : delete) {
                deletePod(ds, pod);
            }
        }
        cleanupHistory(ds);
        updateStatus(ds, nodes, hash, now);
    }

    /** The DaemonSet's pods by target node (pods both finished and being deleted are left out, as the controller does). */
    private Map<String, List<JsonNode>> nodeToPods(JsonNode ds, List<JsonNode> nodes) {
        Map<String, List<JsonNode>> out = new LinkedHashMap<>();
        for (JsonNode pod : ownedPods(ds)) {
            if (J.deleting(pod) && Scheduling.TERMINAL.contains(J.text(pod, "status.phase", ""))) {
                continue;
            }
            String node = DaemonSets.targetNode(pod);
            if (node != null) {
                out.computeIfAbsent(node, k -> new ArrayList<>()).add(pod);
            }
        }
        return out;
    }

    private List<ObjectNode> ownedPods(JsonNode ds) {
        List<ObjectNode> out = new ArrayList<>();
        String uid = J.uid(ds);
        for (ObjectNode pod : J.items(api.call("GET", J.pods(J.namespace(ds)), null, null))) {
            JsonNode owner = controllerOf(pod);
            if (owner != null && uid.equals(owner.path("uid").asString(""))) {
                out.add(pod);
            }
        }
        return out;
    }

    /** manage + podsShouldBeOnNode: what each node should have, then creations and deletions. */
    private void manage(ObjectNode ds, List<JsonNode> nodes, String hash, Instant now) {
        Map<String, List<JsonNode>> byNode = nodeToPods(ds, nodes);
        List<String> create = new ArrayList<>();
        List<String> delete = new ArrayList<>();
        Set<String> known = new HashSet<>();
        for (JsonNode node : nodes) {
            String name = J.name(node);
            known.add(name);
            DaemonSets.Placement p = DaemonSets.placement(ds, node);
            List<JsonNode> pods = byNode.getOrDefault(name, List.of());
            if (p.shouldRun() && pods.isEmpty()) {
                create.add(name);
            } else if (p.shouldContinueRunning()) {
                List<JsonNode> running = new ArrayList<>();
                for (JsonNode pod : pods) {
                    if (J.deleting(pod)) {
                        continue;
                    }
                    String phase = J.text(pod, "status.phase", "");
                    if (phase.equals("Failed")) {
                        String key = J.uid(ds) + "/" + name;
                        Backoff b = backoffs.get(key);
                        if (b != null && now.isBefore(b.until())) {
                            continue;
                        }
                        Duration delay = b == null ? BACKOFF : b.delay().multipliedBy(2);
                        if (delay.compareTo(MAX_BACKOFF) > 0) {
                            delay = MAX_BACKOFF;
                        }
                        backoffs.put(key, new Backoff(now.plus(delay), delay));
                        events.record(ds, "Warning", "FailedDaemonPod", "Found failed daemon pod " + J.namespace(pod)
                                + "/" + J.name(pod) + " on node " + name + ", will try to kill it", COMPONENT);
                        delete.add(J.name(pod));
                    } else if (phase.equals("Succeeded")) {
                        delete.add(J.name(pod));
                    } else {
                        running.add(pod);
                    }
                }
                if (running.size() > 1) {
                    running.sort(DaemonSets.OLDEST_FIRST);
                    for (int i = 1; i < running.size(); i++) {
                        delete.add(J.name(running.get(i)));
                    }
                }
            } else {
                for (JsonNode pod : pods) {
                    if (!J.deleting(pod)) {
                        delete.add(J.name(pod));
                    }
                }
            }
        }
        // pods meant for a node that is gone and never bound (bound ones are the pod GC's)
        for (Map.Entry<String, List<JsonNode>> e : byNode.entrySet()) {
            if (!known.contains(e.getKey())) {
                for (JsonNode pod : e.getValue()) {
                    if (J.text(pod, "spec.nodeName", "").isEmpty() && !J.deleting(pod)) {
                        delete.add(J.name(pod));
                    }
                }
            }
        }
        // a new generation is a fresh work item: no back-off left from the last spec
        String retryKey = J.uid(ds) + "/#" + ds.path("metadata").path("generation").asLong(0);
        Backoff retry = backoffs.get(retryKey);
        if (!create.isEmpty() && (retry == null || !now.isBefore(retry.until()))) {
            for (String node : create) {
                if (!createPod(ds, node, hash)) { // retried with back-off, as the FailedCreate repeats
                    Duration delay = retry == null ? BACKOFF : retry.delay().multipliedBy(2);
                    delay = delay.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : delay;
                    backoffs.put(retryKey, new Backoff(now.plus(delay), delay));
                    break;
                }
                backoffs.remove(retryKey);
            }
        }
        for (String pod : delete) {
            deletePod(ds, pod);
        }
    }

    private boolean createPod(ObjectNode ds, String node, String hash) {
        KubeApi.Result r = api.call("POST", J.pods(J.namespace(ds)), "application/json",
                J.write(DaemonSets.newPod(ds, node, hash)));
        if (!r.ok()) {
            String message = r.json().path("message").asString(r.body() == null ? "error " + r.status() : r.body());
            events.record(ds, "Warning", "FailedCreate", "Error creating: " + message, COMPONENT);
            return false;
        }
        events.record(ds, "Normal", "SuccessfulCreate", "Created pod: " + J.name(r.object()), COMPONENT);
        return true;
    }

    private void deletePod(ObjectNode ds, String pod) {
        KubeApi.Result r = api.call("DELETE", J.pod(J.namespace(ds), pod), null, null);
        if (r.ok()) {
            events.record(ds, "Normal", "SuccessfulDelete", "Deleted pod: " + pod, COMPONENT);
        } else if (r.status() != 404) {
            events.record(ds, "Warning", "FailedDelete", "Error deleting: " + r.json().path("message")
                    .asString("error " + r.status()), COMPONENT);
        }
    }

    // ---- history

    private List<ObjectNode> revisions(JsonNode ds) {
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode cr : J.items(api.call("GET", revisionsPath(J.namespace(ds)), null, null))) {
            if (Deletion.ownedBy(cr, J.uid(ds))) {
                out.add(cr);
            }
        }
        return out;
    }

    private static String revisionsPath(String ns) {
        return "/apis/apps/v1/namespaces/" + ns + "/controllerrevisions";
    }

    /**
     * constructHistory: the ControllerRevision of the current template (created, or renumbered to be the newest when
     * the template went back to an older one); returns its hash.
     */
    private String currentRevision(ObjectNode ds) {
        String hash = DaemonSets.hash(ds.path("spec").path("template"),
                ds.path("status").path("collisionCount").asInt(0));
        String name = J.name(ds) + "-" + hash;
        List<ObjectNode> history = revisions(ds);
        long max = 0;
        ObjectNode current = null;
        for (ObjectNode cr : history) {
            max = Math.max(max, cr.path("revision").asLong(0));
            if (name.equals(J.name(cr))) {
                current = cr;
            }
        }
        if (current == null) {
            ObjectNode cr = J.obj();
            cr.put("apiVersion", "apps/v1");
            cr.put("kind", "ControllerRevision");
            ObjectNode meta = cr.putObject("metadata");
            meta.put("name", name);
            meta.put("namespace", J.namespace(ds));
            ObjectNode labels = meta.putObject("labels");
            ds.path("spec").path("template").path("metadata").path("labels").properties()
                    .forEach(e -> labels.set(e.getKey(), e.getValue()));
            labels.put(DaemonSets.REVISION_HASH, hash);
            if (ds.path("metadata").path("annotations").isObject()) {
                meta.set("annotations", ds.path("metadata").path("annotations").deepCopy());
            }
            meta.putArray("ownerReferences").add(DaemonSets.controllerRef(ds));
            cr.set("data", DaemonSets.revisionData(ds));
            cr.put("revision", max + 1);
            api.call("POST", revisionsPath(J.namespace(ds)), "application/json", J.write(cr));
        } else if (current.path("revision").asLong(0) < max) {
            current.put("revision", max + 1);
            api.call("PUT", revisionsPath(J.namespace(ds)) + "/" + name, "application/json", J.write(current));
        }
        return hash;
    }

    /** cleanupHistory: old revisions no live pod uses, beyond revisionHistoryLimit, oldest first. */
    private void cleanupHistory(ObjectNode ds) {
        int limit = ds.path("spec").path("revisionHistoryLimit").asInt(10);
        Set<String> live = new HashSet<>();
        for (JsonNode pod : ownedPods(ds)) {
            live.add(pod.path("metadata").path("labels").path(DaemonSets.REVISION_HASH).asString(""));
        }
        String current = J.name(ds) + "-" + DaemonSets.hash(ds.path("spec").path("template"),
                ds.path("status").path("collisionCount").asInt(0));
        List<ObjectNode> old = new ArrayList<>();
        for (ObjectNode cr : revisions(ds)) {
            String hash = cr.path("metadata").path("labels").path(DaemonSets.REVISION_HASH).asString("");
            if (!J.name(cr).equals(current) && !live.contains(hash)) {
                old.add(cr);
            }
        }
        old.sort((a, b) -> Long.compare(a.path("revision").asLong(0), b.path("revision").asLong(0)));
        for (int i = 0; i < old.size() - limit; i++) {
            api.call("DELETE", revisionsPath(J.namespace(ds)) + "/" + J.name(old.get(i)), null, null);
        }
    }

    private void updateStatus(ObjectNode ds, List<JsonNode> nodes, String hash, Instant now) {
        KubeApi.Result fresh = api.call("GET", path(J.namespace(ds), J.name(ds)), null, null);
        if (!fresh.ok()) {
            return;
        }
        ObjectNode latest = fresh.object();
        if (!J.uid(latest).equals(J.uid(ds))) {
            return;
        }
        ObjectNode status = DaemonSets.status(ds, nodes, nodeToPods(ds, nodes), hash, now);
        if (status.equals(latest.path("status"))) {
            return;
        }
        // observedGeneration is the generation this sync saw; a newer spec is picked up by the next sync
        ObjectNode updated = latest.deepCopy();
        updated.set("status", status);
        KubeApi.Result r = api.call("PUT", path(J.namespace(ds), J.name(ds)) + "/status", "application/json",
                J.write(updated));
        if (!r.ok()) {
            log.debug(COMPONENT + ": status of " + J.namespace(ds) + "/" + J.name(ds) + ": " + r.status());
        }
    }
}
