package io.k3gpu.core.kube;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** What the cluster says about one Node: the columns of {@code kubectl get nodes -o wide}, plus labels and GPUs. */
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
        Map<String, String> labels) {

    public NodeStatus {
        roles = List.copyOf(roles);
        labels = Map.copyOf(labels);
    }
}
