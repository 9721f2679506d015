package io.k3gpu.core.kube;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class GpuAccessTest {

    private static NodeStatus node(String runtime, String label, String allocatable) {
        return new NodeStatus("n", true, List.of(), null, "v1.31.4+k3s1", "10.0.0.2", null, "Ubuntu", "5.15",
                runtime, "arm64", allocatable, label == null ? Map.of() : Map.of("k3gpu.dev/container-runtime", label),
                allocatable);
    }

    @Test
    void dockerNodesNameNoRuntimeClass() {
        GpuAccess a = GpuAccess.of(node("docker://20.10.21", "docker-nvidia", "1"));
        assertThat(a.docker()).isTrue();
        assertThat(a.runtimeClassName()).isEmpty();
        assertThat(a.advertisesGpus()).isTrue();
        assertThat(GpuAccess.of(node("docker://27.5.1", "docker-runc", null)).runtimeClassName()).isEmpty();
    }

    @Test
    void containerdNodesNameNvidiaUnlessItIsTheDefault() {
        assertThat(GpuAccess.of(node("containerd://1.7.23-k3s2", "containerd-runc", "4")).runtimeClassName())
                .contains("nvidia");
        assertThat(GpuAccess.of(node("containerd://1.7.23-k3s2", null, null)).runtimeClassName()).contains("nvidia");
        assertThat(GpuAccess.of(node("containerd://1.7.23-k3s2", "containerd-nvidia", "1")).runtimeClassName())
                .isEmpty();
        // a Docker label on a containerd node (K3s re-installed without --docker) says nothing about containerd
        assertThat(GpuAccess.of(node("containerd://1.7.23-k3s2", "docker-nvidia", null)).runtimeClassName())
                .contains("nvidia");
    }

    @Test
    void onlyWholePositiveAllocatableCounts() {
        assertThat(GpuAccess.of(node("containerd://x", null, "4")).allocatableGpus()).isEqualTo(4);
        assertThat(GpuAccess.of(node("containerd://x", null, "0")).advertisesGpus()).isFalse();
        assertThat(GpuAccess.of(node("containerd://x", null, null)).advertisesGpus()).isFalse();
        assertThat(GpuAccess.of(node("containerd://x", null, "1k")).advertisesGpus()).isFalse();
    }
}
