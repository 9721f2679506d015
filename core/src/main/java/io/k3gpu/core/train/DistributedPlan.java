package io.k3gpu.core.train;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.kube.GpuNodes;
import io.k3gpu.core.kube.NodeStatus;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** Which nodes a multi-node training runs on, in which image, over which backend (issue 13). Pure. */
public final class DistributedPlan {
    /** NVIDIA's Jetson PyTorch containers, by L4T major (32: JetPack 4, 35: JetPack 5), and dusty-nv's for 36. */
    public static final Map<Integer, String> JETSON_IMAGES = Map.of(
            32, "nvcr.io/nvidia/l4t-pytorch:r32.7.1-pth1.10-py3",
            35, "nvcr.io/nvidia/l4t-pytorch:r35.2.1-pth2.0-py3",
            36, "dustynv/l4t-pytorch:r36.2.0");
    public static final String DISCRETE_IMAGE = "pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime";

    private DistributedPlan() {
    }

    /**
     * The nodes to train on: the named ones (each must exist and be Ready), or {@code count} of the cluster's Ready
     * GPU nodes (by name), or all of them.
     */
    public static List<NodeStatus> choose(List<NodeStatus> cluster, List<String> named, Integer count, boolean all) {
        Map<String, NodeStatus> byName = new LinkedHashMap<>();
        cluster.forEach(n -> byName.put(n.name(), n));
        if (named != null && !named.isEmpty()) {
            List<NodeStatus> out = new ArrayList<>();
            for (String name : new LinkedHashSet<>(named)) {
                NodeStatus n = byName.get(name);
                if (n == null) {
                    throw new K3gpuException(ExitCode.FAILED, "there is no node named " + name + " in the cluster",
                            "pass names from: k3gpu nodes");
                }
                if (!n.ready()) {
                    throw new K3gpuException(ExitCode.FAILED, "node " + name + " is not Ready",
                            "check it with k3gpu nodes, or leave it out of --node");
                }
                out.add(n);
            }
            return out;
        }
        List<NodeStatus> gpu = cluster.stream().filter(NodeStatus::ready).filter(GpuNodes::isGpuNode)
                .sorted(java.util.Comparator.comparing(NodeStatus::name)).toList();
        if (gpu.isEmpty()) {
            throw new K3gpuException(ExitCode.FAILED, "no Ready GPU node in the cluster",
                    "join GPU nodes with k3gpu join --gpu, or name nodes with --node a,b");
        }
        if (all) {
            return gpu;
        }
        if (count == null || count < 1) {
            throw new K3gpuException(ExitCode.USAGE, "--nodes must be at least 1", "pass --nodes 2 or more");
        }
        if (count > gpu.size()) {
            throw new K3gpuException(ExitCode.FAILED, "--nodes " + count + " but the cluster has " + gpu.size()
                    + " Ready GPU node" + (gpu.size() == 1 ? "" : "s") + " (" + names(gpu) + ")",
                    "pass --nodes " + gpu.size() + " or fewer, or --all-gpu-nodes");
        }
        return gpu.subList(0, count);
    }

    /** Whether the node is a Jetson (k3gpu labels its L4T release). */
    public static boolean jetson(NodeStatus n) {
        return n.labels().containsKey(GpuLabels.L4T);
    }

    /** The PyTorch image for a node: by L4T major on a Jetson, else the CUDA one; empty for an unknown L4T. */
    public static Optional<String> defaultImage(NodeStatus n) {
        String l4t = n.labels().get(GpuLabels.L4T);
        if (l4t == null) {
            return Optional.of(DISCRETE_IMAGE);
        }
        try {
            return Optional.ofNullable(JETSON_IMAGES.get(Integer.parseInt(l4t.replaceFirst("^[Rr]", "").split("\\.")[0])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The one image every worker runs: {@code explicit}, else the nodes' common default. */
    public static String image(List<NodeStatus> nodes, String explicit) {
        if (explicit != null) {
            return explicit;
        }
        Map<String, String> images = new LinkedHashMap<>();
        for (NodeStatus n : nodes) {
            images.put(n.name(), defaultImage(n).orElseThrow(() -> new K3gpuException(ExitCode.USAGE,
                    "no default PyTorch image for " + n.name() + " (L4T " + n.labels().get(GpuLabels.L4T) + ")",
                    "pass --image")));
        }
        if (new LinkedHashSet<>(images.values()).size() > 1) {
            String archs = nodes.stream().map(NodeStatus::architecture).distinct().collect(Collectors.joining(", "));
            throw new K3gpuException(ExitCode.USAGE, "the chosen nodes need different images ("
                    + images.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue())
                    .collect(Collectors.joining(", ")) + "; architectures " + archs + ")",
                    "pass --image with one image that runs on all of them");
        }
        return images.values().iterator().next();
    }

    /** auto: NCCL only when every worker is a discrete GPU (not a Jetson: no NCCL there), else gloo. */
    public static String backend(String choice, List<NodeStatus> nodes) {
        return switch (choice) {
            case "gloo", "nccl" -> choice;
            case "auto" -> nodes.stream().allMatch(n -> GpuNodes.isGpuNode(n) && !jetson(n)) ? "nccl" : "gloo";
            default -> throw new K3gpuException(ExitCode.USAGE, "unknown backend '" + choice + "'",
                    "use --backend auto, gloo or nccl");
        };
    }

    static String names(List<NodeStatus> nodes) {
        return nodes.stream().map(NodeStatus::name).collect(Collectors.joining(", "));
    }
}
