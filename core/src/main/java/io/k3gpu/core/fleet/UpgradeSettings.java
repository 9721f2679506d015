package io.k3gpu.core.fleet;

import java.time.Duration;

/**
 * {@code cluster.upgrade}: how apply rolls a new K3s release over the agents.
 *
 * @param workerDisruptionPercent how many of the agents may be cordoned and drained at once, in percent (k0sctl's
 *                                name and default, 10 %); at least one agent at a time
 * @param drainTimeout            how long the evictions of one agent's pods may take before its drain fails
 */
public record UpgradeSettings(int workerDisruptionPercent, Duration drainTimeout) {
    public static final int DEFAULT_PERCENT = 10;
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofMinutes(5);
    public static final UpgradeSettings DEFAULTS = new UpgradeSettings(DEFAULT_PERCENT, DEFAULT_DRAIN_TIMEOUT);
}
