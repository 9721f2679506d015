package io.k3gpu.core.runtime;

import io.k3gpu.core.remote.LocalSh;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RuntimeProbeTest {
    @Test
    void parsesPathsAndTheActiveK3sUnit() {
        RuntimeProbe p = RuntimeProbe.parse("docker=/usr/bin/docker\nnvidia-container-runtime=\n"
                + "systemctl=/usr/bin/systemctl\nk3s-service=k3s-agent\n");
        assertThat(p.docker()).isEqualTo("/usr/bin/docker");
        assertThat(p.nvidiaContainerRuntime()).isNull();
        assertThat(p.k3sService()).isEqualTo("k3s-agent");
        assertThat(p.restartCommand("docker")).isEqualTo("systemctl restart docker");
    }

    @Test
    void probeCommandRunsOnAPlainShell() {
        RuntimeProbe p = RuntimeProbe.parse(LocalSh.run(RuntimeProbe.COMMAND, null).stdout());
        String docker = LocalSh.run("command -v docker", null).stdout().strip();
        assertThat(p.docker()).isEqualTo(docker.isEmpty() ? null : docker);
        assertThat(p.nvidiaContainerRuntime()).isNull();
    }
}
