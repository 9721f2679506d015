package io.k3gpu.lab.k3s;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Field management as kube-apiserver does it (k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager over
 * sigs.k8s.io/structured-merge-diff): the set of fields an object holds ({@code typed/tofieldset.go}), its
 * {@code fieldsV1} encoding ({@code fieldpath/serialize.go}: {@code f:<field>}, {@code k:<key fields as JSON>},
 * {@code v:<value as JSON>}, {@code "."} when a path with children is itself a member), the comparison of two
 * objects (added, modified, removed fields) and the two operations: Update (every write that is not an apply: the
 * writer owns what it changed, others lose what it changed or removed) and Apply (server-side apply, {@code
 * merge/update.go}: the applier owns exactly what it sent, a field another manager owns with another value is a
 * conflict unless forced, and what it stopped sending is removed unless someone else owns it).
 * <p>
 * The lab has no OpenAPI schema: list types come from the merge keys {@link StrategicMergePatch} knows (ports keyed
 * by port and protocol, TCP when absent, as the schema's {@code x-kubernetes-list-map-keys} and its default say),
 * {@code finalizers} is a set, every other list is atomic; the atomic maps are the selectors and the env sources
 * ({@code +structType=atomic} / {@code +mapType=atomic} in k8s.io/api).
 */
final class ManagedFields {
    /** metadata fields no manager owns (fieldmanager's stripMetaManager), besides apiVersion and kind. */
    private static final Set<String> STRIPPED_META = Set.of("name", "namespace", "creationTimestamp", "selfLink",
            "uid", "clusterName", "generation", "managedFields", "resourceVersion");
    private static final Set<String> ATOMIC_MAPS = Set.of("selector", "labelSelector", "namespaceSelector",
            "fieldRef", "configMapKeyRef", "secretKeyRef", "resourceFieldRef", "configMapRef", "secretRef");
    private static final Set<String> SET_LISTS = Set.of("finalizers");
    static final String APPLY = "Apply";
    static final String UPDATE = "Update";

    private ManagedFields() {
    }

    // ---- field sets

    /** A set of field paths; a path is a list of path elements in fieldsV1 form ({@code f:spec}, ...). */
    static final class FieldSet {
        private final Set<List<String>> paths = new HashSet<>();

        FieldSet() {
        }

        FieldSet(Set<List<String>> paths) {
            this.paths.addAll(paths);
        }

        void insert(List<String> path) {
            paths.add(List.copyOf(path));
        }

        boolean has(List<String> path) {
            return paths.contains(path);
        }

        boolean isEmpty() {
            return paths.isEmpty();
        }

        Set<List<String>> paths() {
            return paths;
        }

        FieldSet union(FieldSet o) {
            FieldSet s = new FieldSet(paths);
            s.paths.addAll(o.paths);
            return s;
        }

        FieldSet difference(FieldSet o) {
            FieldSet s = new FieldSet(paths);
            s.paths.removeAll(o.paths);
            return s;
        }

        FieldSet intersection(FieldSet o) {
            FieldSet s = new FieldSet(paths);
            s.paths.retainAll(o.paths);
            return s;
        }

        /** Whether a member is {@code path} or below it. */
        boolean hasPrefix(List<String> path) {
            for (List<String> p : paths) {
                if (p.size() >= path.size() && p.subList(0, path.size()).equals(path)) {
                    return true;
                }
            }
            return false;
        }

        /** The fieldsV1 document: nested objects, children sorted as the path elements compare. */
        ObjectNode toFieldsV1() {
            Node root = new Node();
            for (List<String> p : paths) {
                Node n = root;
                for (String pe : p) {
                    n = n.children.computeIfAbsent(pe, k -> new Node());
                }
                n.member = true;
            }
            return root.json();
        }

        static FieldSet fromFieldsV1(JsonNode fields) {
            FieldSet s = new FieldSet();
            if (fields instanceof ObjectNode o) {
                read(o, new ArrayList<>(), s);
            }
            return s;
        }

        private static void read(ObjectNode o, List<String> path, FieldSet s) {
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                if (e.getKey().equals(".")) {
                    s.insert(path);
                    continue;
                }
                path.add(e.getKey());
                if (e.getValue().isEmpty()) {
                    s.insert(path);
                } else if (e.getValue() instanceof ObjectNode child) {
                    read(child, path, s);
                }
                path.remove(path.size() - 1);
            }
        }

        /** The paths as fieldpath.Path.String() writes them, sorted: {@code .spec.containers[name="c"].image}. */
        List<String> describe() {
            List<String> out = new ArrayList<>();
            paths.stream().sorted(PATH_ORDER).forEach(p -> out.add(pathString(p)));
            return out;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FieldSet f && f.paths.equals(paths);
        }

        @Override
        public int hashCode() {
            return paths.hashCode();
        }

        @Override
        public String toString() {
            return describe().toString();
        }
    }

    private static final class Node {
        boolean member;
        final Map<String, Node> children = new TreeMap<>(ManagedFields::compareElements);

        ObjectNode json() {
            ObjectNode o = Json.object();
            if (member && !children.isEmpty()) {
                o.putObject(".");
            }
            children.forEach((k, v) -> o.set(k, v.json()));
            return o;
        }
    }

    /** PathElement.Compare: field names before keys before values, then by their text. */
    static int compareElements(String a, String b) {
        int ka = "fkvi".indexOf(a.charAt(0));
        int kb = "fkvi".indexOf(b.charAt(0));
        return ka != kb ? Integer.compare(ka, kb) : a.compareTo(b);
    }

    private static final Comparator<List<String>> PATH_ORDER = (a, b) -> {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = compareElements(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    };

    static String pathString(List<String> path) {
        StringBuilder b = new StringBuilder();
        for (String pe : path) {
            String rest = pe.substring(2);
            switch (pe.charAt(0)) {
                case 'f' -> b.append('.').append(rest);
                case 'k' -> {
                    List<String> bits = new ArrayList<>();
                    for (Map.Entry<String, JsonNode> e : Json.parseObject(rest).properties()) {
                        bits.add(e.getKey() + "=" + Json.write(e.getValue()));
                    }
                    b.append('[').append(String.join(",", bits)).append(']');
                }
                case 'v' -> b.append("[=").append(rest).append(']');
                default -> b.append('[').append(rest).append(']');
            }
        }
        return b.toString();
    }

    // ---- walking objects

    /**
     * The fields of an object as typed.ToFieldSet computes them: scalars, atomic lists and maps, empty or null
     * values and list items are members; struct fields with content are not (only what is below them). The fields
     * no manager owns are left out: apiVersion, kind, the server's metadata, and {@code status} of a main resource
     * (the status subresource: only {@code status}), as the resource strategies' reset fields say.
     */
    static FieldSet fieldSet(JsonNode object, boolean statusSubresource) {
        return new FieldSet(values(object, statusSubresource).keySet());
    }

    /** Every member path with its value (null for list items and other paths whose value is below them). */
    static Map<List<String>, JsonNode> values(JsonNode object, boolean statusSubresource) {
        Map<List<String>, JsonNode> out = new HashMap<>();
        if (!(object instanceof ObjectNode o)) {
            return out;
        }
        List<String> path = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : o.properties()) {
            String k = e.getKey();
            if (k.equals("apiVersion") || k.equals("kind") || statusSubresource != k.equals("status")) {
                continue;
            }
            if (k.equals("metadata") && e.getValue() instanceof ObjectNode meta) {
                path.add("f:metadata");
                for (Map.Entry<String, JsonNode> m : meta.properties()) {
                    if (!STRIPPED_META.contains(m.getKey())) {
                        field(path, m.getKey(), m.getValue(), out);
                    }
                }
                path.remove(path.size() - 1);
            } else {
                field(path, k, e.getValue(), out);
            }
        }
        return out;
    }

    private static void field(List<String> path, String key, JsonNode value, Map<List<String>, JsonNode> out) {
        path.add("f:" + key);
        walk(path, key, value, out);
        if (isLeaf(value) || ATOMIC_MAPS.contains(key) || value instanceof ArrayNode && listKind(key) == null) {
            out.put(List.copyOf(path), value);
        }
        path.remove(path.size() - 1);
    }

    private static boolean isLeaf(JsonNode v) {
        return v == null || v.isNull() || v.isValueNode() || v instanceof ObjectNode o && o.isEmpty();
    }

    private static void walk(List<String> path, String name, JsonNode value, Map<List<String>, JsonNode> out) {
        if (value instanceof ObjectNode o) {
            if (ATOMIC_MAPS.contains(name)) {
                return;
            }
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                field(path, e.getKey(), e.getValue(), out);
            }
        } else if (value instanceof ArrayNode a) {
            String kind = listKind(name);
            if (kind == null) {
                return;
            }
            for (JsonNode item : a) {
                String pe = element(name, kind, item);
                if (pe == null) {
                    continue;
                }
                path.add(pe);
                if (!kind.equals("set") && item instanceof ObjectNode io) {
                    for (Map.Entry<String, JsonNode> e : io.properties()) {
                        field(path, e.getKey(), e.getValue(), out);
                    }
                }
                out.put(List.copyOf(path), kind.equals("set") ? item : null);
                path.remove(path.size() - 1);
            }
        }
    }

    /** "set", the list's merge key(s) joined by commas, or null for an atomic list. */
    private static String listKind(String name) {
        if (SET_LISTS.contains(name)) {
            return "set";
        }
        return name.equals("ports") ? "ports" : StrategicMergePatch.mergeKey(name);
    }

    /** The path element of a list item: {@code k:{"name":"c"}}, {@code v:"x"}; null when it has no key. */
    private static String element(String name, String kind, JsonNode item) {
        if (kind.equals("set")) {
            return "v:" + Json.write(item);
        }
        if (!(item instanceof ObjectNode o)) {
            return null;
        }
        Map<String, JsonNode> key = new TreeMap<>();
        if (kind.equals("ports")) {
            String port = o.has("containerPort") ? "containerPort" : "port";
            if (!o.has(port)) {
                return null;
            }
            key.put(port, o.get(port));
            key.put("protocol", o.has("protocol") ? o.get("protocol") : Json.NODES.stringNode("TCP"));
        } else {
            if (!o.has(kind)) {
                return null;
            }
            key.put(kind, o.get(kind));
        }
        ObjectNode k = Json.object();
        key.forEach(k::set);
        return "k:" + Json.write(k);
    }

    /** Added, modified and removed fields from {@code before} to {@code after} (typed.Comparison). */
    record Comparison(FieldSet added, FieldSet modified, FieldSet removed) {
        boolean same() {
            return added.isEmpty() && modified.isEmpty() && removed.isEmpty();
        }
    }

    static Comparison compare(JsonNode before, JsonNode after, boolean statusSubresource) {
        Map<List<String>, JsonNode> a = values(before, statusSubresource);
        Map<List<String>, JsonNode> b = values(after, statusSubresource);
        FieldSet added = new FieldSet();
        FieldSet modified = new FieldSet();
        FieldSet removed = new FieldSet();
        for (Map.Entry<List<String>, JsonNode> e : b.entrySet()) {
            if (!a.containsKey(e.getKey())) {
                added.insert(e.getKey());
            } else if (!Objects.equals(a.get(e.getKey()), e.getValue())) {
                modified.insert(e.getKey());
            }
        }
        for (List<String> p : a.keySet()) {
            if (!b.containsKey(p)) {
                removed.insert(p);
            }
        }
        return new Comparison(added, modified, removed);
    }

    /** Removes the value at {@code path} from an object; true when something was there. */
    static boolean remove(ObjectNode object, List<String> path) {
        JsonNode at = object;
        for (int i = 0; i < path.size(); i++) {
            String pe = path.get(i);
            boolean last = i == path.size() - 1;
            if (pe.startsWith("f:") && at instanceof ObjectNode o) {
                String f = pe.substring(2);
                if (last) {
                    return o.remove(f) != null;
                }
                at = o.get(f);
            } else if (at instanceof ArrayNode a) {
                String name = path.get(i - 1).substring(2);
                String kind = listKind(name);
                int found = -1;
                for (int j = 0; j < a.size() && kind != null; j++) {
                    if (pe.equals(element(name, kind, a.get(j)))) {
                        found = j;
                        break;
                    }
                }
                if (found < 0) {
                    return false;
                }
                if (last) {
                    a.remove(found);
                    return true;
                }
                at = a.get(found);
            } else {
                return false;
            }
        }
        return false;
    }

    // ---- managedFields entries

    /** One entry of metadata.managedFields. */
    record Entry(String manager, String operation, String apiVersion, String time, String subresource,
                 FieldSet fields) {
        /** BuildManagerIdentifier: the entry's identity (an applier's without its apiVersion). */
        String id() {
            return manager + "\u0000" + operation + "\u0000" + (operation.equals(APPLY) ? "" : apiVersion) + "\u0000"
                    + (subresource == null ? "" : subresource);
        }

        /** printManager of the conflict message. */
        String describe() {
            String m = "\"" + manager + "\"" + (subresource == null || subresource.isEmpty() ? ""
                    : " with subresource \"" + subresource + "\"");
            return operation.equals(UPDATE) ? "conflict with " + m + " using " + apiVersion : "conflict with " + m;
        }

        ObjectNode json() {
            ObjectNode o = Json.object();
            o.put("manager", manager);
            o.put("operation", operation);
            o.put("apiVersion", apiVersion);
            if (time != null) {
                o.put("time", time);
            }
            o.put("fieldsType", "FieldsV1");
            o.set("fieldsV1", fields.toFieldsV1());
            if (subresource != null && !subresource.isEmpty()) {
                o.put("subresource", subresource);
            }
            return o;
        }

        Entry with(FieldSet f, String t) {
            return new Entry(manager, operation, apiVersion, t, subresource, f);
        }
    }

    static List<Entry> read(JsonNode object) {
        List<Entry> out = new ArrayList<>();
        for (JsonNode e : object.path("metadata").path("managedFields")) {
            if (e.path("manager").isString() || e.path("operation").isString()) {
                out.add(new Entry(e.path("manager").asString(""), e.path("operation").asString(UPDATE),
                        e.path("apiVersion").asString(""), e.path("time").isString() ? e.path("time").asString()
                        : null, e.path("subresource").asString(null), FieldSet.fromFieldsV1(e.get("fieldsV1"))));
            }
        }
        return out;
    }

    /** Writes the entries, sorted as sortEncodedManagedFields does (Apply first, then by time, manager...). */
    static void write(ObjectNode object, List<Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.removeIf(e -> e.fields().isEmpty());
        sorted.sort(Comparator.comparing(Entry::operation)
                .thenComparing(e -> e.time() == null ? "" : e.time())
                .thenComparing(Entry::manager)
                .thenComparing(Entry::apiVersion)
                .thenComparing(e -> e.subresource() == null ? "" : e.subresource()));
        ObjectNode meta = Json.objectAt(object, "metadata");
        if (sorted.isEmpty()) {
            meta.remove("managedFields");
            return;
        }
        ArrayNode a = meta.putArray("managedFields");
        sorted.forEach(e -> a.add(e.json()));
    }

    static String timestamp(Instant now) {
        return now.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /**
     * An Update (a create, PUT or patch, or their status subresource): managedFieldsUpdater.Update over
     * Updater.Update. The writer's entry gains what changed from {@code before} (null for a create) to {@code
     * after}; other managers lose what the writer changed or removed; the writer's time moves only when it changed
     * something. The entries are {@code after}'s own (the caller puts the stored ones there when the request sent
     * none), replaced by the result.
     */
    static void update(JsonNode before, ObjectNode after, String manager, String apiVersion, String subresource,
                       Instant now) {
        boolean status = "status".equals(subresource);
        List<Entry> entries = read(after);
        Comparison c = compare(before == null ? Json.object() : before, after, status);
        FieldSet changed = c.added().union(c.modified());
        Map<String, Entry> byId = new LinkedHashMap<>();
        entries.forEach(e -> byId.put(e.id(), e));
        Entry mine = new Entry(manager, UPDATE, apiVersion, null, status ? "status" : null, new FieldSet());
        for (Iterator<Map.Entry<String, Entry>> it = byId.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Entry> me = it.next();
            if (me.getKey().equals(mine.id())) {
                continue;
            }
            Entry e = me.getValue();
            FieldSet kept = e.fields().difference(changed).difference(c.removed());
            me.setValue(e.with(kept, e.time()));
        }
        if (!changed.isEmpty()) {
            Entry previous = byId.get(mine.id());
            FieldSet set = changed.union(previous == null ? new FieldSet() : previous.fields()
                    .difference(c.removed()));
            byId.put(mine.id(), mine.with(set, timestamp(now)));
        } else if (byId.containsKey(mine.id())) {
            Entry previous = byId.get(mine.id());
            byId.put(mine.id(), previous.with(previous.fields().difference(c.removed()), previous.time()));
        }
        write(after, new ArrayList<>(byId.values()));
    }

    /** A refused apply: the conflicting fields, by the manager that owns them. */
    static final class Conflict extends RuntimeException {
        private final List<Map.Entry<Entry, String>> conflicts;
        private final FieldSet paths;

        Conflict(List<Map.Entry<Entry, String>> conflicts, FieldSet paths) {
            super(message(conflicts), null, false, false);
            this.conflicts = conflicts;
            this.paths = paths;
        }

        /** The StatusCauses: type FieldManagerConflict, message "conflict with ...", field the path. */
        ArrayNode causes() {
            ArrayNode a = Json.array();
            for (Map.Entry<Entry, String> c : conflicts) {
                ObjectNode o = a.addObject();
                o.put("reason", "FieldManagerConflict");
                o.put("message", c.getKey().describe());
                o.put("field", c.getValue());
            }
            return a;
        }

        /** getConflictMessage of the apiserver's fieldmanager. */
        private static String message(List<Map.Entry<Entry, String>> conflicts) {
            if (conflicts.size() == 1) {
                return "Apply failed with 1 conflict: " + conflicts.get(0).getKey().describe() + ": "
                        + conflicts.get(0).getValue();
            }
            Map<String, List<String>> byManager = new TreeMap<>();
            for (Map.Entry<Entry, String> c : conflicts) {
                byManager.computeIfAbsent(c.getKey().describe(), k -> new ArrayList<>()).add(c.getValue());
            }
            List<String> lines = new ArrayList<>();
            byManager.forEach((m, paths) -> {
                lines.add(m + ":");
                paths.forEach(p -> lines.add("- " + p));
            });
            return "Apply failed with " + conflicts.size() + " conflicts: " + String.join("\n", lines);
        }
    }

    /**
     * Server-side apply of {@code config} by {@code manager} over {@code live} (Updater.Apply): the merged object
     * with the fields the manager no longer applies removed unless another manager owns them, and its
     * managedFields; the caller defaults the result afterwards, as the apiserver does. {@code live} is an object with
     * only its identity when the apply creates it.
     *
     * @throws Conflict when a field another manager owns would change and {@code force} is false
     */
    static ObjectNode apply(ObjectNode live, ObjectNode config, String manager, String apiVersion, boolean force,
                            Instant now) {
        ObjectNode out;
        try {
            out = applyOnce(live, config, manager, apiVersion, force, now);
        } catch (Conflict c) {
            // lastAppliedManager: kubectl's first server-side apply over its own client-side apply does not conflict
            // on the fields whose live value is still the one in last-applied-configuration
            FieldSet allowed = manager.equals("kubectl") ? allowedByLastApplied(live) : null;
            if (allowed == null || !c.paths.difference(allowed).isEmpty()) {
                throw c;
            }
            out = applyOnce(live, config, manager, apiVersion, true, now);
        }
        // lastAppliedUpdater: kubectl's apply keeps an existing last-applied-configuration in step
        if (manager.equals("kubectl") && out.path("metadata").path("annotations").has(LAST_APPLIED)) {
            ObjectNode last = config.deepCopy();
            if (last.path("metadata").path("annotations") instanceof ObjectNode a) {
                a.remove(LAST_APPLIED);
                if (a.isEmpty()) {
                    ((ObjectNode) last.get("metadata")).remove("annotations");
                }
            }
            ((ObjectNode) out.get("metadata").get("annotations")).put(LAST_APPLIED, Json.write(last) + "\n");
        }
        return out;
    }

    static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

    /** The fields of last-applied-configuration that the live object still holds with the same value. */
    private static FieldSet allowedByLastApplied(ObjectNode live) {
        JsonNode annotation = live.path("metadata").path("annotations").get(LAST_APPLIED);
        if (annotation == null || !annotation.isString()) {
            return null;
        }
        Map<List<String>, JsonNode> last = values(Json.parse(annotation.asString()), false);
        Map<List<String>, JsonNode> now = values(live, false);
        FieldSet allowed = new FieldSet();
        last.forEach((p, v) -> {
            if (now.containsKey(p) && Objects.equals(now.get(p), v)) {
                allowed.insert(p);
            }
        });
        return allowed;
    }

    private static ObjectNode applyOnce(ObjectNode live, ObjectNode config, String manager, String apiVersion,
                                        boolean force, Instant now) {
        List<Entry> entries = read(live);
        if (entries.isEmpty() && live.path("metadata").has("uid")) {
            // an object nobody applied yet, written before fields were managed: "before-first-apply" owns it all
            FieldSet all = fieldSet(live, false);
            if (!all.isEmpty()) {
                entries.add(new Entry("before-first-apply", UPDATE, apiVersion, null, null, all));
            }
        }
        ObjectNode merged = StrategicMergePatch.apply(live, withoutServerFields(config));
        FieldSet applied = fieldSet(config, false);
        Entry mine = new Entry(manager, APPLY, apiVersion, null, null, applied);
        Entry last = null;
        for (Entry e : entries) {
            if (e.id().equals(mine.id())) {
                last = e;
            }
        }
        // prune: what the manager applied last time and not now goes, unless another manager owns it (or below it)
        if (last != null) {
            FieldSet others = new FieldSet();
            for (Entry e : entries) {
                if (!e.id().equals(mine.id())) {
                    others = others.union(e.fields());
                }
            }
            List<List<String>> gone = new ArrayList<>(last.fields().difference(applied).paths());
            gone.sort(PATH_ORDER);
            for (List<String> p : gone) {
                if (!others.hasPrefix(p) && !applied.hasPrefix(p)) {
                    remove(merged, p);
                }
            }
        }
        Comparison c = compare(live, merged, false);
        FieldSet changed = c.added().union(c.modified());
        List<Map.Entry<Entry, String>> conflicts = new ArrayList<>();
        FieldSet conflicting = new FieldSet();
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries) {
            if (e.id().equals(mine.id())) {
                continue;
            }
            FieldSet clash = e.fields().intersection(changed).intersection(applied);
            if (!clash.isEmpty()) {
                clash.describe().forEach(p -> conflicts.add(Map.entry(e, p)));
                conflicting = conflicting.union(clash);
            }
            out.add(e.with(e.fields().difference(force ? clash : new FieldSet()).difference(c.removed()), e.time()));
        }
        if (!force && !conflicts.isEmpty()) {
            throw new Conflict(conflicts, conflicting);
        }
        boolean unchanged = c.same() && last != null && last.fields().equals(applied);
        out.add(mine.with(applied, unchanged && last.time() != null ? last.time() : timestamp(now)));
        write(merged, out);
        return merged;
    }

    /** The apply configuration's fields the server sets itself are not applied (resourceVersion, uid...). */
    private static ObjectNode withoutServerFields(ObjectNode config) {
        ObjectNode c = config.deepCopy();
        if (c.path("metadata") instanceof ObjectNode meta) {
            for (String f : List.of("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation",
                    "selfLink")) {
                meta.remove(f);
            }
        }
        c.remove("status");
        return c;
    }
}
