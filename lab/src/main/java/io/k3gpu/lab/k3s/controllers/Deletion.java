package io.k3gpu.lab.k3s.controllers;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The API server's side of deletion.
 *
 * <p><b>Pods</b> are deleted gracefully: the grace period is DeleteOptions' {@code gracePeriodSeconds} (query or
 * body), else the pod's {@code terminationGracePeriodSeconds} (30); it is 0 — the pod goes at once — when the pod is
 * not bound to a node, has finished (Succeeded/Failed), or its node is gone, not Ready, or the server's own node
 * (which runs no pods). Otherwise the pod stays, with {@code metadata.deletionTimestamp} (now + grace) and
 * {@code deletionGracePeriodSeconds}, until the kubelet of its node deletes it with {@code gracePeriodSeconds=0}
 * after killing its containers; a later DELETE with a shorter grace shortens the deadline.
 *
 * <p><b>Owners</b> (Jobs, or any object deleted with an explicit policy) follow {@code propagationPolicy}
 * (or the legacy {@code orphanDependents}): Background deletes the owner now and the garbage collector deletes the
 * dependents; Foreground marks the owner (deletionTimestamp, finalizer {@code foregroundDeletion}) and the garbage
 * collector removes it after its dependents; Orphan removes the owner's references from the dependents first. A
 * batch/v1 Job deleted without a policy orphans its pods, as Kubernetes does ({@code kubectl delete} and fabric8 send
 * Background). {@code preconditions.uid} is honoured.
 */
final class Deletion {
    static final String FOREGROUND = "foregroundDeletion";

    private final KubeApi api;
    private final Clock clock;
    private final String localNode;

    Deletion(KubeApi api, Clock clock, String localNode) {
        this.api = api;
        this.clock = clock;
        this.localNode = localNode;
    }

    /** DeleteOptions from the query and the body. */
    record Options(Long gracePeriodSeconds, String propagationPolicy, String uid) {
        static Options parse(Map<String, String> params, String body) {
            Long grace = null;
            String policy = null;
            String uid = null;
            JsonNode b = null;
            if (body != null && !body.isBlank()) {
                try {
                    b = J.parse(body);
                } catch (RuntimeException e) {
                    b = null;
                }
            }
            if (b != null && b.isObject()) {
                if (b.hasNonNull("gracePeriodSeconds")) {
                    grace = b.path("gracePeriodSeconds").asLong();
                }
                if (b.hasNonNull("propagationPolicy")) {
                    policy = b.path("propagationPolicy").asString();
                } else if (b.hasNonNull("orphanDependents")) {
                    policy = b.path("orphanDependents").asBoolean() ? "Orphan" : "Background";
                }
                uid = J.text(b, "preconditions.uid");
            }
            if (params.containsKey("gracePeriodSeconds")) {
                try {
                    grace = Long.parseLong(params.get("gracePeriodSeconds"));
                } catch (NumberFormatException e) {
                    // ignored, as a malformed value is by a lenient server
                }
            }
            if (params.containsKey("propagationPolicy")) {
                policy = params.get("propagationPolicy");
            } else if (params.containsKey("orphanDependents") && policy == null) {
                policy = Boolean.parseBoolean(params.get("orphanDependents")) ? "Orphan" : "Background";
            }
            return new Options(grace, policy, uid);
        }
    }

    ApiHooks.Reply delete(String apiVersion, String kind, String namespace, String name, Options o) {
        if ("v1".equals(apiVersion) && "Pod".equals(kind)) {
            return deletePod(namespace, name, o);
        }
        boolean job = "batch/v1".equals(apiVersion) && "Job".equals(kind);
        if (job || "Foreground".equals(o.propagationPolicy()) || "Orphan".equals(o.propagationPolicy())) {
            String path = path(apiVersion, kind, namespace, name);
            if (path != null) {
                return deleteOwner(path, kind, namespace, o, job ? "Orphan" : "Background");
            }
        }
        return null;
    }

    // ---- pods

