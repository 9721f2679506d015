package io.k3gpu.lab.k3s;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

import io.k3gpu.lab.k3s.controllers.ApiHooks;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Kubernetes API in front of the store, request by request (watches and logs stream, see {@link ApiListener}):
 * version, discovery and OpenAPI documents; lists with label and field selectors and typed list kinds; Tables for
 * {@code kubectl get}; creation and updates with defaults ({@link Defaults}; generateName, namespace, job selector);
 * strategic merge, merge and JSON patches applied here, then stored whole; protobuf bodies refused with
 * 415; errors as the apiserver words them ({@code pods "x" not found}).
 */
final class ApiHandler {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";
    static final String JSON = "application/json";

    record Request(String method, String path, String query, Map<String, String> headers, byte[] body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        Map<String, String> params() {
            return ApiHandler.params(query);
        }

        String bodyText() {
            return body == null ? "" : new String(body, StandardCharsets.UTF_8);
        }
    }

    record Response(int status, String contentType, byte[] body) {
        static Response json(int status, JsonNode node) {
            return new Response(status, JSON, Json.write(node).getBytes(StandardCharsets.UTF_8));
        }

        static Response text(int status, String text) {
            return new Response(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
        }

        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final ApiStore store;
    private final String version;
    private final String platform;
    private final Clock clock;
    private volatile String serverAddress = "127.0.0.1:6443";
    private volatile ApiHooks hooks = ApiHooks.NONE;
    private volatile MetricsServer metrics;

    ApiHandler(ApiStore store, String version, String platform, Clock clock) {
        this.store = store;
        this.version = version;
        this.platform = platform;
        this.clock = clock;
    }

    void serverAddress(String address) {
        this.serverAddress = address;
    }

    ApiStore store() {
        return store;
    }

    /** The control plane's admission and deletion semantics (the controllers package). */
    void hooks(ApiHooks hooks) {
        this.hooks = hooks == null ? ApiHooks.NONE : hooks;
    }

    /** The metrics API's server (K3s's packaged metrics-server); null when disabled. */
    void metrics(MetricsServer metrics) {
        this.metrics = metrics;
    }

    Response handle(Request r) {
        try {
            if (r.path().startsWith("/apis/" + MetricsServer.GROUP)) {
                MetricsServer m = metrics;
                int state = K3sAggregator.state(store, MetricsServer.API_SERVICE);
                if (state == 404) { // no APIService: the group is nobody's
                    return notFoundPath();
                }
                if (state == 503 || m == null) { // kube-aggregator's proxy: the service has no ready endpoint
                    return Response.text(503, "service unavailable\n");
                }
                return r.method().equals("GET") ? m.handle(r.path(), r.params()) : status(405,
                        "MethodNotAllowed", "the server does not allow this method on the requested resource", null);
            }
            Response meta = r.method().equals("GET") ? documents(r) : null;
            if (meta != null) {
                return meta;
            }
            ApiResources.ApiPath p = ApiResources.parse(r.path());
            if (p == null) {
                return notFoundPath();
            }
            String ct = r.header("content-type");
            if (ct != null && ct.contains("protobuf")) {
                return status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                        + "accepted media types include: application/json, application/yaml, "
                        + "application/json-patch+json, application/merge-patch+json, "
                        + "application/strategic-merge-patch+json", null);
            }
            if ("scale".equals(p.subresource())) {
                return scale(r, p);
            }
            return switch (r.method()) {
                case "GET" -> p.name() == null ? list(r, p) : get(r, p);
                case "POST" -> create(r, p);
                case "PUT" -> update(r, p);
                case "PATCH" -> patch(r, p);
                case "DELETE" -> p.name() == null ? deleteCollection(r, p) : delete(r, p);
                default -> status(405, "MethodNotAllowed", "the server does not allow this method on the "
                        + "requested resource", null);
            };
        } catch (io.fabric8.zjsonpatch.JsonPatchException e) {
            return status(422, "Invalid", e.getMessage() == null ? "the JSON patch failed" : e.getMessage(), null);
        } catch (IllegalArgumentException | tools.jackson.core.JacksonException e) {
            return status(400, "BadRequest", e.getMessage() == null ? "bad request" : e.getMessage().lines()
                    .findFirst().orElse("bad request"), null);
        }
    }

