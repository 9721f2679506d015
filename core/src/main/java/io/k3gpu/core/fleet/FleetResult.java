package io.k3gpu.core.fleet;

import java.time.Duration;
import java.util.List;

/** How every host of an apply or a reset fared, in file order. */
public record FleetResult(List<HostResult> hosts, Duration elapsed) {
    public FleetResult {
        hosts = List.copyOf(hosts);
    }

    public long count(HostResult.Status status) {
        return hosts.stream().filter(h -> h.status() == status).count();
    }

    /** The hosts that failed or were skipped. */
    public List<HostResult> failures() {
        return hosts.stream().filter(h -> !h.ok()).toList();
    }

    public boolean ok() {
        return failures().isEmpty();
    }
}
