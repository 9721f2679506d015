package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import io.k3gpu.core.kube.NodeStatus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What apply would do, host by host, changing nothing: every host is observed at once (SSH, facts, its K3s unit,
 * a dry run of the runtime change), the cluster is asked through the first server for the hosts' Nodes, and
 * {@link PlanDiff} compares each with the file.
 */
public final class FleetPlan {

    /**
     * @param hosts       in file order
     * @param clusterNote what is known about the cluster as a whole (e.g. not installed yet); null when it answers
     * @param notInFile   the cluster's Nodes that no host of the file is: apply leaves them alone
     */
    public record Result(List<HostPlan> hosts, String clusterVersion, String clusterNote, List<NodeStatus> notInFile,
                         Duration elapsed) {
        public Result {
            hosts = List.copyOf(hosts);
            notInFile = List.copyOf(notInFile);
        }

        public long count(java.util.function.Predicate<HostPlan> p) {
            return hosts.stream().filter(p).count();
        }

        public boolean ok() {
            return hosts.stream().noneMatch(HostPlan::failed);
        }
    }

    private FleetPlan() {
    }

    public static Result run(ClusterSpec spec, SshFleet fleet, FleetEvents events) {
        long t0 = System.nanoTime();
        Map<HostSpec, Object> seen = observeAll(spec, fleet, events);
        HostSpec first = spec.firstServer();
        String version = null;
        String note = null;
        if (seen.get(first) instanceof HostObservation o) {
            try {
                Optional<String> v = fleet.openClusterFor(first, o);
                version = v.orElse(null);
                if (v.isEmpty()) {
                    note = "no cluster yet: K3s does not run on the first server " + first.name();
                }
            } catch (K3gpuException e) {
                note = "the cluster does not answer through " + first.name() + ": " + e.getMessage();
            }
        } else {
            note = "the first server " + first.name() + " cannot be reached: what the cluster holds is unknown";
        }
        PlanDiff.ClusterView view = new PlanDiff.ClusterView(spec.serverUrl(), version);
        List<HostPlan> plans = new ArrayList<>();
        for (HostSpec h : spec.hosts()) {
            Object o = seen.get(h);
            HostPlan plan;
            if (o instanceof HostObservation obs) {
                try {
                    plan = PlanDiff.diff(spec, h, fleet.withNode(h, obs), view);
                } catch (K3gpuException e) {
                    plan = new HostPlan(h, spec.isFirstServer(h), List.of(), e.getMessage());
                }
            } else {
                plan = new HostPlan(h, spec.isFirstServer(h), List.of(), (String) o);
            }
            plans.add(plan);
            events.finished(asResult(plan));
        }
        Map<HostSpec, String> hostnames = new LinkedHashMap<>();
        seen.forEach((h, o) -> hostnames.put(h, o instanceof HostObservation obs ? obs.facts().hostname() : null));
        List<NodeStatus> others = notInFile(fleet.clusterNodes(), hostnames);
        return new Result(plans, version, note, others, Duration.ofNanos(System.nanoTime() - t0));
    }

    /**
     * The Nodes that are none of the file's hosts: a host is its Node when the Node has the host's hostname (K3s's
     * node name), the host's address as its InternalIP, or the host's name in the file. Pure.
     *
     * @param hostnames each host of the file and its hostname, null when it could not be reached
     */
    static List<NodeStatus> notInFile(List<NodeStatus> nodes, Map<HostSpec, String> hostnames) {
        Set<String> names = new HashSet<>();
        Set<String> addresses = new HashSet<>();
        hostnames.forEach((h, hostname) -> {
            names.add(h.name());
            addresses.add(h.address());
            if (hostname != null) {
                names.add(hostname);
            }
        });
        return nodes.stream().filter(n -> !names.contains(n.name()) && !addresses.contains(n.internalIp()))
                .sorted(Comparator.comparing(NodeStatus::name)).toList();
    }

    /** Each host's observation, or the message of why it could not be observed. */
    private static Map<HostSpec, Object> observeAll(ClusterSpec spec, SshFleet fleet, FleetEvents events) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(spec.hosts().size(), 256), r -> {
            Thread t = new Thread(r, "k3gpu-plan");
            t.setDaemon(true);
            return t;
        });
        try {
            Map<HostSpec, Future<Object>> futures = new LinkedHashMap<>();
            for (HostSpec h : spec.hosts()) {
                futures.put(h, pool.submit(() -> {
                    events.started(h);
                    try {
                        return fleet.observe(h, events.of(h));
                    } catch (K3gpuException e) {
                        return e.getMessage() + (e.hint() == null ? "" : "; " + e.hint());
                    }
                }));
            }
            Map<HostSpec, Object> out = new LinkedHashMap<>();
            for (Map.Entry<HostSpec, Future<Object>> e : futures.entrySet()) {
                out.put(e.getKey(), e.getValue().get());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "interrupted", null, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** A plan as a progress view's result line: unchanged when there is nothing to do, failed on error. */
    private static HostResult asResult(HostPlan p) {
        List<String> what = new ArrayList<>();
        p.steps().forEach(s -> what.add(s.action().label()));
        HostResult.Status status = p.failed() ? HostResult.Status.FAILED
                : p.nothing() ? HostResult.Status.UNCHANGED : HostResult.Status.CHANGED;
        return new HostResult(p.host(), status, what, p.error(), p.failed() ? ExitCode.FAILED : null, Duration.ZERO);
    }
}
