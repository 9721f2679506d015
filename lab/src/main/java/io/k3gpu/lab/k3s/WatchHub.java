package io.k3gpu.lab.k3s;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import tools.jackson.databind.node.ObjectNode;

/**
 * Every change of the store as a watch event (ADDED, MODIFIED, DELETED) with its resource version, fanned out to
 * the open watches. The last events are kept so that a watch started from a list's resourceVersion misses nothing
 * in between, as with a real apiserver; a watch from a version older than that window gets 410 Gone.
 */
final class WatchHub {
    static final int WINDOW = 4096;

    /** One change; {@code previous} is the object before a MODIFIED, null otherwise. */
    record Event(long resourceVersion, String type, ApiResources.Resource resource, ObjectNode object,
                 ObjectNode previous) {
        String namespace() {
            return Json.text(object, "metadata.namespace");
        }

        String name() {
            return Json.text(object, "metadata.name");
        }
    }

    interface Listener {
        void onEvent(Event event);
    }

    /**
     * A watch: {@code view} turns a change into the event this watch sees (a MODIFIED that leaves its selector is
     * a DELETED, one that enters it an ADDED), or null when it does not concern the watch.
     */
    record Subscription(Function<Event, Event> view, Listener listener) {
    }

    /** Thrown when a watch asks for history that is gone. */
    static final class TooOldException extends RuntimeException {
        TooOldException(String message) {
            super(message);
        }
    }

    private final Deque<Event> recent = new ArrayDeque<>();
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private long oldestKept;
    private long latest;

    /** The newest resource version published (a bookmark's version). */
    synchronized long latest() {
        return latest;
    }

    synchronized void publish(Event event) {
        latest = Math.max(latest, event.resourceVersion());
        recent.addLast(event);
        if (recent.size() > WINDOW) {
            oldestKept = recent.removeFirst().resourceVersion();
        }
        for (Subscription s : subscriptions) {
            Event seen = s.view().apply(event);
            if (seen != null) {
                s.listener().onEvent(seen);
            }
        }
    }

    /**
     * Registers a watch and returns the kept events after {@code fromVersion} that it wants, atomically with
     * respect to new events (they are delivered to the listener after this returns).
     */
    synchronized List<Event> subscribe(Subscription s, long fromVersion) {
        if (fromVersion > 0 && fromVersion < oldestKept) {
            throw new TooOldException("too old resource version: " + fromVersion + " (" + oldestKept + ")");
        }
        List<Event> replay = new ArrayList<>();
        if (fromVersion > 0) {
            for (Event e : recent) {
                Event seen = e.resourceVersion() > fromVersion ? s.view().apply(e) : null;
                if (seen != null) {
                    replay.add(seen);
                }
            }
        }
        subscriptions.add(s);
        return replay;
    }

    void unsubscribe(Subscription s) {
        subscriptions.remove(s);
    }
}
