package io.k3gpu.core.kube;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.kube.GpuNodes.GpuNode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GpuNodesTest {
    private static NodeStatus node(String name, boolean ready, String internal, String external, String gpus,
                                   Map<String, String> labels) {
        return new NodeStatus(name, ready, List.of(), null, "v1.31.4+k3s1", internal, external, null, null, null,
                "arm64", gpus, labels);
    }

    @Test
    void labelledOrGpuCapacityNodesAreSelectedByNameWithTheirInternalIp() {
        List<NodeStatus> cluster = List.of(
                node("node1", true, "10.0.0.1", null, null, Map.of("node-role.kubernetes.io/master", "true")),
                node("orin1", true, "10.0.0.3", "203.0.113.3", null, Map.of("nvidia.com/gpu.present", "true")),
                node("h200-a", true, "10.0.0.4", null, "8", Map.of()),
                node("jetson1", false, "10.0.0.2", null, "1", Map.of("nvidia.com/gpu.present", "true")),
                node("cpu1", true, "10.0.0.5", null, "0", Map.of("nvidia.com/gpu.present", "false")));
        assertThat(GpuNodes.select(cluster)).containsExactly(
                new GpuNode("h200-a", "10.0.0.4"),
                new GpuNode("jetson1", "10.0.0.2"),
                new GpuNode("orin1", "10.0.0.3"));
    }

    @Test
    void withoutInternalIpTheExternalIpIsUsedAndWithoutEitherTheNodeSaysSo() {
        List<GpuNode> selected = GpuNodes.select(List.of(
                node("cloud1", true, null, "203.0.113.7", "1", Map.of()),
                node("lost1", false, null, null, null, Map.of("nvidia.com/gpu.present", "true"))));
        assertThat(selected).containsExactly(new GpuNode("cloud1", "203.0.113.7"), new GpuNode("lost1", null));
        assertThat(selected.get(0).requireAddress()).isEqualTo("203.0.113.7");
        assertThatThrownBy(() -> selected.get(1).requireAddress())
                .isInstanceOfSatisfying(K3gpuException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(ExitCode.FAILED);
                    assertThat(e.getMessage()).isEqualTo("node lost1 has no InternalIP or ExternalIP in the cluster");
                    assertThat(e.hint()).isEqualTo("check its kubelet (kubectl describe node lost1), or pass --ip ADDRESS");
                });
    }

    @Test
    void aClusterWithoutGpuNodesIsAnErrorThatSaysHowToGetOne() {
        List<NodeStatus> cluster = List.of(
                node("node1", true, "10.0.0.1", null, null, Map.of()),
                node("node2", true, "10.0.0.2", null, "0", Map.of("nvidia.com/gpu.present", "false")));
        assertThatThrownBy(() -> GpuNodes.select(cluster))
                .isInstanceOfSatisfying(K3gpuException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(ExitCode.FAILED);
                    assertThat(e.getMessage()).isEqualTo("no GPU node in the cluster (2 nodes, none labelled "
                            + "nvidia.com/gpu.present=true or with nvidia.com/gpu capacity)");
                    assertThat(e.hint()).isEqualTo("join GPU nodes with k3gpu join --gpu (or label one with "
                            + "k3gpu label --ip ADDRESS), or pass --ip");
                });
        assertThatThrownBy(() -> GpuNodes.select(List.of()))
                .hasMessage("no GPU node in the cluster (0 nodes, none labelled nvidia.com/gpu.present=true or with "
                        + "nvidia.com/gpu capacity)");
    }
}
