package io.k3gpu.core.remote;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The changes this process has begun on nodes and not finished. A flow registers how to undo a change before it
 * acts and closes the registration when the change is done (or rolled back). When the run is interrupted (Ctrl-C),
 * the CLI's shutdown hook calls {@link #undoAll} and reports, node by node, what was rolled back and what was left.
 * One registry per process, because interruption is per process.
 */
public final class ChangesInFlight {
    private static final ChangesInFlight PROCESS = new ChangesInFlight();
    private final Map<Long, Change> pending = new LinkedHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    /** Undoes a change; returns what it did ("... restored from ..."); throws when it could not. */
    @FunctionalInterface
    public interface Undo {
        String run();
    }

    /**
     * @param host   the node
     * @param what   the change, as "writing /etc/docker/daemon.json and restarting docker"
     * @param ifLeft what is on the node when the undo cannot run, and what to do by hand (the backup to restore)
     * @param undo   null when the step cannot be undone midway (an install script): the hook then says what is left
     */
    public record Change(String host, String what, String ifLeft, Undo undo) {
    }

    /** What the shutdown hook did for one node. */
    public record Outcome(String host, boolean undone, String detail) {
    }

    /** Removes its change from the registry when closed; closing twice is harmless. */
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    public static ChangesInFlight process() {
        return PROCESS;
    }

    public Registration begin(Change change) {
        long id = ids.incrementAndGet();
        synchronized (pending) {
            pending.put(id, change);
        }
        return () -> {
            synchronized (pending) {
                pending.remove(id);
            }
        };
    }

    /**
     * Runs every pending undo, all at once, and waits at most {@code limit} for them; each change leaves the
     * registry as its undo starts, so a flow finishing at the same moment cannot undo it twice.
     */
    public List<Outcome> undoAll(Duration limit) {
        List<Change> changes;
        synchronized (pending) {
            changes = List.copyOf(pending.values());
            pending.clear();
        }
        List<CompletableFuture<String>> running = new ArrayList<>();
        for (Change c : changes) {
            CompletableFuture<String> f = new CompletableFuture<>();
            if (c.undo() == null) {
                f.completeExceptionally(new IllegalStateException(c.what() + " cannot be undone midway"));
                running.add(f);
                continue;
            }
            Thread t = new Thread(() -> {
                try {
                    f.complete(c.undo().run());
                } catch (RuntimeException e) {
                    f.completeExceptionally(e);
                }
            }, "undo " + c.host());
            t.setDaemon(true);
            t.start();
            running.add(f);
        }
        long deadline = System.nanoTime() + limit.toNanos();
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < changes.size(); i++) {
            Change c = changes.get(i);
            try {
                long left = Math.max(1, deadline - System.nanoTime());
                outcomes.add(new Outcome(c.host(), true, running.get(i).get(left, TimeUnit.NANOSECONDS)));
            } catch (TimeoutException e) {
                outcomes.add(new Outcome(c.host(), false, "rolling back did not finish within "
                        + RemoteTimeoutException.format(limit) + "; " + c.ifLeft()));
            } catch (ExecutionException e) {
                outcomes.add(new Outcome(c.host(), false, c.undo() == null ? c.ifLeft()
                        : "rolling back failed (" + e.getCause().getMessage() + "); " + c.ifLeft()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                outcomes.add(new Outcome(c.host(), false, c.ifLeft()));
            }
        }
        return outcomes;
    }
}
