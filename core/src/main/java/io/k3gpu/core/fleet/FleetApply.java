package io.k3gpu.core.fleet;

import io.k3gpu.core.event.Events;

import java.time.Duration;
import java.util.List;

/**
 * Converges a cluster to its file, in K3s's order: the first server alone (it starts the cluster; if it fails,
 * nothing else can join and the rest is skipped), then the other servers one at a time (embedded etcd adds members
 * one by one), then the agents, up to {@code parallel} at once. One host failing does not stop the others. Each
 * host's work checks before it acts, so a converged cluster comes out unchanged, host by host.
 */
public final class FleetApply {

    /** What converging one host means; {@link SshFleet} does it over SSH, tests fake it. */
    public interface HostWork {
        /** Installs (or checks) the first server; afterwards the cluster answers and the others can join. */
        List<String> firstServer(HostSpec host, Events events);

        List<String> joinServer(HostSpec host, Events events);

        List<String> joinAgent(HostSpec host, Events events);
    }

    private FleetApply() {
    }

    /** @param parallel at most this many agents at once; 0 for all of them */
    public static List<FleetRunner.Phase> phases(ClusterSpec spec, int parallel, HostWork work) {
        int agents = parallel <= 0 ? Math.max(1, spec.agents().size()) : parallel;
        return List.of(
                new FleetRunner.Phase("first server", List.of(spec.firstServer()), 1, true, work::firstServer),
                new FleetRunner.Phase("servers", spec.extraServers(), 1, false, work::joinServer),
                new FleetRunner.Phase("agents", spec.agents(), agents, false, work::joinAgent));
    }

    public static FleetResult run(ClusterSpec spec, int parallel, HostWork work, FleetEvents events) {
        long t0 = System.nanoTime();
        List<HostResult> results = new FleetRunner(events).run(spec.hosts(), phases(spec, parallel, work));
        return new FleetResult(results, Duration.ofNanos(System.nanoTime() - t0));
    }
}
