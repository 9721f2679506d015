package io.k3gpu.core.plugin;

import io.k3gpu.core.kube.NodeStatus;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Nodes as the API shows them after k3gpu join/label: the cluster, one of each kind. */
final class PluginNodes {
    static final String DOCKER = "docker://20.10.21";
    static final String CONTAINERD = "containerd://1.7.23-k3s2";

    private PluginNodes() {
    }

    static NodeStatus node(String name, String ip, String runtime, String allocatable, String... labels) {
        Map<String, String> l = new LinkedHashMap<>();
        l.put("kubernetes.io/hostname", name);
        for (int i = 0; i < labels.length; i += 2) {
            l.put(labels[i], labels[i + 1]);
        }
        return new NodeStatus(name, true, List.of(), null, "v1.31.4+k3s1", ip, null, "Ubuntu", "5.15", runtime,
                "arm64", allocatable, l, allocatable);
    }

    /** A Jetson Nano on Docker with NVIDIA as Docker's default (JetPack 4.6.1, toolkit upgraded to 1.16.2). */
    static NodeStatus nano(String toolkit, String allocatable) {
        return node("nano", "10.0.0.11", DOCKER, allocatable, "nvidia.com/gpu.present", "true",
                "nvidia.com/gpu.count", "1", "k3gpu.dev/l4t", "32.7.1", "k3gpu.dev/container-runtime",
                "docker-nvidia", "k3gpu.dev/nvidia-container-toolkit", toolkit);
    }

    /** A Jetson Orin on K3s's containerd, NVIDIA not its default (gpu: k3s on K3s >= 1.29: RuntimeClass nvidia). */
    static NodeStatus orin(String allocatable) {
        return node("orin", "10.0.0.12", CONTAINERD, allocatable, "nvidia.com/gpu.present", "true",
                "nvidia.com/gpu.count", "1", "k3gpu.dev/l4t", "36.4.3", "k3gpu.dev/container-runtime",
                "containerd-runc", "k3gpu.dev/nvidia-container-toolkit", "1.16.2");
    }

    /** A discrete-GPU server with NVIDIA as containerd's default. */
    static NodeStatus dgpu(String allocatable) {
        return node("dgpu", "10.0.0.13", CONTAINERD, allocatable, "nvidia.com/gpu.present", "true",
                "nvidia.com/gpu.count", "1", "k3gpu.dev/container-runtime", "containerd-nvidia",
                "k3gpu.dev/nvidia-container-toolkit", "1.17.8");
    }

    /** A discrete-GPU node labelled by an older k3gpu: no runtime or toolkit label. */
    static NodeStatus unlabelled() {
        return node("old-gpu", "10.0.0.14", CONTAINERD, null, "nvidia.com/gpu.present", "true",
                "nvidia.com/gpu.count", "2");
    }

    static NodeStatus cpu() {
        return node("cpu", "10.0.0.15", CONTAINERD, null, "k3gpu.dev/container-runtime", "containerd-runc");
    }

    static List<NodeStatus> cluster() {
        return List.of(cpu(), dgpu(null), nano("1.16.2", null), orin(null), unlabelled());
    }
}
