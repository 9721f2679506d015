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
import java.util.Set;

/**
 * kubectl's kubeconfig, edited as data (never by text replacement): the K3s server's {@code k3s.yaml} made
 * reachable from outside under a name of the user's choice, and merged into an existing kubeconfig the way
 * {@code KUBECONFIG=new:old kubectl config view --flatten} would (entries of the same name are replaced).
 */
public final class Kubeconfig {
    private static final List<String> NAMED_LISTS = List.of("clusters", "contexts", "users");
    private static final List<String> KEY_ORDER = List.of("apiVersion", "clusters", "contexts", "current-context",
            "kind", "preferences", "users");
    /** K3s's file is about 3 KB; anything near this is not K3s's. */
    public static final int MAX_K3S_YAML = 64 * 1024;
    /**
     * What K3s writes (client-go's layout), and a bearer token: nothing that names a local file or runs a command
     * ({@code exec}, {@code auth-provider}, {@code client-certificate}, {@code tokenFile}, ...) and no proxy or TLS
     * name override, so a changed file on the node cannot act on the operator's machine or redirect the client.
     */
    private static final Set<String> K3S_TOP = Set.of("apiVersion", "clusters", "contexts", "current-context", "kind",
            "preferences", "users");
    private static final Set<String> K3S_CLUSTER = Set.of("server", "certificate-authority-data",
            "insecure-skip-tls-verify");
    private static final Set<String> K3S_USER = Set.of("client-certificate-data", "client-key-data", "token");
    private static final Set<String> K3S_CONTEXT = Set.of("cluster", "user");

    private Kubeconfig() {
    }

    /**
     * The kubeconfig K3s wrote ({@code /etc/rancher/k3s/k3s.yaml}: one cluster, user and context, all named
     * "default", server https://127.0.0.1:6443), pointed at {@code serverUrl} and renamed to {@code name}. The text
     * comes from a node and is not trusted: anything K3s does not write is refused, naming {@code source} and the key.
     */
    public static String fromK3s(String source, String k3sYaml, String serverUrl, String name) {
        if (k3sYaml.length() > MAX_K3S_YAML) {
            throw untrusted(source, "is over " + MAX_K3S_YAML / 1024 + " KiB");
        }
        Map<String, Object> doc = parse(source, k3sYaml, untrustedLoader());
        checkK3s(source, doc);
        List<Map<String, Object>> clusters = named(doc, "clusters");
        List<Map<String, Object>> users = named(doc, "users");
        List<Map<String, Object>> contexts = named(doc, "contexts");
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

    /**
     * Refuses anything K3s does not write, naming the first offending key: one cluster, user and context, each named
     * "default", with only the keys above (and an insecure-skip-tls-verify that is false).
     */
    private static void checkK3s(String source, Map<String, Object> doc) {
        only(source, "", doc, K3S_TOP);
        expect(source, "apiVersion", doc.get("apiVersion"), "v1");
        expect(source, "kind", doc.get("kind"), "Config");
        expect(source, "current-context", doc.get("current-context"), "default");
        Object prefs = doc.get("preferences");
        if (prefs != null && !(prefs instanceof Map<?, ?> m && m.isEmpty())) {
            throw untrusted(source, "has preferences that K3s never writes");
        }
        Map<String, Object> cluster = single(source, doc, "clusters", "cluster");
        only(source, "clusters[0].cluster.", cluster, K3S_CLUSTER);
        text(source, "clusters[0].cluster.server", cluster.get("server"));
        text(source, "clusters[0].cluster.certificate-authority-data", cluster.get("certificate-authority-data"));
        Object insecure = cluster.get("insecure-skip-tls-verify");
        if (insecure != null && !Boolean.FALSE.equals(insecure)) {
            throw untrusted(source, "has clusters[0].cluster.insecure-skip-tls-verify: " + insecure);
        }
        Map<String, Object> user = single(source, doc, "users", "user");
        only(source, "users[0].user.", user, K3S_USER);
        boolean certificate = user.containsKey("client-certificate-data") || user.containsKey("client-key-data");
        if (certificate) {
            text(source, "users[0].user.client-certificate-data", user.get("client-certificate-data"));
            text(source, "users[0].user.client-key-data", user.get("client-key-data"));
        }
        if (user.containsKey("token") || !certificate) {
            text(source, "users[0].user.token", user.get("token"));
        }
        Map<String, Object> context = single(source, doc, "contexts", "context");
        only(source, "contexts[0].context.", context, K3S_CONTEXT);
        expect(source, "contexts[0].context.cluster", context.get("cluster"), "default");
        expect(source, "contexts[0].context.user", context.get("user"), "default");
    }

    /** The one entry of {@code list} (named "default"), as the mapping under {@code key}. */
    private static Map<String, Object> single(String source, Map<String, Object> doc, String list, String key) {
        if (!(doc.get(list) instanceof List<?> entries) || entries.size() != 1) {
            throw untrusted(source, "does not have exactly one entry in " + list);
        }
        if (!(entries.get(0) instanceof Map<?, ?> entry)) {
            throw untrusted(source, "has a " + list + "[0] that is not a mapping");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> e = (Map<String, Object>) entry;
        only(source, list + "[0].", e, Set.of("name", key));
        expect(source, list + "[0].name", e.get("name"), "default");
        if (!(e.get(key) instanceof Map<?, ?> inner)) {
            throw untrusted(source, "has no mapping at " + list + "[0]." + key);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) inner;
        return m;
    }

    private static void only(String source, String prefix, Map<String, Object> map, Set<String> allowed) {
        for (Object key : map.keySet()) {
            if (!allowed.contains(String.valueOf(key))) {
                throw untrusted(source, "has " + prefix + key + ", which K3s never writes");
            }
        }
    }

    private static void expect(String source, String key, Object value, String wanted) {
        if (value != null && !wanted.equals(value)) {
            throw untrusted(source, "has " + key + " '" + value + "' where K3s writes '" + wanted + "'");
        }
    }

    private static void text(String source, String key, Object value) {
        if (!(value instanceof String s) || s.isEmpty()) {
            throw untrusted(source, (value == null ? "lacks " : "has a non-text ") + key);
        }
    }

    private static K3gpuException untrusted(String source, String what) {
        return new K3gpuException(ExitCode.FAILED, "refusing the server's kubeconfig: " + source + " " + what
                + " (k3gpu accepts only what K3s writes: certificate data or a token, never a command or a local file)",
                "look at the file on the server; moved aside, it is written again when K3s restarts there");
    }

    /** Limits for text from a node: no anchors to collections (billion laughs), shallow, small, no duplicate keys. */
    private static LoaderOptions untrustedLoader() {
        LoaderOptions o = new LoaderOptions();
        o.setMaxAliasesForCollections(0);
        o.setNestingDepthLimit(10);
        o.setCodePointLimit(MAX_K3S_YAML);
        o.setAllowDuplicateKeys(false);
        return o;
    }

    static Map<String, Object> parse(String source, String yaml) {
        return parse(source, yaml, new LoaderOptions());
    }

    private static Map<String, Object> parse(String source, String yaml, LoaderOptions options) {
        Object loaded;
        try {
            loaded = new Yaml(new SafeConstructor(options)).load(yaml);
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
