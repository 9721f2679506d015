package io.k3gpu.core.kube;

import java.util.List;
import java.util.Map;

/** A Node's labels, annotations and taints, as read in one request. */
public record NodeMeta(Map<String, String> labels, Map<String, String> annotations, List<Taint> taints) {
    public NodeMeta {
        labels = Map.copyOf(labels);
        annotations = Map.copyOf(annotations);
        taints = List.copyOf(taints);
    }
}
