package io.k3gpu.core.telemetry.prometheus;

import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.live.NodeState;
import io.k3gpu.core.telemetry.live.NodeStatus;
import io.k3gpu.core.telemetry.live.TelemetryListener;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The followed nodes as Prometheus metrics, built at scrape time from each node's latest samples (nothing is done per
 * sample but keeping it). Register it with a {@code PrometheusRegistry}; feed it as the {@link TelemetryListener} of
 * a {@code TelemetryFleet}.
 *
 * <p>Every node: {@code k3gpu_node_up} (1 while samples arrive, 0 while it is unreachable or its tool is down),
 * {@code k3gpu_node_samples_total}, {@code k3gpu_node_bad_lines_total}, {@code k3gpu_node_reconnects_total},
 * {@code k3gpu_node_last_sample_timestamp_seconds}. Hardware values are exported only while the node is up, so a
 * dead node's last values do not linger.
 *
 * <p>Discrete GPUs (nvidia-smi), named and scaled as NVIDIA's DCGM exporter does so that its dashboards work, labels
 * {@code node, gpu, UUID, modelName}: {@code DCGM_FI_DEV_GPU_UTIL} (%), {@code DCGM_FI_DEV_MEM_COPY_UTIL} (%),
 * {@code DCGM_FI_DEV_FB_USED}, {@code DCGM_FI_DEV_FB_FREE}, {@code DCGM_FI_DEV_FB_TOTAL} (MiB),
 * {@code DCGM_FI_DEV_GPU_TEMP} (&deg;C), {@code DCGM_FI_DEV_POWER_USAGE}, {@code DCGM_FI_DEV_POWER_MGMT_LIMIT} (W),
 * {@code DCGM_FI_DEV_SM_CLOCK}, {@code DCGM_FI_DEV_MEM_CLOCK} (MHz).
 *
 * <p>Jetsons (tegrastats), in base units, label {@code node} plus the one named: {@code jetson_cpu_online},
 * {@code jetson_cpu_utilization_ratio}, {@code jetson_cpu_frequency_hertz} ({@code cpu}),
 * {@code jetson_gpu_utilization_ratio}, {@code jetson_gpu_frequency_hertz} ({@code gpc}),
 * {@code jetson_emc_utilization_ratio}, {@code jetson_emc_frequency_hertz}, {@code jetson_memory_used_bytes},
 * {@code jetson_memory_total_bytes}, {@code jetson_swap_used_bytes}, {@code jetson_swap_total_bytes},
 * {@code jetson_swap_cached_bytes}, {@code jetson_temperature_celsius} ({@code sensor}, lower-cased: JetPack
 * releases differ in case), {@code jetson_power_watts} and {@code jetson_power_average_watts} ({@code rail}),
 * {@code jetson_engine_online}, {@code jetson_engine_utilization_ratio}, {@code jetson_engine_frequency_hertz}
 * ({@code engine}). tegrastats' MB are MiB.
 */
public final class TelemetryMetrics implements MultiCollector, TelemetryListener {
    private static final double MIB = 1024.0 * 1024.0;
    private static final double MHZ = 1e6;

    private final Map<String, NodeData> nodes = new ConcurrentHashMap<>();
    private final List<String> order = new ArrayList<>();
    private final ZoneId zone;

    /** Metrics for these nodes (they are reported down until their first sample). */
    public TelemetryMetrics(List<String> nodeNames, ZoneId zone) {
        this.zone = zone;
        for (String n : nodeNames) {
            nodes.put(n, new NodeData());
            order.add(n);
        }
    }

    public TelemetryMetrics(List<String> nodeNames) {
        this(nodeNames, ZoneId.systemDefault());
    }

    private NodeData data(String node) {
        NodeData d = nodes.get(node);
        if (d == null) {
            synchronized (order) {
                d = nodes.computeIfAbsent(node, n -> new NodeData());
                if (!order.contains(node)) {
                    order.add(node);
                }
            }
        }
        return d;
    }

    @Override
    public void sample(String node, LocalDateTime received, GpuSample sample) {
        NodeData d = data(node);
        if (sample.source() == Source.NVIDIA_SMI) {
            d.gpus.put(sample.index() == null ? -1 : sample.index(), sample);
        } else {
            d.tegra = sample;
        }
        d.samples.incrementAndGet();
        d.lastReceived = received;
        d.up = true;
    }

