package io.k3gpu.lab;

import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LabConfigTest {

    @Test
    void defaults() {
        LabConfig c = LabConfig.of(List.of("jetson-nano"));
        assertThat(c.id()).isEqualTo("k3gpu");
        assertThat(c.subnet()).isEqualTo(213);
        assertThat(c.stateDir()).isEqualTo(Path.of("/run/k3gpu-lab/k3gpu"));
        assertThat(c.bridge()).isEqualTo("k3gpu-br");
        assertThat(c.bridgeIp()).isEqualTo("10.213.213.1");
        assertThat(c.fixturesDir()).isNull();
    }

    @Test
    void nodeNamesCountPerPrefixAndIpsFollowTheOrder() {
        LabConfig c = new LabConfig("itlab", 231, List.of("jetson-nano", "orin-nano", "dgpu", "cpu-only", "dgpu",
                "jetson-nano"), null, null);
        List<LabNode> nodes = c.plannedNodes();
        assertThat(nodes).extracting(LabNode::name)
                .containsExactly("jetson1", "jetson2", "gpu1", "node1", "gpu2", "jetson3");
        assertThat(nodes).extracting(LabNode::hostname)
                .containsExactly("jetson1", "jetson2", "gpu1", "node1", "gpu2", "jetson3");
        assertThat(nodes).extracting(LabNode::ip).containsExactly("10.213.231.11", "10.213.231.12", "10.213.231.13",
                "10.213.231.14", "10.213.231.15", "10.213.231.16");
        assertThat(nodes.get(1).profile()).isEqualTo("orin-nano");
        assertThat(nodes.get(0).netns()).isEqualTo("itlab-jetson1");
        assertThat(nodes.get(0).veth()).isEqualTo("v231-jetson1");
        assertThat(nodes.get(2).dir()).isEqualTo(Path.of("/run/k3gpu-lab/itlab/nodes/gpu1"));
        assertThat(nodes).allSatisfy(n -> {
            assertThat(n.pid()).isZero();
            assertThat(n.alive()).isFalse();
            assertThat(n.veth().length()).isLessThanOrEqualTo(15);
        });
        assertThat(c.bridge()).isEqualTo("itlab-br");
    }

    @Test
    void interfaceNamesStayWithinFifteenCharacters() {
        LabConfig c = new LabConfig("abcdefghijkl", 255, LabConfig.cycle(120, List.of("jetson-nano")), null, null);
        assertThat(c.bridge()).hasSize(15);
        assertThat(c.plannedNodes()).allSatisfy(n -> assertThat(n.veth().length()).isLessThanOrEqualTo(15));
        assertThat(c.plannedNodes().get(99).veth()).isEqualTo("v255-jetson100");
    }

    @Test
    void profilesCycleOverTheNodeCount() {
        assertThat(LabConfig.cycle(3, List.of("jetson-nano", "dgpu")))
                .containsExactly("jetson-nano", "dgpu", "jetson-nano");
        assertThat(LabConfig.cycle(1, List.of("dgpu", "cpu-only"))).containsExactly("dgpu");
    }

    @Test
    void refusesBadInput() {
        assertThatThrownBy(() -> LabConfig.of(List.of("raspberry-pi")))
                .isInstanceOf(K3gpuException.class).hasMessageContaining("unknown lab profile 'raspberry-pi'");
        assertThatThrownBy(() -> new LabConfig("Bad_Id", 213, List.of("dgpu"), null, null))
                .isInstanceOf(K3gpuException.class).hasMessageContaining("invalid lab id");
        assertThatThrownBy(() -> new LabConfig("thirteenchars", 213, List.of("dgpu"), null, null))
                .isInstanceOf(K3gpuException.class);
        assertThatThrownBy(() -> new LabConfig("lab", 256, List.of("dgpu"), null, null))
                .isInstanceOf(K3gpuException.class).hasMessageContaining("subnet");
        assertThatThrownBy(() -> new LabConfig("lab", 213, List.of(), null, null))
                .isInstanceOf(K3gpuException.class);
        assertThatThrownBy(() -> new LabConfig("lab", 213, List.of("dgpu"), Path.of("/var/tmp/lab"), null))
                .isInstanceOf(K3gpuException.class).hasMessageContaining("state directory");
    }

    @Test
    void withIdMovesTheDefaultStateDirOnly() {
        LabConfig c = LabConfig.of(List.of("dgpu")).withId("other");
        assertThat(c.stateDir()).isEqualTo(Path.of("/run/k3gpu-lab/other"));
        LabConfig d = LabConfig.of(List.of("dgpu")).withStateDir(Path.of("/tmp/x")).withId("other");
        assertThat(d.stateDir()).isEqualTo(Path.of("/tmp/x"));
        assertThat(d.withSubnet(7).subnet()).isEqualTo(7);
    }
}
