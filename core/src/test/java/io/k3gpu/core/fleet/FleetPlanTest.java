package io.k3gpu.core.fleet;

import io.k3gpu.core.kube.NodeStatus;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class FleetPlanTest {
    private static final ClusterSpec SPEC = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
            hosts:
              - {name: cp1, address: 10.0.0.1, role: server, gpu: none}
              - {name: nano, address: 10.0.0.2, role: agent, gpu: docker}
              - {name: ghost, address: 10.0.0.3, role: agent, gpu: none}
            """);

    private static NodeStatus node(String name, String internalIp) {
        return new NodeStatus(name, true, List.of(), Instant.EPOCH, "v1.31.4+k3s1", internalIp, null, "Ubuntu",
                "5.15", "containerd://1.7", "arm64", null, Map.of());
    }

    @Test
    void nodesThatAreNoHostOfTheFileByHostnameAddressOrNameAreListedByName() {
        Map<HostSpec, String> hostnames = new LinkedHashMap<>();
        hostnames.put(SPEC.host("cp1"), "server-a");
        hostnames.put(SPEC.host("nano"), "jetson-nano-1");
        hostnames.put(SPEC.host("ghost"), null); // unreachable: known by its address and its name only
        List<NodeStatus> nodes = List.of(
                node("server-a", "10.0.0.1"),
                node("jetson-nano-1", "192.168.5.2"), // another InternalIP, same hostname
                node("renamed", "10.0.0.3"),          // the unreachable host, by its address
                node("nano", "10.9.9.9"),             // named as in the file
                node("zeta", "10.0.0.20"),
                node("spare", null));

        assertThat(FleetPlan.notInFile(nodes, hostnames)).extracting(NodeStatus::name).containsExactly("spare", "zeta");
        assertThat(FleetPlan.notInFile(List.of(), hostnames)).isEmpty();
    }
}
