package io.k3gpu.lab.k3s;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.utils.Serialization;
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
 * to the {@link WatchHub} so that watches can be served over plain HTTP with selectors on any field, and kept in a
 * copy by object that {@link Datastore} writes to disk and reads back at the next start.
 */
final class ApiStore extends KubernetesCrudDispatcher {
    record Result(int code, String body) {
        boolean ok() {
            return code >= 200 && code < 300;
        }
    }

    private final WatchHub hub;
    /** Every object as stored, by apiVersion/kind/namespace/name: what persists across restarts. */
    private final Map<String, String> objects = new ConcurrentHashMap<>();
    private final AtomicLong changes = new AtomicLong();

    ApiStore(WatchHub hub) {
        this.hub = hub;
    }

    /** The stored objects, each whole (an update replaces an object in one step). */
    Collection<String> objects() {
        return List.copyOf(objects.values());
    }

    /** Counts every change: a writer compares it with the count it last wrote. */
    long changes() {
        return changes.get();
    }

    /**
     * Puts objects read back from disk into the store as they were (uids, creation times, status), and moves the
     * resource version past theirs, so that what is written next is newer. Only at start, before serving.
     *
     * @return how many objects were restored
     */
    int restore(Collection<String> stored) {
        long newest = 0;
        int n = 0;
        for (String json : stored) {
            ObjectNode o = Json.parseObject(json);
            ApiResources.Resource r = ApiResources.byKind(o.path("apiVersion").asString(""), o.path("kind").asString(""));
            if (r == null) {
                continue;
            }
            String ns = r.namespaced() ? Json.text(o, "metadata.namespace") : null;
            String collection = new ApiResources.ApiPath(r, ns, null, null, false).storePath();
            GenericKubernetesResource resource = Serialization.unmarshal(json, GenericKubernetesResource.class);
            processEvent(collection, getKey(collection), null, resource, json);
            newest = Math.max(newest, parseVersion(Json.text(o, "metadata.resourceVersion")));
            n++;
        }
        while (requestResourceVersion() < newest) {
            // the dispatcher's counter only counts up
        }
        return n;
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
            objects.remove(key(object));
            Json.objectAt(object, "metadata").put("resourceVersion", String.valueOf(requestResourceVersion()));
        } else {
            type = existing == null ? "ADDED" : "MODIFIED";
            object = Json.parseObject(newState);
            String k = key(object);
            if (existing != null) {
                previous = Json.parseObject(existing);
                String was = key(previous);
                if (!was.equals(k)) {
                    objects.remove(was);
                }
                ApiHandler.clean(previous);
            }
            objects.put(k, newState);
        }
        changes.incrementAndGet();
        ApiResources.Resource r = ApiResources.byKind(object.path("apiVersion").asString(""),
                object.path("kind").asString(""));
        if (r == null) {
            return;
        }
        ApiHandler.clean(object);
        long rv = parseVersion(Json.text(object, "metadata.resourceVersion"));
        hub.publish(new WatchHub.Event(rv, type, r, object, previous));
    }

    private static String key(ObjectNode o) {
        return o.path("apiVersion").asString("") + "/" + o.path("kind").asString("") + "/"
                + Json.text(o, "metadata.namespace") + "/" + Json.text(o, "metadata.name");
    }

    static long parseVersion(String rv) {
        try {
            return rv == null || rv.isEmpty() ? 0 : Long.parseLong(rv);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
