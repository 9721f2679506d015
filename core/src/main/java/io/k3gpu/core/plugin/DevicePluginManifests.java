package io.k3gpu.core.plugin;

import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.kube.GpuAccess;
import io.k3gpu.core.kube.Manifests;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The objects of the device plugin for a {@link DevicePluginPlan}, rendered from the templates on the classpath
 * ({@code nvidia-device-plugin.yaml}, {@code nvidia-device-plugin-config.yaml}). Pure.
 *
 * <p>Each object carries the annotation {@value #HASH} (also on the DaemonSets' pod template): a hash of what k3gpu
 * rendered, so a re-run with the same settings can tell that nothing is to change without comparing objects that
 * the API server has defaulted, and a changed setting rolls the pods.
 */
public final class DevicePluginManifests {
    public static final String NAMESPACE = "kube-system";
    public static final String CONFIG_MAP = "nvidia-device-plugin-config";
    public static final String HASH = "k3gpu.dev/rendered-hash";
    public static final String CONTAINER = "nvidia-device-plugin-ctr";
    /** What k3gpu's objects of the plugin are labelled with. */
    public static final String SELECTOR = "app.kubernetes.io/name=nvidia-device-plugin,app.kubernetes.io/managed-by=k3gpu";
    static final String CONFIG_DIR = "/etc/nvidia-device-plugin";
    static final String CONFIG_FILE = CONFIG_DIR + "/config.yaml";

    /** One object to apply: its kind, name, YAML and the hash it is annotated with. */
    public record Rendered(String kind, String name, String yaml, String hash) {
        public String key() {
            return kind + "/" + name;
        }
    }

    private DevicePluginManifests() {
    }

    /** The ConfigMap (with time-slicing) first, then one DaemonSet per group. */
    public static List<Rendered> render(DevicePluginPlan plan, DevicePluginSettings settings) {
        List<Rendered> out = new ArrayList<>();
        String configHash = "";
        if (settings.sharing()) {
            Rendered config = hashed("ConfigMap", CONFIG_MAP, configMap(settings.timeSlicing()), "", false);
            out.add(config);
            configHash = config.hash();
        }
        for (PluginGroup g : plan.groups()) {
            // The config's hash is part of the DaemonSet's, so a changed config restarts the plugin, which reads it
            // only when it starts.
            out.add(hashed("DaemonSet", g.name(), daemonSet(g, settings), configHash, true));
        }
        return out;
    }

    static Map<String, Object> configMap(int replicas) {
        Map<String, Object> doc = Manifests.load("nvidia-device-plugin-config.yaml");
        Map<String, Object> data = Manifests.map(doc, "data");
        @SuppressWarnings("unchecked")
        Map<String, Object> config = (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions()))
                .load((String) data.get("config.yaml"));
        Map<String, Object> timeSlicing = Manifests.map(Manifests.map(config, "sharing"), "timeSlicing");
        Manifests.list(timeSlicing, "resources").get(0).put("replicas", replicas);
        data.put("config.yaml", Manifests.dump(config));
        return doc;
    }

    static Map<String, Object> daemonSet(PluginGroup g, DevicePluginSettings settings) {
        Map<String, Object> doc = Manifests.load("nvidia-device-plugin.yaml");
        Map<String, Object> meta = Manifests.map(doc, "metadata");
        meta.put("name", g.name());
        Map<String, Object> spec = Manifests.map(doc, "spec");
        Manifests.map(Manifests.map(spec, "selector"), "matchLabels").put("app.kubernetes.io/instance", g.name());
        Map<String, Object> template = Manifests.map(spec, "template");
        Manifests.map(Manifests.map(template, "metadata"), "labels").put("app.kubernetes.io/instance", g.name());
        Map<String, Object> pod = Manifests.map(template, "spec");

        Map<String, Object> term = Manifests.list(Manifests.map(Manifests.map(Manifests.map(pod, "affinity"),
                "nodeAffinity"), "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms").get(0);
        List<Map<String, Object>> match = Manifests.list(term, "matchExpressions");
        match.add(expression(GpuLabels.L4T, g.jetson() ? "Exists" : "DoesNotExist", null));
        if (g.runtimeLabel() != null) {
            match.add(expression(GpuLabels.RUNTIME, "In", List.of(g.runtimeLabel())));
        } else {
            // without k3gpu's runtime label only the names tell these nodes from the others
            match.add(expression(GpuLabels.RUNTIME, "DoesNotExist", null));
            match.add(expression("kubernetes.io/hostname", "In", g.nodes()));
        }
        if (g.runtimeClass()) {
            Map<String, Object> withClass = new LinkedHashMap<>();
            withClass.put("runtimeClassName", GpuAccess.RUNTIME_CLASS);
            withClass.putAll(pod);
            pod.clear();
            pod.putAll(withClass);
        }

        Map<String, Object> container = Manifests.list(pod, "containers").get(0);
        container.put("image", settings.image());
        List<Map<String, Object>> env = Manifests.list(container, "env");
        if (g.jetson()) {
            // The plugin's own platform detection takes Thor (JetPack 7) for an unknown platform and exits; on a
            // Jetson, Tegra discovery is what it should pick anyway (internal/resource/factory.go).
            env.add(envVar("DEVICE_DISCOVERY_STRATEGY", "tegra"));
        }
        if (settings.sharing()) {
            env.add(envVar("CONFIG_FILE", CONFIG_FILE));
            Map<String, Object> mount = new LinkedHashMap<>();
            mount.put("name", "config");
            mount.put("mountPath", CONFIG_DIR);
            Manifests.list(container, "volumeMounts").add(mount);
            Map<String, Object> volume = new LinkedHashMap<>();
            volume.put("name", "config");
            Map<String, Object> configMap = new LinkedHashMap<>();
            configMap.put("name", CONFIG_MAP);
            volume.put("configMap", configMap);
            Manifests.list(pod, "volumes").add(volume);
        }
        return doc;
    }

    private static Map<String, Object> expression(String key, String operator, List<String> values) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("key", key);
        e.put("operator", operator);
        if (values != null) {
            e.put("values", new ArrayList<>(values));
        }
        return e;
    }

    private static Map<String, Object> envVar(String name, String value) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", name);
        e.put("value", value);
        return e;
    }

    /** The object with its hash annotation (on the pod template too, for a DaemonSet). */
    private static Rendered hashed(String kind, String name, Map<String, Object> doc, String salt, boolean template) {
        String hash = sha256(Manifests.dump(doc) + salt);
        annotate(Manifests.map(doc, "metadata"), hash);
        if (template) {
            annotate(Manifests.map(Manifests.map(Manifests.map(doc, "spec"), "template"), "metadata"), hash);
        }
        return new Rendered(kind, name, Manifests.dump(doc), hash);
    }

    private static void annotate(Map<String, Object> metadata, String hash) {
        Map<String, Object> annotations = new LinkedHashMap<>();
        annotations.put(HASH, hash);
        metadata.put("annotations", annotations);
    }

    private static String sha256(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
