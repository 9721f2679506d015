package io.k3gpu.lab.k3s;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class EmbeddedAgentTest {
    @Test
    void theServersAgentFlagsFromTheCommandLineAndConfigFileGoToTheAgent() {
        K3sFlags.Parsed p = K3sFlags.parse(List.of("--docker", "--node-label", "a=b", "--node-label=c=d",
                "--node-taint", "gpu=true:NoSchedule", "--kubelet-arg", "max-pods=50", "--token", "secret",
                "--cluster-init", "--disable", "traefik", "--default-runtime", "nvidia", "--node-ip", "10.0.0.5"),
                Map.of(), path -> path.toString().endsWith("config.yaml") ? "private-registry: /etc/r.yaml\n"
                        + "node-label:\n  - e=f\n" : null);
        assertThat(EmbeddedAgent.agentFlags(p)).containsExactly("--node-label=e=f", "--node-label=a=b",
                "--node-label=c=d", "--node-taint=gpu=true:NoSchedule", "--node-ip=10.0.0.5", "--docker=true",
                "--default-runtime=nvidia", "--kubelet-arg=max-pods=50", "--private-registry=/etc/r.yaml");
    }

    @Test
    void theAgentConnectsToTheLocalApiWithATokenFileNeverATokenOnItsCommandLine() {
        List<String> cmd = EmbeddedAgent.command(Path.of("/shared/k3s/k3s-agent.pyc"), "https://127.0.0.1:6443",
                Path.of("/var/lib/rancher/k3s/server/token"), Path.of("/var/lib/rancher/k3s"), "node1", true,
                List.of("--docker=true"));
        assertThat(String.join(" ", cmd)).isEqualTo("/usr/bin/python3 -S /shared/k3s/k3s-agent.pyc agent "
                + "--config /dev/null --server https://127.0.0.1:6443 --token-file /var/lib/rancher/k3s/server/token "
                + "--data-dir /var/lib/rancher/k3s --node-name node1 --debug --docker=true");
    }

    @Test
    void theEnvironmentTellsTheAgentTheServersRolesArgsAndPodRange() {
        assertThat(EmbeddedAgent.environment(List.of("server", "--token", "********"), true, "10.42.0.0/24"))
                .isEqualTo("{\"nodeArgs\":[\"server\",\"--token\",\"********\"],\"etcd\":true,"
                        + "\"podCIDR\":\"10.42.0.0/24\"}");
        assertThat(EmbeddedAgent.environment(List.of("server"), false, null))
                .isEqualTo("{\"nodeArgs\":[\"server\"],\"etcd\":false}");
    }
}
