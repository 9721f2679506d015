package io.k3gpu.core.kube;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.k3s.GpuLabels;

import java.math.BigDecimal;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The GPU nodes of a cluster, as {@code stats --all} and {@code exporter --all} follow them. Pure.
 *
 * <p>A GPU node is one labelled {@code nvidia.com/gpu.present=true} (by {@code k3gpu join}, {@code k3gpu label}, or
 * NVIDIA's GPU Feature Discovery) or with a non-zero {@code nvidia.com/gpu} capacity (a device plugin advertises it,
 * even without GFD). NotReady nodes are kept: the telemetry fleet reports them down and retries them, which says more
 * than leaving them out.
 */
public final class GpuNodes {
    private GpuNodes() {
    }

    /**
     * One GPU node: its Kubernetes name (what the user sees) and the address to reach it, its InternalIP, else its
     * ExternalIP; null when the Node has neither.
     */
    public record GpuNode(String name, String address) {
        public GpuNode {
            Objects.requireNonNull(name, "name");
        }

        /** The address, or the error that says this node has none. */
        public String requireAddress() {
            if (address == null) {
                throw new K3gpuException(ExitCode.FAILED, "node " + name + " has no InternalIP or ExternalIP in the "
                        + "cluster", "check its kubelet (kubectl describe node " + name + "), or pass --ip ADDRESS");
            }
            return address;
        }
    }

    /**
     * The cluster's GPU nodes, by name.
     *
     * @throws K3gpuException when there is none, saying how to get one
     */
    public static List<GpuNode> select(List<NodeStatus> nodes) {
        List<GpuNode> gpu = nodes.stream().filter(GpuNodes::isGpuNode)
                .sorted(Comparator.comparing(NodeStatus::name))
                .map(n -> new GpuNode(n.name(), n.internalIp() != null ? n.internalIp() : n.externalIp()))
                .toList();
        if (gpu.isEmpty()) {
            throw new K3gpuException(ExitCode.FAILED, "no GPU node in the cluster (" + nodes.size()
                    + (nodes.size() == 1 ? " node" : " nodes") + ", none labelled " + GpuLabels.PRESENT
                    + "=true or with nvidia.com/gpu capacity)",
                    "join GPU nodes with k3gpu join --gpu (or label one with k3gpu label --ip ADDRESS), or pass --ip");
        }
        return gpu;
    }

    public static boolean isGpuNode(NodeStatus n) {
        return "true".equals(n.labels().get(GpuLabels.PRESENT)) || hasGpuCapacity(n.gpuCapacity());
    }

    /** A Kubernetes quantity ("1", "8"); one that is not a plain number still means the resource is there. */
    private static boolean hasGpuCapacity(String quantity) {
        if (quantity == null || quantity.isBlank()) {
            return false;
        }
        try {
            return new BigDecimal(quantity.strip()).signum() > 0;
        } catch (NumberFormatException e) {
            return true;
        }
    }
}