    private Response documents(Request r) {
        String path = r.path().replaceAll("/+$", "");
        if (path.isEmpty()) {
            ObjectNode o = Json.object();
            ArrayNode paths = o.putArray("paths");
            List.of("/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3", "/readyz", "/version")
                    .forEach(paths::add);
            return Response.json(200, o);
        }
        switch (path) {
            case "/version":
                return Response.json(200, versionInfo());
            case "/api":
                return Response.json(200, Discovery.apiVersions(serverAddress));
            case "/apis":
                ObjectNode groups = Discovery.apiGroupList();
                if (K3sAggregator.state(store, MetricsServer.API_SERVICE) != 404) { // listed, available or not
                    ((ArrayNode) groups.get("groups")).add(MetricsServer.apiGroup());
                }
                return Response.json(200, groups);
            case "/openapi/v3":
                return Response.json(200, Discovery.openApiRoot());
            case "/openapi/v2":
                return status(404, "NotFound", "the server could not find the requested resource", null);
            case "/healthz", "/livez", "/readyz":
                return Response.text(200, "ok");
            default:
                break;
        }
        if (path.startsWith("/healthz/") || path.startsWith("/livez/") || path.startsWith("/readyz/")) {
            return Response.text(200, "ok");
        }
        String[] parts = path.split("/");
        if (path.equals("/api/v1")) {
            return Response.json(200, Discovery.resourceList("", "v1"));
        }
        if (parts.length == 3 && parts[1].equals("apis")) {
            return ApiResources.groups().contains(parts[2]) ? Response.json(200, Discovery.apiGroup(parts[2]))
                    : notFoundPath();
        }
        if (parts.length == 4 && parts[1].equals("apis")) {
            ObjectNode list = Discovery.resourceList(parts[2], parts[3]);
            return list == null ? notFoundPath() : Response.json(200, list);
        }
        if (path.startsWith("/openapi/v3/")) {
            String gv = path.substring("/openapi/v3/".length());
            ObjectNode doc = null;
            if (gv.equals("api/v1")) {
                doc = Discovery.openApiGroupVersion("", "v1", version);
            } else if (gv.startsWith("apis/") && gv.split("/").length == 3) {
                doc = Discovery.openApiGroupVersion(gv.split("/")[1], gv.split("/")[2], version);
            }
            return doc == null ? notFoundPath() : Response.json(200, doc);
        }
        return null;
    }

    ObjectNode versionInfo() {
        ObjectNode v = Json.object();
        String[] mm = version.replaceFirst("^v", "").split("[.+-]");
        v.put("major", mm.length > 0 ? mm[0] : "1");
        v.put("minor", mm.length > 1 ? mm[1] : "0");
        v.put("gitVersion", version);
        v.put("gitCommit", Discovery.hash(version).substring(0, 40));
        v.put("gitTreeState", "clean");
        v.put("buildDate", "2024-12-11T00:00:00Z");
        v.put("goVersion", "go1.22.9");
        v.put("compiler", "gc");
        v.put("platform", platform);
        return v;
    }

    // ---- reads

    /** The objects of a collection that match the request's selectors, and the store's resource version. */
    record Listing(List<JsonNode> items, String resourceVersion) {
    }

    Listing listing(ApiResources.ApiPath p, Map<String, String> params) {
        ApiStore.Result res = store.call("GET", p.collectionPath(), null, null);
        JsonNode doc = Json.parse(res.body());
        Predicate<JsonNode> labels = Selectors.labels(params.get("labelSelector"));
        Predicate<JsonNode> fields = Selectors.fields(params.get("fieldSelector"));
        List<JsonNode> items = new ArrayList<>();
        for (JsonNode item : doc.path("items")) {
            if (item instanceof ObjectNode o && labels.test(o) && fields.test(o)
                    && (p.namespace() == null || p.namespace().equals(Json.text(o, "metadata.namespace")))) {
                items.add(clean(o));
            }
        }
        items.sort(Comparator.comparing((JsonNode o) -> String.valueOf(Json.text(o, "metadata.namespace")))
                .thenComparing(o -> String.valueOf(Json.text(o, "metadata.name"))));
        return new Listing(items, Json.text(doc, "metadata.resourceVersion"));
    }

    private Response list(Request r, ApiResources.ApiPath p) {
        Listing l = listing(p, r.params());
        if (Tables.wanted(r.header("accept"))) {
            return Response.json(200, Tables.table(p.resource(), l.items(), l.resourceVersion(),
                    r.params().get("includeObject"), clock.instant(), tableVersion(r)));
        }
        ObjectNode out = Json.object();
        out.put("kind", p.resource().kind() + "List");
        out.put("apiVersion", p.resource().groupVersion());
        out.putObject("metadata").put("resourceVersion", l.resourceVersion());
        ArrayNode items = out.putArray("items");
        l.items().forEach(items::add);
        return Response.json(200, out);
    }

