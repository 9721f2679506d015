package io.k3gpu.core.plugin;

import io.k3gpu.core.kube.NodeStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DevicePluginPlanTest {

    @Test
    void gpuNodesAreGroupedByKindAndRuntimeAndCpuNodesLeftOut() {
        DevicePluginPlan plan = DevicePluginPlan.of(PluginNodes.cluster());

        assertThat(plan.gpuNodes()).extracting(NodeStatus::name).containsExactly("dgpu", "nano", "old-gpu", "orin");
        assertThat(plan.groups()).containsExactly(
                new PluginGroup("nvidia-device-plugin-discrete-containerd-nvidia", false, "containerd-nvidia", false,
                        List.of("dgpu")),
                new PluginGroup("nvidia-device-plugin-discrete-unlabelled-containerd", false, null, true,
                        List.of("old-gpu")),
                new PluginGroup("nvidia-device-plugin-jetson-containerd-runc", true, "containerd-runc", true,
                        List.of("orin")),
                new PluginGroup("nvidia-device-plugin-jetson-docker-nvidia", true, "docker-nvidia", false,
                        List.of("nano")));
        assertThat(plan.refusals()).isEmpty();
        assertThat(plan.groupOf("cpu")).isEmpty();
    }

    @Test
    void nodesOfTheSameKindShareADaemonSet() {
        NodeStatus orin2 = PluginNodes.node("orin2", "10.0.0.21", PluginNodes.CONTAINERD, null,
                "nvidia.com/gpu.present", "true", "k3gpu.dev/l4t", "36.4.3", "k3gpu.dev/container-runtime",
                "containerd-runc", "k3gpu.dev/nvidia-container-toolkit", "1.16.2");

        DevicePluginPlan plan = DevicePluginPlan.of(List.of(PluginNodes.orin(null), orin2));

        assertThat(plan.groups()).singleElement().extracting(PluginGroup::nodes).isEqualTo(List.of("orin", "orin2"));
    }

    @Test
    void aJetsonWithAToolkitOlderThan111IsRefusedSayingWhyAndWhatToDo() {
        DevicePluginPlan plan = DevicePluginPlan.of(List.of(PluginNodes.nano("1.7.0", null), PluginNodes.dgpu(null)));

        assertThat(plan.refusals()).containsExactly("node nano is a Jetson with NVIDIA Container Toolkit 1.7.0, and "
                + "NVIDIA's device plugin supports Jetson (since v0.13.0) only with toolkit >= 1.11; upgrade "
                + "nvidia-container-toolkit there (sudo apt-get install --only-upgrade nvidia-container-toolkit), then "
                + "run k3gpu label --ip 10.0.0.11 and this command again");
    }

    @Test
    void anOldToolkitOnADiscreteGpuIsNoConcernOfTheJetsonRule() {
        NodeStatus dgpu = PluginNodes.node("dgpu", "10.0.0.13", PluginNodes.CONTAINERD, null,
                "nvidia.com/gpu.present", "true", "k3gpu.dev/container-runtime", "containerd-nvidia",
                "k3gpu.dev/nvidia-container-toolkit", "1.7.0");

        assertThat(DevicePluginPlan.of(List.of(dgpu)).refusals()).isEmpty();
    }

    @Test
    void nodesWithoutK3gpusLabelsAreWarnedAboutNamingK3gpuLabel() {
        DevicePluginPlan plan = DevicePluginPlan.of(PluginNodes.cluster());

        assertThat(plan.warnings()).containsExactly("node old-gpu has no k3gpu.dev/container-runtime or "
                + "k3gpu.dev/nvidia-container-toolkit label (labelled by an older k3gpu?), so its plugin pod is set up "
                + "from what the API says; run: k3gpu label --ip 10.0.0.14");
    }

    @Test
    void dockerWithRuncAsDefaultIsWarnedAboutButContainerdWithRuncIsTheRuntimeClassWay() {
        NodeStatus dockerRunc = PluginNodes.node("nano", "10.0.0.11", PluginNodes.DOCKER, null,
                "nvidia.com/gpu.present", "true", "k3gpu.dev/l4t", "32.7.1", "k3gpu.dev/container-runtime",
                "docker-runc", "k3gpu.dev/nvidia-container-toolkit", "1.16.2");

        assertThat(DevicePluginPlan.of(List.of(dockerRunc)).warnings()).singleElement().asString()
                .contains("cri-dockerd", "k3gpu gpu-runtime --ip 10.0.0.11");
        assertThat(DevicePluginPlan.of(List.of(PluginNodes.orin(null))).warnings()).isEmpty();
    }

    @Test
    void noGpuNodeIsAWarningNotAnError() {
        DevicePluginPlan plan = DevicePluginPlan.of(List.of(PluginNodes.cpu()));

        assertThat(plan.groups()).isEmpty();
        assertThat(plan.warnings()).singleElement().asString().contains("no node is labelled nvidia.com/gpu.present=true");
    }

    @Test
    void expectedGpusAreTheCountTimesTheReplicas() {
        assertThat(DevicePluginPlan.expectedGpus(PluginNodes.nano("1.16.2", null), new DevicePluginSettings(null, 0)))
                .isEqualTo(1);
        assertThat(DevicePluginPlan.expectedGpus(PluginNodes.nano("1.16.2", null), new DevicePluginSettings(null, 4)))
                .isEqualTo(4);
        assertThat(DevicePluginPlan.expectedGpus(PluginNodes.unlabelled(), new DevicePluginSettings(null, 4)))
                .isEqualTo(8);
    }
}
