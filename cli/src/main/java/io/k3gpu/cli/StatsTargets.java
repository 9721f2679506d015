package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.ssh.SshTarget;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.TelemetryStreamParser.SourceOption;
import io.k3gpu.core.telemetry.live.RemoteTelemetryLink;
import io.k3gpu.core.telemetry.live.TelemetryLink;
import io.k3gpu.core.util.Durations;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** What {@code stats} and {@code exporter} share: the node list of {@code --ip a,b,c}, the interval, the links. */
final class StatsTargets {
    private StatsTargets() {
    }

    /** The nodes of {@code --ip} (or {@code --host}), comma-separated, without duplicates. */
    static List<String> hosts(SshOptions ssh) {
        if (ssh.ip != null && ssh.host != null) {
            throw new K3gpuException(ExitCode.USAGE, "both --ip and --host were given", "pass only one of them");
        }
        String list = ssh.ip != null ? ssh.ip : ssh.host;
        if (list == null || list.isBlank()) {
            throw new K3gpuException(ExitCode.USAGE, "no node given", "pass --ip ADDRESS[,ADDRESS...]");
        }
        Set<String> hosts = new LinkedHashSet<>();
        for (String h : list.split(",")) {
            if (!h.isBlank()) {
                hosts.add(h.strip());
            }
        }
        if (hosts.isEmpty()) {
            throw new K3gpuException(ExitCode.USAGE, "no node given", "pass --ip ADDRESS[,ADDRESS...]");
        }
        return new ArrayList<>(hosts);
    }

    /** {@code --interval}: milliseconds ({@code 500}) or a duration ({@code 2s}); 100 ms to 1 h. */
    static int intervalMs(String text) {
        String s = text.strip();
        long ms = s.matches("\\d+") ? Long.parseLong(s) : Durations.parse("--interval", s).toMillis();
        if (ms < 100 || ms > 3_600_000) {
            throw new K3gpuException(ExitCode.USAGE, "--interval " + text + " is out of range",
                    "give milliseconds from 100 to 3600000 (e.g. --interval 1000)");
        }
        return (int) ms;
    }

    /** {@code --duration}: null for none. */
    static Duration duration(String text) {
        if (text == null) {
            return null;
        }
        Duration d = Durations.parse("--duration", text);
        if (d.isZero()) {
            throw new K3gpuException(ExitCode.USAGE, "--duration must be more than 0", "e.g. --duration 30s");
        }
        return d;
    }

    /** {@code --source}: null for auto. */
    static Source source(String option) {
        SourceOption o;
        try {
            o = SourceOption.fromOption(option);
        } catch (IllegalArgumentException e) {
            throw new K3gpuException(ExitCode.USAGE, e.getMessage(), "use --source auto, tegrastats or nvidia-smi");
        }
        return switch (o) {
            case AUTO -> null;
            case TEGRASTATS -> Source.TEGRASTATS;
            case NVIDIA_SMI -> Source.NVIDIA_SMI;
        };
    }

    /** One link per host over the connector's sessions (one connection per host, opened on first use). */
    static List<TelemetryLink> links(List<String> hosts, SshOptions ssh, SshConnector connector, Source source,
                                     int intervalMs) {
        SshTarget base = ssh.target(null);
        List<TelemetryLink> links = new ArrayList<>();
        for (String h : hosts) {
            SshTarget t = base.withHost(h);
            links.add(new RemoteTelemetryLink(h, () -> connector.connect(t), source, intervalMs));
        }
        return links;
    }
}
