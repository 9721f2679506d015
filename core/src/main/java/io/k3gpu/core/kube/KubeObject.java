package io.k3gpu.core.kube;

import java.util.Map;

/** An object in the cluster as far as reconciling it goes: its kind, name and annotations. */
public record KubeObject(String kind, String name, Map<String, String> annotations) {
    public KubeObject {
        annotations = Map.copyOf(annotations);
    }

    public String key() {
        return kind + "/" + name;
    }
}
