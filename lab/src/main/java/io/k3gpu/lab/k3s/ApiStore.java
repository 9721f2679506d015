package io.k3gpu.lab.k3s;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import tools.jackson.databind.node.ObjectNode;

/**
 * The object store: fabric8's CRUD dispatcher (kubernetes-server-mock in CRUD mode: create, get, list, update,
 * JSON and merge patches, delete, resource versions, uids, creation timestamps), with every change also published
 * to the {@link WatchHub} so that watches can be served over plain HTTP with selectors on any field.
 */
final class ApiStore extends KubernetesCrudDispatcher {
    record Result(int code, String body) {
        boolean ok() {
            return code >= 200 && code < 300;
        }
    }

    private final WatchHub hub;

    ApiStore(WatchHub hub) {
        this.hub = hub;
    }

    /** One request to the store; {@code path} may carry a query. */
    Result call(String method, String path, String contentType, String body) {
        Headers.Builder h = Headers.builder();
        if (contentType != null) {
            h.add("Content-Type", contentType);
        }
        Buffer buffer = body == null ? new Buffer() : new Buffer(body.getBytes(StandardCharsets.UTF_8));
        MockResponse r = dispatch(new RecordedRequest("HTTP/1.1", HttpMethod.valueOf(method), path, h.build(),
                buffer));
        String text = r.getBody() == null ? null : r.getBody().readUtf8();
        return new Result(r.code(), text);
    }

    @Override
    public void processEvent(String path, AttributeSet pathAttributes, AttributeSet oldAttributes,
                             GenericKubernetesResource resource, String newState) {
        String existing = oldAttributes == null ? null : map.get(oldAttributes);
        super.processEvent(path, pathAttributes, oldAttributes, resource, newState);
        if (Objects.equals(existing, newState)) {
            return;
        }
        String type;
        ObjectNode object;
        ObjectNode previous = null;
        if (newState == null) {
            type = "DELETED";
            object = Json.parseObject(existing);
            Json.objectAt(object, "metadata").put("resourceVersion", String.valueOf(requestResourceVersion()));
        } else {
            type = existing == null ? "ADDED" : "MODIFIED";
            object = Json.parseObject(newState);
            if (existing != null) {
                previous = ApiHandler.clean(Json.parseObject(existing));
            }
        }
        ApiResources.Resource r = ApiResources.byKind(object.path("apiVersion").asString(""),
                object.path("kind").asString(""));
        if (r == null) {
            return;
        }
        ApiHandler.clean(object);
        long rv = parseVersion(Json.text(object, "metadata.resourceVersion"));
        hub.publish(new WatchHub.Event(rv, type, r, object, previous));
    }

    static long parseVersion(String rv) {
        try {
            return rv == null || rv.isEmpty() ? 0 : Long.parseLong(rv);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
