package io.k3gpu.lab.k3s;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The documents kubectl reads before it acts: legacy discovery ({@code /api}, {@code /apis}, {@code /api/v1},
 * {@code /apis/<group>/<version>}) and a small OpenAPI v3 tree whose PATCH operations declare the
 * {@code fieldValidation} parameter, so kubectl leaves validation to the server instead of fetching full schemas.
 */
final class Discovery {
    private static final Map<String, String> SUBRESOURCE_KINDS = Map.of("binding", "Binding", "eviction", "Eviction",
            "exec", "PodExecOptions", "attach", "PodAttachOptions", "portforward", "PodPortForwardOptions",
            "proxy", "PodProxyOptions", "scale", "Scale", "ephemeralcontainers", "Pod");

    private Discovery() {
    }

    static ObjectNode apiVersions(String serverAddress) {
        ObjectNode o = Json.object();
        o.put("kind", "APIVersions");
        o.putArray("versions").add("v1");
        o.putArray("serverAddressByClientCIDRs").addObject().put("clientCIDR", "0.0.0.0/0")
                .put("serverAddress", serverAddress);
        return o;
    }

    static ObjectNode apiGroupList() {
        ObjectNode o = Json.object();
        o.put("kind", "APIGroupList");
        o.put("apiVersion", "v1");
        ArrayNode groups = o.putArray("groups");
        for (String g : ApiResources.groups()) {
            groups.add(apiGroup(g));
        }
        return o;
    }

    static ObjectNode apiGroup(String group) {
        ObjectNode g = Json.object();
        g.put("kind", "APIGroup");
        g.put("apiVersion", "v1");
        g.put("name", group);
        g.putArray("versions").addObject().put("groupVersion", group + "/v1").put("version", "v1");
        g.putObject("preferredVersion").put("groupVersion", group + "/v1").put("version", "v1");
        return g;
    }

    /** The resource list of a group version, or null when the server has none. */
    static ObjectNode resourceList(String group, String version) {
        List<ApiResources.Resource> rs = ApiResources.inGroupVersion(group, version);
        if (rs.isEmpty()) {
            return null;
        }
        ObjectNode o = Json.object();
        o.put("kind", "APIResourceList");
        o.put("apiVersion", "v1");
        o.put("groupVersion", group.isEmpty() ? version : group + "/" + version);
        ArrayNode list = o.putArray("resources");
        for (ApiResources.Resource r : rs) {
            ObjectNode e = list.addObject();
            e.put("name", r.plural());
            e.put("singularName", r.singular());
            e.put("namespaced", r.namespaced());
            e.put("kind", r.kind());
            ArrayNode verbs = e.putArray("verbs");
            ApiResources.VERBS.forEach(verbs::add);
            if (!r.shortNames().isEmpty()) {
                ArrayNode sn = e.putArray("shortNames");
                r.shortNames().forEach(sn::add);
            }
            if (!r.categories().isEmpty()) {
                ArrayNode cats = e.putArray("categories");
                r.categories().forEach(cats::add);
            }
            e.put("storageVersionHash", hash(r.groupVersion() + "/" + r.kind()).substring(0, 12));
            for (String sub : r.subresources()) {
                ObjectNode s = list.addObject();
                s.put("name", r.plural() + "/" + sub);
                s.put("singularName", "");
                s.put("namespaced", r.namespaced());
                if (sub.equals("scale")) {
                    s.put("group", "autoscaling");
                    s.put("version", "v1");
                }
                if (sub.equals("eviction")) {
                    // as kube-apiserver lists it; kubectl drain's CheckEvictionSupport looks for this group/version
                    s.put("group", "policy");
                    s.put("version", "v1");
                }
                s.put("kind", sub.equals("status") || sub.equals("log") ? r.kind()
                        : SUBRESOURCE_KINDS.getOrDefault(sub, r.kind()));
                ArrayNode subVerbs = s.putArray("verbs");
                switch (sub) {
                    case "status", "scale", "ephemeralcontainers" -> List.of("get", "patch", "update")
                            .forEach(subVerbs::add);
                    case "log" -> subVerbs.add("get");
                    case "binding", "eviction" -> subVerbs.add("create");
                    default -> List.of("create", "get").forEach(subVerbs::add);
                }
            }
        }
        return o;
    }

    /** {@code /openapi/v3}: where each group version's document lives. */
    static ObjectNode openApiRoot() {
        ObjectNode o = Json.object();
        ObjectNode paths = o.putObject("paths");
        paths.putObject("api/v1").put("serverRelativeURL", "/openapi/v3/api/v1?hash=" + gvHash("", "v1"));
        for (String g : ApiResources.groups()) {
            paths.putObject("apis/" + g + "/v1").put("serverRelativeURL",
                    "/openapi/v3/apis/" + g + "/v1?hash=" + gvHash(g, "v1"));
        }
        return o;
    }

    /** {@code /openapi/v3/api/v1} or {@code /openapi/v3/apis/<group>/<version>}; null when unknown. */
    static ObjectNode openApiGroupVersion(String group, String version, String k8sVersion) {
        List<ApiResources.Resource> rs = ApiResources.inGroupVersion(group, version);
        if (rs.isEmpty()) {
            return null;
        }
        ObjectNode o = Json.object();
        o.put("openapi", "3.0.0");
        o.putObject("info").put("title", "Kubernetes").put("version", k8sVersion);
        ObjectNode paths = o.putObject("paths");
        for (ApiResources.Resource r : rs) {
            String base = (group.isEmpty() ? "/api/" : "/apis/" + group + "/") + version
                    + (r.namespaced() ? "/namespaces/{namespace}/" : "/") + r.plural() + "/{name}";
            ObjectNode patch = paths.putObject(base).putObject("patch");
            patch.putObject("x-kubernetes-group-version-kind").put("group", group).put("version", version)
                    .put("kind", r.kind());
            patch.put("x-kubernetes-action", "patch");
            ArrayNode params = patch.putArray("parameters");
            for (String p : List.of("dryRun", "fieldManager", "fieldValidation", "force")) {
                params.addObject().put("name", p).put("in", "query").putObject("schema").put("type", "string");
            }
            patch.putObject("responses").putObject("200").put("description", "OK");
        }
        o.putObject("components").putObject("schemas");
        return o;
    }

    private static String gvHash(String group, String version) {
        return hash(group + "/" + version + ApiResources.inGroupVersion(group, version).size()).substring(0, 32)
                .toUpperCase(java.util.Locale.ROOT);
    }

    static String hash(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
