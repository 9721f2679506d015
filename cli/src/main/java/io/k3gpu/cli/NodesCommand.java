package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.NodeStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "nodes", description = "List the cluster's nodes: kubectl's columns plus GPU, L4T/CUDA and runtime.")
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
            if (output.equals("json")) {
                terminal.out().println(Json.pretty(nodes));
            } else {
                table(terminal.out(), nodes, output.equals("wide"), Instant.now());
            }
            return 0;
        }
    }

    static void table(PrintWriter out, List<NodeStatus> nodes, boolean wide, Instant now) {
        List<String[]> rows = new ArrayList<>();
        rows.add(wide ? new String[]{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE",
                "KERNEL-VERSION", "CONTAINER-RUNTIME", "GPU", "L4T", "CUDA", "GPU-RUNTIME"}
                : new String[]{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "GPU", "GPU-RUNTIME"});
        for (NodeStatus n : nodes) {
            String gpu = gpu(n);
            String status = n.ready() ? "Ready" : "NotReady";
            String roles = n.roles().isEmpty() ? "<none>" : String.join(",", n.roles());
            String age = age(n.created(), now);
            String runtime = dash(n.labels().get(GpuLabels.RUNTIME));
            rows.add(wide ? new String[]{n.name(), status, roles, age, dash(n.kubeletVersion()), dash(n.internalIp()),
                    n.externalIp() == null ? "<none>" : n.externalIp(), dash(n.osImage()), dash(n.kernelVersion()),
                    dash(n.containerRuntime()), gpu, dash(n.labels().get(GpuLabels.L4T)),
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

    private static String gpu(NodeStatus n) {
        String product = n.labels().get(GpuLabels.PRODUCT);
        String count = n.gpuCapacity();
        if (product == null && count == null) {
            return "-";
        }
        return (count == null ? "0" : count) + "x " + (product == null ? "gpu" : product);
    }

    private static String dash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }

    /** kubectl's age: 45s, 12m, 5h, 3d. */
    static String age(Instant created, Instant now) {
        if (created == null) {
            return "<unknown>";
        }
        Duration d = Duration.between(created, now);
        if (d.toSeconds() < 120) {
            return Math.max(0, d.toSeconds()) + "s";
        }
        if (d.toMinutes() < 120) {
            return d.toMinutes() + "m";
        }
        if (d.toHours() < 48) {
            return d.toHours() + "h";
        }
        return d.toDays() + "d";
    }
}
