package io.k3gpu.core.k3s;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class K3sExecTest {
    @Test
    void aServerStartsWithClusterInitThenItsSansThenDockerThenTheUsersFlags() {
        assertThat(K3sExec.server(true, List.of("10.0.0.1", "k3s.lan"), true, "  --disable traefik "))
                .isEqualTo("server --cluster-init --tls-san 10.0.0.1 --tls-san k3s.lan --docker --disable traefik");
        assertThat(K3sExec.server(false, List.of("10.0.0.1"), false, null)).isEqualTo("server --tls-san 10.0.0.1");
        assertThat(K3sExec.server(false, List.of(), false, " ")).isEqualTo("server");
    }

    @Test
    void anExtraServersFlagsAreTheSameWithoutTheCommand() {
        assertThat(K3sExec.serverFlags(List.of("10.0.0.2"), false, "--disable traefik"))
                .isEqualTo("--tls-san 10.0.0.2 --disable traefik");
        assertThat(K3sExec.serverFlags(List.of(), false, "--disable traefik")).isEqualTo("--disable traefik");
        assertThat(K3sExec.serverFlags(List.of(), true, null)).isEqualTo("--docker");
    }

    @Test
    void aJoinedNodeIsServerOrAgentThenDockerThenTheUsersFlags() {
        assertThat(K3sExec.joined(false, true, "--node-label=a=b")).isEqualTo("agent --docker --node-label=a=b");
        assertThat(K3sExec.joined(true, false, "--tls-san 10.0.0.2")).isEqualTo("server --tls-san 10.0.0.2");
        assertThat(K3sExec.joined(false, false, null)).isEqualTo("agent");
    }

    @Test
    void theNvidiaDefaultFlagFollowsDockerAndPrecedesTheUsersFlags() {
        assertThat(K3sExec.joined(false, false, true, "--node-label=a=b"))
                .isEqualTo("agent --default-runtime nvidia --node-label=a=b");
        assertThat(K3sExec.joined(true, false, false, null)).isEqualTo("server");
        assertThat(K3sExec.server(true, List.of("10.0.0.1"), false, true, "--disable traefik"))
                .isEqualTo("server --cluster-init --tls-san 10.0.0.1 --default-runtime nvidia --disable traefik");
    }
}