    private Response get(Request r, ApiResources.ApiPath p) {
        ApiStore.Result res = store.call("GET", p.storePath(), null, null);
        if (res.code() == 404 || res.body() == null) {
            return notFound(p);
        }
        ObjectNode o = clean(Json.parseObject(res.body()));
        if (Tables.wanted(r.header("accept"))) {
            return Response.json(200, Tables.table(p.resource(), List.of(o), Json.text(o, "metadata.resourceVersion"),
                    r.params().get("includeObject"), clock.instant(), tableVersion(r)));
        }
        return Response.json(200, o);
    }

    private static String tableVersion(Request r) {
        String accept = r.header("accept");
        return accept != null && !accept.contains("v=v1;") && accept.contains("v=v1beta1") ? "meta.k8s.io/v1beta1"
                : "meta.k8s.io/v1";
    }

    // ---- writes

    private Response create(Request r, ApiResources.ApiPath p) {
        if (p.name() != null && "binding".equals(p.subresource())) {
            return bind(r, p);
        }
        if (p.name() != null && "eviction".equals(p.subresource()) && "pods".equals(p.resource().plural())) {
            ApiHooks.Reply evicted = hooks.evict(p.namespace(), p.name(), r.bodyText());
            if (evicted != null) {
                return Response.json(evicted.status(), evicted.body());
            }
        }
        if (p.name() != null) {
            return status(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                    + "resource", null);
        }
        return createObject(r, p, body(r), true);
    }

    /**
     * Creates {@code o} in the collection of {@code p}: defaults, validation, admission, then the store (or only
     * the answer with {@code dryRun}). {@code recordUpdate}: the writer becomes the Update manager of every field;
     * a server-side apply that creates brings its own managedFields.
     */
    private Response createObject(Request r, ApiResources.ApiPath p, ObjectNode o, boolean recordUpdate) {
        ApiResources.Resource res = p.resource();
        o.put("apiVersion", res.groupVersion());
        o.put("kind", res.kind());
        ObjectNode meta = Json.objectAt(o, "metadata");
        if (res.namespaced()) {
            String ns = Json.text(o, "metadata.namespace");
            if (ns != null && !ns.isEmpty() && p.namespace() != null && !ns.equals(p.namespace())) {
                return status(400, "BadRequest", "the namespace of the provided object does not match the "
                        + "namespace sent on the request", null);
            }
            meta.put("namespace", p.namespace() != null ? p.namespace() : ns == null ? "default" : ns);
        } else {
            meta.remove("namespace");
        }
        String name = Json.text(o, "metadata.name");
        if (name == null || name.isEmpty()) {
            String prefix = Json.text(o, "metadata.generateName");
            if (prefix == null || prefix.isEmpty()) {
                return status(422, "Invalid", res.kind() + " \"\" is invalid: metadata.name: Required value: name "
                        + "or generateName is required", null);
            }
            StringBuilder b = new StringBuilder(prefix);
            for (int i = 0; i < 5; i++) {
                b.append(NAME_CHARS.charAt(RANDOM.nextInt(NAME_CHARS.length())));
            }
            name = b.toString();
            meta.put("name", name);
        }
        meta.remove("resourceVersion");
        meta.remove("uid");
        meta.remove("creationTimestamp");
        if (res.group().equals("apps") && List.of("DaemonSet", "Deployment", "ReplicaSet").contains(res.kind())
                && !o.path("spec").path("selector").isObject()) {
            return status(422, "Invalid", res.kind() + ".apps \"" + name + "\" is invalid: spec.selector: Required "
                    + "value", details(res, name));
        }
        Defaults.create(res, o);
        if (res.kind().equals("PersistentVolumeClaim") && !o.path("spec").has("storageClassName")) {
            defaultStorageClass(o);
        }
        if (recordUpdate) {
            ManagedFields.update(null, o, manager(r), res.groupVersion(), null, clock.instant());
        }
        if (res.kind().equals("Service")) {
            String invalid = ClusterIps.allocate(o, store.call("GET", "/api/v1/services", null, null).body());
            if (invalid != null) {
                return status(422, "Invalid", "Service \"" + name + "\" is invalid: " + invalid, details(res, name));
            }
        }
        if (res.kind().equals("Job")) {
            String invalid = Defaults.validateJob(o);
            if (invalid != null) {
                return status(422, "Invalid", "Job.batch \"" + name + "\" is invalid: " + invalid, details(res, name));
            }
        }
        ApiHooks.Reply refused = hooks.admit(res.groupVersion(), res.kind(), Json.text(o, "metadata.namespace"), o);
        if (refused != null) {
            return Response.json(refused.status(), refused.body());
        }
        if (r.params().containsKey("dryRun")) {
            return Response.json(201, o);
        }
        ApiResources.ApiPath collection = new ApiResources.ApiPath(res, Json.text(o, "metadata.namespace"), null,
                null, false);
        ApiStore.Result result = store.call("POST", collection.storePath(), JSON, Json.write(o));
        if (result.code() == 409) {
            return status(409, "AlreadyExists", (res.group().isEmpty() ? res.plural() : res.plural() + "."
                    + res.group()) + " \"" + name + "\" already exists", details(res, name));
        }
        if (!result.ok()) {
            return passThrough(result);
        }
        ObjectNode created = clean(Json.parseObject(result.body()));
        if (res.kind().equals("Job") && created.path("spec").path("selector").isMissingNode()) {
            created = selectJobPods(collection, created);
        }
        return Response.json(201, created);
    }

