package io.k3gpu.core.train;

import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.kube.NodeStatus;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DistributedPlanTest {
    static NodeStatus node(String name, boolean ready, String arch, Map<String, String> labels) {
        return new NodeStatus(name, ready, List.of(), Instant.EPOCH, "v1.31.4+k3s1", "10.0.0.1", null, "Ubuntu",
                "5.15", "containerd://1.7", arch, null, labels);
    }

    static final NodeStatus NANO = node("nano", true, "arm64", Map.of("nvidia.com/gpu.present", "true", "k3gpu.dev/l4t", "32.7.1"));
    static final NodeStatus ORIN = node("orin", true, "arm64", Map.of("nvidia.com/gpu.present", "true", "k3gpu.dev/l4t", "36.2.0"));
    static final NodeStatus H100 = node("h100", true, "amd64", Map.of("nvidia.com/gpu.present", "true"));
    static final NodeStatus H200 = node("h200", true, "amd64", Map.of("nvidia.com/gpu.present", "true"));
    static final NodeStatus CPU = node("cpu", true, "amd64", Map.of());
    static final NodeStatus DOWN = node("down", false, "amd64", Map.of("nvidia.com/gpu.present", "true"));

    @Test
    void choosesReadyGpuNodesByName() {
        List<NodeStatus> cluster = List.of(NANO, CPU, H200, DOWN, H100);
        assertThat(DistributedPlan.choose(cluster, null, 2, false)).extracting(NodeStatus::name).containsExactly("h100", "h200");
        assertThat(DistributedPlan.choose(cluster, null, null, true)).extracting(NodeStatus::name).containsExactly("h100", "h200", "nano");
        assertThat(DistributedPlan.choose(cluster, List.of("nano", "cpu"), null, false)).extracting(NodeStatus::name).containsExactly("nano", "cpu");
        assertThatThrownBy(() -> DistributedPlan.choose(cluster, null, 4, false)).isInstanceOf(K3gpuException.class)
                .hasMessage("--nodes 4 but the cluster has 3 Ready GPU nodes (h100, h200, nano)");
        assertThatThrownBy(() -> DistributedPlan.choose(cluster, List.of("ghost"), null, false)).hasMessage("there is no node named ghost in the cluster");
        assertThatThrownBy(() -> DistributedPlan.choose(cluster, List.of("down"), null, false)).hasMessage("node down is not Ready");
    }

    @Test
    void imageByL4tMajorOrDiscreteAndOneForAll() {
        assertThat(DistributedPlan.image(List.of(NANO, NANO), null)).isEqualTo("nvcr.io/nvidia/l4t-pytorch:r32.7.1-pth1.10-py3");
        assertThat(DistributedPlan.image(List.of(ORIN), null)).isEqualTo("dustynv/l4t-pytorch:r36.2.0");
        assertThat(DistributedPlan.image(List.of(H100, H200), null)).isEqualTo("pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime");
        assertThat(DistributedPlan.image(List.of(NANO, H100), "mine:1")).isEqualTo("mine:1");
        assertThatThrownBy(() -> DistributedPlan.image(List.of(NANO, H100), null)).isInstanceOf(K3gpuException.class)
                .hasMessage("the chosen nodes need different images (nano: nvcr.io/nvidia/l4t-pytorch:r32.7.1-pth1.10-py3, "
                        + "h100: pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime; architectures arm64, amd64)");
    }

    @Test
    void autoBackendIsNcclOnlyWhenEveryWorkerIsADiscreteGpu() {
        assertThat(DistributedPlan.backend("auto", List.of(H100, H200))).isEqualTo("nccl");
        assertThat(DistributedPlan.backend("auto", List.of(H100, NANO))).isEqualTo("gloo");
        assertThat(DistributedPlan.backend("auto", List.of(H100, CPU))).isEqualTo("gloo");
        assertThat(DistributedPlan.backend("nccl", List.of(NANO, ORIN))).isEqualTo("nccl");
        assertThatThrownBy(() -> DistributedPlan.backend("mpi", List.of(H100))).hasMessage("unknown backend 'mpi'");
    }
}
