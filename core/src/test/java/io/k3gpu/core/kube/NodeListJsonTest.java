package io.k3gpu.core.kube;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeListBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NodeListJsonTest {
    private static List<NodeStatus> parse(String json) {
        return NodeListJson.nodes(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aK3sServerNodeReadsAsKubectlShowsIt() {
        // as the lab's K3s server sends it (trimmed), with an images list and managedFields that are skipped
        List<NodeStatus> nodes = parse("""
                {"kind":"NodeList","apiVersion":"v1","metadata":{"resourceVersion":"81"},"items":[{"apiVersion":"v1",
                "kind":"Node","metadata":{"annotations":{"k3s.io/hostname":"node1"},"creationTimestamp":
                "2026-12-05T22:16:10Z","labels":{"kubernetes.io/arch":"amd64","kubernetes.io/hostname":"node1",
                "node-role.kubernetes.io/master":"true","node-role.kubernetes.io/control-plane":"true"},
                "managedFields":[{"fieldsV1":{"f:metadata":{"f:labels":{"f:kubernetes.io/arch":{}}}}}],"name":"node1"},
                "spec":{"podCIDR":"10.42.0.0/24","podCIDRs":["10.42.0.0/24"]},"status":{"addresses":[
                {"address":"10.213.211.11","type":"InternalIP"},{"address":"node1","type":"Hostname"}],
                "allocatable":{"cpu":"2","pods":"110"},"capacity":{"cpu":"2","pods":"110"},"conditions":[
                {"message":"kubelet has sufficient memory available","status":"False","type":"MemoryPressure"},
                {"lastHeartbeatTime":"2026-12-05T22:16:51Z","status":"True","type":"Ready"}],
                "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},"images":[{"names":["docker.io/rancher/klipper-lb:v0.4.9"],
                "sizeBytes":4990278}],"nodeInfo":{"architecture":"amd64","containerRuntimeVersion":"containerd://1.7.23-k3s2",
                "kernelVersion":"6.18.44-fc-v1272","kubeProxyVersion":"v1.31.4+k3s1","kubeletVersion":"v1.31.4+k3s1",
                "operatingSystem":"linux","osImage":"Debian GNU/Linux 12 (bookworm)"}}}]}
                """);
        assertThat(nodes).containsExactly(new NodeStatus("node1", true, List.of("control-plane", "master"),
                Instant.parse("2026-12-05T22:16:10Z"), "v1.31.4+k3s1", "10.213.211.11", null,
                "Debian GNU/Linux 12 (bookworm)", "6.18.44-fc-v1272", "containerd://1.7.23-k3s2", "amd64", null,
                Map.of("kubernetes.io/arch", "amd64", "kubernetes.io/hostname", "node1",
                        "node-role.kubernetes.io/master", "true", "node-role.kubernetes.io/control-plane", "true"),
                null));
    }

    @Test
    void gpuCapacityAndAllocatableAreTheApisQuantities() {
        List<NodeStatus> nodes = parse("""
                {"items":[{"metadata":{"name":"orin1","labels":{"nvidia.com/gpu.product":"Orin"}},
                 "status":{"capacity":{"cpu":"6","nvidia.com/gpu":"2"},"allocatable":{"nvidia.com/gpu":"1"},
                 "addresses":[{"type":"ExternalIP","address":"203.0.113.7"},{"type":"InternalIP","address":"10.0.0.5"},
                              {"type":"InternalIP","address":"10.0.0.6"}],
                 "conditions":[{"type":"Ready","status":"Unknown"},{"type":"Ready","status":"True"}]}}]}
                """);
        NodeStatus n = nodes.get(0);
        assertThat(n.gpuCapacity()).isEqualTo("2");
        assertThat(n.gpuAllocatable()).isEqualTo("1");
        assertThat(n.internalIp()).isEqualTo("10.0.0.5");
        assertThat(n.externalIp()).isEqualTo("203.0.113.7");
        assertThat(n.ready()).as("the first Ready condition decides").isFalse();
        assertThat(n.roles()).isEmpty();
        assertThat(n.created()).isNull();
        assertThat(n.kubeletVersion()).isNull();
        assertThat(n.architecture()).as("no nodeInfo: the arch label, here none").isNull();
    }

    @Test
    void aNodeWithoutStatusOrAddressesHasNullsAndIsNotReady() {
        List<NodeStatus> nodes = parse("""
                {"items":[{"metadata":{"name":"bare","labels":{"kubernetes.io/arch":"arm64"}}},
                          {"metadata":{"name":"nulls","labels":null,"creationTimestamp":null},"status":{"addresses":null,
                           "conditions":null,"nodeInfo":null,"capacity":null,"allocatable":null}},
                          {"metadata":{"name":"badtime","creationTimestamp":"yesterday"},"status":{"nodeInfo":{}}},
                          null]}
                """);
        assertThat(nodes).containsExactly(
                new NodeStatus("bare", false, List.of(), null, null, null, null, null, null, null, "arm64", null,
                        Map.of("kubernetes.io/arch", "arm64"), null),
                new NodeStatus("nulls", false, List.of(), null, null, null, null, null, null, null, null, null, Map.of(),
                        null),
                new NodeStatus("badtime", false, List.of(), null, null, null, null, null, null, null, null, null,
                        Map.of(), null));
        assertThat(parse("{\"kind\":\"NodeList\",\"items\":[]}")).isEmpty();
        assertThat(parse("{\"kind\":\"NodeList\"}")).isEmpty();
    }

    @Test
    void untrustedValuesAreKeptAsSentForTheOutputToClean() {
        // a node (or whoever can write it) chooses its labels and nodeInfo: escapes are decoded, never interpreted
        List<NodeStatus> nodes = parse("""
                {"items":[{"metadata":{"name":"evil\\u001b[2J","labels":{"k3gpu.dev/l4t":"32.7\\r\\n1","n":null,
                 "num":7}},"status":{"nodeInfo":{"osImage":"\\u001b]0;pwned\\u0007Ubuntu","kubeletVersion":true}}}]}
                """);
        NodeStatus n = nodes.get(0);
        assertThat(n.name()).isEqualTo("evil\u001b[2J");
        assertThat(n.labels()).isEqualTo(Map.of("k3gpu.dev/l4t", "32.7\r\n1", "num", "7"));
        assertThat(n.osImage()).isEqualTo("\u001b]0;pwned\u0007Ubuntu");
        assertThat(n.kubeletVersion()).isEqualTo("true");
    }

    @Test
    void aBodyThatIsNotANodeListIsRefused() {
        assertThatThrownBy(() -> parse("[]")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> parse("{\"items\":[{\"metadata\":{\"labels\":[\"a\"]}}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("labels");
        assertThatThrownBy(() -> parse("{\"items\":[{\"metadata\":{\"name\":{\"a\":1}}}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name");
        assertThatThrownBy(() -> parse("{\"items\":[{\"status\":{\"addresses\":{}}}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("addresses");
        assertThatThrownBy(() -> parse("{\"items\":[1]}")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> parse("{\"items\":[{\"metadata\":")).isInstanceOf(RuntimeException.class);
    }

    private static Node node(String name, boolean ready, String gpus) {
        NodeBuilder b = new NodeBuilder().withNewMetadata().withName(name)
                .withCreationTimestamp("2026-11-28T11:55:00Z")
                .addToLabels("kubernetes.io/arch", "arm64")
                .addToLabels("node-role.kubernetes.io/worker", "")
                .addToLabels("nvidia.com/gpu.product", "NVIDIA-Jetson-Orin-Nano")
                .endMetadata()
                .withNewStatus()
                .addNewAddress("10.213.0.13", "InternalIP").addNewAddress(name, "Hostname")
                .addNewCondition().withType("MemoryPressure").withStatus("False").endCondition()
                .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition()
                .withNewNodeInfo().withKubeletVersion("v1.31.4+k3s1").withOsImage("Ubuntu 22.04.5 LTS")
                .withKernelVersion("5.15.148-tegra").withContainerRuntimeVersion("containerd://1.7.23-k3s2")
                .withArchitecture("arm64").endNodeInfo()
                .addToCapacity("cpu", new Quantity("6"))
                .addNewImage().withNames("nvcr.io/nvidia/l4t-base:r36.2.0").withSizeBytes(123456789L).endImage()
                .endStatus();
        if (gpus != null) {
            b.editStatus().addToCapacity("nvidia.com/gpu", new Quantity(gpus))
                    .addToAllocatable("nvidia.com/gpu", new Quantity(gpus)).endStatus();
        }
        return b.build();
    }

    @Test
    void theSameAsFabric8sModelRead() {
        List<Node> items = List.of(node("orin1", true, "1"), node("orin2", false, null), node("thor1", true, "4"),
                new NodeBuilder().withNewMetadata().withName("empty").endMetadata().build());
        String json = new KubernetesSerialization().asJson(new NodeListBuilder().withItems(items).build());
        assertThat(NodeListJson.nodes(json.getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(items.stream().map(Fabric8Models::status).toList());
    }
}
