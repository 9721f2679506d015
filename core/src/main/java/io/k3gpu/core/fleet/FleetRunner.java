package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a fleet operation phase by phase; inside a phase, up to its parallelism of hosts at once. A host that fails
 * does not stop the others: its failure becomes its {@link HostResult}. Only a gate phase (the first server, which
 * every other host needs) skips the later phases when it fails.
 */
public final class FleetRunner {

    /** The work on one host: returns what it changed (empty: nothing), throws when it fails. */
    @FunctionalInterface
    public interface Work {
        List<String> run(HostSpec host, Events events);
    }

    /**
     * @param parallel at most this many hosts at once (at least 1)
     * @param gate     when a host of this phase fails, the later phases are skipped
     */
    public record Phase(String name, List<HostSpec> hosts, int parallel, boolean gate, Work work) {
        public Phase {
            hosts = List.copyOf(hosts);
            if (parallel < 1) {
                throw new IllegalArgumentException("parallel must be at least 1");
            }
        }
    }

    private final FleetEvents events;

    public FleetRunner(FleetEvents events) {
        this.events = events;
    }

    /** Runs the phases in order; the results come in {@code order} (the file's order), for the hosts in a phase. */
    public List<HostResult> run(List<HostSpec> order, List<Phase> phases) {
        Map<HostSpec, HostResult> results = new ConcurrentHashMap<>();
        String blocked = null;
        for (Phase p : phases) {
            if (blocked != null) {
                for (HostSpec h : p.hosts()) {
                    HostResult skipped = new HostResult(h, HostResult.Status.SKIPPED, List.of(), blocked, null,
                            Duration.ZERO);
                    results.put(h, skipped);
                    events.finished(skipped);
                }
                continue;
            }
            runPhase(p, results);
            if (p.gate()) {
                for (HostSpec h : p.hosts()) {
                    if (results.get(h).status() == HostResult.Status.FAILED) {
                        blocked = "skipped: " + h.name() + " (" + p.name() + ") failed";
                        break;
                    }
                }
            }
        }
        List<HostResult> out = new ArrayList<>();
        for (HostSpec h : order) {
            HostResult r = results.get(h);
            if (r != null) {
                out.add(r);
            }
        }
        return out;
    }

    private void runPhase(Phase p, Map<HostSpec, HostResult> results) {
        if (p.hosts().isEmpty()) {
            return;
        }
        int n = Math.min(p.parallel(), p.hosts().size());
        AtomicInteger count = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "k3gpu-fleet-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (HostSpec h : p.hosts()) {
                futures.add(pool.submit(() -> results.put(h, runOne(p, h))));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "interrupted", null, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("internal error in a host's work: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private HostResult runOne(Phase p, HostSpec h) {
        long t0 = System.nanoTime();
        events.started(h);
        HostResult r;
        try {
            List<String> changes = p.work().run(h, events.of(h));
            r = new HostResult(h, changes.isEmpty() ? HostResult.Status.UNCHANGED : HostResult.Status.CHANGED,
                    changes, null, null, Duration.ofNanos(System.nanoTime() - t0));
        } catch (K3gpuException e) {
            r = new HostResult(h, HostResult.Status.FAILED, List.of(), oneLine(e.getMessage())
                    + (e.hint() == null ? "" : "; " + oneLine(e.hint())), e.exitCode(), Duration.ofNanos(System.nanoTime() - t0));
        } catch (RuntimeException e) {
            r = new HostResult(h, HostResult.Status.FAILED, List.of(),
                    e.getMessage() == null ? e.getClass().getSimpleName() : oneLine(e.getMessage()), ExitCode.FAILED,
                    Duration.ofNanos(System.nanoTime() - t0));
        }
        events.finished(r);
        return r;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
