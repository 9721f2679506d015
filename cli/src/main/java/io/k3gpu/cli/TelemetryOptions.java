package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.GpuNodes;
import io.k3gpu.core.kube.GpuNodes.GpuNode;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.TelemetryStreamParser.SourceOption;
import io.k3gpu.core.util.Durations;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The options {@code stats} and {@code exporter} share: which nodes ({@code --ip a,b,c} or {@code --all} of the
 * kubeconfig's cluster), how to reach them, how often to sample, for how long and with which tool.
 */
final class TelemetryOptions {
    @Mixin
    SshConnection ssh;

    @Mixin
    KubeOptions kube;

    /** Which nodes: picocli refuses two of these together, a usage error before anything connects. */
    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Nodes nodes;

    static final class Nodes {
        @Option(names = "--ip", paramLabel = "IP", required = true,
                description = "Addresses of the nodes, comma-separated.")
        String ip;

        @Option(names = "--host", paramLabel = "HOST", required = true,
                description = "Host names of the nodes, comma-separated (instead of --ip).")
        String host;

        @Option(names = "--all", required = true,
                description = "Every GPU node of the cluster of the kubeconfig (labelled nvidia.com/gpu.present=true, "
                        + "or with nvidia.com/gpu capacity) instead of --ip: reached at its InternalIP (else "
                        + "ExternalIP), shown by its node name. NotReady nodes are included: reported down and "
                        + "retried.")
        boolean all;
    }

    @Option(names = "--interval", paramLabel = "MS", defaultValue = "1000",
            description = "Sampling interval in milliseconds (or a duration like 2s); default ${DEFAULT-VALUE}.")
    String interval;

    @Option(names = "--duration", paramLabel = "DURATION",
            description = "Stop after this long (e.g. 30s, 5m); default: until Ctrl-C.")
    String duration;

    @Option(names = "--source", paramLabel = "SOURCE", defaultValue = "auto", converter = SourceConverter.class,
            description = "auto (default: tegrastats where present, else nvidia-smi), tegrastats or nvidia-smi.")
    SourceOption source;

    TelemetryOptions(Terminal terminal) {
        this.ssh = new SshConnection(terminal);
        this.kube = new KubeOptions(terminal);
    }

    /** The nodes to follow: those of {@code --ip} (or {@code --host}), or with {@code --all} the cluster's GPU nodes. */
    List<GpuNode> nodes() {
        if (all()) {
            try (ClusterApi api = kube.api()) {
                return GpuNodes.select(api.nodes());
            }
        }
        if (kube.kubeconfig != null || kube.context != null) {
            throw new K3gpuException(ExitCode.USAGE, "--kubeconfig and --context only choose the cluster of --all",
                    "add --all to follow every GPU node of that cluster");
        }
        List<GpuNode> nodes = new ArrayList<>();
        for (String h : hosts()) {
            nodes.add(new GpuNode(h, h));
        }
        return nodes;
    }

    /** {@code --all}: the cluster's GPU nodes. */
    boolean all() {
        return nodes != null && nodes.all;
    }

    private List<String> hosts() {
        String list = nodes == null ? null : nodes.ip != null ? nodes.ip : nodes.host;
        Set<String> hosts = new LinkedHashSet<>();
        for (String h : list == null ? new String[0] : list.split(",")) {
            if (!h.isBlank()) {
                hosts.add(h.strip());
            }
        }
        if (hosts.isEmpty()) {
            throw new K3gpuException(ExitCode.USAGE, "no node given",
                    "pass --ip ADDRESS[,ADDRESS...], or --all for every GPU node of the cluster");
        }
        return new ArrayList<>(hosts);
    }

    /** {@code --interval}: milliseconds ({@code 500}) or a duration ({@code 2s}); 100 ms to 1 h. */
    int intervalMs() {
        String s = interval.strip();
        long ms = s.matches("\\d+") ? Long.parseLong(s) : Durations.parse("--interval", s).toMillis();
        if (ms < 100 || ms > 3_600_000) {
            throw new K3gpuException(ExitCode.USAGE, "--interval " + interval + " is out of range",
                    "give milliseconds from 100 to 3600000 (e.g. --interval 1000)");
        }
        return (int) ms;
    }

    /** {@code --duration}: null for none. */
    Duration limit() {
        if (duration == null) {
            return null;
        }
        Duration d = Durations.parse("--duration", duration);
        if (d.isZero()) {
            throw new K3gpuException(ExitCode.USAGE, "--duration must be more than 0", "e.g. --duration 30s");
        }
        return d;
    }

    /** {@code --source}: null for auto. */
    Source forcedSource() {
        return switch (source) {
            case AUTO -> null;
            case TEGRASTATS -> Source.TEGRASTATS;
            case NVIDIA_SMI -> Source.NVIDIA_SMI;
        };
    }

    Duration connectTimeout() {
        return ssh.connectTimeout;
    }
}
