package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.plugin.DevicePlugin;
import io.k3gpu.core.plugin.DevicePluginSettings;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "device-plugin",
        description = {"Install NVIDIA's device plugin so that GPU nodes advertise nvidia.com/gpu.",
                "Installs or updates it in kube-system, then waits until each does and shows per node: capacity, allocatable, plugin pod. One DaemonSet per",
                "kind of GPU node (Jetson or discrete, and its container runtime); Jetsons get the Tegra discovery",
                "strategy, nodes whose default runtime is not NVIDIA's get runtimeClassName nvidia. Re-running with",
                "the same settings changes nothing. Refuses a Jetson whose container toolkit is older than 1.11.",
                "Exit 7 when a node does not advertise its GPUs in time."})
final class DevicePluginCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    KubeOptions kube;

    @Mixin
    OutputOptions output;

    static final class Image {
        @Option(names = "--version", paramLabel = "VERSION",
                description = "Plugin version: NVIDIA's image with this tag (default: " + DevicePluginSettings.DEFAULT_VERSION + ").")
        String version;

        @Option(names = "--image", paramLabel = "REF",
                description = "Plugin image, e.g. from a mirror (default: " + DevicePluginSettings.DEFAULT_IMAGE + ").")
        String image;
    }

    @ArgGroup(exclusive = true)
    Image image;

    @Option(names = "--time-slicing", paramLabel = "N",
            description = "Share each GPU between N pods (N >= 2): the node advertises N nvidia.com/gpu per GPU.")
    Integer timeSlicing;

    @Option(names = "--remove", description = "Delete what k3gpu installed for the plugin (objects with its labels only).")
    boolean remove;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5m", converter = DurationConverter.class,
            description = "How long to wait for the GPU nodes (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    DevicePluginCommand(Terminal terminal) {
        this.terminal = terminal;
        this.kube = new KubeOptions(terminal);
    }

    @Override
    public Integer call() {
        boolean json = output.json();
        if (timeSlicing != null && timeSlicing < 2) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--time-slicing must be 2 or more (it is the number of pods that share a GPU), not " + timeSlicing);
        }
        if (remove && (timeSlicing != null || image != null)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--remove takes no --version, --image or --time-slicing");
        }
        DevicePlugin plugin = new DevicePlugin(new ConsoleEvents(terminal.err()));
        try (ClusterApi api = kube.api()) {
            if (remove) {
                List<String> removed = plugin.remove(api);
                if (json) {
                    terminal.out().println(Json.pretty(Map.of("removed", removed)));
                } else if (removed.isEmpty()) {
                    terminal.out().println("nothing to remove: no device plugin objects of k3gpu in kube-system");
                } else {
                    removed.forEach(r -> terminal.out().println("removed " + r));
                }
                return 0;
            }
            DevicePlugin.Report r = plugin.install(api, settings(), timeout);
            if (json) {
                terminal.out().println(Json.pretty(r));
            } else {
                print(terminal.out(), r);
            }
            if (r.timedOut()) {
                List<String> late = r.nodes().stream().filter(n -> !n.ok()).map(DevicePlugin.NodeRow::node).toList();
                throw new K3gpuException(ExitCode.TIMEOUT, "timed out after " + timeout.toString().substring(2)
                        .toLowerCase() + " waiting for the device plugin on " + String.join(", ", late)
                        + " (no ready plugin pod, or not the allocatable nvidia.com/gpu expected)",
                        "the plugin pods' state" + (json ? "" : " and log") + " are shown above; fix what they say, "
                        + "then run k3gpu device-plugin again");
            }
            return 0;
        }
    }

    private DevicePluginSettings settings() {
        String ref = image == null ? null
                : image.image != null ? image.image : DevicePluginSettings.imageOf(image.version);
        return new DevicePluginSettings(ref, timeSlicing == null ? 0 : timeSlicing);
    }

    static void print(PrintWriter out, DevicePlugin.Report r) {
        out.println("device plugin " + r.image() + (r.timeSlicing() >= 2
                ? ", time-slicing " + r.timeSlicing() + " pods per GPU" : "") + ": " + String.join(", ", r.daemonSets()));
        if (r.changed()) {
            r.changes().forEach(c -> out.println(c));
        } else {
            out.println("unchanged: already installed with these settings");
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"NODE", "CAPACITY", "ALLOCATABLE", "PLUGIN POD", "STATE"});
        for (DevicePlugin.NodeRow n : r.nodes()) {
            boolean asExpected = Long.toString(n.expected()).equals(n.allocatable());
            rows.add(new String[]{n.node(), dash(n.capacity()), dash(n.allocatable()) + (asExpected ? "" : " (want "
                    + n.expected() + ")"), dash(n.pod()), n.podState()});
        }
        table(out, rows);
        for (DevicePlugin.NodeRow n : r.nodes()) {
            if (n.logTail() != null) {
                out.println(n.node() + ": log of " + n.pod() + " (last lines):");
                n.logTail().lines().forEach(l -> out.println("  " + l));
            }
        }
    }

    private static void table(PrintWriter out, List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                sb.append(i == row.length - 1 ? row[i] : String.format("%-" + (width[i] + 3) + "s", row[i]));
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    private static String dash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }
}
