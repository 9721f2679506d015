package io.k3gpu.core.k3s;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ContainerdTemplateTest {
    @Test
    void theTemplateMakesNvidiaTheDefaultRuntimeWithTheNodesProgram() {
        String t = ContainerdTemplate.content("/usr/bin/nvidia-container-runtime");
        assertThat(t).startsWith(ContainerdTemplate.MARKER);
        assertThat(t).contains("""
                [plugins."io.containerd.grpc.v1.cri".containerd]
                  snapshotter = "{{ if .NodeConfig.AgentConfig.Snapshotter }}{{ .NodeConfig.AgentConfig.Snapshotter }}{{ else }}overlayfs{{ end }}"
                  disable_snapshot_annotations = true
                  default_runtime_name = "nvidia"
                """);
        assertThat(t).contains("""
                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
                  runtime_type = "io.containerd.runc.v2"

                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
                  BinaryName = "/usr/bin/nvidia-container-runtime"
                """);
        assertThat(t).doesNotContain("@NVIDIA_CONTAINER_RUNTIME@").contains("version = 2\n");
    }

    @Test
    void onlyAProgramPathGoesIntoTheTemplate() {
        assertThatThrownBy(() -> ContainerdTemplate.content("x\"; y")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ContainerdTemplate.content(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
