package io.k3gpu.cli;

import io.k3gpu.core.fleet.ClusterSpec;
import io.k3gpu.core.fleet.FleetEvents;
import io.k3gpu.core.fleet.HostResult;
import io.k3gpu.core.fleet.HostSpec;
import io.k3gpu.core.text.TerminalText;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The progress of apply and reset -f, host by host. Three renderings: {@link Mode#LIVE} (a terminal: one line per
 * host with its current step, elapsed time and result, and an overall bar, redrawn in place), {@link Mode#PLAIN}
 * (a line per event, for logs and pipes) and {@link Mode#JSON} (a JSON object per event, for machines).
 */
final class FleetProgress implements FleetEvents, AutoCloseable {
    enum Mode { LIVE, PLAIN, JSON }

    private final PrintWriter out;
    private final Mode mode;
    private final LongSupplier nanos;
    private final long t0;
    private final int columns;
    private final int maxLines;
    private final String verb;
    private final Map<HostSpec, Row> rows = new LinkedHashMap<>();
    private final List<String> warnings = new ArrayList<>();
    private final ScheduledExecutorService ticker;
    private int drawnLines;

    /** What the view knows about one host. */
    private static final class Row {
        String state = "queued";
        String step = "";
        boolean begun;
        long started;
        HostResult result;
    }

    /**
     * @param verb    what is being done, for the bar ("applied", "reset")
     * @param columns the terminal's width (LIVE lines are cut to it)
     */
    FleetProgress(PrintWriter out, Mode mode, ClusterSpec spec, String verb, int columns, LongSupplier nanos) {
        this(out, mode, spec, verb, columns, Integer.MAX_VALUE, nanos);
    }

    /** @param maxLines the terminal's height: a LIVE frame of more hosts shows the busy and failed ones first */
    FleetProgress(PrintWriter out, Mode mode, ClusterSpec spec, String verb, int columns, int maxLines,
                  LongSupplier nanos) {
        this.out = out;
        this.mode = mode;
        this.nanos = nanos;
        this.t0 = nanos.getAsLong();
        this.columns = Math.max(40, columns);
        this.maxLines = Math.max(3, maxLines);
        this.verb = verb;
        for (HostSpec h : spec.hosts()) {
            rows.put(h, new Row());
        }
        if (mode == Mode.LIVE) {
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "k3gpu-progress");
                t.setDaemon(true);
                return t;
            });
            ticker.scheduleAtFixedRate(this::redraw, 250, 250, TimeUnit.MILLISECONDS);
            redraw();
        } else {
            ticker = null;
        }
    }

    /** Only these hosts take part (reset --host): the others leave the view. */
    synchronized void only(List<HostSpec> hosts) {
        rows.keySet().retainAll(hosts);
    }

    @Override
    public synchronized void started(HostSpec host) {
        Row r = row(host);
        r.state = "running";
        r.begun = true;
        r.started = nanos.getAsLong();
        if (mode == Mode.PLAIN) {
            line(host, "started (" + role(host) + ")");
        } else if (mode == Mode.JSON) {
            Map<String, Object> e = event("started", host);
            e.put("role", role(host));
            json(e);
        } else {
            redraw();
        }
    }

    @Override
    public synchronized void step(HostSpec host, String step) {
        Row r = row(host);
        r.step = step;
        if (mode == Mode.PLAIN) {
            line(host, step);
        } else if (mode == Mode.JSON) {
            Map<String, Object> e = event("step", host);
            e.put("step", step);
            json(e);
        }
    }

    @Override
    public synchronized void warn(HostSpec host, String message) {
        if (mode == Mode.PLAIN) {
            line(host, "warning: " + message);
        } else if (mode == Mode.JSON) {
            Map<String, Object> e = event("warning", host);
            e.put("message", message);
            json(e);
        } else if (!warnings.contains(host.name() + ": " + message)) {
            warnings.add(host.name() + ": " + message);
        }
    }

    @Override
    public synchronized void finished(HostResult result) {
        Row r = row(result.host());
        r.result = result;
        r.state = result.status().label();
        if (mode == Mode.PLAIN) {
            line(result.host(), outcome(result));
        } else if (mode == Mode.JSON) {
            Map<String, Object> e = event("finished", result.host());
            e.put("status", result.status().label());
            e.put("changes", result.changes());
            e.put("error", result.error());
            e.put("exitCode", result.exitCode() == null ? null : result.exitCode().code());
            e.put("elapsedMs", result.elapsed().toMillis());
            json(e);
        } else {
            redraw();
        }
    }

    /**
     * The LIVE frame: one line per host and the bar, without ANSI codes. When the hosts do not fit in the terminal,
     * the running and failed ones are shown first and a line counts the others.
     */
    synchronized List<String> frame() {
        long now = nanos.getAsLong();
        int nameWidth = 4;
        for (HostSpec h : rows.keySet()) {
            nameWidth = Math.max(nameWidth, Math.min(24, h.name().length()));
        }
        List<Map.Entry<HostSpec, Row>> shown = new ArrayList<>(rows.entrySet());
        int hidden = 0;
        if (shown.size() + 1 > maxLines) {
            List<Map.Entry<HostSpec, Row>> busy = new ArrayList<>();
            for (Map.Entry<HostSpec, Row> e : shown) {
                if (e.getValue().state.equals("running")) {
                    busy.add(e);
                }
            }
            for (Map.Entry<HostSpec, Row> e : shown) {
                if (e.getValue().result != null && !e.getValue().result.ok()) {
                    busy.add(e);
                }
            }
            hidden = shown.size() - Math.min(busy.size(), maxLines - 2);
            shown = busy.subList(0, Math.min(busy.size(), maxLines - 2));
        }
        List<String> lines = new ArrayList<>();
        for (Map.Entry<HostSpec, Row> e : shown) {
            HostSpec h = e.getKey();
            Row r = e.getValue();
            String what;
            long elapsed;
            if (r.result != null) {
                what = detail(r.result);
                elapsed = r.result.elapsed().toNanos();
            } else {
                what = r.step;
                elapsed = r.begun ? now - r.started : -1;
            }
            String line = String.format("%-" + nameWidth + "s  %-6s  %-9s  %6s  %s", cut(h.name(), nameWidth),
                    h.role().label(), r.state, elapsed < 0 ? "" : seconds(elapsed), what);
            lines.add(cut(line.stripTrailing(), columns));
        }
        int done = 0;
        int queued = 0;
        for (Row r : rows.values()) {
            done += r.result != null ? 1 : 0;
            queued += r.state.equals("queued") ? 1 : 0;
        }
        if (hidden > 0) {
            lines.add("... " + hidden + " more hosts not shown (" + queued + " queued)");
        }
        int width = Math.min(30, columns - 30);
        int total = rows.size();
        int filled = total == 0 ? width : (int) ((long) width * done / total);
        lines.add("[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + done + "/" + total + " hosts "
                + verb + "  " + seconds(now - t0));
        return lines;
    }

    private synchronized void redraw() {
        if (mode != Mode.LIVE) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        if (drawnLines > 0) {
            sb.append("\033[").append(drawnLines).append('A');
        }
        List<String> lines = frame();
        for (String l : lines) {
            // The steps and errors shown are node text: drawn without their own control sequences.
            sb.append('\r').append(TerminalText.strip(l)).append("\033[K\n");
        }
        for (int i = lines.size(); i < drawnLines; i++) {
            sb.append("\r\033[K\n");
        }
        drawnLines = Math.max(drawnLines, lines.size());
        out.print(sb);
        out.flush();
    }

    /** Stops redrawing; the last frame (and, on a terminal, the warnings gathered) stays. */
    @Override
    public synchronized void close() {
        if (ticker != null) {
            ticker.shutdownNow();
            redraw();
            for (String w : warnings) {
                out.println("warning: " + TerminalText.strip(w));
            }
            out.flush();
        }
    }

    static String outcome(HostResult r) {
        return r.status().label() + (r.ok() && r.changes().isEmpty() ? "" : ": " + detail(r));
    }

    static String detail(HostResult r) {
        return switch (r.status()) {
            case CHANGED -> String.join("; ", r.changes());
            case UNCHANGED -> "nothing to change";
            case FAILED, SKIPPED -> r.error();
        };
    }

    static String role(HostSpec h) {
        return h.role().label();
    }

    private Row row(HostSpec h) {
        return rows.computeIfAbsent(h, k -> new Row());
    }

    private void line(HostSpec h, String text) {
        out.println("[" + String.format("%6s", seconds(nanos.getAsLong() - t0)) + "] " + h.name() + ": " + text);
        out.flush();
    }

    private Map<String, Object> event(String kind, HostSpec h) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("event", kind);
        e.put("host", h.name());
        e.put("address", h.address());
        e.put("t", Math.round((nanos.getAsLong() - t0) / 1e6) / 1e3);
        return e;
    }

    private void json(Map<String, Object> e) {
        jsonLine(out, e);
    }

    /** One JSON object on one line. */
    static void jsonLine(PrintWriter out, Map<String, Object> e) {
        out.println(Json.MAPPER.writer().withoutFeatures(tools.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(e));
        out.flush();
    }

    static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1fs", nanos / 1e9);
    }

    private static String cut(String s, int width) {
        return s.length() <= width ? s : s.substring(0, Math.max(0, width - 3)) + "...";
    }
}
