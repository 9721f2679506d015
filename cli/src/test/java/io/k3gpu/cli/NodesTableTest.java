package io.k3gpu.cli;

import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.PodSummary;
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
                + "NAME      STATUS     ROLES                  AGE   VERSION        INTERNAL-IP   EXTERNAL-IP   OS-IMAGE                         KERNEL-VERSION   CONTAINER-RUNTIME          GPU                                   GPU-USE   L4T      CUDA       GPU-RUNTIME\n"
                + "node1     Ready      control-plane,master   5m    v1.31.4+k3s1   10.213.0.11   <none>        Debian GNU/Linux 12 (bookworm)   6.1.0            containerd://1.7.23-k3s2   -                                     -         -        -          -\n"
                + "jetson1   NotReady   <none>                 45s   v1.31.4+k3s1   10.213.0.12   <none>        Ubuntu 18.04.6 LTS               4.9.253-tegra    docker://20.10.21          1x NVIDIA-Jetson-Nano-Developer-Kit   -         32.7.1   10.2.300   docker-nvidia\n");
    }

    private static NodeStatus gpuNode(String name, String allocatable) {
        return new NodeStatus(name, true, List.of(), NOW.minusSeconds(600), "v1.31.4+k3s1", "10.213.0.13", null,
                "Ubuntu 22.04.5 LTS", "5.15.148-tegra", "containerd://1.7.23-k3s2", "arm64", allocatable,
                Map.of("nvidia.com/gpu.product", "Orin", "nvidia.com/gpu.count", "1"), allocatable);
    }

    private static PodSummary pod(String node, String phase, long gpus) {
        return new PodSummary("default", "p-" + node + "-" + phase, node, phase, gpus, List.of());
    }

    @Test
    void thePodsAreListedOnlyWhenANodeAdvertisesGpus() {
        List<PodSummary> pods = List.of(pod("orin1", "Running", 1));
        assertThat(NodesCommand.gpusInUse(List.of(gpuNode("orin1", "1"), gpuNode("cpu1", null)), () -> pods))
                .isEqualTo(Map.of("orin1", 1L));
        assertThat(NodesCommand.gpusInUse(List.of(gpuNode("cpu1", null), gpuNode("orin3", null)), () -> {
            throw new AssertionError("no node advertises nvidia.com/gpu: nothing to count");
        })).isEmpty();
    }

    @Test
    void gpuUseIsTheUnfinishedPodsRequestsOverAllocatableAndADashWithoutAPlugin() {
        Map<String, Long> inUse = NodesCommand.gpusInUse(List.of(pod("orin1", "Running", 1), pod("orin1", "Succeeded", 1),
                pod("thor1", "Pending", 1), pod("thor1", "Running", 1), pod("cpu1", "Running", 0)));
        assertThat(inUse).isEqualTo(Map.of("orin1", 1L, "thor1", 2L));
        assertThat(NodesCommand.gpuUse(gpuNode("orin1", "1"), inUse)).isEqualTo("1/1");
        assertThat(NodesCommand.gpuUse(gpuNode("thor1", "4"), inUse)).isEqualTo("2/4");
        assertThat(NodesCommand.gpuUse(gpuNode("orin2", "1"), inUse)).isEqualTo("0/1");
        assertThat(NodesCommand.gpuUse(gpuNode("orin3", null), inUse)).isEqualTo("-");
        StringWriter out = new StringWriter();
        NodesCommand.table(new PrintWriter(out, true), List.of(gpuNode("thor1", "4"), gpuNode("orin3", null)), true,
                NOW, inUse);
        assertThat(out.toString()).isEqualTo(""
                + "NAME    STATUS   ROLES    AGE   VERSION        INTERNAL-IP   EXTERNAL-IP   OS-IMAGE             KERNEL-VERSION   CONTAINER-RUNTIME          GPU       GPU-USE   L4T   CUDA   GPU-RUNTIME\n"
                + "thor1   Ready    <none>   10m   v1.31.4+k3s1   10.213.0.13   <none>        Ubuntu 22.04.5 LTS   5.15.148-tegra   containerd://1.7.23-k3s2   4x Orin   2/4       -     -      -\n"
                + "orin3   Ready    <none>   10m   v1.31.4+k3s1   10.213.0.13   <none>        Ubuntu 22.04.5 LTS   5.15.148-tegra   containerd://1.7.23-k3s2   1x Orin   -         -     -      -\n");
    }

    @Test
    void aNodeWhosePluginWentShowsZeroInUseOfZeroAndItsLabelledGpus() {
        StringWriter out = new StringWriter();
        NodesCommand.table(new PrintWriter(out, true), List.of(gpuNode("orin4", "0")), true, NOW, Map.of());
        assertThat(out.toString().lines().skip(1).findFirst().orElse("")).contains(" 1x Orin   0/0 ");
    }

    @Test
    void jsonCarriesAllocatableAndInUse() {
        List<Map<String, Object>> json = NodesCommand.json(List.of(gpuNode("thor1", "4"), gpuNode("orin3", null)),
                Map.of("thor1", 2L));
        assertThat(json.get(0)).containsEntry("name", "thor1").containsEntry("gpuAllocatable", "4")
                .containsEntry("gpuInUse", 2L);
        assertThat(json.get(1)).containsEntry("gpuAllocatable", null).containsEntry("gpuInUse", null);
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
