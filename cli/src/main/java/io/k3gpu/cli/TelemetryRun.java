package io.k3gpu.cli;

import io.k3gpu.core.kube.GpuNodes.GpuNode;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.ssh.SshTarget;
import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.live.FleetOptions;
import io.k3gpu.core.telemetry.live.NodeStatus;
import io.k3gpu.core.telemetry.live.RemoteTelemetryLink;
import io.k3gpu.core.telemetry.live.TelemetryFleet;
import io.k3gpu.core.telemetry.live.TelemetryLink;
import io.k3gpu.core.telemetry.live.TelemetryListener;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The start-up and shutdown {@code stats} and {@code exporter} share: the nodes and settings of
 * {@link TelemetryOptions}, one SSH link per node, the fleet, and a stop that Ctrl-C, {@code --duration} or an error
 * brings about the same way, leaving no tool running on the nodes.
 */
final class TelemetryRun {
    private final TelemetryOptions options;
    private final PrintWriter err;
    final int intervalMs;
    final Duration limit;
    final Source source;
    /** How long a node may take to start: its connect timeout, then the probe and the tool's first line. */
    final Duration startTimeout;
    final List<GpuNode> nodes;

    /** Checks every option first, then finds the nodes (with {@code --all}, asks the cluster). */
    TelemetryRun(TelemetryOptions options, PrintWriter err) {
        this.options = options;
        this.err = err;
        this.intervalMs = options.intervalMs();
        this.limit = options.limit();
        this.source = options.forcedSource();
        this.startTimeout = options.connectTimeout().plusSeconds(20);
        this.nodes = options.nodes();
    }

    /** The names samples, views and metrics carry: node names with {@code --all}, else the addresses given. */
    List<String> names() {
        return nodes.stream().map(GpuNode::name).toList();
    }

    /** With {@code --all}, which nodes the cluster gave and where they are reached; else null. */
    String selection() {
        if (!options.all()) {
            return null;
        }
        return (nodes.size() == 1 ? "GPU node" : nodes.size() + " GPU nodes") + " of the cluster: " + nodes.stream()
                .map(n -> n.name() + " (" + (n.address() == null ? "no address" : n.address()) + ")")
                .collect(Collectors.joining(", "));
    }

    /** What a command does with the fleet while it runs; {@code stop} opens on Ctrl-C. */
    interface Body {
        void run(TelemetryFleet fleet, CountDownLatch stop) throws InterruptedException;
    }

    /**
     * Runs {@code body} with a fleet that hands everything to {@code listeners}. Afterwards, also on Ctrl-C: the fleet
     * is stopped (the tools on the nodes with it), the connections closed, then {@code after} runs (close what the
     * command wrote) before the JVM may exit.
     */
    void run(List<TelemetryListener> listeners, Body body, Runnable after) throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch cleanedUp = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                cleanedUp.await(8, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "k3gpu-telemetry-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        ConsoleEvents events = new ConsoleEvents(err);
        try (SshConnector connector = new SshConnector(m -> events.warn(null, m))) {
            TelemetryFleet fleet = new TelemetryFleet(links(connector), new Fanout(listeners),
                    FleetOptions.defaults(Duration.ofMillis(intervalMs)));
            try {
                body.run(fleet, stop);
            } finally {
                fleet.stop();
            }
        } finally {
            try {
                after.run();
            } finally {
                cleanedUp.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // the JVM is shutting down (Ctrl-C): the hook is running
                }
            }
        }
    }

    /** One link per node over the connector's sessions (one connection per node, opened on first use). */
    private List<TelemetryLink> links(SshConnector connector) {
        List<TelemetryLink> links = new ArrayList<>();
        for (GpuNode n : nodes) {
            // A node without an address fails every attempt saying so, as an unreachable node does.
            SshTarget t = n.address() == null ? null : options.ssh.target(n.address(), null);
            links.add(new RemoteTelemetryLink(n.name(),
                    () -> connector.connect(t != null ? t : options.ssh.target(n.requireAddress(), null)),
                    source, intervalMs));
        }
        return links;
    }

    /** Hands everything to several listeners. */
    private record Fanout(List<TelemetryListener> listeners) implements TelemetryListener {
        @Override
        public void sample(String node, LocalDateTime received, GpuSample sample) {
            for (TelemetryListener l : listeners) {
                l.sample(node, received, sample);
            }
        }

        @Override
        public void status(NodeStatus status) {
            for (TelemetryListener l : listeners) {
                l.status(status);
            }
        }

        @Override
        public void badLine(String node, String line, String error) {
            for (TelemetryListener l : listeners) {
                l.badLine(node, line, error);
            }
        }
    }
}