    /**
     * The DefaultStorageClass admission plugin: a claim that names no class gets the default one (annotation
     * {@code storageclass.kubernetes.io/is-default-class: "true"}; the newest when several are), none when there is
     * none; {@code storageClassName: ""} stays as it is.
     */
    private void defaultStorageClass(ObjectNode pvc) {
        ApiStore.Result classes = store.call("GET", "/apis/storage.k8s.io/v1/storageclasses", null, null);
        String chosen = null;
        String newest = "";
        for (JsonNode sc : Json.parse(classes.body()).path("items")) {
            String created = String.valueOf(Json.text(sc, "metadata.creationTimestamp"));
            if ("true".equals(sc.path("metadata").path("annotations").path("storageclass.kubernetes.io/is-default-class")
                    .asString("")) && created.compareTo(newest) >= 0) {
                chosen = Json.text(sc, "metadata.name");
                newest = created;
            }
        }
        if (chosen != null) {
            Json.objectAt(pvc, "spec").put("storageClassName", chosen);
        }
    }

    /** A job's pods carry its controller-uid; the selector needs the uid the store assigned. */
    private ObjectNode selectJobPods(ApiResources.ApiPath collection, ObjectNode job) {
        String uid = Json.text(job, "metadata.uid");
        String name = Json.text(job, "metadata.name");
        ObjectNode spec = Json.objectAt(job, "spec");
        Json.objectAt(Json.objectAt(spec, "selector"), "matchLabels").put("batch.kubernetes.io/controller-uid", uid);
        ObjectNode labels = Json.objectAt(Json.objectAt(Json.objectAt(spec, "template"), "metadata"), "labels");
        labels.put("batch.kubernetes.io/controller-uid", uid);
        labels.put("batch.kubernetes.io/job-name", name);
        labels.put("controller-uid", uid);
        labels.put("job-name", name);
        // without the resourceVersion the POST returned: the Job controller may already have written the Job's status
        // (a newer version), and a PUT naming the old one would be refused with 409 and the selector lost; a PUT of
        // the main resource keeps the stored status
        ObjectNode update = job.deepCopy();
        Json.objectAt(update, "metadata").remove("resourceVersion");
        ApiStore.Result r = store.call("PUT", collection.storePath() + "/" + name, JSON, Json.write(update));
        return r.ok() ? clean(Json.parseObject(r.body())) : job;
    }

    private Response bind(Request r, ApiResources.ApiPath p) {
        ObjectNode binding = body(r);
        String node = Json.text(binding, "target.name");
        ApiResources.ApiPath pod = new ApiResources.ApiPath(p.resource(), p.namespace(), p.name(), null, false);
        ApiStore.Result res = store.call("PATCH", pod.storePath(), "application/merge-patch+json",
                "{\"spec\":{\"nodeName\":" + Json.write(Json.NODES.stringNode(node)) + "}}");
        if (res.code() == 404) {
            return notFound(pod);
        }
        ObjectNode ok = Json.object();
        ok.put("kind", "Status");
        ok.put("apiVersion", "v1");
        ok.putObject("metadata");
        ok.put("status", "Success");
        ok.put("code", 201);
        return Response.json(201, ok);
    }

