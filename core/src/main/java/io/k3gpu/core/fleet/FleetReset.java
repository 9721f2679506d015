package io.k3gpu.core.fleet;

import io.k3gpu.core.event.Events;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Takes K3s off the hosts of a file in the reverse of apply's order: the agents (up to {@code parallel} at once),
 * then the extra servers one at a time (so etcd loses one member at a time), then the first server, whose datastore
 * goes with it. One host failing does not stop the others.
 */
public final class FleetReset {

    /** Resetting one host; {@link SshFleet} does it over SSH. */
    public interface HostWork {
        /** @param firstServer the server that holds the cluster's datastore (reset last, its API gone after) */
        List<String> reset(HostSpec host, boolean firstServer, Events events);
    }

    private FleetReset() {
    }

    /** @param selected the hosts to reset (all, or the one --host names), in file order */
    public static List<FleetRunner.Phase> phases(ClusterSpec spec, List<HostSpec> selected, int parallel,
                                                 HostWork work) {
        List<HostSpec> agents = spec.agents().stream().filter(selected::contains).toList();
        List<HostSpec> extra = spec.extraServers().stream().filter(selected::contains).toList();
        List<HostSpec> first = selected.contains(spec.firstServer()) ? List.of(spec.firstServer()) : List.of();
        int n = parallel <= 0 ? Math.max(1, agents.size()) : parallel;
        return List.of(
                new FleetRunner.Phase("agents", agents, n, false, (h, e) -> work.reset(h, false, e)),
                new FleetRunner.Phase("servers", extra, 1, false, (h, e) -> work.reset(h, false, e)),
                new FleetRunner.Phase("first server", first, 1, false, (h, e) -> work.reset(h, true, e)));
    }

    /**
     * Why Node objects of the hosts reset are left in the cluster, or empty: they are when the cluster's API could
     * not be reached to delete them ({@code noApi} says why) and the first server, whose datastore holds them, was
     * not reset with them.
     */
    public static Optional<String> nodesLeft(ClusterSpec spec, FleetResult result, Optional<String> noApi) {
        if (noApi.isEmpty()) {
            return Optional.empty();
        }
        boolean datastoreGone = result.hosts().stream()
                .anyMatch(h -> h.host().equals(spec.firstServer()) && h.ok());
        List<String> left = result.hosts().stream().map(HostResult::host)
                .filter(h -> !h.equals(spec.firstServer())).map(HostSpec::name).toList();
        if (datastoreGone || left.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("the Node objects of " + String.join(", ", left) + " may be left in the cluster: "
                + noApi.get());
    }

    public static FleetResult run(ClusterSpec spec, List<HostSpec> selected, int parallel, HostWork work,
                                  FleetEvents events) {
        long t0 = System.nanoTime();
        List<HostResult> results = new FleetRunner(events).run(spec.hosts(), phases(spec, selected, parallel, work));
        return new FleetResult(results, Duration.ofNanos(System.nanoTime() - t0));
    }
}
