package io.k3gpu.lab.k3s.controllers;

import java.util.Map;

import tools.jackson.databind.node.ObjectNode;

/**
 * Where the API server hands a request to the control plane before the store sees it: admission on create (the
 * RuntimeClass, DefaultTolerationSeconds and Priority plugins and the defaulting of requests from limits), carrying
 * server-held fields over a full update, and the deletion semantics of pods (graceful deletion) and of owners
 * (propagation policies). Every method may be called on any request thread.
 */
public interface ApiHooks {
    /**
     * The finalizer the server puts on a pod while its graceful deletion waits for the kubelet; the API never shows it
     * (the store would otherwise remove an object marked for deletion that has no finalizer).
     */
    String GRACEFUL_DELETION_FINALIZER = "k3gpu.lab/graceful-deletion";

    /** Hooks that change nothing. */
    ApiHooks NONE = new ApiHooks() {
    };

    /** An answer given instead of the store's. */
    record Reply(int status, ObjectNode body) {
    }

    /**
     * Admission of a new object (defaults already applied, name generated); may change {@code object}. Returns null to
     * accept it, or the error to answer.
     */
    default Reply admit(String apiVersion, String kind, String namespace, ObjectNode object) {
        return null;
    }

    /** Before a full update (PUT, not /status) replaces {@code current} (as stored) with {@code incoming}. */
    default void beforeUpdate(String apiVersion, String kind, ObjectNode current, ObjectNode incoming) {
    }

    /**
     * A DELETE of one object ({@code params}: the query, {@code body}: DeleteOptions or empty). Returns null to let the
     * store delete it at once, or the answer when deletion is handled here (the object stays, marked, or is gone).
     */
    default Reply delete(String apiVersion, String kind, String namespace, String name, Map<String, String> params,
                         String body) {
        return null;
    }

    /**
     * POST pods/NAME/eviction ({@code body}: the Eviction). Returns the answer; the default: eviction is not served.
     */
    default Reply evict(String namespace, String name, String body) {
        return null;
    }

    /** Hides server-internal fields from an object about to be shown to a client. */
    static void hideInternal(ObjectNode o) {
        if (o.path("metadata") instanceof ObjectNode meta && meta.path("finalizers").isArray()) {
            tools.jackson.databind.node.ArrayNode kept = J.arr();
            for (tools.jackson.databind.JsonNode f : meta.path("finalizers")) {
                if (!GRACEFUL_DELETION_FINALIZER.equals(f.asString(""))) {
                    kept.add(f);
                }
            }
            if (kept.isEmpty()) {
                meta.remove("finalizers");
            } else {
                meta.set("finalizers", kept);
            }
        }
    }
}
