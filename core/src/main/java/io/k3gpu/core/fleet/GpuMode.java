package io.k3gpu.core.fleet;

import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.runtime.ContainerRuntime;

import java.util.Locale;

/** How a host's pods get its GPU: the {@code gpu:} of a host in cluster.yaml. */
public enum GpuMode {
    /** K3s's containerd with nvidia as its default runtime when the host has a GPU (Jetson or nvidia-smi); else none. */
    AUTO,
    /** K3s with --docker and nvidia as Docker's default runtime (the seed's way; K3s marks --docker experimental). */
    DOCKER,
    /** K3s's containerd with nvidia as its default runtime ({@code join --gpu}). */
    K3S,
    /** No runtime change; the node is still labelled with what it has. */
    NONE;

    /** As written in the file: auto, docker, k3s, none. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The runtime whose default becomes nvidia on a host with these facts; null for none. */
    public ContainerRuntime runtime(NodeFacts facts) {
        return switch (this) {
            case AUTO -> facts.hasGpu() ? ContainerRuntime.K3S : null;
            case DOCKER -> ContainerRuntime.DOCKER;
            case K3S -> ContainerRuntime.K3S;
            case NONE -> null;
        };
    }

    /** Whether K3s runs with --docker. */
    public boolean docker() {
        return this == DOCKER;
    }
}
