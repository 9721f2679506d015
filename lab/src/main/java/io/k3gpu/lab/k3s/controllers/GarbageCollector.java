package io.k3gpu.lab.k3s.controllers;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.k3gpu.lab.k3s.K3sLog;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The garbage collector and the pod GC, for the owners and dependents the lab has (Jobs and their Pods, CronJobs and
 * their Jobs, DaemonSets and their Pods and ControllerRevisions, Deployments and their ReplicaSets, ReplicaSets and
 * their Pods): when an owner is deleted its dependents are deleted (pods gracefully); an owner marked for Foreground
 * deletion loses its {@code foregroundDeletion} finalizer — and so goes — once its dependents are gone; dependents
 * whose owner no longer exists are deleted on the next sweep. A terminating pod whose kubelet will not confirm the
 * kill (node deleted or not Ready, the server's own node, or not bound) is removed at once. Events expire after an
 * hour, as with the API server's {@code --event-ttl}.
 */
final class GarbageCollector {
    private final KubeApi api;
    private final Deletion deletion;
    private final Events events;
    private final Clock clock;
    private final Duration eventTtl;
    private final K3sLog log;

    GarbageCollector(KubeApi api, Deletion deletion, Events events, Clock clock, Duration eventTtl, K3sLog log) {
        this.api = api;
        this.deletion = deletion;
        this.events = events;
        this.clock = clock;
        this.eventTtl = eventTtl;
        this.log = log;
    }

    /** An object is gone: its dependents follow (Background propagation). */
    void ownerDeleted(JsonNode owner) {
        String uid = J.uid(owner);
        String ns = J.namespace(owner);
        if (uid == null || ns == null || ns.isEmpty()) {
            return;
        }
        for (ObjectNode dep : dependents(uid, ns)) {
            deleteDependent(dep);
        }
    }

    /** A pod changed: a terminating one nobody will confirm goes now. */
    void podChanged(ObjectNode pod) {
        if (J.deleting(pod) && !deletion.kubeletWillConfirm(pod)) {
            KubeApi.Result raw = api.store("GET", J.pod(J.namespace(pod), J.name(pod)), null, null);
            if (raw.ok() && raw.body() != null) {
                deletion.forceDelete(raw.object());
            }
        }
    }

    void sweep() {
        List<ObjectNode> pods = J.items(api.call("GET", "/api/v1/pods", null, null));
        List<ObjectNode> jobs = J.items(api.call("GET", "/apis/batch/v1/jobs", null, null));
        List<ObjectNode> daemonSets = J.items(api.call("GET", "/apis/apps/v1/daemonsets", null, null));
        List<ObjectNode> replicaSets = J.items(api.call("GET", "/apis/apps/v1/replicasets", null, null));
        for (ObjectNode pod : pods) {
            podChanged(pod);
        }
        List<ObjectNode> dependents = new ArrayList<>(pods);
        dependents.addAll(jobs);
        dependents.addAll(J.items(api.call("GET", "/apis/apps/v1/controllerrevisions", null, null)));
        dependents.addAll(replicaSets);
        for (ObjectNode dep : dependents) {
            if (J.deleting(dep)) {
                continue;
            }
            for (JsonNode ref : dep.path("metadata").path("ownerReferences")) {
                if (ownerGone(ref, J.namespace(dep)) && stillOwned(dep, ref.path("uid").asString(""))) {
                    deleteDependent(dep);
                    break;
                }
            }
        }
        List<ObjectNode> owners = new ArrayList<>(jobs);
        owners.addAll(daemonSets);
        owners.addAll(replicaSets);
        owners.addAll(J.items(api.call("GET", "/apis/apps/v1/deployments", null, null)));
        for (ObjectNode owner : owners) {
            if (J.deleting(owner) && Deletion.hasFinalizer(owner, Deletion.FOREGROUND)) {
                foreground(owner);
            }
        }
    }

    /** Foreground deletion of {@code owner}: dependents first, then the owner's finalizer. */
    void foreground(ObjectNode owner) {
        List<ObjectNode> deps = dependents(J.uid(owner), J.namespace(owner));
        for (ObjectNode dep : deps) {
            if (!J.deleting(dep)) {
                deleteDependent(dep);
            }
        }
        if (!dependents(J.uid(owner), J.namespace(owner)).isEmpty()) {
            return;
        }
        String path = J.path(owner);
        KubeApi.Result raw = api.store("GET", path, null, null);
        if (raw.ok() && raw.body() != null) {
            ObjectNode o = raw.object();
            Deletion.removeFinalizer(o, Deletion.FOREGROUND);
            api.store("PUT", path, "application/json", J.write(o));
        }
    }

    void expireEvents() {
        Instant cutoff = clock.instant().minus(eventTtl);
        for (ObjectNode e : J.items(api.call("GET", "/api/v1/events", null, null))) {
            String last = J.text(e, "lastTimestamp");
            if (last == null) {
                last = J.text(e, "eventTime");
            }
            if (last == null) {
                last = J.text(e, "metadata.creationTimestamp");
            }
            Instant t = J.instant(last);
            if (t != null && t.isBefore(cutoff)) {
                api.call("DELETE", "/api/v1/namespaces/" + J.namespace(e) + "/events/" + J.name(e), null, null);
                events.forget(J.name(e));
            }
        }
    }

    private List<ObjectNode> dependents(String uid, String ns) {
        List<ObjectNode> out = new ArrayList<>();
        if (uid == null || ns == null) {
            return out;
        }
        for (String collection : J.dependentCollections(ns)) {
            for (ObjectNode item : J.items(api.call("GET", collection, null, null))) {
                if (Deletion.ownedBy(item, uid)) {
                    out.add(item);
                }
            }
        }
        return out;
    }

    private void deleteDependent(ObjectNode dep) {
        String ns = J.namespace(dep);
        String path = "Job".equals(dep.path("kind").asString("")) ? J.path(dep) + "?propagationPolicy=Background"
                : J.path(dep);
        api.call("DELETE", path, null, null);
        log.debug("garbage-collector: deleted " + dep.path("kind").asString("") + " " + ns + "/" + J.name(dep));
    }

    /** Re-reads a dependent (the sweep's list may be stale: an orphaning may have just removed the reference). */
    private boolean stillOwned(JsonNode dep, String ownerUid) {
        KubeApi.Result fresh = api.call("GET", J.path(dep), null, null);
        return fresh.ok() && J.uid(fresh.json()) != null && J.uid(fresh.json()).equals(J.uid(dep))
                && Deletion.ownedBy(fresh.json(), ownerUid);
    }

    private boolean ownerGone(JsonNode ref, String ns) {
        String kind = ref.path("kind").asString("");
        String apiVersion = ref.path("apiVersion").asString("");
        String name = ref.path("name").asString("");
        String path;
        if (kind.equals("Job") && apiVersion.equals("batch/v1")) {
            path = J.job(ns, name);
        } else if (kind.equals("CronJob") && apiVersion.equals("batch/v1")) {
            path = "/apis/batch/v1/namespaces/" + ns + "/cronjobs/" + name;
        } else if (kind.equals("DaemonSet") && apiVersion.equals("apps/v1")) {
            path = DaemonSetController.path(ns, name);
        } else if (kind.equals("ReplicaSet") && apiVersion.equals("apps/v1")) {
            path = ReplicaSetController.path(ns, name);
        } else if (kind.equals("Deployment") && apiVersion.equals("apps/v1")) {
            path = DeploymentController.path(ns, name);
        } else {
            return false;
        }
        KubeApi.Result r = api.call("GET", path, null, null);
        return r.status() == 404 || (r.ok() && !ref.path("uid").asString("").equals(J.uid(r.json())));
    }
}
