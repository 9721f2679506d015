package io.k3gpu.core.fleet;

import java.util.List;

/**
 * What apply would do on one host: its steps in the order apply takes them, or why it cannot be told.
 *
 * @param steps empty when the host is as the file says ("nothing")
 * @param error why the host could not be observed, or why apply would fail there; null when none
 */
public record HostPlan(HostSpec host, boolean firstServer, List<Step> steps, String error) {
    public HostPlan {
        steps = List.copyOf(steps);
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
