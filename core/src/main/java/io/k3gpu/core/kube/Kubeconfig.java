package io.k3gpu.core.kube;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.representer.Representer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * kubectl's kubeconfig, edited as data (never by text replacement): the K3s server's {@code k3s.yaml} made
 * reachable from outside under a name of the user's choice, and merged into an existing kubeconfig the way
 * {@code KUBECONFIG=new:old kubectl config view --flatten} would (entries of the same name are replaced).
 */
public final class Kubeconfig {
    private static final List<String> NAMED_LISTS = List.of("clusters", "contexts", "users");
    private static final List<String> KEY_ORDER = List.of("apiVersion", "clusters", "contexts", "current-context",
            "kind", "preferences", "users");

    private Kubeconfig() {
    }

    /**
     * The kubeconfig K3s wrote ({@code /etc/rancher/k3s/k3s.yaml}: one cluster, user and context, all named
     * "default", server https://127.0.0.1:6443), pointed at {@code serverUrl} and renamed to {@code name}.
     */
    public static String fromK3s(String source, String k3sYaml, String serverUrl, String name) {
        Map<String, Object> doc = parse(source, k3sYaml);
        List<Map<String, Object>> clusters = named(doc, "clusters");
        List<Map<String, Object>> users = named(doc, "users");
        List<Map<String, Object>> contexts = named(doc, "contexts");
        if (clusters.size() != 1 || users.size() != 1 || contexts.size() != 1) {
            throw new K3gpuException(ExitCode.FAILED, source + " does not look like K3s's kubeconfig (expected one cluster, user and context)",
                    "check the file on the server; k3gpu reads /etc/rancher/k3s/k3s.yaml");
        }
        Map<String, Object> cluster = clusters.get(0);
        Map<String, Object> user = users.get(0);
        Map<String, Object> context = contexts.get(0);
        mapAt(cluster, "cluster").put("server", serverUrl);
        cluster.put("name", name);
        user.put("name", name);
        context.put("name", name);
        Map<String, Object> ctx = mapAt(context, "context");
        ctx.put("cluster", name);
        ctx.put("user", name);
        doc.put("current-context", name);
        return dump(doc);
    }

    /**
     * Merges {@code incoming} into {@code existing} (null or blank: none): clusters, users and contexts of the
     * same name are replaced in place, new ones appended, everything else kept. {@code current-context} becomes
     * the incoming one when {@code setCurrent} or when the existing file has none.
     */
    public static String merge(String existingSource, String existing, String incoming, boolean setCurrent) {
        Map<String, Object> in = parse("the new kubeconfig", incoming);
        if (existing == null || existing.isBlank()) {
            return dump(in);
        }
        Map<String, Object> out = parse(existingSource, existing);
        for (String list : NAMED_LISTS) {
            if (!in.containsKey(list)) {
                continue;
            }
            List<Map<String, Object>> target = named(out, list);
            for (Map<String, Object> entry : named(in, list)) {
                Object name = entry.get("name");
                int at = -1;
                for (int i = 0; i < target.size(); i++) {
                    if (name != null && name.equals(target.get(i).get("name"))) {
                        at = i;
                    }
                }
                if (at >= 0) {
                    target.set(at, entry);
                } else {
                    target.add(entry);
                }
            }
        }
        Object current = out.get("current-context");
        if (setCurrent || current == null || current.toString().isEmpty()) {
            out.put("current-context", in.get("current-context"));
        }
        out.putIfAbsent("apiVersion", "v1");
        out.putIfAbsent("kind", "Config");
        return dump(out);
    }

    /** The server URL of the named cluster, or null. */
    public static String server(String source, String yaml, String clusterName) {
        for (Map<String, Object> c : named(parse(source, yaml), "clusters")) {
            if (clusterName.equals(c.get("name"))) {
                Object s = mapAt(c, "cluster").get("server");
                return s == null ? null : s.toString();
            }
        }
        return null;
    }

    static Map<String, Object> parse(String source, String yaml) {
        Object loaded;
        try {
            loaded = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
        } catch (YAMLException e) {
            throw new K3gpuException(ExitCode.FAILED, source + " is not valid YAML: " + e.getMessage().replaceAll("\\s+", " "),
                    "fix or move the file aside; nothing was changed");
        }
        if (loaded == null) {
            loaded = new LinkedHashMap<String, Object>();
        }
        if (!(loaded instanceof Map<?, ?> map)) {
            throw new K3gpuException(ExitCode.FAILED, source + " is not a kubeconfig (its top level is not a mapping)",
                    "fix or move the file aside; nothing was changed");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> doc = new LinkedHashMap<>((Map<String, Object>) map);
        return doc;
    }

    /** The named list at {@code key}, as mutable copies that replace the document's own (so edits stick). */
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> named(Map<String, Object> doc, String key) {
        Object v = doc.get(key);
        if (v == null) {
            List<Map<String, Object>> empty = new ArrayList<>();
            doc.put(key, empty);
            return empty;
        }
        if (!(v instanceof List<?> list)) {
            throw new K3gpuException(ExitCode.FAILED, "kubeconfig key '" + key + "' is not a list",
                    "fix or move the file aside; nothing was changed");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : list) {
            if (o instanceof Map<?, ?> m) {
                out.add(new LinkedHashMap<>((Map<String, Object>) m));
            }
        }
        doc.put(key, out);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mapAt(Map<String, Object> parent, String key) {
        Object v = parent.get(key);
        Map<String, Object> m = v instanceof Map<?, ?> ? new LinkedHashMap<>((Map<String, Object>) v) : new LinkedHashMap<>();
        parent.put(key, m);
        return m;
    }

    /** Block YAML with kubectl's top-level key order. */
    static String dump(Map<String, Object> doc) {
        Map<String, Object> ordered = new LinkedHashMap<>();
        for (String k : KEY_ORDER) {
            if (doc.containsKey(k)) {
                ordered.put(k, doc.get(k));
            }
        }
        doc.forEach(ordered::putIfAbsent);
        DumperOptions o = new DumperOptions();
        o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        o.setIndicatorIndent(0);
        o.setWidth(Integer.MAX_VALUE);
        o.setSplitLines(false);
        return new Yaml(new Representer(o), o).dump(ordered);
    }
}
