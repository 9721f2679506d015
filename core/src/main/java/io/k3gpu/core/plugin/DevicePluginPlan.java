package io.k3gpu.core.plugin;

import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.kube.GpuAccess;
import io.k3gpu.core.kube.NodeStatus;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which DaemonSets of NVIDIA's device plugin a cluster needs, from its Nodes (pure): the GPU nodes (label
 * {@code nvidia.com/gpu.present=true}) grouped into {@link PluginGroup}s; the Jetsons it must refuse (container
 * toolkit older than 1.11); and warnings for nodes whose labels are missing or show that the plugin cannot see
 * the GPU.
 *
 * <p>DaemonSet names: {@code nvidia-device-plugin-<jetson|discrete>-<runtime label>}, e.g.
 * {@code nvidia-device-plugin-jetson-docker-nvidia}; nodes without the runtime label:
 * {@code nvidia-device-plugin-<jetson|discrete>-unlabelled-<docker|containerd>}.
 *
 * @param groups     one per DaemonSet, by name
 * @param gpuNodes   every GPU node, sorted by name
 * @param refusals   one line per Jetson whose toolkit is too old: nothing may be installed
 * @param warnings   what the user should fix, with the command that fixes it
 */
public record DevicePluginPlan(List<PluginGroup> groups, List<NodeStatus> gpuNodes, List<String> refusals,
                               List<String> warnings) {
    public static final String NAME_PREFIX = "nvidia-device-plugin-";

    public DevicePluginPlan {
        groups = List.copyOf(groups);
        gpuNodes = List.copyOf(gpuNodes);
        refusals = List.copyOf(refusals);
        warnings = List.copyOf(warnings);
    }

    public static DevicePluginPlan of(List<NodeStatus> nodes) {
        List<NodeStatus> gpu = nodes.stream().filter(DevicePluginPlan::isGpuNode)
                .sorted(Comparator.comparing(NodeStatus::name)).toList();
        Map<String, List<NodeStatus>> byGroup = new TreeMap<>();
        List<String> refusals = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        if (gpu.isEmpty()) {
            warnings.add("no node is labelled " + GpuLabels.PRESENT + "=true, so the device plugin runs nowhere; "
                    + "label the GPU nodes with: k3gpu label --ip NODE");
        }
        for (NodeStatus n : gpu) {
            boolean jetson = isJetson(n);
            String runtime = n.labels().get(GpuLabels.RUNTIME);
            String toolkit = n.labels().get(GpuLabels.TOOLKIT);
            List<String> missing = new ArrayList<>();
            if (runtime == null) {
                missing.add(GpuLabels.RUNTIME);
            }
            if (toolkit == null) {
                missing.add(GpuLabels.TOOLKIT);
            }
            if (!missing.isEmpty()) {
                warnings.add("node " + n.name() + " has no " + String.join(" or ", missing) + " label (labelled by an "
                        + "older k3gpu?), so its plugin pod is set up from what the API says"
                        + (jetson && toolkit == null ? " and its toolkit is not checked" : "")
                        + "; run: k3gpu label --ip " + address(n));
            }
            if (jetson && toolkit != null && !ToolkitVersion.supportsJetson(toolkit).orElse(true)) {
                refusals.add("node " + n.name() + " is a Jetson with NVIDIA Container Toolkit " + toolkit
                        + ", and NVIDIA's device plugin supports Jetson (since v0.13.0) only with toolkit >= "
                        + ToolkitVersion.MINIMUM + "; upgrade nvidia-container-toolkit there "
                        + "(sudo apt-get install --only-upgrade nvidia-container-toolkit), then run k3gpu label --ip "
                        + address(n) + " and this command again");
            }
            if ("docker-runc".equals(runtime)) {
                warnings.add("node " + n.name() + " runs its pods through Docker (cri-dockerd, which has no runtime "
                        + "handlers) with runc as Docker's default runtime, so the plugin cannot see the GPU there; "
                        + "make NVIDIA Docker's default with: k3gpu gpu-runtime --ip " + address(n));
            }
            byGroup.computeIfAbsent(groupName(n), k -> new ArrayList<>()).add(n);
        }
        List<PluginGroup> groups = new ArrayList<>();
        byGroup.forEach((name, members) -> {
            NodeStatus first = members.get(0);
            groups.add(new PluginGroup(name, isJetson(first), first.labels().get(GpuLabels.RUNTIME),
                    GpuAccess.of(first).runtimeClassName().isPresent(), members.stream().map(NodeStatus::name).toList()));
        });
        return new DevicePluginPlan(groups, gpu, refusals, warnings);
    }

    /** The group of a GPU node. Nodes without the runtime label are told apart by what the API says they run. */
    static String groupName(NodeStatus n) {
        String runtime = n.labels().get(GpuLabels.RUNTIME);
        String kind = isJetson(n) ? "jetson" : "discrete";
        if (runtime != null) {
            return NAME_PREFIX + kind + "-" + runtime;
        }
        return NAME_PREFIX + kind + "-unlabelled-" + (GpuAccess.of(n).docker() ? "docker" : "containerd");
    }

    public static boolean isGpuNode(NodeStatus n) {
        return "true".equals(n.labels().get(GpuLabels.PRESENT));
    }

    public static boolean isJetson(NodeStatus n) {
        return n.labels().containsKey(GpuLabels.L4T);
    }

    /**
     * The {@code nvidia.com/gpu} a node should advertise once the plugin runs: its GPUs (label
     * {@code nvidia.com/gpu.count}, 1 when absent) times the time-slicing replicas.
     */
    public static long expectedGpus(NodeStatus n, DevicePluginSettings settings) {
        String count = n.labels().get(GpuLabels.COUNT);
        long gpus = count != null && count.matches("[0-9]{1,6}") ? Long.parseLong(count) : 1;
        return gpus * (settings.sharing() ? settings.timeSlicing() : 1);
    }

    /** The group that serves {@code node}, if any. */
    public java.util.Optional<PluginGroup> groupOf(String node) {
        return groups.stream().filter(g -> g.nodes().contains(node)).findFirst();
    }

    private static String address(NodeStatus n) {
        return n.internalIp() != null ? n.internalIp() : n.name();
    }
}