    private ApiHooks.Reply deletePod(String ns, String name, Options o) {
        String path = J.pod(ns, name);
        for (int attempt = 0; attempt < 5; attempt++) {
            KubeApi.Result got = api.store("GET", path, null, null);
            if (!got.ok() || got.body() == null) {
                return null; // the API answers 404 as usual
            }
            ObjectNode pod = got.object();
            ApiHooks.Reply failed = precondition(o, pod, "pods", name);
            if (failed != null) {
                return failed;
            }
            long grace = o.gracePeriodSeconds() != null ? o.gracePeriodSeconds()
                    : pod.path("spec").path("terminationGracePeriodSeconds").asLong(30);
            if (grace < 0) {
                grace = 1;
            }
            if (!kubeletWillConfirm(pod)) {
                grace = 0;
            }
            boolean marked = hasFinalizer(pod, ApiHooks.GRACEFUL_DELETION_FINALIZER);
            if (J.deleting(pod)) {
                if (!marked) {
                    return reply(pod); // waits for other finalizers
                }
                if (grace == 0) {
                    forceDelete(pod);
                    return reply(pod);
                }
                Instant deadline = clock.instant().plusSeconds(grace);
                Instant current = J.instant(J.text(pod, "metadata.deletionTimestamp"));
                if (current != null && !deadline.isBefore(current)) {
                    return reply(pod);
                }
                ObjectNode meta = J.objectAt(pod, "metadata");
                meta.put("deletionTimestamp", J.time(deadline));
                meta.put("deletionGracePeriodSeconds", grace);
            } else {
                if (grace == 0) {
                    return null; // the store deletes it (or marks it, when other finalizers hold it)
                }
                ObjectNode meta = J.objectAt(pod, "metadata");
                meta.put("deletionTimestamp", J.time(clock.instant().plusSeconds(grace)));
                meta.put("deletionGracePeriodSeconds", grace);
                J.arrayAt(meta, "finalizers").add(ApiHooks.GRACEFUL_DELETION_FINALIZER);
            }
            KubeApi.Result put = api.store("PUT", path, "application/json", J.write(pod));
            if (put.status() == 409) {
                continue;
            }
            if (!put.ok()) {
                return null;
            }
            return reply(put.body() == null ? pod : put.object());
        }
        return conflict("pods", name);
    }

    /** Whether a kubelet will kill this pod's containers and confirm: bound, running or pending, node alive. */
    boolean kubeletWillConfirm(JsonNode pod) {
        String node = J.text(pod, "spec.nodeName");
        String phase = J.text(pod, "status.phase", "Pending");
        if (node == null || node.isEmpty() || Scheduling.TERMINAL.contains(phase) || node.equals(localNode)) {
            return false;
        }
        KubeApi.Result n = api.call("GET", "/api/v1/nodes/" + node, null, null);
        return n.ok() && "True".equals(J.condition(n.json(), "Ready").path("status").asString(""));
    }

    /** Ends a graceful deletion: drops the server's finalizer, and the store removes the pod. */
    void forceDelete(ObjectNode rawPod) {
        String path = J.pod(J.namespace(rawPod), J.name(rawPod));
        for (int attempt = 0; attempt < 5; attempt++) {
            ObjectNode pod = rawPod;
            if (attempt > 0) {
                KubeApi.Result got = api.store("GET", path, null, null);
                if (!got.ok() || got.body() == null) {
                    return;
                }
                pod = got.object();
            }
            if (!hasFinalizer(pod, ApiHooks.GRACEFUL_DELETION_FINALIZER)) {
                if (!J.deleting(pod)) {
                    api.store("DELETE", path, null, null);
                }
                return;
            }
            removeFinalizer(pod, ApiHooks.GRACEFUL_DELETION_FINALIZER);
            J.objectAt(pod, "metadata").put("deletionGracePeriodSeconds", 0);
            KubeApi.Result put = api.store("PUT", path, "application/json", J.write(pod));
            if (put.status() != 409) {
                return;
            }
        }
    }

    // ---- owners

    private ApiHooks.Reply deleteOwner(String path, String kind, String ns, Options o, String defaultPolicy) {
        KubeApi.Result got = api.store("GET", path, null, null);
        if (!got.ok() || got.body() == null) {
            return null;
        }
        ObjectNode owner = got.object();
        ApiHooks.Reply failed = precondition(o, owner, plural(kind), J.name(owner));
        if (failed != null) {
            return failed;
        }
        if (J.deleting(owner)) {
            return reply(owner);
        }
        String policy = o.propagationPolicy() == null ? defaultPolicy : o.propagationPolicy();
        switch (policy) {
            case "Orphan" -> {
                orphan(J.uid(owner), ns);
                return null;
            }
            case "Foreground" -> {
                ObjectNode meta = J.objectAt(owner, "metadata");
                meta.put("deletionTimestamp", J.time(clock.instant()));
                meta.put("deletionGracePeriodSeconds", 0);
                J.arrayAt(meta, "finalizers").add(FOREGROUND);
                KubeApi.Result put = api.store("PUT", path, "application/json", J.write(owner));
                return put.ok() && put.body() != null ? reply(put.object()) : reply(owner);
            }
            default -> {
                return null;
            }
        }
    }