    private Response update(Request r, ApiResources.ApiPath p) {
        if (p.name() == null) {
            return status(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                    + "resource", null);
        }
        ObjectNode o = body(r);
        o.put("apiVersion", p.resource().groupVersion());
        o.put("kind", p.resource().kind());
        String path = p.storePath() + ("status".equals(p.subresource()) ? "/status" : "");
        if (!"status".equals(p.subresource())) {
            ApiStore.Result current = store.call("GET", p.storePath(), null, null);
            if (current.ok() && current.body() != null) {
                ObjectNode stored = Json.parseObject(current.body());
                Defaults.update(p.resource(), stored, o);
                hooks.beforeUpdate(p.resource().groupVersion(), p.resource().kind(), stored, o);
                managedFields(r, p, stored, o);
            }
        }
        if (r.params().containsKey("dryRun")) {
            return Response.json(200, clean(o));
        }
        ApiStore.Result res = store.call("PUT", path, JSON, Json.write(o));
        return written(p, res);
    }

    private Response patch(Request r, ApiResources.ApiPath p) {
        if (p.name() == null) {
            return status(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                    + "resource", null);
        }
        String ct = r.header("content-type");
        ct = ct == null ? "" : ct.split(";")[0].strip();
        String path = p.storePath() + ("status".equals(p.subresource()) ? "/status" : "");
        switch (ct) {
            case "application/json-patch+json", "application/merge-patch+json",
                 "application/strategic-merge-patch+json" -> {
                // all applied here (the store's merge patch concatenates lists, RFC 7386 replaces them), so that the
                // result is defaulted as a PUT would be; a patch that does not name a resourceVersion is applied
                // again to the newer object when another write came between (the patch handler's GuaranteedUpdate)
                for (int attempt = 1; ; attempt++) {
                    ApiStore.Result current = store.call("GET", p.storePath(), null, null);
                    if (current.code() == 404 || current.body() == null) {
                        return notFound(p);
                    }
                    ObjectNode original = Json.parseObject(current.body());
                    JsonNode patchedNode = switch (ct) {
                        case "application/json-patch+json" -> io.fabric8.zjsonpatch.JsonPatch.apply(
                                Json.parse(r.bodyText()), original.deepCopy());
                        case "application/merge-patch+json" -> StrategicMergePatch.mergePatch(original, body(r));
                        default -> StrategicMergePatch.apply(original, body(r));
                    };
                    if (!(patchedNode instanceof ObjectNode patched)) {
                        throw new IllegalArgumentException("the patch did not produce an object");
                    }
                    if (!"status".equals(p.subresource())) {
                        Defaults.update(p.resource(), original, patched);
                        managedFields(r, p, original, patched);
                    }
                    if (r.params().containsKey("dryRun")) {
                        return Response.json(200, clean(patched));
                    }
                    ApiStore.Result res = store.call("PUT", path, JSON, Json.write(patched));
                    boolean unpinned = java.util.Objects.equals(Json.text(original, "metadata.resourceVersion"),
                            Json.text(patched, "metadata.resourceVersion"));
                    if (res.code() != 409 || !unpinned || attempt == 5) {
                        return written(p, res);
                    }
                }
            }
            case "application/apply-patch+yaml" -> {
                return apply(r, p);
            }
            default -> {
                return status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                        + "accepted media types include: application/json-patch+json, "
                        + "application/merge-patch+json, application/strategic-merge-patch+json", null);
            }
        }
    }

