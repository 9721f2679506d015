package io.k3gpu.core.fleet;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class InstallExecTest {
    private static final ClusterSpec HA = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
            cluster: {tlsSan: [k3s.lan], serverArgs: " --disable traefik ", agentArgs: --node-label=a=b}
            hosts:
              - {name: cp1, address: 10.0.0.1, role: server, gpu: docker}
              - {name: cp2, address: 10.0.0.2, role: server, gpu: docker}
              - {name: nano, address: 10.0.0.3, role: agent, gpu: docker}
              - {name: cpu, address: 10.0.0.4, role: agent, gpu: none}
            """);

    @Test
    void theFirstServerStartsEtcdWithItsAddressTheSansDockerAndServerArgs() {
        assertThat(InstallExec.firstServer(HA, HA.host("cp1"), false))
                .isEqualTo("server --cluster-init --tls-san 10.0.0.1 --tls-san k3s.lan --docker --disable traefik");
    }

    @Test
    void aLoneServerHasClusterInitOnlyWhenItRunsWithItAlready() {
        ClusterSpec one = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
                hosts: [{name: cp1, address: 10.0.0.1, role: server, gpu: none}]
                """);
        assertThat(InstallExec.firstServer(one, one.firstServer(), false)).isEqualTo("server --tls-san 10.0.0.1");
        assertThat(InstallExec.firstServer(one, one.firstServer(), true))
                .isEqualTo("server --cluster-init --tls-san 10.0.0.1");
    }

    @Test
    void joinedHostsGetWhatJoinNodeInstallsItsCommandDockerThenTheFlags() {
        assertThat(InstallExec.joinFlags(HA, HA.host("cp2"))).isEqualTo("--tls-san 10.0.0.2 --tls-san k3s.lan --disable traefik");
        assertThat(InstallExec.joined(HA, HA.host("cp2")))
                .isEqualTo("server --docker --tls-san 10.0.0.2 --tls-san k3s.lan --disable traefik");
        assertThat(InstallExec.joined(HA, HA.host("nano"))).isEqualTo("agent --docker --node-label=a=b");
        assertThat(InstallExec.joined(HA, HA.host("cpu"))).isEqualTo("agent --node-label=a=b");
    }
}