    /** Removes the references to {@code ownerUid} from pods and jobs (the dependents the lab's owners have). */
    void orphan(String ownerUid, String ns) {
        if (ownerUid == null || ns == null) {
            return;
        }
        for (String collection : J.dependentCollections(ns)) {
            for (ObjectNode item : J.items(api.call("GET", collection, null, null))) {
                if (!ownedBy(item, ownerUid)) {
                    continue;
                }
                String path = collection + "/" + J.name(item);
                KubeApi.Result raw = api.store("GET", path, null, null);
                if (!raw.ok() || raw.body() == null) {
                    continue;
                }
                ObjectNode dep = raw.object();
                ArrayNode kept = J.arr();
                for (JsonNode ref : dep.path("metadata").path("ownerReferences")) {
                    if (!ownerUid.equals(ref.path("uid").asString(""))) {
                        kept.add(ref);
                    }
                }
                ObjectNode meta = J.objectAt(dep, "metadata");
                if (kept.isEmpty()) {
                    meta.remove("ownerReferences");
                } else {
                    meta.set("ownerReferences", kept);
                }
                api.store("PUT", path, "application/json", J.write(dep));
            }
        }
    }

    // ---- helpers

    static boolean ownedBy(JsonNode o, String uid) {
        for (JsonNode ref : o.path("metadata").path("ownerReferences")) {
            if (uid.equals(ref.path("uid").asString(""))) {
                return true;
            }
        }
        return false;
    }

    static boolean hasFinalizer(JsonNode o, String finalizer) {
        for (JsonNode f : o.path("metadata").path("finalizers")) {
            if (finalizer.equals(f.asString(""))) {
                return true;
            }
        }
        return false;
    }

    static void removeFinalizer(ObjectNode o, String finalizer) {
        ObjectNode meta = J.objectAt(o, "metadata");
        ArrayNode kept = J.arr();
        for (JsonNode f : meta.path("finalizers")) {
            if (!finalizer.equals(f.asString(""))) {
                kept.add(f);
            }
        }
        meta.set("finalizers", kept);
    }

    private static ApiHooks.Reply precondition(Options o, JsonNode obj, String plural, String name) {
        if (o.uid() != null && !o.uid().isEmpty() && !o.uid().equals(J.uid(obj))) {
            ObjectNode s = status(409, "Conflict", "Operation cannot be fulfilled on " + plural + " \"" + name
                    + "\": Precondition failed: UID in precondition: " + o.uid() + ", UID in object meta: "
                    + J.uid(obj));
            return new ApiHooks.Reply(409, s);
        }
        return null;
    }

    private static ApiHooks.Reply conflict(String plural, String name) {
        return new ApiHooks.Reply(409, status(409, "Conflict", "Operation cannot be fulfilled on " + plural + " \""
                + name + "\": the object has been modified; please apply your changes to the latest version and try "
                + "again"));
    }

    static ObjectNode status(int code, String reason, String message) {
        ObjectNode s = J.obj();
        s.put("kind", "Status");
        s.put("apiVersion", "v1");
        s.putObject("metadata");
        s.put("status", "Failure");
        s.put("message", message);
        s.put("reason", reason);
        s.put("code", code);
        return s;
    }

    private static ApiHooks.Reply reply(ObjectNode o) {
        ObjectNode shown = o.deepCopy();
        ApiHooks.hideInternal(shown);
        return new ApiHooks.Reply(200, shown);
    }

    private static String plural(String kind) {
        return kind.toLowerCase(java.util.Locale.ROOT) + "s";
    }

    /** The store path of an object of the kinds whose deletion policies apply here. */
    private static String path(String apiVersion, String kind, String ns, String name) {
        if ("batch/v1".equals(apiVersion) && "Job".equals(kind) && ns != null) {
            return J.job(ns, name);
        }
        if ("batch/v1".equals(apiVersion) && "CronJob".equals(kind) && ns != null) {
            return "/apis/batch/v1/namespaces/" + ns + "/cronjobs/" + name;
        }
        if ("apps/v1".equals(apiVersion) && "DaemonSet".equals(kind) && ns != null) {
            return DaemonSetController.path(ns, name);
        }
        return null;
    }
}
