package io.k3gpu.core.kube;

import java.time.Instant;
import java.util.List;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the cluster says about one Node: the columns of {@code kubectl get nodes -o wide}, plus labels and GPUs
 * ({@code nvidia.com/gpu} capacity and allocatable as the API gives them, null when absent).
 */
public record NodeStatus(
        String name,
        boolean ready,
        List<String> roles,
        Instant created,
        String kubeletVersion,
        String internalIp,
        String externalIp,
        String osImage,
        String kernelVersion,
        String containerRuntime,
        String architecture,
        String gpuCapacity,
        Map<String, String> labels,
        String gpuAllocatable) {

    public NodeStatus {
        roles = List.copyOf(roles);
        // sorted, as kubectl prints a map: Map.copyOf's order changed from one run to the next (nodes -o json)
        labels = Collections.unmodifiableSortedMap(new TreeMap<>(labels));
    }

    /** A Node whose allocatable {@code nvidia.com/gpu} is not known (or equals nothing yet). */
    public NodeStatus(String name, boolean ready, List<String> roles, Instant created, String kubeletVersion,
                      String internalIp, String externalIp, String osImage, String kernelVersion,
                      String containerRuntime, String architecture, String gpuCapacity, Map<String, String> labels) {
        this(name, ready, roles, created, kubeletVersion, internalIp, externalIp, osImage, kernelVersion,
                containerRuntime, architecture, gpuCapacity, labels, null);
    }
}