    @Override
    public void status(NodeStatus status) {
        NodeData d = data(status.node());
        d.reconnects = status.reconnects();
        if (status.state() != NodeState.UP) {
            d.up = false;
            d.tegra = null;
            d.gpus.clear();
        }
    }

    @Override
    public void badLine(String node, String line, String error) {
        data(node).badLines.incrementAndGet();
    }

    @Override
    public MetricSnapshots collect() {
        List<String> names;
        synchronized (order) {
            names = new ArrayList<>(order);
        }
        Families f = new Families();
        for (String node : names) {
            NodeData d = nodes.get(node);
            Labels nl = Labels.of("node", node);
            f.gauge("k3gpu_node_up", "1 while the node's telemetry tool delivers samples, 0 while it is down", nl,
                    d.up ? 1 : 0);
            f.counter("k3gpu_node_samples", "Samples received from the node", nl, d.samples.get());
            f.counter("k3gpu_node_bad_lines", "Lines from the node that were not samples", nl, d.badLines.get());
            f.counter("k3gpu_node_reconnects", "Times the node's telemetry was started again", nl, d.reconnects);
            LocalDateTime last = d.lastReceived;
            if (last != null) {
                f.gauge("k3gpu_node_last_sample_timestamp_seconds", "When the last sample arrived (Unix time)", nl,
                        last.atZone(zone).toInstant().toEpochMilli() / 1000.0);
            }
            if (!d.up) {
                continue;
            }
            GpuSample t = d.tegra;
            if (t != null) {
                jetson(f, node, t);
            }
            new TreeMap<>(d.gpus).values().forEach(g -> dcgm(f, node, g));
        }
        return f.build();
    }

    private static void dcgm(Families f, String node, GpuSample g) {
        Labels l = Labels.of("node", node, "gpu", g.index() == null ? "" : g.index().toString(),
                "UUID", g.uuid() == null ? "" : g.uuid(), "modelName", g.name() == null ? "" : g.name());
        f.gauge("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", l, g.gpuLoadPercent());
        f.gauge("DCGM_FI_DEV_MEM_COPY_UTIL", "Memory utilization (in %).", l, g.memoryLoadPercent());
        f.gauge("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", l, g.memoryUsedMiB());
        f.gauge("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", l, extraNumber(g, "memory.free"));
        f.gauge("DCGM_FI_DEV_FB_TOTAL", "Framebuffer memory total (in MiB).", l, g.memoryTotalMiB());
        f.gauge("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", l, g.temperatureC());
        f.gauge("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", l, g.powerDrawW());
        f.gauge("DCGM_FI_DEV_POWER_MGMT_LIMIT", "Power management limit (in W).", l, g.powerLimitW());
        f.gauge("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz).", l, g.smClockMHz());
        f.gauge("DCGM_FI_DEV_MEM_CLOCK", "Memory clock frequency (in MHz).", l, g.memClockMHz());
    }

