package io.k3gpu.core.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DevicePluginManifestsTest {
    private static final DevicePluginPlan PLAN = DevicePluginPlan.of(PluginNodes.cluster());

    private static String golden(String name) throws IOException {
        try (InputStream in = DevicePluginManifestsTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static List<DevicePluginManifests.Rendered> render(int timeSlicing) {
        return DevicePluginManifests.render(PLAN, new DevicePluginSettings(null, timeSlicing));
    }

    @Test
    void oneDaemonSetPerGroupAndNoConfigWithoutTimeSlicing() {
        assertThat(render(0)).extracting(DevicePluginManifests.Rendered::key).containsExactly(
                "DaemonSet/nvidia-device-plugin-discrete-containerd-nvidia",
                "DaemonSet/nvidia-device-plugin-discrete-unlabelled-containerd",
                "DaemonSet/nvidia-device-plugin-jetson-containerd-runc",
                "DaemonSet/nvidia-device-plugin-jetson-docker-nvidia");
    }

    @ParameterizedTest
    @ValueSource(strings = {"nvidia-device-plugin-discrete-containerd-nvidia",
            "nvidia-device-plugin-discrete-unlabelled-containerd", "nvidia-device-plugin-jetson-containerd-runc",
            "nvidia-device-plugin-jetson-docker-nvidia"})
    void eachGroupsDaemonSetIsTheGoldenOne(String name) throws IOException {
        assertThat(render(0).stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow().yaml())
                .isEqualTo(golden(name + ".yaml"));
        assertThat(render(4).stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow().yaml())
                .isEqualTo(golden(name + "-time-slicing-4.yaml"));
    }

    @Test
    void timeSlicingAddsTheConfigFirst() throws IOException {
        List<DevicePluginManifests.Rendered> r = render(4);
        assertThat(r.get(0).key()).isEqualTo("ConfigMap/nvidia-device-plugin-config");
        assertThat(r.get(0).yaml()).isEqualTo(golden("nvidia-device-plugin-config-time-slicing-4.yaml"));
        assertThat(r).hasSize(5);
    }

    @Test
    void jetsonsGetTegraDiscoveryAndContainerdWithoutNvidiaDefaultGetsTheRuntimeClass() {
        String orin = render(0).get(2).yaml();
        String nano = render(0).get(3).yaml();
        String dgpu = render(0).get(0).yaml();
        assertThat(orin).contains("runtimeClassName: nvidia", "value: tegra", "operator: Exists");
        assertThat(nano).contains("value: tegra").doesNotContain("runtimeClassName");
        assertThat(dgpu).doesNotContain("runtimeClassName", "DEVICE_DISCOVERY_STRATEGY");
    }

    @Test
    void theHashFollowsEverySetting() {
        String plain = render(0).get(0).hash();
        assertThat(render(0).get(0).hash()).isEqualTo(plain);
        assertThat(render(4).get(1).hash()).isNotEqualTo(plain);
        assertThat(render(3).get(1).hash()).isNotEqualTo(render(4).get(1).hash());
        assertThat(DevicePluginManifests.render(PLAN, new DevicePluginSettings(
                DevicePluginSettings.imageOf("v0.17.3"), 0)).get(0).hash()).isNotEqualTo(plain);
        assertThat(render(0).get(0).yaml()).contains("k3gpu.dev/rendered-hash: " + plain);
    }

    @Test
    void theVersionPicksNvidiasImageTag() {
        assertThat(DevicePluginSettings.imageOf("v0.17.3")).isEqualTo("nvcr.io/nvidia/k8s-device-plugin:v0.17.3");
        assertThat(DevicePluginSettings.imageOf("0.13.0")).isEqualTo("nvcr.io/nvidia/k8s-device-plugin:v0.13.0");
        assertThat(new DevicePluginSettings(null, 0).image()).isEqualTo("nvcr.io/nvidia/k8s-device-plugin:v0.17.4");
        assertThat(render(0).get(0).yaml()).contains("image: nvcr.io/nvidia/k8s-device-plugin:v0.17.4");
    }
}
