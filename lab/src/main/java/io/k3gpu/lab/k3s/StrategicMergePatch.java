package io.k3gpu.lab.k3s;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Applies a strategic merge patch (what {@code kubectl apply}, {@code label}, {@code annotate} and {@code edit}
 * send) to an object, using the merge keys of the built-in types: lists of containers, volumes, env, conditions,
 * addresses, taints... merge element by element instead of being replaced; {@code $patch: delete|replace},
 * {@code $deleteFromPrimitiveList/...}, {@code $retainKeys} and {@code $setElementOrder/...} are honoured (the
 * last only as a hint, element order is kept). Lists without a merge key are replaced, like in Kubernetes.
 * Also applies RFC 7386 merge patches ({@link #mergePatch}).
 */
final class StrategicMergePatch {
    private static final Map<String, String> MERGE_KEYS = Map.ofEntries(
            Map.entry("containers", "name"), Map.entry("initContainers", "name"),
            Map.entry("ephemeralContainers", "name"), Map.entry("volumes", "name"), Map.entry("env", "name"),
            Map.entry("imagePullSecrets", "name"), Map.entry("resourceClaims", "name"),
            Map.entry("volumeMounts", "mountPath"), Map.entry("volumeDevices", "devicePath"),
            Map.entry("conditions", "type"), Map.entry("addresses", "type"), Map.entry("taints", "key"),
            Map.entry("ownerReferences", "uid"), Map.entry("hostAliases", "ip"),
            Map.entry("topologySpreadConstraints", "topologyKey"), Map.entry("containerStatuses", "name"),
            Map.entry("initContainerStatuses", "name"));
    private static final Set<String> PRIMITIVE_MERGE = Set.of("finalizers");

    private StrategicMergePatch() {
    }

    static ObjectNode apply(ObjectNode original, ObjectNode patch) {
        JsonNode merged = mergeObject(original.deepCopy(), patch);
        return merged instanceof ObjectNode o ? o : Json.object();
    }

    /** RFC 7386 JSON merge patch: objects merge, null deletes, everything else (lists too) replaces. */
    static ObjectNode mergePatch(ObjectNode original, ObjectNode patch) {
        ObjectNode target = original.deepCopy();
        mergeRfc7386(target, patch);
        return target;
    }

    private static void mergeRfc7386(ObjectNode target, ObjectNode patch) {
        for (Map.Entry<String, JsonNode> e : patch.properties()) {
            JsonNode v = e.getValue();
            if (v == null || v.isNull()) {
                target.remove(e.getKey());
            } else if (v instanceof ObjectNode po) {
                JsonNode current = target.get(e.getKey());
                ObjectNode child = current instanceof ObjectNode co ? co : target.putObject(e.getKey());
                mergeRfc7386(child, po);
            } else {
                target.set(e.getKey(), v.deepCopy());
            }
        }
    }

    private static JsonNode mergeObject(ObjectNode target, ObjectNode patch) {
        JsonNode directive = patch.get("$patch");
        if (directive != null) {
            String d = directive.asString();
            if (d.equals("delete")) {
                return null;
            }
            if (d.equals("replace")) {
                ObjectNode copy = patch.deepCopy();
                copy.remove("$patch");
                return strip(copy);
            }
        }
        List<String> retain = null;
        if (patch.get("$retainKeys") instanceof ArrayNode keys) {
            retain = new ArrayList<>();
            for (JsonNode k : keys) {
                retain.add(k.asString());
            }
        }
        for (Map.Entry<String, JsonNode> e : patch.properties()) {
            String key = e.getKey();
            JsonNode value = e.getValue();
            if (key.equals("$patch") || key.equals("$retainKeys") || key.startsWith("$setElementOrder/")) {
                continue;
            }
            if (key.startsWith("$deleteFromPrimitiveList/")) {
                String field = key.substring("$deleteFromPrimitiveList/".length());
                if (target.get(field) instanceof ArrayNode list && value instanceof ArrayNode gone) {
                    Iterator<JsonNode> it = list.iterator();
                    while (it.hasNext()) {
                        JsonNode item = it.next();
                        for (JsonNode g : gone) {
                            if (g.equals(item)) {
                                it.remove();
                                break;
                            }
                        }
                    }
                }
                continue;
            }
            JsonNode current = target.get(key);
            if (value == null || value.isNull()) {
                target.remove(key);
            } else if (value instanceof ObjectNode po && current instanceof ObjectNode co) {
                JsonNode merged = mergeObject(co, po);
                if (merged == null) {
                    target.remove(key);
                } else {
                    target.set(key, merged);
                }
            } else if (value instanceof ArrayNode pa && current instanceof ArrayNode ca) {
                target.set(key, mergeList(key, ca, pa));
            } else {
                JsonNode fresh = strip(value.deepCopy());
                if (fresh == null) {
                    target.remove(key);
                } else {
                    target.set(key, fresh);
                }
            }
        }
        if (retain != null) {
            List<String> drop = new ArrayList<>();
            for (String k : target.propertyNames()) {
                if (!retain.contains(k)) {
                    drop.add(k);
                }
            }
            drop.forEach(target::remove);
        }
        return target;
    }

    private static ArrayNode mergeList(String field, ArrayNode current, ArrayNode patch) {
        for (JsonNode p : patch) {
            if (p instanceof ObjectNode po && po.size() == 1 && "replace".equals(po.path("$patch").asString())) {
                ArrayNode replaced = Json.array();
                for (JsonNode q : patch) {
                    if (q != p) {
                        replaced.add(strip(q.deepCopy()));
                    }
                }
                return replaced;
            }
        }
        if (PRIMITIVE_MERGE.contains(field)) {
            ArrayNode out = current.deepCopy();
            for (JsonNode p : patch) {
                boolean present = false;
                for (JsonNode c : out) {
                    present |= c.equals(p);
                }
                if (!present) {
                    out.add(p.deepCopy());
                }
            }
            return out;
        }
        String mergeKey = mergeKey(field, patch);
        if (mergeKey == null) {
            ArrayNode replaced = Json.array();
            patch.forEach(p -> replaced.add(strip(p.deepCopy())));
            return replaced;
        }
        ArrayNode out = current.deepCopy();
        for (JsonNode p : patch) {
            if (!(p instanceof ObjectNode po)) {
                continue;
            }
            JsonNode keyValue = po.get(mergeKey);
            int index = -1;
            for (int i = 0; i < out.size(); i++) {
                if (keyValue != null && keyValue.equals(out.get(i).get(mergeKey))) {
                    index = i;
                    break;
                }
            }
            boolean delete = "delete".equals(po.path("$patch").asString());
            if (index >= 0) {
                if (delete) {
                    out.remove(index);
                } else {
                    JsonNode merged = mergeObject((ObjectNode) out.get(index), po);
                    if (merged == null) {
                        out.remove(index);
                    } else {
                        out.set(index, merged);
                    }
                }
            } else if (!delete) {
                JsonNode fresh = strip(po.deepCopy());
                if (fresh != null) {
                    out.add(fresh);
                }
            }
        }
        return out;
    }

    /** The merge key of a list of objects by its field name (not ports: see {@link #mergeKey(String, ArrayNode)}). */
    static String mergeKey(String field) {
        return MERGE_KEYS.get(field);
    }

    private static String mergeKey(String field, ArrayNode patch) {
        if (field.equals("ports")) {
            for (JsonNode p : patch) {
                if (p.has("containerPort")) {
                    return "containerPort";
                }
            }
            return "port";
        }
        return MERGE_KEYS.get(field);
    }

    /** Removes patch directives from a value being inserted whole. */
    private static JsonNode strip(JsonNode value) {
        if (value instanceof ObjectNode o) {
            if ("delete".equals(o.path("$patch").asString())) {
                return null;
            }
            List<String> drop = new ArrayList<>();
            for (String k : o.propertyNames()) {
                if (k.startsWith("$")) {
                    drop.add(k);
                }
            }
            drop.forEach(o::remove);
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                strip(e.getValue());
            }
        } else if (value instanceof ArrayNode a) {
            a.forEach(StrategicMergePatch::strip);
        }
        return value;
    }
}
