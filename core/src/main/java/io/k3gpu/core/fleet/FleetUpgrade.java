package io.k3gpu.core.fleet;

import io.k3gpu.core.event.Events;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link RollingUpgrade.Plan}: each server alone, then each batch of agents (its agents at once), every step a
 * gate: the first host that fails stops the rollout, and the hosts after it are left untouched (skipped). Running it
 * again resumes: the hosts already upgraded are no longer in the plan.
 */
public final class FleetUpgrade {

    /** Upgrading one host; {@link SshFleet} does it over SSH and the cluster's API, tests fake it. */
    public interface HostWork {
        /** Install the new release, wait for the server's /readyz and its Node Ready at the new version. */
        List<String> upgradeServer(RollingUpgrade.Move move, Events events);

        /** Cordon, drain, upgrade, Ready at the new version, GPU gate, uncordon. */
        List<String> upgradeAgent(RollingUpgrade.Move move, Events events);
    }

    private FleetUpgrade() {
    }

    /** The plan as the runner's phases, each a gate, in the rollout's order. */
    static List<FleetRunner.Phase> phases(RollingUpgrade.Plan plan, HostWork work) {
        List<FleetRunner.Phase> phases = new ArrayList<>();
        for (RollingUpgrade.Move m : plan.servers()) {
            phases.add(new FleetRunner.Phase("upgrade of server " + m.host().name(), List.of(m.host()), 1, true,
                    (h, ev) -> work.upgradeServer(m, ev)));
        }
        int n = 1;
        for (List<RollingUpgrade.Move> batch : plan.agentBatches()) {
            List<HostSpec> hosts = batch.stream().map(RollingUpgrade.Move::host).toList();
            phases.add(new FleetRunner.Phase("upgrade, agents batch " + n++, hosts, hosts.size(), true,
                    (h, ev) -> work.upgradeAgent(batch.stream().filter(m -> m.host().equals(h)).findFirst()
                            .orElseThrow(), ev)));
        }
        return phases;
    }

    public static FleetResult run(RollingUpgrade.Plan plan, HostWork work, FleetEvents events) {
        long t0 = System.nanoTime();
        List<HostSpec> order = plan.moves().stream().map(RollingUpgrade.Move::host).toList();
        List<HostResult> results = new FleetRunner(events).run(order, phases(plan, work));
        return new FleetResult(results, Duration.ofNanos(System.nanoTime() - t0));
    }
}
