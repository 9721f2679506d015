package io.k3gpu.lab;

import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NodeFaultsTest {
    @Test
    void aProfileSpecCarriesItsFaultsToNodeEnv() {
        LabConfig c = new LabConfig("itlab", 231, List.of("orin-nano+memory-cgroup-off+clock-skew=-3h", "cpu-only"),
                null, null);
        LabNode n = c.plannedNodes().get(0);
        assertThat(n.name()).isEqualTo("jetson1");
        assertThat(n.profileInfo()).isEqualTo(Profile.ORIN_NANO);
        assertThat(NodeFaults.envLine(n.profile())).isEqualTo("FAULTS='memory-cgroup-off clock-skew=-3h'\n");
        assertThat(NodeFaults.envLine(c.plannedNodes().get(1).profile())).isEmpty();
        assertThat(NodeFaults.parse("kernel-config=-VXLAN:-OVERLAY_FS+block=8472/udp+hostname=node1"))
                .containsExactly("kernel-config=-VXLAN:-OVERLAY_FS", "block=8472/udp", "hostname=node1");
    }

    @Test
    void unknownFaultsAndValuesThatCouldEscapeTheShellAreRefused() {
        for (String bad : List.of("orin-nano+no-such-fault", "orin-nano+hostname=x'; reboot #", "orin-nano+swap=1",
                "orin-nano+block=22", "orin-nano+clock-skew=3h", "orin-nano+kernel-config=VXLAN")) {
            assertThatThrownBy(() -> Profile.of(bad)).as(bad).isInstanceOf(K3gpuException.class)
                    .hasMessageContaining("unknown lab fault");
        }
    }
}
