package io.k3gpu.core.k3s;

import io.k3gpu.core.facts.Gpu;
import io.k3gpu.core.facts.NodeFacts;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class GpuLabelsTest {
    private static NodeFacts facts(String model, String soc, String l4t, String cuda, List<Gpu> gpus) {
        return new NodeFacts("n", "aarch64", "Ubuntu", "4.9", model, soc, l4t, l4t == null ? null : "nv_tegra_release",
                null, cuda, gpus, true, true, "nvidia", List.of("nvidia", "runc"), true, "/usr/bin/nvidia-container-runtime",
                false, false, null, null, null, gpus.isEmpty() && soc == null ? null : "1.7.0", null, false);
    }

    @Test
    void jetsonNanoGetsGfdNamesAndK3gpuExtras() {
        Map<String, String> l = GpuLabels.of(facts("NVIDIA Jetson Nano Developer Kit", "tegra210", "32.7.1", "10.2.300",
                List.of()), "docker-nvidia");
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("nvidia.com/gpu.present", "true");
        expected.put("nvidia.com/gpu.product", "NVIDIA-Jetson-Nano-Developer-Kit");
        expected.put("nvidia.com/gpu.memory", null);
        expected.put("nvidia.com/gpu.count", "1");
        expected.put("nvidia.com/cuda.runtime-version.full", "10.2.300");
        expected.put("k3gpu.dev/l4t", "32.7.1");
        expected.put("k3gpu.dev/jetson-model", "NVIDIA-Jetson-Nano-Developer-Kit");
        expected.put("k3gpu.dev/nvidia-container-toolkit", "1.7.0");
        expected.put("k3gpu.dev/container-runtime", "docker-nvidia");
        assertThat(l).containsExactlyEntriesOf(expected);
    }

    @Test
    void h200ServerGetsProductMemoryAndCount() {
        Map<String, String> l = GpuLabels.of(facts(null, null, null, "13.0.48",
                List.of(new Gpu(0, "NVIDIA H200", "GPU-1", 143771L, "580.159.04"))), "containerd-nvidia");
        assertThat(l).containsEntry("nvidia.com/gpu.product", "NVIDIA-H200").containsEntry("nvidia.com/gpu.memory", "143771")
                .containsEntry("nvidia.com/gpu.count", "1").containsEntry("k3gpu.dev/l4t", null)
                .containsEntry("k3gpu.dev/nvidia-container-toolkit", "1.7.0");
    }

    @Test
    void cpuOnlyNodeHasEveryGpuLabelRemoved() {
        Map<String, String> l = GpuLabels.of(facts(null, null, null, null, List.of()), "containerd-runc");
        assertThat(l).containsEntry("nvidia.com/gpu.present", null).containsEntry("nvidia.com/gpu.product", null)
                .containsEntry("k3gpu.dev/container-runtime", "containerd-runc")
                .containsEntry("k3gpu.dev/nvidia-container-toolkit", null);
    }

    @Test
    void labelValuesAreMadeLegal() {
        assertThat(LabelValues.sanitize(" NVIDIA Jetson AGX Orin (64GB) ")).isEqualTo("NVIDIA-Jetson-AGX-Orin-64GB");
        assertThat(LabelValues.sanitize("x".repeat(80))).hasSize(63);
        assertThat(LabelValues.sanitize("--a--")).isEqualTo("a");
    }
}
