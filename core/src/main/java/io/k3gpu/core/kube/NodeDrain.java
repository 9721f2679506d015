package io.k3gpu.core.kube;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * kubectl drain --ignore-daemonsets --delete-emptydir-data, through the Eviction API (policy/v1): every pod bound to
 * the node but DaemonSet pods (their controller puts them back at once) and static pods' mirrors is evicted, which
 * the API server refuses (429) while a PodDisruptionBudget would be violated; refused evictions are asked again every
 * {@link #RETRY} (kubectl's 5 s), and evicted pods waited for until they are gone, all within {@code timeout}. With
 * {@code force}, what is still there at the timeout is deleted instead (what kubectl drain --disable-eviction does).
 * The node must be cordoned first, or the pods come back.
 */
public final class NodeDrain {
    static final Duration RETRY = Duration.ofSeconds(5);
    private static final Duration POLL = Duration.ofMillis(500);

    /** What the drain did: the pods evicted, those deleted by force, those left (DaemonSets, mirrors). */
    public record Result(List<String> evicted, List<String> deleted, List<String> left) {
    }

    private final Events events;

    public NodeDrain(Events events) {
        this.events = events;
    }

    public Result run(ClusterApi api, String host, String node, Duration timeout, boolean force) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> left = new ArrayList<>();
        Map<String, DrainPod> pending = new LinkedHashMap<>();
        for (DrainPod p : api.podsOn(node)) {
            if (p.daemonSet() || p.mirror()) {
                left.add(p.id());
            } else {
                pending.put(p.id(), p);
            }
        }
        events.info(host, "draining node " + node + ": " + pending.size() + " pods to evict"
                + (left.isEmpty() ? "" : ", " + left.size() + " left (DaemonSet or static)"));
        Map<String, DrainPod> terminating = new LinkedHashMap<>();
        Map<String, Long> nextTry = new LinkedHashMap<>();
        List<String> evicted = new ArrayList<>();
        while (!pending.isEmpty() || !terminating.isEmpty()) {
            long now = System.nanoTime();
            for (var it = pending.values().iterator(); it.hasNext(); ) {
                DrainPod p = it.next();
                if (nextTry.getOrDefault(p.id(), 0L) > now) {
                    continue;
                }
                if (api.evict(p.namespace(), p.name())) {
                    events.info(host, "evicting pod " + p.id());
                    evicted.add(p.id());
                    terminating.put(p.id(), p);
                    it.remove();
                } else {
                    if (!nextTry.containsKey(p.id())) {
                        events.info(host, "pod " + p.id() + " cannot be evicted now (its disruption budget); "
                                + "trying again every " + RETRY.toSeconds() + "s");
                    }
                    nextTry.put(p.id(), now + RETRY.toNanos());
                }
            }
            terminating.values().removeIf(p -> !api.podExists(p.namespace(), p.name(), p.uid()));
            if (pending.isEmpty() && terminating.isEmpty()) {
                break;
            }
            if (System.nanoTime() >= deadline) {
                if (force) {
                    List<String> deleted = new ArrayList<>();
                    for (DrainPod p : pending.values()) {
                        events.warn(host, "deleting pod " + p.id() + ": it could not be evicted within "
                                + timeout.toSeconds() + "s (--force-drain)");
                        api.deletePod(p.namespace(), p.name());
                        deleted.add(p.id());
                    }
                    return new Result(evicted, deleted, left);
                }
                throw timedOut(api, node, timeout, pending, terminating);
            }
            sleep(POLL);
        }
        return new Result(evicted, List.of(), left);
    }

    private static K3gpuException timedOut(ClusterApi api, String node, Duration timeout, Map<String, DrainPod> pending,
                                           Map<String, DrainPod> terminating) {
        List<String> why = new ArrayList<>();
        for (DrainPod p : pending.values()) {
            List<String> budgets = api.budgetsOf(p.namespace(), p.name());
            why.add("pod " + p.id() + " cannot be evicted"
                    + (budgets.isEmpty() ? "" : ": PodDisruptionBudget " + String.join(", ", budgets)));
        }
        for (DrainPod p : terminating.values()) {
            why.add("pod " + p.id() + " is still terminating");
        }
        return new K3gpuException(ExitCode.TIMEOUT, "draining node " + node + " did not finish within "
                + timeout.toSeconds() + "s: " + String.join("; ", why),
                "let the budget allow it (more replicas, or a looser minAvailable), raise cluster.upgrade.drainTimeout, "
                        + "or apply --force-drain to delete what cannot be evicted");
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "interrupted while draining", null, e);
        }
    }
}
