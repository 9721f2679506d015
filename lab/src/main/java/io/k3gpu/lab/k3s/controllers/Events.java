package io.k3gpu.lab.k3s.controllers;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Records core/v1 Events the way the control plane's recorders do, in the namespace of the object (Nodes: default),
 * named {@code <object>.<hex nanoseconds>}, with {@code involvedObject} carrying kind, name, namespace, uid (a Node's
 * name, as kubelet and node controller use) and resourceVersion, so that {@code kubectl describe} finds them by
 * field selector. Controllers using client-go's core recorder (job-controller, node-controller) write source,
 * first/last timestamps and count, and a repeat of the same event bumps count and lastTimestamp; the scheduler's
 * events.k8s.io recorder writes eventTime, reportingComponent/Instance and action instead.
 */
final class Events {
    private record Key(String uid, String type, String reason, String message, String component) {
    }

    private final KubeApi api;
    private final Clock clock;
    private final String host;
    private final AtomicLong sequence = new AtomicLong();
    private final Map<Key, String> recorded = new ConcurrentHashMap<>();

    Events(KubeApi api, Clock clock, String host) {
        this.api = api;
        this.clock = clock;
        this.host = host;
    }

    /** A core recorder event from {@code component} (job-controller, node-controller, ...). */
    void record(JsonNode involved, String type, String reason, String message, String component) {
        Instant now = clock.instant();
        ObjectNode ref = reference(involved);
        Key key = new Key(ref.path("uid").asString(""), type, reason, message, component);
        String ns = eventNamespace(involved);
        String existing = recorded.get(key);
        if (existing != null) {
            KubeApi.Result got = api.call("GET", "/api/v1/namespaces/" + ns + "/events/" + existing, null, null);
            if (got.ok()) {
                ObjectNode patch = J.obj();
                patch.put("count", got.json().path("count").asInt(1) + 1);
                patch.put("lastTimestamp", J.time(now));
                api.call("PATCH", "/api/v1/namespaces/" + ns + "/events/" + existing, "application/merge-patch+json",
                        J.write(patch));
                return;
            }
        }
        ObjectNode e = skeleton(involved, ref, ns, now, type, reason, message);
        e.putObject("source").put("component", component);
        e.put("firstTimestamp", J.time(now));
        e.put("lastTimestamp", J.time(now));
        e.put("count", 1);
        e.putNull("eventTime");
        e.put("reportingComponent", component);
        e.put("reportingInstance", "");
        KubeApi.Result r = api.call("POST", "/api/v1/namespaces/" + ns + "/events", "application/json", J.write(e));
        if (r.ok()) {
            recorded.put(key, J.name(e));
        }
    }

    /** An events.k8s.io recorder event of kube-scheduler (action Scheduling). */
    void scheduler(JsonNode pod, String type, String reason, String message) {
        Instant now = clock.instant();
        ObjectNode ref = reference(pod);
        String ns = eventNamespace(pod);
        ObjectNode e = skeleton(pod, ref, ns, now, type, reason, message);
        e.putObject("source");
        e.putNull("firstTimestamp");
        e.putNull("lastTimestamp");
        e.put("eventTime", J.microTime(now));
        e.put("action", "Scheduling");
        e.put("reportingComponent", "default-scheduler");
        e.put("reportingInstance", "default-scheduler-" + host);
        api.call("POST", "/api/v1/namespaces/" + ns + "/events", "application/json", J.write(e));
    }

    /** Forgets aggregation state of events that no longer exist. */
    void forget(String eventName) {
        recorded.values().removeIf(eventName::equals);
    }

    private ObjectNode skeleton(JsonNode involved, ObjectNode ref, String ns, Instant now, String type,
                                String reason, String message) {
        ObjectNode e = J.obj();
        e.put("apiVersion", "v1");
        e.put("kind", "Event");
        long nanos = now.getEpochSecond() * 1_000_000_000L + now.getNano() + sequence.incrementAndGet();
        e.putObject("metadata").put("name", J.name(involved) + "." + Long.toHexString(nanos)).put("namespace", ns);
        e.set("involvedObject", ref);
        e.put("reason", reason);
        e.put("message", message);
        e.put("type", type);
        return e;
    }

    static ObjectNode reference(JsonNode o) {
        ObjectNode ref = J.obj();
        String kind = o.path("kind").asString("");
        ref.put("kind", kind);
        String ns = J.namespace(o);
        if (ns != null && !ns.isEmpty()) {
            ref.put("namespace", ns);
        }
        ref.put("name", J.name(o));
        ref.put("uid", kind.equals("Node") ? J.name(o) : J.text(o, "metadata.uid", ""));
        ref.put("apiVersion", o.path("apiVersion").asString("v1"));
        String rv = J.text(o, "metadata.resourceVersion");
        if (rv != null && !kind.equals("Node")) {
            ref.put("resourceVersion", rv);
        }
        return ref;
    }

    private static String eventNamespace(JsonNode o) {
        String ns = J.namespace(o);
        return ns == null || ns.isEmpty() ? "default" : ns;
    }
}
