package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.PodSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

@Command(name = "nodes", description = {"List the cluster's nodes: kubectl's columns plus GPU, L4T/CUDA and runtime.",
        "-o wide adds GPU-USE: nvidia.com/gpu in use (requested by the node's unfinished pods) / allocatable, "
                + "'-' where no device plugin advertises it; -o json has gpuAllocatable and gpuInUse."})
final class NodesCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    KubeOptions kube;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text", description = "text (default), wide or json.")
    String output;

    NodesCommand(Terminal terminal) {
        this.terminal = terminal;
        this.kube = new KubeOptions(terminal);
    }

    @Override
    public Integer call() {
        if (!List.of("text", "wide", "json").contains(output)) {
            throw new K3gpuException(ExitCode.USAGE, "unknown output format '" + output + "'", "use -o text, -o wide or -o json");
        }
        try (ClusterApi api = kube.api()) {
            List<NodeStatus> nodes = api.nodes();
            if (output.equals("text")) {
                table(terminal.out(), nodes, false, Instant.now());
                return 0;
            }
            Map<String, Long> inUse = gpusInUse(nodes, () -> api.activePods(null));
            if (output.equals("json")) {
                terminal.out().println(Json.pretty(json(nodes, inUse)));
            } else {
                table(terminal.out(), nodes, true, Instant.now(), inUse);
            }
            return 0;
        }
    }

    /**
     * As {@link #gpusInUse(List)}, listing the pods only when a node advertises nvidia.com/gpu: elsewhere GPU-USE is
     * "-" (gpuInUse null) whatever runs there, and a cluster without the device plugin is spared listing every pod
     * of every namespace (a second request, and the model of a Pod to build: docs/benchmarks.md, "Start-up").
     */
    static Map<String, Long> gpusInUse(List<NodeStatus> nodes, Supplier<List<PodSummary>> pods) {
        return nodes.stream().anyMatch(n -> n.gpuAllocatable() != null) ? gpusInUse(pods.get()) : Map.of();
    }

    /** The nvidia.com/gpu each node's unfinished pods request: what the scheduler counts as in use. */
    static Map<String, Long> gpusInUse(List<PodSummary> pods) {
        Map<String, Long> out = new TreeMap<>();
        for (PodSummary p : pods) {
            if (p.node() != null && !p.finished() && p.gpus() > 0) {
                out.merge(p.node(), p.gpus(), Long::sum);
            }
        }
        return out;
    }

    /** Each node as {@link NodeStatus} gives it, with {@code gpuInUse} (null where no plugin advertises GPUs). */
    static List<Map<String, Object>> json(List<NodeStatus> nodes, Map<String, Long> inUse) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (NodeStatus n : nodes) {
            Map<String, Object> m = new LinkedHashMap<>(Json.MAPPER.convertValue(n,
                    new tools.jackson.core.type.TypeReference<Map<String, Object>>() { }));
            m.put("gpuInUse", n.gpuAllocatable() == null ? null : inUse.getOrDefault(n.name(), 0L));
            out.add(m);
        }
        return out;
    }

    /** GPUs in use/allocatable, "1/1", "2/4"; "-" where no device plugin advertises nvidia.com/gpu. */
    static String gpuUse(NodeStatus n, Map<String, Long> inUse) {
        if (n.gpuAllocatable() == null) {
            return "-";
        }
        return inUse.getOrDefault(n.name(), 0L) + "/" + n.gpuAllocatable();
    }

    static void table(PrintWriter out, List<NodeStatus> nodes, boolean wide, Instant now) {
        table(out, nodes, wide, now, Map.of());
    }

    static void table(PrintWriter out, List<NodeStatus> nodes, boolean wide, Instant now, Map<String, Long> inUse) {
        List<String[]> rows = new ArrayList<>();
        rows.add(wide ? new String[]{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE",
                "KERNEL-VERSION", "CONTAINER-RUNTIME", "GPU", "GPU-USE", "L4T", "CUDA", "GPU-RUNTIME"}
                : new String[]{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "GPU", "GPU-RUNTIME"});
        for (NodeStatus n : nodes) {
            String gpu = gpu(n);
            String status = n.ready() ? "Ready" : "NotReady";
            String roles = n.roles().isEmpty() ? "<none>" : String.join(",", n.roles());
            String age = age(n.created(), now);
            String runtime = dash(n.labels().get(GpuLabels.RUNTIME));
            rows.add(wide ? new String[]{n.name(), status, roles, age, dash(n.kubeletVersion()), dash(n.internalIp()),
                    n.externalIp() == null ? "<none>" : n.externalIp(), dash(n.osImage()), dash(n.kernelVersion()),
                    dash(n.containerRuntime()), gpu, gpuUse(n, inUse), dash(n.labels().get(GpuLabels.L4T)),
                    dash(n.labels().get(GpuLabels.CUDA)), runtime}
                    : new String[]{n.name(), status, roles, age, dash(n.kubeletVersion()), gpu, runtime});
        }
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                sb.append(i == r.length - 1 ? r[i] : String.format("%-" + (width[i] + 3) + "s", r[i]));
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    static String gpu(NodeStatus n) {
        String product = n.labels().get(GpuLabels.PRODUCT);
        // The device plugin's capacity where one runs (0 once it went), else what k3gpu's labels counted.
        String count = n.gpuCapacity() != null && !n.gpuCapacity().equals("0") ? n.gpuCapacity()
                : n.labels().getOrDefault(GpuLabels.COUNT, n.gpuCapacity());
        if (product == null && count == null) {
            return "-";
        }
        return (count == null ? "0" : count) + "x " + (product == null ? "gpu" : product);
    }

    private static String dash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }

    /** kubectl's age column (its HumanDuration): 45s, 5m30s, 12m, 3h20m, 20h, 5d4h, 30d, 2y10d. */
    static String age(Instant created, Instant now) {
        if (created == null) {
            return "<unknown>";
        }
        Duration d = Duration.between(created, now);
        long seconds = d.toSeconds();
        if (seconds < -1) {
            return "<invalid>";
        }
        if (seconds < 120) {
            return Math.max(0, seconds) + "s";
        }
        long minutes = d.toMinutes();
        if (minutes < 10) {
            return seconds % 60 == 0 ? minutes + "m" : minutes + "m" + seconds % 60 + "s";
        }
        if (minutes < 180) {
            return minutes + "m";
        }
        long hours = d.toHours();
        if (hours < 8) {
            return minutes % 60 == 0 ? hours + "h" : hours + "h" + minutes % 60 + "m";
        }
        if (hours < 48) {
            return hours + "h";
        }
        if (hours < 24 * 8) {
            return hours % 24 == 0 ? hours / 24 + "d" : hours / 24 + "d" + hours % 24 + "h";
        }
        if (hours < 24 * 365 * 2) {
            return hours / 24 + "d";
        }
        long days = hours / 24;
        if (hours < 24 * 365 * 8) {
            return days % 365 == 0 ? days / 365 + "y" : days / 365 + "y" + days % 365 + "d";
        }
        return days / 365 + "y";
    }
}
