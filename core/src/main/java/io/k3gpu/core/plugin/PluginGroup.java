package io.k3gpu.core.plugin;

import java.util.List;

/**
 * GPU nodes that one DaemonSet of the device plugin serves: a DaemonSet has one pod template, and the template
 * differs by kind of GPU (Jetson: Tegra discovery) and by how the node's pods reach the NVIDIA runtime (the
 * RuntimeClass {@code nvidia}, or the default runtime). Nodes with k3gpu's runtime label are picked by their labels;
 * nodes without it by name.
 *
 * @param name          the DaemonSet's name
 * @param jetson        whether the nodes are Jetsons (label {@code k3gpu.dev/l4t})
 * @param runtimeLabel  the nodes' {@code k3gpu.dev/container-runtime}, or null for nodes without it
 * @param runtimeClass  whether the plugin's pod names {@code runtimeClassName: nvidia}
 * @param nodes         the nodes it serves now, sorted
 */
public record PluginGroup(String name, boolean jetson, String runtimeLabel, boolean runtimeClass, List<String> nodes) {
    public PluginGroup {
        nodes = List.copyOf(nodes);
    }
}
