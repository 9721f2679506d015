package io.k3gpu.cli.chart;

import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.live.RecordedSample;

import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the telemetry charts show, taken from samples: panels of named time series (GPU load, CPU load, memory,
 * temperatures, power). Pure: no drawing here. Builds incrementally ({@link #add}), so a live run keeps only the
 * numbers it will plot, not the samples.
 *
 * <p>x values are seconds since the first sample's time; when no sample has a time (tegrastats of JetPack 4 read
 * by {@code stats parse}), the sample's position in the file instead.
 */
public final class ChartData {
    /** More series than this in a panel: temperatures and power are reduced to one line per node. */
    static final int MAX_SERIES = 12;
    private static final String JETSON = "jetson";
    private static final String DGPU = "dgpu";

    /** One line: x and y in arrival order (NaN y = a gap). */
    public static final class Series {
        final String label;
        final boolean dashed;
        double[] x = new double[64];
        double[] y = new double[64];
        int n;

        Series(String label, boolean dashed) {
            this.label = label;
            this.dashed = dashed;
        }

        void add(double px, double py) {
            if (n == x.length) {
                x = java.util.Arrays.copyOf(x, n * 2);
                y = java.util.Arrays.copyOf(y, n * 2);
            }
            x[n] = px;
            y[n] = py;
            n++;
        }

        public String label() {
            return label;
        }

        public int size() {
            return n;
        }

        public double x(int i) {
            return x[i];
        }

        public double y(int i) {
            return y[i];
        }

        public boolean dashed() {
            return dashed;
        }
    }

    /** The panels, in the order they are drawn. */
    public enum Panel {
        GPU_LOAD("GPU load", "%", 100),
        CPU_LOAD("CPU load (mean of online cores)", "%", 100),
        MEMORY("Memory used", "GiB", Double.NaN),
        TEMPERATURE("Temperature", "\u00b0C", Double.NaN),
        POWER("Power", "W", Double.NaN);

        final String title;
        final String unit;
        final double fixedMax;

        Panel(String title, String unit, double fixedMax) {
            this.title = title;
            this.unit = unit;
            this.fixedMax = fixedMax;
        }

        public String title() {
            return title;
        }

        public String unit() {
            return unit;
        }
    }

    /** Series per panel, per kind of node: Jetsons ("jetson") and discrete GPUs ("dgpu") apart. */
    private final Map<Panel, Map<String, Map<String, Series>>> panels = new LinkedHashMap<>();
    /** Per node and panel: the detailed series (all sensors, all rails) and the per-node summary. */
    private final Map<String, Series> nodeMaxTemp = new LinkedHashMap<>();
    private final Map<String, Series> nodeFirstRail = new LinkedHashMap<>();
    private final Set<String> nodes = new LinkedHashSet<>();
    private LocalDateTime origin;
    private LocalDateTime last;
    private boolean timed;
    private long index;
    private int samples;

    public ChartData() {
        for (Panel p : Panel.values()) {
            panels.put(p, new LinkedHashMap<>());
        }
    }

    /** The chart data of these samples. */
    public static ChartData of(List<RecordedSample> samples) {
        ChartData d = new ChartData();
        boolean anyTime = samples.stream().anyMatch(s -> s.when() != null);
        d.timed = anyTime;
        for (RecordedSample s : samples) {
            if (!anyTime || s.when() != null) {
                d.add(s.node(), s.when(), s.sample());
            }
        }
        return d;
    }

    /** Adds one sample of {@code node} (null: a single unnamed node) taken at {@code when} (null: untimed). */
    public synchronized void add(String node, LocalDateTime when, GpuSample s) {
        String name = node == null ? "" : node;
        nodes.add(name);
        double x;
        if (when != null && (timed || samples == 0)) {
            timed = true;
            if (origin == null) {
                origin = when;
            }
            last = when;
            x = Duration.between(origin, when).toMillis() / 1000.0;
        } else {
            x = index;
        }
        index++;
        samples++;
        String prefix = name.isEmpty() ? "" : name + " ";
        if (s.source() == Source.NVIDIA_SMI) {
            String gpu = prefix + "gpu" + (s.index() == null ? "" : s.index());
            add(Panel.GPU_LOAD, DGPU, gpu, x, s.gpuLoadPercent(), false);
            add(Panel.MEMORY, DGPU, gpu + " used", x,
                    s.memoryUsedMiB() == null ? null : s.memoryUsedMiB() / 1024.0, false);
            add(Panel.MEMORY, DGPU, gpu + " total", x,
                    s.memoryTotalMiB() == null ? null : s.memoryTotalMiB() / 1024.0, true);
            add(Panel.TEMPERATURE, DGPU, gpu, x, s.temperatureC(), false);
            summary(nodeMaxTemp, gpu, x, s.temperatureC());
            add(Panel.POWER, DGPU, gpu, x, s.powerDrawW(), false);
            summary(nodeFirstRail, gpu, x, s.powerDrawW());
            return;
        }
        String label = name.isEmpty() ? "" : name;
        add(Panel.GPU_LOAD, JETSON, label.isEmpty() ? "GPU" : label, x, s.gpuLoadPercent(), false);
        add(Panel.CPU_LOAD, JETSON, label.isEmpty() ? "CPU" : label, x, meanCpu(s), false);
        add(Panel.MEMORY, JETSON, prefix + "RAM", x, s.ramUsedMB() == null ? null : s.ramUsedMB() / 1024.0, false);
        add(Panel.MEMORY, JETSON, prefix + "RAM total", x,
                s.ramTotalMB() == null ? null : s.ramTotalMB() / 1024.0, true);
        if (s.swapTotalMB() != null && s.swapTotalMB() > 0) {
            add(Panel.MEMORY, JETSON, prefix + "swap", x,
                    s.swapUsedMB() == null ? null : s.swapUsedMB() / 1024.0, false);
        }
        Double hottest = null;
        if (s.temperaturesC() != null) {
            for (Map.Entry<String, Double> e : s.temperaturesC().entrySet()) {
                if (e.getValue() == null) {
                    continue;
                }
                add(Panel.TEMPERATURE, JETSON, prefix + e.getKey(), x, e.getValue(), false);
                if (!isPmic(e.getKey()) && (hottest == null || e.getValue() > hottest)) {
                    hottest = e.getValue();
                }
            }
        }
        summary(nodeMaxTemp, prefix + "hottest", x, hottest);
        if (s.powerMilliwatts() != null) {
            boolean first = true;
            for (Map.Entry<String, GpuSample.Power> e : s.powerMilliwatts().entrySet()) {
                Integer mw = e.getValue().current();
                Double w = mw == null ? null : mw / 1000.0;
                add(Panel.POWER, JETSON, prefix + e.getKey(), x, w, false);
                if (first) {
                    summary(nodeFirstRail, prefix + e.getKey(), x, w);
                    first = false;
                }
            }
        }
    }

    /** The PMIC "temperature" is a fixed 100 or 50 C placeholder on many boards: not the hottest zone. */
    private static boolean isPmic(String sensor) {
        return sensor.equalsIgnoreCase("PMIC");
    }

    private static Double meanCpu(GpuSample s) {
        if (s.cpus() == null) {
            return null;
        }
        int n = 0;
        double sum = 0;
        for (GpuSample.Cpu c : s.cpus()) {
            if (c.online() && c.loadPercent() != null) {
                sum += c.loadPercent();
                n++;
            }
        }
        return n == 0 ? null : sum / n;
    }

    private void add(Panel p, String group, String label, double x, Number v, boolean dashed) {
        if (v == null) {
            return;
        }
        panels.get(p).computeIfAbsent(group, g -> new LinkedHashMap<>())
                .computeIfAbsent(label, l -> new Series(l, dashed)).add(x, v.doubleValue());
    }

    private static void summary(Map<String, Series> m, String label, double x, Double v) {
        if (v != null) {
            m.computeIfAbsent(label, l -> new Series(l, false)).add(x, v);
        }
    }

    /**
     * One panel as drawn: its title, unit, y scale and series.
     *
     * @param fixedMax the top of the y scale (100 for percentages), NaN to fit the data
     */
    public record View(Panel panel, String title, String unit, double fixedMax, List<Series> series) {
    }

    /**
     * The panels to draw, in order, leaving out those without data. Memory and power, whose scales differ by orders
     * of magnitude between a Jetson (watts, GiB) and a data-centre GPU (hundreds of watts, 141 GiB), get a panel
     * each for Jetsons and discrete GPUs when both are present. A panel with more than {@link #MAX_SERIES}
     * temperature or power lines shows one per node instead (the hottest zone, the first rail: the board's input).
     */
    public synchronized List<View> views() {
        List<View> out = new ArrayList<>();
        for (Panel p : Panel.values()) {
            Map<String, Map<String, Series>> groups = panels.get(p);
            boolean split = (p == Panel.MEMORY || p == Panel.POWER) && groups.size() > 1;
            if (split) {
                for (Map.Entry<String, Map<String, Series>> g : groups.entrySet()) {
                    String kind = g.getKey().equals(JETSON) ? "Jetsons" : "discrete GPUs";
                    out.add(new View(p, p.title + ", " + kind, p.unit, p.fixedMax, reduce(p, g.getValue(), null)));
                }
            } else if (!groups.isEmpty()) {
                Map<String, Series> all = new LinkedHashMap<>();
                groups.values().forEach(all::putAll);
                out.add(new View(p, p.title, p.unit, p.fixedMax, reduce(p, all,
                        p == Panel.TEMPERATURE ? nodeMaxTemp : p == Panel.POWER ? nodeFirstRail : null)));
            }
        }
        return out;
    }

    private static List<Series> reduce(Panel p, Map<String, Series> all, Map<String, Series> summary) {
        if (all.size() <= MAX_SERIES) {
            return new ArrayList<>(all.values());
        }
        if (summary != null) {
            return new ArrayList<>(summary.values());
        }
        return all.values().stream().filter(s -> !s.dashed).limit(MAX_SERIES).toList();
    }

    /** How many samples were added. */
    public synchronized int samples() {
        return samples;
    }

    /** The nodes seen, in order ("" for unnamed). */
    public synchronized List<String> nodes() {
        return new ArrayList<>(nodes);
    }

    /** Whether x is seconds since {@link #origin()} (else the sample number). */
    public synchronized boolean timed() {
        return timed && origin != null;
    }

    /** The time of x = 0 when {@link #timed()}. */
    public synchronized LocalDateTime origin() {
        return origin;
    }

    /** The time of the last sample when {@link #timed()}. */
    public synchronized LocalDateTime last() {
        return last;
    }
}
