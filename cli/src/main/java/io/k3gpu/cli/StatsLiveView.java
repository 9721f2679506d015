package io.k3gpu.cli;


import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.live.NodeState;
import io.k3gpu.core.telemetry.live.NodeStatus;
import io.k3gpu.core.telemetry.live.TelemetryListener;
import io.k3gpu.core.text.TerminalText;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The live terminal view of {@code k3gpu stats}: one block per node, stacked; per-core CPU bars, GPU load and clocks,
 * RAM and swap, temperatures, power rails, with short sparklines of the recent past. It keeps each node's latest
 * sample and history ({@link TelemetryListener}) and renders a frame as lines ({@link #render}); {@link #frame}
 * adds the ANSI codes that redraw it in place.
 */
final class StatsLiveView implements TelemetryListener {
    static final int HISTORY = 24;
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT);
    private static final String CLEAR_LINE = "\033[K";

    private final Map<String, NodeView> nodes = new LinkedHashMap<>();
    private final Glyphs glyphs;

    StatsLiveView(List<String> nodeNames, boolean unicode) {
        this.glyphs = unicode ? Glyphs.UNICODE : Glyphs.ASCII;
        for (String n : nodeNames) {
            nodes.put(n, new NodeView());
        }
    }

    private synchronized NodeView view(String node) {
        return nodes.computeIfAbsent(node, n -> new NodeView());
    }

    @Override
    public void sample(String node, LocalDateTime received, GpuSample sample) {
        NodeView v = view(node);
        synchronized (v) {
            v.received = received;
            if (sample.source() == Source.NVIDIA_SMI) {
                int index = sample.index() == null ? -1 : sample.index();
                v.gpus.put(index, sample);
                v.history("gpu" + index, sample.gpuLoadPercent());
                v.history("power" + index, sample.powerDrawW());
            } else {
                v.tegra = sample;
                v.history("gpu", sample.gpuLoadPercent());
                v.history("cpu", meanCpu(sample));
                if (sample.powerMilliwatts() != null && !sample.powerMilliwatts().isEmpty()) {
                    GpuSample.Power p = sample.powerMilliwatts().values().iterator().next();
                    v.history("power", p.current());
                }
            }
        }
    }

    @Override
    public void status(NodeStatus status) {
        NodeView v = view(status.node());
        synchronized (v) {
            v.status = status;
        }
    }

    /** The frame as lines of at most {@code width} columns, without ANSI codes; {@code footer} while running. */
    synchronized List<String> render(int width, boolean footer) {
        int w = Math.max(60, width);
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, NodeView> e : nodes.entrySet()) {
            NodeView v = e.getValue();
            synchronized (v) {
                block(out, e.getKey(), v, w);
            }
        }
        if (footer) {
            out.add(fit("Ctrl-C to stop", w));
        }
        return out;
    }

    /** The frame with the ANSI codes that draw it over the previous one (cursor home, clear each line's rest). */
    String frame(int width, boolean footer) {
        StringBuilder sb = new StringBuilder("\033[H");
        for (String line : render(width, footer)) {
            sb.append(TerminalText.strip(line)).append(CLEAR_LINE).append('\n');
        }
        return sb.append("\033[J").toString();
    }

    private void block(List<String> out, String node, NodeView v, int w) {
        NodeStatus st = v.status;
        Source source = st == null ? null : st.source();
        if (source == null) {
            source = v.tegra != null ? Source.TEGRASTATS : !v.gpus.isEmpty() ? Source.NVIDIA_SMI : null;
        }
        StringBuilder head = new StringBuilder().append(glyphs.node).append(' ').append(node);
        if (source != null) {
            head.append("  ").append(source.id());
        }
        NodeState state = st == null ? (v.received != null ? NodeState.UP : NodeState.CONNECTING) : st.state();
        head.append("  ").append(stateText(state, st));
        if (v.received != null) {
            head.append("  ").append(CLOCK.format(v.received));
        }
        head.append(' ');
        out.add(pad(head.toString(), w, glyphs.rule));
        if (state != NodeState.UP && st != null && st.detail() != null && state != NodeState.CONNECTING) {
            out.add(fit("  " + st.detail(), w));
        }
        if (state != NodeState.UP && state != NodeState.STOPPED) {
            return;
        }
        if (v.tegra != null) {
            tegra(out, v, v.tegra, w);
        }
        for (Map.Entry<Integer, GpuSample> g : new TreeMap<>(v.gpus).entrySet()) {
            discrete(out, v, g.getKey(), g.getValue(), w);
        }
    }

    private static String stateText(NodeState state, NodeStatus st) {
        return switch (state) {
            case UP -> "up";
            case CONNECTING -> "connecting";
            case STOPPED -> "stopped";
            case DOWN -> "DOWN" + (st != null && st.retryIn() != null
                    ? ", retry in " + Math.max(1, st.retryIn().toSeconds()) + "s" : "");
        };
    }

    private void tegra(List<String> out, NodeView v, GpuSample s, int w) {
        List<String> cells = new ArrayList<>();
        if (s.cpus() != null) {
            for (int i = 0; i < s.cpus().size(); i++) {
                GpuSample.Cpu c = s.cpus().get(i);
                String label = String.format(Locale.ROOT, "CPU%-2d", i);
                if (!c.online()) {
                    cells.add(label + " off");
                } else {
                    cells.add(label + " " + bar(c.loadPercent(), 10) + " " + pct(c.loadPercent())
                            + (c.freqMHz() == null ? "" : String.format(Locale.ROOT, " %4dMHz", c.freqMHz())));
                }
            }
        }
        grid(out, cells, 32, w);
        StringBuilder gpu = new StringBuilder("GPU   ").append(bar(s.gpuLoadPercent(), 10)).append(' ')
                .append(pct(s.gpuLoadPercent()));
        if (s.gpuFreqMHz() != null && !s.gpuFreqMHz().isEmpty()) {
            gpu.append(" @");
            for (int i = 0; i < s.gpuFreqMHz().size(); i++) {
                gpu.append(i == 0 ? "" : ",").append(s.gpuFreqMHz().get(i));
            }
            gpu.append("MHz");
        }
        gpu.append("  ").append(spark(v.histories.get("gpu"), 100));
        gpu.append("   CPU avg ").append(spark(v.histories.get("cpu"), 100));
        if (s.emcLoadPercent() != null) {
            gpu.append("   EMC ").append(s.emcLoadPercent()).append('%');
            if (s.emcFreqMHz() != null) {
                gpu.append(" @").append(s.emcFreqMHz()).append("MHz");
            }
        }
        out.add(fit("  " + gpu, w));
        StringBuilder mem = new StringBuilder("RAM   ");
        if (s.ramUsedMB() != null && s.ramTotalMB() != null && s.ramTotalMB() > 0) {
            mem.append(bar((int) Math.round(100.0 * s.ramUsedMB() / s.ramTotalMB()), 10)).append(' ')
                    .append(s.ramUsedMB()).append('/').append(s.ramTotalMB()).append("MB");
        } else {
            mem.append('-');
        }
        if (s.swapTotalMB() != null) {
            mem.append("   SWAP ");
            if (s.swapTotalMB() > 0 && s.swapUsedMB() != null) {
                mem.append(bar((int) Math.round(100.0 * s.swapUsedMB() / s.swapTotalMB()), 6)).append(' ');
            }
            mem.append(s.swapUsedMB()).append('/').append(s.swapTotalMB()).append("MB");
            if (s.swapCachedMB() != null) {
                mem.append(" (cached ").append(s.swapCachedMB()).append("MB)");
            }
        }
        out.add(fit("  " + mem, w));
        if (s.temperaturesC() != null && !s.temperaturesC().isEmpty()) {
            List<String> temps = new ArrayList<>();
            s.temperaturesC().forEach((k, c) -> {
                if (c != null) {
                    temps.add(k + " " + StatsPlainLine.num(c) + glyphs.degree + "C");
                }
            });
            wrap(out, "TEMP  ", temps, w);
        }
        if (s.powerMilliwatts() != null && !s.powerMilliwatts().isEmpty()) {
            List<String> rails = new ArrayList<>();
            boolean first = true;
            for (Map.Entry<String, GpuSample.Power> e : s.powerMilliwatts().entrySet()) {
                Integer cur = e.getValue().current();
                String r = e.getKey() + " " + (cur == null ? "-" : StatsPlainLine.watts(cur)) + "W";
                if (first) {
                    r += " " + spark(v.histories.get("power"), Double.NaN);
                    first = false;
                }
                rails.add(r);
            }
            wrap(out, "POWER ", rails, w);
        }
        if (s.engines() != null) {
            List<String> engines = new ArrayList<>();
            s.engines().forEach((k, e) -> {
                if (e.online()) {
                    engines.add(k + (e.loadPercent() == null ? "" : " " + e.loadPercent() + "%")
                            + (e.freqMHz() == null ? "" : " @" + e.freqMHz() + "MHz"));
                }
            });
            if (!engines.isEmpty()) {
                wrap(out, "ENG   ", engines, w);
            }
        }
    }

    private void discrete(List<String> out, NodeView v, int index, GpuSample g, int w) {
        StringBuilder a = new StringBuilder("GPU").append(index < 0 ? "?" : Integer.toString(index));
        if (g.name() != null) {
            a.append(' ').append(g.name());
        }
        a.append("  ").append(bar(g.gpuLoadPercent(), 10)).append(' ').append(pct(g.gpuLoadPercent())).append("  ")
                .append(spark(v.histories.get("gpu" + index), 100));
        if (g.smClockMHz() != null) {
            a.append("  SM ").append(g.smClockMHz()).append("MHz");
        }
        if (g.memClockMHz() != null) {
            a.append("  MEM ").append(g.memClockMHz()).append("MHz");
        }
        out.add(fit("  " + a, w));
        StringBuilder b = new StringBuilder("      mem ");
        if (g.memoryUsedMiB() != null && g.memoryTotalMiB() != null && g.memoryTotalMiB() > 0) {
            b.append(bar((int) Math.round(100.0 * g.memoryUsedMiB() / g.memoryTotalMiB()), 6)).append(' ')
                    .append(g.memoryUsedMiB()).append('/').append(g.memoryTotalMiB()).append("MiB");
        } else {
            b.append('-');
        }
        if (g.memoryLoadPercent() != null) {
            b.append("  mem util ").append(g.memoryLoadPercent()).append('%');
        }
        if (g.temperatureC() != null) {
            b.append("  ").append(StatsPlainLine.num(g.temperatureC())).append(glyphs.degree).append('C');
        }
        if (g.powerDrawW() != null) {
            b.append("  ").append(String.format(Locale.ROOT, "%.1f", g.powerDrawW()));
            if (g.powerLimitW() != null) {
                b.append('/').append(String.format(Locale.ROOT, "%.0f", g.powerLimitW()));
            }
            b.append("W ").append(spark(v.histories.get("power" + index), Double.NaN));
        }
        out.add(fit("  " + b, w));
    }

    /** Cells of {@code cellWidth} columns, as many per line as fit. */
    private static void grid(List<String> out, List<String> cells, int cellWidth, int w) {
        int per = Math.max(1, (w - 2) / cellWidth);
        for (int i = 0; i < cells.size(); i += per) {
            StringBuilder sb = new StringBuilder("  ");
            for (int j = i; j < Math.min(cells.size(), i + per); j++) {
                String c = cells.get(j);
                sb.append(c);
                if (j + 1 < Math.min(cells.size(), i + per)) {
                    sb.append(" ".repeat(Math.max(1, cellWidth - c.length())));
                }
            }
            out.add(fit(sb.toString(), w));
        }
    }

    /** Items after {@code label}, wrapped at the width (continuation lines indented). */
    private static void wrap(List<String> out, String label, List<String> items, int w) {
        StringBuilder line = new StringBuilder("  ").append(label);
        int base = line.length();
        for (String item : items) {
            if (line.length() > base && line.length() + 2 + item.length() > w) {
                out.add(fit(line.toString(), w));
                line = new StringBuilder(" ".repeat(base));
            }
            if (line.length() > base) {
                line.append("  ");
            }
            line.append(item);
        }
        out.add(fit(line.toString(), w));
    }

    /** A bar of {@code width} columns for a percentage, in eighths. */
    String bar(Integer percent, int width) {
        if (percent == null) {
            return " ".repeat(width);
        }
        double f = Math.max(0, Math.min(100, percent)) / 100.0;
        int eighths = (int) Math.round(f * width * 8);
        StringBuilder sb = new StringBuilder(width);
        for (int i = 0; i < width; i++) {
            int cell = Math.max(0, Math.min(8, eighths - i * 8));
            sb.append(cell == 0 ? glyphs.empty : glyphs.bars.charAt(cell - 1));
        }
        return sb.toString();
    }

    /** A sparkline of the history: fixed scale 0..max, or the history's own range when max is NaN. */
    String spark(History h, double max) {
        if (h == null || h.n == 0) {
            return "";
        }
        double lo = 0;
        double hi = max;
        if (Double.isNaN(max)) {
            lo = Double.POSITIVE_INFINITY;
            hi = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < h.n; i++) {
                lo = Math.min(lo, h.get(i));
                hi = Math.max(hi, h.get(i));
            }
            if (hi - lo < 1e-9) {
                lo = hi - 1;
            }
        }
        StringBuilder sb = new StringBuilder(h.n);
        String levels = glyphs.spark;
        for (int i = 0; i < h.n; i++) {
            double f = (h.get(i) - lo) / (hi - lo);
            int k = (int) Math.round(Math.max(0, Math.min(1, f)) * (levels.length() - 1));
            sb.append(levels.charAt(k));
        }
        return sb.toString();
    }

    private static String pct(Integer p) {
        return p == null ? "  -" : String.format(Locale.ROOT, "%3d%%", p);
    }

    private static Double meanCpu(GpuSample s) {
        if (s.cpus() == null) {
            return null;
        }
        double sum = 0;
        int n = 0;
        for (GpuSample.Cpu c : s.cpus()) {
            if (c.online() && c.loadPercent() != null) {
                sum += c.loadPercent();
                n++;
            }
        }
        return n == 0 ? null : sum / n;
    }

    private static String fit(String s, int w) {
        return s.length() <= w ? s : s.substring(0, w);
    }

    private static String pad(String s, int w, char fill) {
        if (s.length() >= w) {
            return s.substring(0, w);
        }
        return s + String.valueOf(fill).repeat(w - s.length());
    }

    /** The characters of the view: Unicode blocks, or plain ASCII when the terminal is not UTF-8. */
    enum Glyphs {
        UNICODE("\u258f\u258e\u258d\u258c\u258b\u258a\u2589\u2588", '\u00b7', "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588",
                '\u2500', "\u25b6", "\u00b0"),
        ASCII("::::####", '.', "_.-=+*#@", '-', ">", "");

        final String bars;
        final char empty;
        final String spark;
        final char rule;
        final String node;
        final String degree;

        Glyphs(String bars, char empty, String spark, char rule, String node, String degree) {
            this.bars = bars;
            this.empty = empty;
            this.spark = spark;
            this.rule = rule;
            this.node = node;
            this.degree = degree;
        }
    }

    /** The last {@link #HISTORY} values of one quantity. */
    static final class History {
        final double[] values = new double[HISTORY];
        int start;
        int n;

        void add(double v) {
            if (n < values.length) {
                values[(start + n++) % values.length] = v;
            } else {
                values[start] = v;
                start = (start + 1) % values.length;
            }
        }

        double get(int i) {
            return values[(start + i) % values.length];
        }
    }

    /** What is kept per node. */
    private static final class NodeView {
        NodeStatus status;
        GpuSample tegra;
        final Map<Integer, GpuSample> gpus = new TreeMap<>();
        final Map<String, History> histories = new LinkedHashMap<>();
        LocalDateTime received;

        void history(String key, Number value) {
            if (value != null) {
                histories.computeIfAbsent(key, k -> new History()).add(value.doubleValue());
            }
        }
    }
}
