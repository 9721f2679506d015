package io.k3gpu.core.fleet;

import io.k3gpu.core.kube.Taint;

import java.util.List;
import java.util.Map;

/**
 * One host of cluster.yaml, its SSH settings merged with the file's defaults.
 *
 * @param name    how k3gpu names the host in its output and in {@code --host}; the address when the file gives none
 *                (the Kubernetes Node keeps the machine's hostname)
 * @param labels  Node labels the file asks for (on top of the GPU labels k3gpu sets)
 * @param taints  Node taints the file asks for
 * @param line    where the host starts in the file (1-based), for messages
 */
public record HostSpec(String name, String address, HostRole role, GpuMode gpu, Map<String, String> labels,
                       List<Taint> taints, SshSettings ssh, int line) {
    public HostSpec {
        labels = Map.copyOf(labels);
        taints = List.copyOf(taints);
    }

    /** {@code name (address)}, or the address alone when the host has no name of its own. */
    public String display() {
        return name.equals(address) ? address : name + " (" + address + ")";
    }
}