    /**
     * Server-side apply (PATCH with {@code application/apply-patch+yaml}, k8s.io/apiserver's applyPatcher): the
     * request's {@code fieldManager} (required) applies the body, which may create the object; a field another
     * manager owns with another value is a 409 Conflict unless {@code force=true}; see {@link ManagedFields#apply}.
     * An apply that changes nothing writes nothing (no new resourceVersion), as the storage skips an identical
     * object.
     */
    private Response apply(Request r, ApiResources.ApiPath p) {
        if (p.subresource() != null) {
            return status(415, "UnsupportedMediaType", "the lab's simulated K3s applies server-side only to main "
                    + "resources, not the " + p.subresource() + " subresource", null);
        }
        String manager = r.params().get("fieldManager");
        if (manager == null || manager.isEmpty()) {
            return status(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
                    + "is required for apply patch", null);
        }
        String force = r.params().get("force");
        ObjectNode config = body(r);
        ApiResources.Resource res = p.resource();
        String name = Json.text(config, "metadata.name");
        if (name != null && !name.equals(p.name())) {
            return status(400, "BadRequest", "the name of the object (" + name + ") does not match the name on the "
                    + "URL (" + p.name() + ")", null);
        }
        String ns = Json.text(config, "metadata.namespace");
        if (res.namespaced() && ns != null && !ns.isEmpty() && !ns.equals(p.namespace())) {
            return status(400, "BadRequest", "the namespace of the provided object does not match the namespace "
                    + "sent on the request", null);
        }
        if (!res.groupVersion().equals(config.path("apiVersion").asString(res.groupVersion()))
                || !res.kind().equals(config.path("kind").asString(res.kind()))) {
            return status(400, "BadRequest", "the API version or kind in the request body (" + config.path(
                    "apiVersion").asString("") + ", " + config.path("kind").asString("") + ") does not match the "
                    + "resource (" + res.groupVersion() + ", " + res.kind() + ")", null);
        }
        ApiStore.Result current = store.call("GET", p.storePath(), null, null);
        boolean creating = current.code() == 404 || current.body() == null;
        ObjectNode live;
        if (creating) {
            live = Json.object();
            live.put("apiVersion", res.groupVersion());
            live.put("kind", res.kind());
            ObjectNode meta = live.putObject("metadata");
            meta.put("name", p.name());
            if (res.namespaced()) {
                meta.put("namespace", p.namespace());
            }
        } else {
            live = Json.parseObject(current.body());
        }
        ObjectNode merged;
        try {
            merged = ManagedFields.apply(live, config, manager, res.groupVersion(), "true".equals(force),
                    clock.instant());
        } catch (ManagedFields.Conflict c) {
            ObjectNode s = statusBody(409, "Conflict", c.getMessage(), null);
            s.putObject("details").set("causes", c.causes());
            return Response.json(409, s);
        }
        merged.put("apiVersion", res.groupVersion());
        merged.put("kind", res.kind());
        if (creating) {
            return createObject(r, new ApiResources.ApiPath(res, p.namespace(), null, null, false), merged, false);
        }
        Defaults.update(res, live, merged);
        hooks.beforeUpdate(res.groupVersion(), res.kind(), live, merged);
        if (merged.equals(live)) {
            return Response.json(200, clean(live));
        }
        if (r.params().containsKey("dryRun")) {
            return Response.json(200, clean(merged));
        }
        return written(p, store.call("PUT", p.storePath(), JSON, Json.write(merged)));
    }

    /**
     * An update's managedFields (FieldManager.UpdateNoErrors): the request's own when it sends some, else the
     * stored ones, then the writer's Update entry; only empty entries clear them, as {@code kubectl patch
     * --type=merge -p '{"metadata":{"managedFields":[{}]}}'} does.
     */
    private void managedFields(Request r, ApiResources.ApiPath p, ObjectNode stored, ObjectNode incoming) {
        JsonNode sent = incoming.path("metadata").path("managedFields");
        if (sent.isArray() && !sent.isEmpty()) {
            boolean cleared = true;
            for (JsonNode e : sent) {
                cleared &= e.isEmpty();
            }
            if (cleared) {
                Json.objectAt(incoming, "metadata").remove("managedFields");
                return;
            }
        } else if (stored.path("metadata").get("managedFields") instanceof ArrayNode kept) {
            Json.objectAt(incoming, "metadata").set("managedFields", kept.deepCopy());
        }
        ManagedFields.update(stored, incoming, manager(r), p.resource().groupVersion(), null, clock.instant());
    }

    /** The manager of an update: {@code fieldManager}, else the user agent's first part (prefixFromUserAgent). */
    private static String manager(Request r) {
        String m = r.params().get("fieldManager");
        if (m != null && !m.isEmpty()) {
            return m;
        }
        String ua = r.header("user-agent");
        return ua == null ? "" : ua.split("/")[0];
    }

