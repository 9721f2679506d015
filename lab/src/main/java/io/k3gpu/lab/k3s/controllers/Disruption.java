package io.k3gpu.lab.k3s.controllers;

import io.k3gpu.lab.k3s.K3sLog;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * PodDisruptionBudgets (policy/v1): the disruption controller that keeps their status, and the Eviction API
 * (pods/eviction) that honours them.
 *
 * <p><b>Status</b> (pkg/controller/disruption/disruption.go, v1.31, trySync): the pods of the budget's namespace its
 * selector matches (an empty selector: all of them); with an integer {@code minAvailable}: expectedPods = those pods,
 * desiredHealthy = minAvailable; with a percentage, or {@code maxUnavailable}: expectedPods = the scale of the pods'
 * controllers (ReplicaSet, its Deployment when it has one, StatefulSet, ReplicationController), desiredHealthy =
 * minAvailable rounded up, or expected − maxUnavailable rounded up (not below 0); a pod without a controller then
 * fails the sync safe (0 disruptions allowed). currentHealthy counts the pods that are Ready, not being deleted and not
 * in disruptedPods; disruptionsAllowed = currentHealthy − desiredHealthy (0 when negative or nothing is expected);
 * disruptedPods drops a pod once it is gone, being deleted, or 2 minutes old (DeletionTimeout); observedGeneration and
 * the DisruptionAllowed condition (SufficientPods / InsufficientPods) follow. A budget with no pods gets a Normal
 * {@code NoPods} event "No matching pods found".
 *
 * <p><b>Eviction</b> (pkg/registry/core/pod/storage/eviction.go): a pod that is Succeeded, Failed, Pending or already
 * being deleted is deleted at once; more than one budget is a 500 ("This pod has more than one
 * PodDisruptionBudget, which the eviction subresource does not support."); none: deleted; one: a not-Ready pod is
 * deleted while the budget is healthy (currentHealthy ≥ desiredHealthy, the default IfHealthyBudget policy); else the
 * budget must have observed its generation and allow a disruption, or the answer is 429 TooManyRequests "Cannot evict
 * pod as it would violate the pod's disruption budget." with a DisruptionBudget cause ("The disruption budget NAME
 * needs D healthy pods and has H currently"); allowed: disruptionsAllowed − 1 and the pod in disruptedPods, written
 * with the budget's resourceVersion (a conflict is tried again), then the pod is deleted as a DELETE would (graceful).
 * The answer is 201 with a Success Status. In Kubernetes the eviction is the API server's; the lab keeps both halves
 * here because they share the budget's arithmetic.
 */
final class Disruption {
    static final String COMPONENT = "controllermanager";
    static final String VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";
    private static final Duration DELETION_TIMEOUT = Duration.ofMinutes(2);

    private final KubeApi api;
    private final Events events;
    private final Clock clock;
    private final K3sLog log;
    private final Set<String> noPodsReported = new HashSet<>();

    Disruption(KubeApi api, Events events, Clock clock, K3sLog log) {
        this.api = api;
        this.events = events;
        this.clock = clock;
        this.log = log;
    }

    static String budgets(String namespace) {
        return "/apis/policy/v1/namespaces/" + namespace + "/poddisruptionbudgets";
    }

    /** Every budget of every namespace (the tick: disruptedPods entries expire). */
    void syncAll() {
        for (ObjectNode pdb : J.items(api.call("GET", "/apis/policy/v1/poddisruptionbudgets", null, null))) {
            sync(pdb, null);
        }
    }

    /** The budgets of a namespace whose pods changed, or that changed. */
    void sync(String namespace) {
        List<ObjectNode> pdbs = J.items(api.call("GET", budgets(namespace), null, null));
        if (pdbs.isEmpty()) {
            return;
        }
        List<ObjectNode> pods = J.items(api.call("GET", J.pods(namespace), null, null));
        for (ObjectNode pdb : pdbs) {
            sync(pdb, pods);
        }
    }

    private void sync(ObjectNode pdb, List<ObjectNode> namespacePods) {
        String ns = J.namespace(pdb);
        List<ObjectNode> all = namespacePods != null ? namespacePods : J.items(api.call("GET", J.pods(ns), null, null));
        List<ObjectNode> pods = new ArrayList<>();
        for (ObjectNode p : all) {
            if (selects(pdb.path("spec").path("selector"), p.path("metadata").path("labels"))) {
                pods.add(p);
            }
        }
        String key = ns + "/" + J.name(pdb);
        if (pods.isEmpty() && noPodsReported.add(key)) {
            events.record(pdb, "Normal", "NoPods", "No matching pods found", COMPONENT);
        } else if (!pods.isEmpty()) {
            noPodsReported.remove(key);
        }
        Instant now = clock.instant();
        ObjectNode status = status(pdb, pods, now);
        if (status.equals(pdb.path("status"))) {
            return;
        }
        ObjectNode update = pdb.deepCopy();
        update.set("status", status);
        KubeApi.Result r = api.call("PUT", budgets(ns) + "/" + J.name(pdb) + "/status", "application/json",
                J.write(update));
        if (!r.ok() && r.status() != 409) {
            log.error("disruption controller: updating " + key + ": " + r.status() + " " + r.body());
        }
    }

    /** The budget's status from its pods, as trySync computes it. */
    ObjectNode status(JsonNode pdb, List<ObjectNode> pods, Instant now) {
        JsonNode spec = pdb.path("spec");
        long expected;
        long desired;
        boolean failSafe = false;
        JsonNode maxUnavailable = spec.path("maxUnavailable");
        JsonNode minAvailable = spec.path("minAvailable");
        if (!maxUnavailable.isMissingNode() && !maxUnavailable.isNull()) {
            long scale = expectedScale(pods);
            failSafe = scale < 0;
            expected = Math.max(0, scale);
            desired = Math.max(0, expected - scaled(maxUnavailable, expected));
        } else if (!minAvailable.isMissingNode() && !minAvailable.isNull()) {
            if (minAvailable.isNumber()) {
                expected = pods.size();
                desired = minAvailable.asLong();
            } else {
                long scale = expectedScale(pods);
                failSafe = scale < 0;
                expected = Math.max(0, scale);
                desired = scaled(minAvailable, expected);
            }
        } else {
            expected = pods.size();
            desired = 0;
        }
        ObjectNode disrupted = J.obj();
        JsonNode had = pdb.path("status").path("disruptedPods");
        long healthy = 0;
        for (ObjectNode p : pods) {
            if (J.deleting(p)) {
                continue;
            }
            Instant at = J.instant(had.path(J.name(p)).asString(""));
            if (at != null && at.plus(DELETION_TIMEOUT).isAfter(now)) {
                disrupted.put(J.name(p), had.path(J.name(p)).asString());
                continue;
            }
            if (ready(p)) {
                healthy++;
            }
        }
        long allowed = failSafe || expected <= 0 ? 0 : Math.max(0, healthy - desired);
        ObjectNode s = J.obj();
        s.put("observedGeneration", pdb.path("metadata").path("generation").asLong(0));
        if (!disrupted.isEmpty()) {
            s.set("disruptedPods", disrupted);
        }
        s.put("disruptionsAllowed", allowed);
        s.put("currentHealthy", healthy);
        s.put("desiredHealthy", desired);
        s.put("expectedPods", expected);
        s.set("conditions", condition(pdb, allowed > 0, now));
        return s;
    }

    /** The DisruptionAllowed condition, its transition time kept while its status does not change. */
    private static ArrayNode condition(JsonNode pdb, boolean allowed, Instant now) {
        String status = allowed ? "True" : "False";
        JsonNode old = J.condition(pdb, "DisruptionAllowed");
        ArrayNode out = J.arr();
        ObjectNode c = out.addObject();
        c.put("type", "DisruptionAllowed");
        c.put("status", status);
        c.put("reason", allowed ? "SufficientPods" : "InsufficientPods");
        c.put("message", "");
        c.put("observedGeneration", pdb.path("metadata").path("generation").asLong(0));
        c.put("lastTransitionTime", status.equals(old.path("status").asString(""))
                ? old.path("lastTransitionTime").asString(J.time(now)) : J.time(now));
        return out;
    }

    /** An int-or-percent of {@code total}, rounded up (GetScaledValueFromIntOrPercent with roundUp). */
    static long scaled(JsonNode v, long total) {
        if (v.isNumber()) {
            return v.asLong();
        }
        String text = v.asString("").strip();
        if (text.endsWith("%")) {
            long pct = Long.parseLong(text.substring(0, text.length() - 1));
            return (pct * total + 99) / 100;
        }
        return Long.parseLong(text);
    }

    /** The sum of the scales of the pods' controllers, each once; -1 when a pod has none (fail safe). */
    private long expectedScale(List<ObjectNode> pods) {
        Set<String> counted = new HashSet<>();
        long sum = 0;
        for (ObjectNode p : pods) {
            JsonNode ref = controller(p);
            if (ref == null) {
                return -1;
            }
            String ns = J.namespace(p);
            String kind = ref.path("kind").asString("");
            String name = ref.path("name").asString("");
            JsonNode owner = switch (kind) {
                case "ReplicaSet" -> get("/apis/apps/v1/namespaces/" + ns + "/replicasets/" + name);
                case "StatefulSet" -> get("/apis/apps/v1/namespaces/" + ns + "/statefulsets/" + name);
                case "ReplicationController" -> get("/api/v1/namespaces/" + ns + "/replicationcontrollers/" + name);
                default -> null;
            };
            if (owner == null) {
                return -1;
            }
            JsonNode deployment = kind.equals("ReplicaSet") ? ReplicaSetController.controllerRef(owner, "Deployment")
                    : null;
            if (deployment != null) {
                owner = get("/apis/apps/v1/namespaces/" + ns + "/deployments/" + deployment.path("name").asString(""));
                if (owner == null) {
                    return -1;
                }
            }
            if (counted.add(J.uid(owner))) {
                sum += owner.path("spec").path("replicas").asLong(1);
            }
        }
        return sum;
    }

    private static JsonNode controller(JsonNode o) {
        for (JsonNode ref : o.path("metadata").path("ownerReferences")) {
            if (ref.path("controller").asBoolean(false)) {
                return ref;
            }
        }
        return null;
    }

    private JsonNode get(String path) {
        KubeApi.Result r = api.call("GET", path, null, null);
        return r.ok() ? r.json() : null;
    }

    static boolean ready(JsonNode pod) {
        return "True".equals(J.condition(pod, "Ready").path("status").asString(""));
    }

    /** A metav1.LabelSelector against labels; a missing selector matches nothing, an empty one everything. */
    static boolean selects(JsonNode selector, JsonNode labels) {
        if (selector.isMissingNode() || selector.isNull()) {
            return false;
        }
        for (var e : selector.path("matchLabels").properties()) {
            if (!e.getValue().asString("").equals(labels.path(e.getKey()).asString(null))) {
                return false;
            }
        }
        for (JsonNode r : selector.path("matchExpressions")) {
            JsonNode v = labels.path(r.path("key").asString(""));
            boolean has = !v.isMissingNode() && !v.isNull();
            Set<String> values = new HashSet<>();
            r.path("values").forEach(x -> values.add(x.asString("")));
            boolean ok = switch (r.path("operator").asString("")) {
                case "In" -> has && values.contains(v.asString(""));
                case "NotIn" -> !has || !values.contains(v.asString(""));
                case "Exists" -> has;
                case "DoesNotExist" -> !has;
                default -> false;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    // ---- the Eviction API

    /** POST pods/NAME/eviction (request thread). */
    ApiHooks.Reply evict(String namespace, String name, String body) {
        for (int attempt = 0; attempt < 5; attempt++) {
            KubeApi.Result got = api.call("GET", J.pod(namespace, name), null, null);
            if (got.status() == 404) {
                return new ApiHooks.Reply(404, got.object());
            }
            ObjectNode pod = got.object();
            String phase = J.text(pod, "status.phase", "Pending");
            if (J.deleting(pod) || phase.equals("Succeeded") || phase.equals("Failed") || phase.equals("Pending")) {
                return delete(namespace, name, body);
            }
            List<ObjectNode> pdbs = new ArrayList<>();
            for (ObjectNode b : J.items(api.call("GET", budgets(namespace), null, null))) {
                if (selects(b.path("spec").path("selector"), pod.path("metadata").path("labels"))) {
                    pdbs.add(b);
                }
            }
            if (pdbs.size() > 1) {
                return failure(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the "
                        + "eviction subresource does not support.", null);
            }
            if (pdbs.isEmpty()) {
                return delete(namespace, name, body);
            }
            ObjectNode pdb = pdbs.get(0);
            JsonNode st = pdb.path("status");
            long healthy = st.path("currentHealthy").asLong(0);
            long desired = st.path("desiredHealthy").asLong(0);
            if (!ready(pod) && healthy >= desired && desired > 0
                    && !"AlwaysAllow".equals(pdb.path("spec").path("unhealthyPodEvictionPolicy").asString(""))) {
                return delete(namespace, name, body);
            }
            if ("AlwaysAllow".equals(pdb.path("spec").path("unhealthyPodEvictionPolicy").asString("")) && !ready(pod)) {
                return delete(namespace, name, body);
            }
            if (st.path("observedGeneration").asLong(0) < pdb.path("metadata").path("generation").asLong(0)) {
                return failure(429, "TooManyRequests", VIOLATION, "The disruption budget " + J.name(pdb)
                        + " is still being processed by the server.");
            }
            long allowed = st.path("disruptionsAllowed").asLong(0);
            if (allowed < 0) {
                return failure(403, "Forbidden", "pods \"" + name + "\" is forbidden: pdb disruptions allowed is "
                        + "negative", null);
            }
            if (allowed == 0) {
                return failure(429, "TooManyRequests", VIOLATION, "The disruption budget " + J.name(pdb) + " needs "
                        + desired + " healthy pods and has " + healthy + " currently");
            }
            ObjectNode update = pdb.deepCopy();
            ObjectNode ns = J.objectAt(update, "status");
            ns.put("disruptionsAllowed", allowed - 1);
            J.objectAt(ns, "disruptedPods").put(name, J.time(clock.instant()));
            if (allowed - 1 == 0) {
                ns.set("conditions", condition(pdb, false, clock.instant()));
            }
            KubeApi.Result w = api.call("PUT", budgets(namespace) + "/" + J.name(pdb) + "/status", "application/json",
                    J.write(update));
            if (w.status() == 409) {
                continue; // the budget changed meanwhile: decide again on the new one
            }
            if (!w.ok()) {
                return new ApiHooks.Reply(w.status(), w.object());
            }
            return delete(namespace, name, body);
        }
        return failure(429, "TooManyRequests", VIOLATION, "the disruption budget changed while evicting; retry");
    }

    /** Deletes the pod as a DELETE with the eviction's deleteOptions would; 201 Success. */
    private ApiHooks.Reply delete(String namespace, String name, String body) {
        String options = "";
        if (body != null && !body.isBlank()) {
            JsonNode e = J.parse(body);
            if (e.path("deleteOptions").isObject()) {
                options = J.write(e.path("deleteOptions"));
            }
        }
        KubeApi.Result r = api.call("DELETE", J.pod(namespace, name), options.isEmpty() ? null : "application/json",
                options.isEmpty() ? null : options);
        if (!r.ok()) {
            return new ApiHooks.Reply(r.status(), r.object());
        }
        ObjectNode ok = J.obj();
        ok.put("kind", "Status");
        ok.put("apiVersion", "v1");
        ok.putObject("metadata");
        ok.put("status", "Success");
        ok.put("code", 201);
        return new ApiHooks.Reply(201, ok);
    }

    private static ApiHooks.Reply failure(int code, String reason, String message, String cause) {
        ObjectNode s = J.obj();
        s.put("kind", "Status");
        s.put("apiVersion", "v1");
        s.putObject("metadata");
        s.put("status", "Failure");
        s.put("message", message);
        s.put("reason", reason);
        ObjectNode details = s.putObject("details");
        if (cause != null) {
            details.putArray("causes").addObject().put("type", "DisruptionBudget").put("message", cause);
        }
        if (code == 429) {
            details.put("retryAfterSeconds", 0);
        }
        s.put("code", code);
        return new ApiHooks.Reply(code, s);
    }
}