    private static void jetson(Families f, String node, GpuSample t) {
        Labels nl = Labels.of("node", node);
        if (t.cpus() != null) {
            for (int i = 0; i < t.cpus().size(); i++) {
                GpuSample.Cpu c = t.cpus().get(i);
                Labels l = Labels.of("node", node, "cpu", Integer.toString(i));
                f.gauge("jetson_cpu_online", "1 when the CPU core is online", l, c.online() ? 1 : 0);
                f.gauge("jetson_cpu_utilization_ratio", "CPU core load (0..1)", l, ratio(c.loadPercent()));
                f.gauge("jetson_cpu_frequency_hertz", "CPU core clock", l, scaled(c.freqMHz(), MHZ));
            }
        }
        f.gauge("jetson_gpu_utilization_ratio", "GPU (GR3D) load (0..1)", nl, ratio(t.gpuLoadPercent()));
        if (t.gpuFreqMHz() != null) {
            for (int i = 0; i < t.gpuFreqMHz().size(); i++) {
                f.gauge("jetson_gpu_frequency_hertz", "GPU clock, one per GPC",
                        Labels.of("node", node, "gpc", Integer.toString(i)), scaled(t.gpuFreqMHz().get(i), MHZ));
            }
        }
        f.gauge("jetson_emc_utilization_ratio", "External memory controller load (0..1)", nl,
                ratio(t.emcLoadPercent()));
        f.gauge("jetson_emc_frequency_hertz", "External memory controller clock", nl, scaled(t.emcFreqMHz(), MHZ));
        f.gauge("jetson_memory_used_bytes", "RAM in use", nl, scaled(t.ramUsedMB(), MIB));
        f.gauge("jetson_memory_total_bytes", "RAM", nl, scaled(t.ramTotalMB(), MIB));
        f.gauge("jetson_swap_used_bytes", "Swap in use", nl, scaled(t.swapUsedMB(), MIB));
        f.gauge("jetson_swap_total_bytes", "Swap", nl, scaled(t.swapTotalMB(), MIB));
        f.gauge("jetson_swap_cached_bytes", "Swap cached", nl, scaled(t.swapCachedMB(), MIB));
        if (t.temperaturesC() != null) {
            Set<String> seen = new HashSet<>();
            t.temperaturesC().forEach((name, c) -> {
                String sensor = name.toLowerCase(Locale.ROOT);
                if (c != null && seen.add(sensor)) {
                    f.gauge("jetson_temperature_celsius", "Temperature of a thermal zone", Labels.of("node", node,
                            "sensor", sensor), c);
                }
            });
        }
        if (t.powerMilliwatts() != null) {
            t.powerMilliwatts().forEach((rail, p) -> {
                Labels l = Labels.of("node", node, "rail", rail);
                f.gauge("jetson_power_watts", "Power of a rail, current", l, scaled(p.current(), 1e-3));
                f.gauge("jetson_power_average_watts", "Power of a rail, average since tegrastats started", l,
                        scaled(p.average(), 1e-3));
            });
        }
        if (t.engines() != null) {
            t.engines().forEach((name, e) -> {
                Labels l = Labels.of("node", node, "engine", name);
                f.gauge("jetson_engine_online", "1 when the engine (NVENC, NVDEC, VIC, APE, ...) is on", l,
                        e.online() ? 1 : 0);
                f.gauge("jetson_engine_utilization_ratio", "Engine load (0..1)", l, ratio(e.loadPercent()));
                f.gauge("jetson_engine_frequency_hertz", "Engine clock", l, scaled(e.freqMHz(), MHZ));
            });
        }
    }

    private static Double ratio(Integer percent) {
        return percent == null ? null : percent / 100.0;
    }

    private static Double scaled(Integer v, double factor) {
        return v == null ? null : v * factor;
    }

    private static Double extraNumber(GpuSample g, String key) {
        String v = g.extra() == null ? null : g.extra().get(key);
        if (v == null) {
            return null;
        }
        try {
            return Double.valueOf(v.replaceAll("[^0-9.\\-]", ""));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** What is kept per node. */
    private static final class NodeData {
        volatile boolean up;
        volatile GpuSample tegra;
        final Map<Integer, GpuSample> gpus = new ConcurrentHashMap<>();
        final AtomicLong samples = new AtomicLong();
        final AtomicLong badLines = new AtomicLong();
        volatile int reconnects;
        volatile LocalDateTime lastReceived;
    }

    /** Data points gathered per metric family, in first-seen order. */
    private static final class Families {
        private final Map<String, Family> families = new LinkedHashMap<>();

        void gauge(String name, String help, Labels labels, Number value) {
            if (value != null) {
                families.computeIfAbsent(name, n -> new Family(n, help, false)).add(labels, value.doubleValue());
            }
        }

        void counter(String name, String help, Labels labels, long value) {
            families.computeIfAbsent(name, n -> new Family(n, help, true)).add(labels, value);
        }

        MetricSnapshots build() {
            List<MetricSnapshot> out = new ArrayList<>(families.size());
            for (Family fam : families.values()) {
                out.add(fam.build());
            }
            return new MetricSnapshots(out);
        }
    }

    private static final class Family {
        final String name;
        final String help;
        final boolean counter;
        final List<Labels> labels = new ArrayList<>();
        final List<Double> values = new ArrayList<>();

        Family(String name, String help, boolean counter) {
            this.name = name;
            this.help = help;
            this.counter = counter;
        }

        void add(Labels l, double v) {
            labels.add(l);
            values.add(v);
        }

        MetricSnapshot build() {
            if (counter) {
                CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
                for (int i = 0; i < labels.size(); i++) {
                    b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(labels.get(i))
                            .value(values.get(i)).build());
                }
                return b.build();
            }
            GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
            for (int i = 0; i < labels.size(); i++) {
                b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels.get(i))
                        .value(values.get(i)).build());
            }
            return b.build();
        }
    }
}
