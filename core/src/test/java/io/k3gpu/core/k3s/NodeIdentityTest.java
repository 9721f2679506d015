package io.k3gpu.core.k3s;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.remote.LocalSh;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NodeIdentityTest {
    private static NodeStatus node(String name, String internalIp) {
        return new NodeStatus(name, true, List.of(), null, "v1.31.4+k3s1", internalIp, null, "Ubuntu", "5.15",
                "containerd://1.7", "arm64", null, Map.of());
    }

    @Test
    void commandIsGoldenAndRunsOnAPlainShell() {
        assertThat(NodeIdentity.command()).isEqualTo("hostname -I 2>/dev/null || ip -o addr show | "
                + "awk '{sub(/\\/.*/, \"\", $4); print $4}'; echo '--- k3gpu: K3S_URL'; "
                + "grep -h '^K3S_URL=' /etc/systemd/system/k3s-agent.service.env /etc/systemd/system/k3s.service.env 2>/dev/null");
        NodeIdentity here = NodeIdentity.parse("203.0.113.9", LocalSh.run(NodeIdentity.command(), null).stdout());
        assertThat(here.addresses()).startsWith("203.0.113.9").hasSizeGreaterThan(1);
    }

    @Test
    void parsesTheAddressesAndTheQuotedK3sUrl() {
        NodeIdentity id = NodeIdentity.parse("jetson1.lan", "192.168.0.40 172.17.0.1 fd00::40 \n"
                + "--- k3gpu: K3S_URL\nK3S_URL='https://192.168.0.12:6443'\n");
        assertThat(id.addresses()).containsExactly("jetson1.lan", "192.168.0.40", "172.17.0.1", "fd00::40");
        assertThat(id.joinedUrl()).isEqualTo("https://192.168.0.12:6443");
        assertThat(NodeIdentity.parse("10.0.0.5", "10.0.0.5\n--- k3gpu: K3S_URL\n").joinedUrl()).isNull();
    }

    @Test
    void aNodeIsOursOnlyByItsInternalIp() {
        NodeIdentity id = NodeIdentity.parse("192.168.0.40", "192.168.0.40 10.42.0.0\n--- k3gpu: K3S_URL\n");
        assertThat(id.owns(node("jetson", "192.168.0.40"))).isTrue();
        assertThat(id.owns(node("jetson", "192.168.0.41"))).isFalse();
        assertThat(id.owns(node("jetson", null))).isFalse();
        assertThat(id.notOurs(node("jetson", "192.168.0.41"))).isEqualTo("node jetson in the cluster is another "
                + "machine (InternalIP 192.168.0.41, not one of 192.168.0.40's addresses 192.168.0.40 10.42.0.0)");
    }

    @Test
    void anAgentBelongsToTheClusterItsK3sUrlNamesComparedAsHostAndPort() {
        NodeIdentity agent = NodeIdentity.parse("192.168.0.40", "192.168.0.40\n--- k3gpu: K3S_URL\n"
                + "K3S_URL=https://192.168.0.12:6443\n");
        assertThatCode(() -> agent.checkCluster("https://192.168.0.12:6443/", null, "jetson")).doesNotThrowAnyException();
        assertThatCode(() -> agent.checkCluster("https://k3s.lan:6443", "https://192.168.0.12:6443", "jetson"))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> agent.checkCluster("https://192.168.0.12:7443", null, "jetson"))
                .isInstanceOf(K3gpuException.class);
        assertThatThrownBy(() -> agent.checkCluster("https://10.9.9.9:6443/", null, "jetson"))
                .isInstanceOf(K3gpuException.class)
                .hasMessage("192.168.0.40 (node jetson) is joined to https://192.168.0.12:6443, not to the kubeconfig's "
                        + "cluster at https://10.9.9.9:6443/; nothing was changed")
                .extracting(e -> ((K3gpuException) e).exitCode()).isEqualTo(ExitCode.FAILED);
    }

    @Test
    void aServerIsMatchedByItsOwnAddress() {
        NodeIdentity server = NodeIdentity.parse("s1", "192.168.0.12 10.42.0.1\n--- k3gpu: K3S_URL\n");
        assertThatCode(() -> server.checkCluster("https://192.168.0.12:6443", null, "s1")).doesNotThrowAnyException();
        assertThatThrownBy(() -> server.checkCluster("https://192.168.0.99:6443", null, "s1"))
                .hasMessageStartingWith("s1 (node s1) is not joined to any server, not to the kubeconfig's cluster at");
        NodeIdentity v6 = NodeIdentity.parse("fd00::12", "fd00::12\n--- k3gpu: K3S_URL\n");
        assertThatCode(() -> v6.checkCluster("https://[fd00::12]:6443", null, "s1")).doesNotThrowAnyException();
    }

    @Test
    void hostPortDefaultsThePortAndLowersTheHost() {
        assertThat(NodeIdentity.hostPort("https://K3S.lan")).isEqualTo("k3s.lan:443");
        assertThat(NodeIdentity.hostPort("https://[FD00::1]:6443/")).isEqualTo("fd00::1:6443");
        assertThatThrownBy(() -> NodeIdentity.hostPort("not a url")).hasMessage("'not a url' is not a server URL");
    }
}