    /**
     * The scale subresource (registry/apps/deployment/storage, replicaset/storage, statefulset/storage): an
     * autoscaling/v1 Scale of the object — spec.replicas, status.replicas, status.selector as a selector string —
     * read with GET and written with PUT or a patch of the Scale (what {@code kubectl scale} sends: a merge patch of
     * {@code spec.replicas}), which changes only the object's {@code spec.replicas}.
     */
    private Response scale(Request r, ApiResources.ApiPath p) {
        ApiResources.ApiPath object = new ApiResources.ApiPath(p.resource(), p.namespace(), p.name(), null, false);
        ApiStore.Result current = store.call("GET", object.storePath(), null, null);
        if (current.code() == 404 || current.body() == null) {
            return notFound(object);
        }
        ObjectNode stored = Json.parseObject(current.body());
        ObjectNode scale = scaleOf(stored);
        JsonNode replicas;
        switch (r.method()) {
            case "GET" -> {
                return Response.json(200, scale);
            }
            case "PUT" -> replicas = body(r).path("spec").path("replicas");
            case "PATCH" -> {
                String ct = r.header("content-type");
                ct = ct == null ? "" : ct.split(";")[0].strip();
                JsonNode patched = switch (ct) {
                    case "application/json-patch+json" -> io.fabric8.zjsonpatch.JsonPatch.apply(
                            Json.parse(r.bodyText()), scale.deepCopy());
                    case "application/merge-patch+json" -> StrategicMergePatch.mergePatch(scale, body(r));
                    case "application/strategic-merge-patch+json" -> StrategicMergePatch.apply(scale, body(r));
                    default -> null;
                };
                if (patched == null) {
                    return status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                            + "accepted media types include: application/json-patch+json, "
                            + "application/merge-patch+json, application/strategic-merge-patch+json", null);
                }
                replicas = patched.path("spec").path("replicas");
            }
            default -> {
                return status(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                        + "resource", null);
            }
        }
        if (!replicas.isIntegralNumber() || replicas.asInt() < 0) {
            return status(422, "Invalid", "Scale.autoscaling \"" + p.name() + "\" is invalid: spec.replicas: "
                    + "Invalid value: " + replicas + ": must be greater than or equal to 0", details(p.resource(),
                    p.name()));
        }
        ObjectNode updated = stored.deepCopy();
        Json.objectAt(updated, "spec").put("replicas", replicas.asInt());
        Defaults.update(p.resource(), stored, updated);
        hooks.beforeUpdate(p.resource().groupVersion(), p.resource().kind(), stored, updated);
        ManagedFields.update(stored, updated, manager(r), p.resource().groupVersion(), "scale", clock.instant());
        if (r.params().containsKey("dryRun")) {
            return Response.json(200, scaleOf(updated));
        }
        ApiStore.Result res = store.call("PUT", object.storePath(), JSON, Json.write(updated));
        if (!res.ok() || res.body() == null) {
            return written(object, res);
        }
        return Response.json(200, scaleOf(Json.parseObject(res.body())));
    }

    /** scaleFromDeployment / scaleFromReplicaSet: the Scale an object shows. */
    private static ObjectNode scaleOf(ObjectNode o) {
        ObjectNode scale = Json.object();
        scale.put("kind", "Scale");
        scale.put("apiVersion", "autoscaling/v1");
        ObjectNode meta = scale.putObject("metadata");
        for (String f : List.of("name", "namespace", "uid", "resourceVersion", "creationTimestamp")) {
            if (o.path("metadata").has(f)) {
                meta.set(f, o.path("metadata").get(f).deepCopy());
            }
        }
        scale.putObject("spec").put("replicas", o.path("spec").path("replicas").asInt(1));
        ObjectNode status = scale.putObject("status");
        status.put("replicas", o.path("status").path("replicas").asInt(0));
        String selector = Tables.selector(o.path("spec").path("selector"));
        if (!selector.equals("<none>")) {
            status.put("selector", selector);
        }
        return scale;
    }

    private Response written(ApiResources.ApiPath p, ApiStore.Result res) {
        if (res.code() == 404) {
            return notFound(p);
        }
        if (res.code() == 409) {
            return status(409, "Conflict", "Operation cannot be fulfilled on " + p.resource().plural() + " \""
                    + p.name() + "\": the object has been modified; please apply your changes to the latest version "
                    + "and try again", details(p.resource(), p.name()));
        }
        if (!res.ok()) {
            return passThrough(res);
        }
        if (res.body() == null) { // the write removed the object (marked for deletion, last finalizer gone)
            ObjectNode gone = statusBody(200, null, null, null);
            gone.put("status", "Success");
            gone.remove("reason");
            gone.remove("message");
            return Response.json(200, gone);
        }
        return Response.json(200, clean(Json.parseObject(res.body())));
    }

    private Response delete(Request r, ApiResources.ApiPath p) {
        ApiHooks.Reply handled = hooks.delete(p.resource().groupVersion(), p.resource().kind(), p.namespace(),
                p.name(), r.params(), r.bodyText());
        if (handled != null) {
            return Response.json(handled.status(), clean(handled.body()));
        }
        ApiStore.Result res = store.call("DELETE", p.storePath(), null, null);
        if (res.code() == 404) {
            return notFound(p);
        }
        if (!res.ok()) {
            return passThrough(res);
        }
        return Response.json(200, clean(Json.parseObject(res.body())));
    }

    private Response deleteCollection(Request r, ApiResources.ApiPath p) {
        Listing l = listing(p, r.params());
        ObjectNode out = Json.object();
        out.put("kind", p.resource().kind() + "List");
        out.put("apiVersion", p.resource().groupVersion());
        out.putObject("metadata");
        ArrayNode items = out.putArray("items");
        for (JsonNode item : l.items()) {
            ApiResources.ApiPath one = new ApiResources.ApiPath(p.resource(), Json.text(item, "metadata.namespace"),
                    Json.text(item, "metadata.name"), null, false);
            ApiHooks.Reply handled = hooks.delete(p.resource().groupVersion(), p.resource().kind(), one.namespace(),
                    one.name(), r.params(), r.bodyText());
            if (handled != null) {
                if (handled.status() == 200 && handled.body() != null) {
                    items.add(clean(handled.body()));
                }
            } else if (store.call("DELETE", one.storePath(), null, null).ok()) {
                items.add(item);
            }
        }
        return Response.json(200, out);
    }

    private static ObjectNode body(Request r) {
        String ct = r.header("content-type");
        String text = r.bodyText();
        if (text.isBlank()) {
            throw new IllegalArgumentException("the request body is empty");
        }
        if (ct != null && ct.contains("yaml")) {
            Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
            return (ObjectNode) Json.MAPPER.valueToTree(doc);
        }
        return Json.parseObject(text);
    }

    /**
     * Tidies the store's JSON: a cluster-scoped object has no namespace (the store writes null after patches), and
     * the server's internal finalizer (graceful pod deletion) is not shown.
     */
    static ObjectNode clean(ObjectNode o) {
        if (o.path("metadata") instanceof ObjectNode meta && meta.has("namespace") && meta.get("namespace").isNull()) {
            meta.remove("namespace");
        }
        ApiHooks.hideInternal(o);
        return o;
    }

    // ---- errors

    private static Response passThrough(ApiStore.Result res) {
        if (res.body() != null && res.body().contains("\"Status\"")) {
            return new Response(res.code(), JSON, res.body().getBytes(StandardCharsets.UTF_8));
        }
        return status(res.code(), res.code() >= 500 ? "InternalError" : "BadRequest",
                res.body() == null ? "request failed" : res.body(), null);
    }

    private static ObjectNode details(ApiResources.Resource r, String name) {
        ObjectNode d = Json.object();
        d.put("name", name);
        if (!r.group().isEmpty()) {
            d.put("group", r.group());
        }
        d.put("kind", r.plural());
        return d;
    }

    static Response notFound(ApiResources.ApiPath p) {
        String what = p.resource().group().isEmpty() ? p.resource().plural()
                : p.resource().plural() + "." + p.resource().group();
        return status(404, "NotFound", what + " \"" + p.name() + "\" not found", details(p.resource(), p.name()));
    }

    static Response notFoundPath() {
        return status(404, "NotFound", "the server could not find the requested resource", Json.object());
    }

    static Response status(int code, String reason, String message, ObjectNode details) {
        return Response.json(code, statusBody(code, reason, message, details));
    }

    static ObjectNode statusBody(int code, String reason, String message, ObjectNode details) {
        ObjectNode s = Json.object();
        s.put("kind", "Status");
        s.put("apiVersion", "v1");
        s.putObject("metadata");
        s.put("status", "Failure");
        s.put("message", message);
        s.put("reason", reason);
        if (details != null) {
            s.set("details", details);
        }
        s.put("code", code);
        return s;
    }

    static Map<String, String> params(String query) {
        Map<String, String> out = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) {
            return out;
        }
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq >= 0 ? pair.substring(0, eq) : pair, StandardCharsets.UTF_8);
            String v = eq >= 0 ? URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8) : "";
            out.put(k, v);
        }
        return out;
    }
}
