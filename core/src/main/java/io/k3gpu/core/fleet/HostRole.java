package io.k3gpu.core.fleet;

import java.util.Locale;

/** A host's part in the cluster: {@code role: server|agent}. */
public enum HostRole {
    /** Runs the control plane; the first one starts the cluster, the others join it (embedded etcd HA). */
    SERVER,
    /** Runs workloads only. */
    AGENT;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
