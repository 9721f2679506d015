package io.k3gpu.core.kube;

import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A NodeList as the API server sends it ({@code GET /api/v1/nodes}), read into {@link NodeStatus} with Jackson's
 * streaming parser: only the fields the columns need are kept, the rest (a real node's {@code status.images} alone is
 * tens of kilobytes) is skipped unread. {@code nodes} runs no model deserializer: building fabric8's deserializers of
 * Node and of everything it holds was a fifth of a {@code nodes -o wide} run's CPU (docs/benchmarks.md, "Start-up").
 * The mapping is {@link Fabric8ClusterApi#status}'s on fabric8's model (NodeListJsonTest compares both).
 */
final class NodeListJson {
    private static final JsonFactory JSON = new JsonFactory();
    private static final String ROLE = "node-role.kubernetes.io/";
    private static final String GPU = "nvidia.com/gpu";

    private NodeListJson() {
    }

    /** The list's items in the server's order; a body that is not a NodeList's JSON is an IllegalArgumentException. */
    static List<NodeStatus> nodes(byte[] body) {
        try (JsonParser p = JSON.createParser(ObjectReadContext.empty(), body)) {
            List<NodeStatus> out = new ArrayList<>();
            if (!object(p, p.nextToken())) {
                throw new IllegalArgumentException("the response is not a NodeList");
            }
            while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (field.equals("items") && array(p, t)) {
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        if (object(p, p.currentToken())) {
                            out.add(node(p));
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
            return out;
        }
    }

    private static NodeStatus node(JsonParser p) {
        String name = null;
        String created = null;
        Map<String, String> labels = Map.of();
        Status st = null;
        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
            String field = p.currentName();
            JsonToken t = p.nextToken();
            if (field.equals("metadata") && object(p, t)) {
                while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                    String f = p.currentName();
                    JsonToken v = p.nextToken();
                    switch (f) {
                        case "name" -> name = string(p, v);
                        case "creationTimestamp" -> created = string(p, v);
                        case "labels" -> labels = strings(p, v, null);
                        default -> p.skipChildren();
                    }
                }
            } else if (field.equals("status") && object(p, t)) {
                st = status(p);
            } else {
                p.skipChildren();
            }
        }
        List<String> roles = new ArrayList<>();
        for (String k : labels.keySet()) {
            if (k.startsWith(ROLE)) {
                roles.add(k.substring(ROLE.length()));
            }
        }
        roles.sort(String::compareTo);
        Status s = st == null ? new Status() : st;
        Map<String, String> info = s.nodeInfo;
        return new NodeStatus(name, "True".equals(s.ready), roles, instant(created),
                info == null ? null : info.get("kubeletVersion"), s.internalIp, s.externalIp,
                info == null ? null : info.get("osImage"), info == null ? null : info.get("kernelVersion"),
                info == null ? null : info.get("containerRuntimeVersion"),
                info == null ? labels.get("kubernetes.io/arch") : info.get("architecture"),
                s.gpuCapacity, labels, s.gpuAllocatable);
    }

    /** The parts of a Node's status the columns show. */
    private static final class Status {
        String ready;
        boolean readySeen;
        String internalIp;
        String externalIp;
        Map<String, String> nodeInfo;
        String gpuCapacity;
        String gpuAllocatable;
    }

    private static Status status(JsonParser p) {
        Status s = new Status();
        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
            String field = p.currentName();
            JsonToken t = p.nextToken();
            switch (field) {
                case "conditions" -> {
                    // the first condition of type Ready decides, as in Fabric8ClusterApi.isReady
                    for (Map<String, String> c : list(p, t)) {
                        if (!s.readySeen && "Ready".equals(c.get("type"))) {
                            s.readySeen = true;
                            s.ready = c.get("status");
                        }
                    }
                }
                case "addresses" -> {
                    for (Map<String, String> a : list(p, t)) {
                        if ("InternalIP".equals(a.get("type")) && s.internalIp == null) {
                            s.internalIp = a.get("address");
                        } else if ("ExternalIP".equals(a.get("type")) && s.externalIp == null) {
                            s.externalIp = a.get("address");
                        }
                    }
                }
                case "nodeInfo" -> s.nodeInfo = object(p, t) ? strings(p, JsonToken.START_OBJECT, null) : null;
                case "capacity" -> s.gpuCapacity = object(p, t) ? strings(p, JsonToken.START_OBJECT, GPU).get(GPU) : null;
                case "allocatable" -> s.gpuAllocatable = object(p, t) ? strings(p, JsonToken.START_OBJECT, GPU).get(GPU)
                        : null;
                default -> p.skipChildren();
            }
        }
        return s;
    }

    /** An array of objects, each as its scalar fields (nested values skipped); null or absent: empty. */
    private static List<Map<String, String>> list(JsonParser p, JsonToken t) {
        List<Map<String, String>> out = new ArrayList<>();
        if (array(p, t)) {
            while (p.nextToken() != JsonToken.END_ARRAY) {
                if (object(p, p.currentToken())) {
                    Map<String, String> m = new HashMap<>();
                    while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                        String f = p.currentName();
                        JsonToken v = p.nextToken();
                        if (v.isScalarValue()) {
                            m.put(f, string(p, v));
                        } else {
                            p.skipChildren();
                        }
                    }
                    out.add(m);
                }
            }
        }
        return out;
    }

    /**
     * An object of string values (labels, nodeInfo, capacity): null or absent is empty, a null value is left out.
     * With {@code only}, the other fields are skipped unread (a map is still returned).
     */
    private static Map<String, String> strings(JsonParser p, JsonToken t, String only) {
        if (!object(p, t)) {
            return Map.of();
        }
        Map<String, String> out = new HashMap<>();
        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
            String f = p.currentName();
            JsonToken v = p.nextToken();
            if (only != null && !only.equals(f)) {
                p.skipChildren();
                continue;
            }
            String s = string(p, v);
            if (s != null) {
                out.put(f, s);
            }
        }
        return out;
    }

    /** A scalar as text (fabric8's model reads a number or a boolean into a String field the same way). */
    private static String string(JsonParser p, JsonToken t) {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (!t.isScalarValue()) {
            throw new IllegalArgumentException("expected a string at " + p.currentName() + ", found " + t);
        }
        return p.getString();
    }

    /** Whether {@code t} starts an object; false for null; anything else is not the API's shape. */
    private static boolean object(JsonParser p, JsonToken t) {
        return expect(p, t, JsonToken.START_OBJECT);
    }

    private static boolean array(JsonParser p, JsonToken t) {
        return expect(p, t, JsonToken.START_ARRAY);
    }

    private static boolean expect(JsonParser p, JsonToken t, JsonToken start) {
        if (t == start) {
            return true;
        }
        if (t == JsonToken.VALUE_NULL) {
            return false;
        }
        throw new IllegalArgumentException("expected " + (start == JsonToken.START_OBJECT ? "an object" : "an array")
                + " at " + p.currentName() + ", found " + t);
    }

    /** creationTimestamp; one that is not RFC 3339 shows as kubectl shows it, "<unknown>" (null). */
    private static Instant instant(String s) {
        try {
            return s == null ? null : Instant.parse(s);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
