package io.k3gpu.core.fleet;

import java.util.List;

/**
 * What apply would do on one host: its steps in the order apply takes them, or why it cannot be told.
 *
 * @param steps empty when the host is as the file says ("nothing")
 * @param error why the host could not be observed, or why apply would fail there; null when none
 * @param gpuRoute how K3s's containerd gets NVIDIA as its default there, e.g. "k3s --default-runtime nvidia (K3s
 *              v1.31.4+k3s1)"; null where the host's GPU does not come through K3s's containerd
 */
public record HostPlan(HostSpec host, boolean firstServer, List<Step> steps, String error, String gpuRoute) {
    public HostPlan {
        steps = List.copyOf(steps);
    }

    public HostPlan(HostSpec host, boolean firstServer, List<Step> steps, String error) {
        this(host, firstServer, steps, error, null);
    }

    /** One step: what and why (e.g. "K3s is not installed"). */
    public record Step(Action action, String detail) {
    }

    public boolean nothing() {
        return steps.isEmpty() && error == null;
    }

    public boolean failed() {
        return error != null;
    }
}
