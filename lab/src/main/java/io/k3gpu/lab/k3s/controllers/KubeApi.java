package io.k3gpu.lab.k3s.controllers;

import java.util.function.Consumer;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What the controllers need of the simulated API server: requests through the whole API (admission, deletion
 * semantics, output as clients see it), the store underneath (objects as stored, for the server's own deletion
 * mechanics) and every change as it happens. The server provides it in-process; no TLS, no authentication, as for
 * kube-controller-manager on the loopback.
 */
public interface KubeApi {
    /** A response: status code and body (JSON), the body null when the store sent none. */
    record Result(int status, String body) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }

        public JsonNode json() {
            return body == null || body.isBlank() ? J.obj() : J.parse(body);
        }

        public ObjectNode object() {
            JsonNode n = json();
            return n instanceof ObjectNode o ? o : J.obj();
        }
    }

    /**
     * One change of one object: ADDED, MODIFIED or DELETED, the object as clients see it, and for MODIFIED the object
     * before.
     */
    record Change(String type, String apiVersion, String kind, ObjectNode object, ObjectNode previous) {
    }

    /** A request through the API; {@code path} may carry a query. */
    Result call(String method, String path, String contentType, String body);

    /** A request to the store under the API: no admission, no deletion semantics, server-internal fields visible. */
    Result store(String method, String path, String contentType, String body);

    /**
     * Subscribes to every change. Delivery happens on the writer's thread while the store is locked: listeners must
     * only hand the change over. Closing the returned handle unsubscribes.
     */
    AutoCloseable watch(Consumer<Change> listener);
}
