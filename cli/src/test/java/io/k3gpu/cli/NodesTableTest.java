package io.k3gpu.cli;

import io.k3gpu.core.kube.NodeStatus;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class NodesTableTest {
    private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");

    @Test
    void wideTableHasKubectlColumnsPlusGpuL4tCudaAndRuntime() {
        NodeStatus server = new NodeStatus("node1", true, List.of("control-plane", "master"), NOW.minusSeconds(300),
                "v1.31.4+k3s1", "10.213.0.11", null, "Debian GNU/Linux 12 (bookworm)", "6.1.0", "containerd://1.7.23-k3s2",
                "amd64", null, Map.of());
        NodeStatus jetson = new NodeStatus("jetson1", false, List.of(), NOW.minusSeconds(45), "v1.31.4+k3s1",
                "10.213.0.12", null, "Ubuntu 18.04.6 LTS", "4.9.253-tegra", "docker://20.10.21", "arm64", "1",
                Map.of("nvidia.com/gpu.product", "NVIDIA-Jetson-Nano-Developer-Kit", "k3gpu.dev/l4t", "32.7.1",
                        "nvidia.com/cuda.runtime-version.full", "10.2.300", "k3gpu.dev/container-runtime", "docker-nvidia"));
        StringWriter out = new StringWriter();
        NodesCommand.table(new PrintWriter(out, true), List.of(server, jetson), true, NOW);
        assertThat(out.toString()).isEqualTo(""
                + "NAME      STATUS     ROLES                  AGE   VERSION        INTERNAL-IP   EXTERNAL-IP   OS-IMAGE                         KERNEL-VERSION   CONTAINER-RUNTIME          GPU                                   L4T      CUDA       GPU-RUNTIME\n"
                + "node1     Ready      control-plane,master   5m    v1.31.4+k3s1   10.213.0.11   <none>        Debian GNU/Linux 12 (bookworm)   6.1.0            containerd://1.7.23-k3s2   -                                     -        -          -\n"
                + "jetson1   NotReady   <none>                 45s   v1.31.4+k3s1   10.213.0.12   <none>        Ubuntu 18.04.6 LTS               4.9.253-tegra    docker://20.10.21          1x NVIDIA-Jetson-Nano-Developer-Kit   32.7.1   10.2.300   docker-nvidia\n");
    }

    @Test
    void ageReadsLikeKubectls() {
        assertThat(NodesCommand.age(NOW.minusSeconds(30), NOW)).isEqualTo("30s");
        assertThat(NodesCommand.age(NOW.minusSeconds(330), NOW)).isEqualTo("5m30s");
        assertThat(NodesCommand.age(NOW.minusSeconds(600), NOW)).isEqualTo("10m");
        assertThat(NodesCommand.age(NOW.minusSeconds(3 * 3600 + 1200), NOW)).isEqualTo("3h20m");
        assertThat(NodesCommand.age(NOW.minusSeconds(5 * 86400), NOW)).isEqualTo("5d");
    }
}
