package io.k3gpu.cli;

import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.live.NodeState;
import io.k3gpu.core.telemetry.live.NodeStatus;
import io.k3gpu.core.telemetry.live.Recorder;
import io.k3gpu.core.telemetry.live.TelemetryListener;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the dashboard shows of the telemetry fleet ({@link TelemetryRun}, as {@code stats --all} and
 * {@code exporter --all}): each node's samples of the last {@code window} as recording lines ({@link Recorder}'s
 * JSONL, so a download is a recording {@code stats plot} reads), its state, and the browsers that follow it live.
 * Each sample is turned into JSON once, whatever the number of browsers; a browser too slow to take its events is
 * dropped (its page reconnects and reloads the history) rather than holding memory or the fleet's threads.
 */
final class DashboardTelemetry implements TelemetryListener {
    private static final JsonMapper MAPPER = JsonMapper.builder().build();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_LOCAL_DATE_TIME;
    static final int QUEUE = 512;

    private final Duration window;
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();

    DashboardTelemetry(List<String> names, Duration window) {
        this.window = window;
        for (String n : names) {
            nodes.put(n, new Node());
        }
    }

    /** One node's recent recording lines and state. */
    private static final class Node {
        final ArrayDeque<Line> lines = new ArrayDeque<>();
        NodeStatus status;
        Integer gpuLoad;
        LocalDateTime last;
        /** The first GPU's recent loads for the sparkline: epoch seconds and percent (null: not printed). */
        final ArrayDeque<Object[]> loads = new ArrayDeque<>();
    }
    static final int SPARK = 120;

    private record Line(LocalDateTime received, String json) {
    }

    /** An event for a browser: its SSE name and its one-line JSON data. */
    record Event(String name, String data) {
    }

    /** A browser's live feed: the full samples of one node, or ({@code node} null) the summary of all of them. */
    final class Subscriber implements AutoCloseable {
        final String node;
        final BlockingQueue<Event> queue = new ArrayBlockingQueue<>(QUEUE);
        volatile boolean overflowed;

        private Subscriber(String node) {
            this.node = node;
        }

        void offer(Event e) {
            if (!queue.offer(e)) {
                overflowed = true;
            }
        }

        @Override
        public void close() {
            subscribers.remove(this);
        }
    }

    boolean follows(String node) {
        return nodes.containsKey(node);
    }

    List<String> names() {
        return List.copyOf(nodes.keySet());
    }

    int subscribers() {
        return subscribers.size();
    }

    Subscriber subscribe(String node) {
        Subscriber s = new Subscriber(node);
        subscribers.add(s);
        return s;
    }

    @Override
    public void sample(String node, LocalDateTime received, GpuSample sample) {
        Node n = nodes.get(node);
        if (n == null) {
            return;
        }
        LocalDateTime at = received.truncatedTo(ChronoUnit.MILLIS);
        String json = Recorder.jsonLine(node, at, sample);
        String summary = null;
        synchronized (n) {
            n.lines.addLast(new Line(at, json));
            LocalDateTime oldest = at.minus(window);
            while (!n.lines.isEmpty() && n.lines.peekFirst().received().isBefore(oldest)) {
                n.lines.removeFirst();
            }
            // nvidia-smi prints a line per GPU: the node's load is its first GPU's
            if (sample.index() == null || sample.index() == 0) {
                n.gpuLoad = sample.gpuLoadPercent();
                n.last = at;
                n.loads.addLast(new Object[]{received.atZone(java.time.ZoneId.systemDefault()).toEpochSecond(),
                        sample.gpuLoadPercent()});
                if (n.loads.size() > SPARK) {
                    n.loads.removeFirst();
                }
                summary = summary(node, at, sample.gpuLoadPercent(), (Long) n.loads.peekLast()[0]);
            }
        }
        for (Subscriber s : subscribers) {
            if (node.equals(s.node)) {
                s.offer(new Event("sample", json));
            } else if (s.node == null && summary != null) {
                s.offer(new Event("load", summary));
            }
        }
    }

    @Override
    public void status(NodeStatus status) {
        Node n = nodes.get(status.node());
        if (n == null) {
            return;
        }
        synchronized (n) {
            n.status = status;
        }
        String json = MAPPER.writeValueAsString(statusNode(status.node(), status));
        for (Subscriber s : subscribers) {
            if (s.node == null || s.node.equals(status.node())) {
                s.offer(new Event("status", json));
            }
        }
    }

    private static String summary(String node, LocalDateTime at, Integer load, long epochSeconds) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("node", node);
        o.put("t", epochSeconds);
        o.put("received", TIME.format(at));
        o.put("gpuLoadPercent", load);
        return MAPPER.writeValueAsString(o);
    }

    static ObjectNode statusNode(String node, NodeStatus s) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("node", node);
        o.put("state", s == null ? "CONNECTING" : s.state().name());
        o.put("source", s == null || s.source() == null ? null : s.source().id());
        o.put("detail", s == null ? null : s.detail());
        return o;
    }

    /** The node's recording lines of the window, oldest first; null for a node not followed. */
    List<String> history(String node) {
        Node n = nodes.get(node);
        if (n == null) {
            return null;
        }
        synchronized (n) {
            List<String> out = new ArrayList<>(n.lines.size());
            n.lines.forEach(l -> out.add(l.json()));
            return out;
        }
    }

    /** The node's telemetry state and its GPU loads of the window (for the cluster page's sparklines). */
    ObjectNode overview(String node) {
        Node n = nodes.get(node);
        if (n == null) {
            return null;
        }
        synchronized (n) {
            ObjectNode o = statusNode(node, n.status);
            o.put("gpuLoadPercent", n.gpuLoad);
            o.put("last", n.last == null ? null : TIME.format(n.last));
            var t = o.putArray("t");
            var load = o.putArray("load");
            for (Object[] p : n.loads) {
                t.add((Long) p[0]);
                load.add((Integer) p[1]);
            }
            return o;
        }
    }

    /** Whether the node's telemetry is down (it cannot be reached, or its tool fails). */
    boolean down(String node) {
        Node n = nodes.get(node);
        if (n == null) {
            return false;
        }
        synchronized (n) {
            return n.status != null && n.status.state() == NodeState.DOWN;
        }
    }
}
