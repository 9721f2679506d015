package io.k3gpu.core.plugin;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.JobStatus;
import io.k3gpu.core.kube.KubeObject;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.PodOutcome;
import io.k3gpu.core.kube.PodState;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The install / re-run / update / remove logic against an in-memory cluster (no Fabric8). */
class DevicePluginTest {
    private static final Pattern HASH = Pattern.compile("k3gpu.dev/rendered-hash: (\\S+)");
    private static final Pattern NAME = Pattern.compile("(?m)^  name: (\\S+)$");
    private static final Pattern KIND = Pattern.compile("(?m)^kind: (\\S+)$");
    private static final Pattern REPLICAS = Pattern.compile("replicas: (\\d+)");

    /**
     * Nodes and objects in memory. Its "plugin" is what a DaemonSet of the device plugin does on a real cluster once
     * its pod runs: each GPU node of the DaemonSet gets a Running pod of the current template and advertises its
     * GPUs times the replicas of the config — unless {@code crashing} names the node.
     */
    static final class Cluster implements ClusterApi {
        final Map<String, NodeStatus> nodes = new LinkedHashMap<>();
        final Map<String, String> objects = new LinkedHashMap<>();
        final List<String> calls = new ArrayList<>();
        String crashing;

        Cluster(List<NodeStatus> nodes) {
            nodes.forEach(n -> this.nodes.put(n.name(), n));
        }

        @Override
        public List<KubeObject> objects(String namespace, String labelSelector) {
            List<KubeObject> out = new ArrayList<>();
            objects.forEach((key, yaml) -> {
                Matcher h = HASH.matcher(yaml);
                out.add(new KubeObject(key.split("/")[0], key.split("/")[1], h.find() ? Map.of(
                        DevicePluginManifests.HASH, h.group(1)) : Map.of()));
            });
            return out;
        }

        @Override
        public void apply(String namespace, String yaml) {
            Matcher k = KIND.matcher(yaml);
            Matcher n = NAME.matcher(yaml);
            assertThat(k.find() && n.find()).isTrue();
            calls.add("apply " + k.group(1) + "/" + n.group(1));
            objects.put(k.group(1) + "/" + n.group(1), yaml);
        }

        @Override
        public boolean delete(String namespace, String kind, String name) {
            calls.add("delete " + kind + "/" + name);
            return objects.remove(kind + "/" + name) != null;
        }

        @Override
        public List<PodState> pods(String namespace, String labelSelector) {
            DevicePluginPlan plan = DevicePluginPlan.of(List.copyOf(nodes.values()));
            List<PodState> pods = new ArrayList<>();
            for (PluginGroup g : plan.groups()) {
                String ds = objects.get("DaemonSet/" + g.name());
                if (ds == null) {
                    continue;
                }
                Matcher h = HASH.matcher(ds);
                h.find();
                for (String node : g.nodes()) {
                    boolean crash = node.equals(crashing);
                    pods.add(new PodState(g.name() + "-" + node, node, "Running", !crash,
                            crash ? "CrashLoopBackOff" : null, crash ? 5 : 0,
                            Map.of(DevicePluginManifests.HASH, h.group(1))));
                }
            }
            return pods;
        }

        @Override
        public List<NodeStatus> nodes() {
            String config = objects.get("ConfigMap/" + DevicePluginManifests.CONFIG_MAP);
            Matcher r = config == null ? null : REPLICAS.matcher(config);
            long replicas = r != null && r.find() ? Long.parseLong(r.group(1)) : 1;
            List<NodeStatus> out = new ArrayList<>();
            List<String> running = pods("", "").stream().filter(PodState::ready).map(PodState::node).toList();
            for (NodeStatus n : nodes.values()) {
                String gpus = running.contains(n.name()) ? Long.toString(
                        Long.parseLong(n.labels().getOrDefault("nvidia.com/gpu.count", "1")) * replicas) : null;
                out.add(new NodeStatus(n.name(), n.ready(), n.roles(), n.created(), n.kubeletVersion(), n.internalIp(),
                        n.externalIp(), n.osImage(), n.kernelVersion(), n.containerRuntime(), n.architecture(), gpus,
                        n.labels(), gpus));
            }
            return out;
        }

        @Override
        public Optional<List<NodeStatus>> awaitNodes(Predicate<List<NodeStatus>> done, Duration timeout) {
            List<NodeStatus> now = nodes();
            return done.test(now) ? Optional.of(now) : Optional.empty();
        }

        @Override
        public Optional<List<PodState>> awaitPods(String namespace, String labelSelector,
                                                  Predicate<List<PodState>> done, Duration timeout) {
            List<PodState> now = pods(namespace, labelSelector);
            return done.test(now) ? Optional.of(now) : Optional.empty();
        }

        @Override
        public String podLogs(String namespace, String pod, String container) {
            return "I1205 line 1\nE1205 failed to initialize NVML: ERROR_LIBRARY_NOT_FOUND\n";
        }

        @Override
        public String serverVersion() {
            return "v1.31.4+k3s1";
        }

        @Override
        public Optional<NodeStatus> node(String name) {
            return Optional.ofNullable(nodes.get(name));
        }

        @Override
        public Optional<NodeStatus> awaitNodeReady(String name, Predicate<NodeStatus> which, Duration timeout) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Map<String, String> label(String node, Map<String, String> labels) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean deleteNode(String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void applyConfigMap(String namespace, String name, Map<String, String> data) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void create(String namespace, String yaml) {
            throw new UnsupportedOperationException();
        }

        @Override
        public PodOutcome awaitPod(String namespace, String pod, Duration timeout, boolean untilRunning) {
            throw new UnsupportedOperationException();
        }

        @Override
        public AutoCloseable followLogs(String namespace, String pod, String container, Consumer<String> lines) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void deletePod(String namespace, String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void deleteJob(String namespace, String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<JobStatus> jobs(String namespace, String labelSelector) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<JobStatus> job(String namespace, String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<String> podOfJob(String namespace, String job) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private final DevicePlugin plugin = new DevicePlugin(Events.NONE);

    private static Cluster issueCluster() {
        return new Cluster(List.of(PluginNodes.cpu(), PluginNodes.dgpu(null), PluginNodes.nano("1.16.2", null),
                PluginNodes.orin(null)));
    }

    @Test
    void installsOneDaemonSetPerGroupAndReportsEachGpuNode() {
        Cluster c = issueCluster();

        DevicePlugin.Report r = plugin.install(c, new DevicePluginSettings(null, 0), TIMEOUT);

        assertThat(r.changes()).containsExactly(
                "created DaemonSet kube-system/nvidia-device-plugin-discrete-containerd-nvidia",
                "created DaemonSet kube-system/nvidia-device-plugin-jetson-containerd-runc",
                "created DaemonSet kube-system/nvidia-device-plugin-jetson-docker-nvidia");
        assertThat(r.timedOut()).isFalse();
        assertThat(r.nodes()).extracting(DevicePlugin.NodeRow::node, DevicePlugin.NodeRow::allocatable,
                DevicePlugin.NodeRow::podState).containsExactly(
                org.assertj.core.groups.Tuple.tuple("dgpu", "1", "Running"),
                org.assertj.core.groups.Tuple.tuple("nano", "1", "Running"),
                org.assertj.core.groups.Tuple.tuple("orin", "1", "Running"));
    }

    @Test
    void aReRunWithTheSameSettingsChangesNothing() {
        Cluster c = issueCluster();
        plugin.install(c, new DevicePluginSettings(null, 0), TIMEOUT);
        c.calls.clear();

        DevicePlugin.Report again = plugin.install(c, new DevicePluginSettings(null, 0), TIMEOUT);

        assertThat(again.changed()).isFalse();
        assertThat(c.calls).isEmpty();
        assertThat(again.nodes()).allMatch(DevicePlugin.NodeRow::ok);
    }

    @Test
    void timeSlicingUpdatesInPlaceAndItsRemovalDeletesTheConfig() {
        Cluster c = issueCluster();
        plugin.install(c, new DevicePluginSettings(null, 0), TIMEOUT);

        DevicePlugin.Report shared = plugin.install(c, new DevicePluginSettings(null, 4), TIMEOUT);
        assertThat(shared.changes()).containsExactly(
                "created ConfigMap kube-system/nvidia-device-plugin-config",
                "updated DaemonSet kube-system/nvidia-device-plugin-discrete-containerd-nvidia",
                "updated DaemonSet kube-system/nvidia-device-plugin-jetson-containerd-runc",
                "updated DaemonSet kube-system/nvidia-device-plugin-jetson-docker-nvidia");
        assertThat(shared.nodes()).extracting(DevicePlugin.NodeRow::allocatable).containsOnly("4");

        DevicePlugin.Report back = plugin.install(c, new DevicePluginSettings(null, 0), TIMEOUT);
        assertThat(back.changes()).contains("deleted ConfigMap kube-system/nvidia-device-plugin-config")
                .hasSize(4);
        assertThat(back.nodes()).extracting(DevicePlugin.NodeRow::allocatable).containsOnly("1");
    }

    @Test
    void aTooOldJetsonToolkitIsRefusedBeforeAnyChange() {
        Cluster c = new Cluster(List.of(PluginNodes.nano("1.7.0", null), PluginNodes.dgpu(null)));

        assertThatThrownBy(() -> plugin.install(c, new DevicePluginSettings(null, 0), TIMEOUT))
                .isInstanceOf(K3gpuException.class)
                .hasMessageStartingWith("node nano is a Jetson with NVIDIA Container Toolkit 1.7.0")
                .extracting(e -> ((K3gpuException) e).exitCode()).isEqualTo(ExitCode.FAILED);
        assertThat(c.calls).isEmpty();
    }

    @Test
    void aTimeoutNamesTheNodeWithItsPodStateAndLogTail() {
        Cluster c = issueCluster();
        c.crashing = "orin";

        DevicePlugin.Report r = plugin.install(c, new DevicePluginSettings(null, 0), TIMEOUT);

        assertThat(r.timedOut()).isTrue();
        DevicePlugin.NodeRow orin = r.nodes().stream().filter(n -> n.node().equals("orin")).findFirst().orElseThrow();
        assertThat(orin.ok()).isFalse();
        assertThat(orin.podState()).isEqualTo("CrashLoopBackOff (not ready), 5 restarts");
        assertThat(orin.logTail()).endsWith("failed to initialize NVML: ERROR_LIBRARY_NOT_FOUND");
        assertThat(r.nodes().stream().filter(n -> n.node().equals("nano")).findFirst().orElseThrow().logTail())
                .isNull();
    }

    @Test
    void removeDeletesOnlyWhatItFindsByK3gpusLabelsAndSaysWhatWent() {
        Cluster c = issueCluster();
        plugin.install(c, new DevicePluginSettings(null, 2), TIMEOUT);

        assertThat(plugin.remove(c)).containsExactly("ConfigMap kube-system/nvidia-device-plugin-config",
                "DaemonSet kube-system/nvidia-device-plugin-discrete-containerd-nvidia",
                "DaemonSet kube-system/nvidia-device-plugin-jetson-containerd-runc",
                "DaemonSet kube-system/nvidia-device-plugin-jetson-docker-nvidia");
        assertThat(c.objects).isEmpty();
        assertThat(plugin.remove(c)).isEmpty();
    }

    @Test
    void previewTellsWhatInstallWouldDoWithoutDoingIt() {
        Cluster c = issueCluster();
        assertThat(plugin.preview(c, new DevicePluginSettings(null, 0))).hasSize(3)
                .allMatch(l -> l.startsWith("create DaemonSet kube-system/"));
        assertThat(c.calls).isEmpty();
        plugin.install(c, new DevicePluginSettings(null, 0), TIMEOUT);
        assertThat(plugin.preview(c, new DevicePluginSettings(null, 0))).isEmpty();
    }

    @Test
    void logTailKeepsTheLastLines() {
        assertThat(DevicePlugin.tail("a\nb\nc\n", 2)).isEqualTo("b\nc");
        assertThat(DevicePlugin.tail(null, 2)).isEmpty();
    }
}
