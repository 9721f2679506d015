package io.k3gpu.core.runtime;

import io.k3gpu.core.remote.LocalSh;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

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

    @TempDir
    Path bin;

    /** The probe with a systemctl that answers is-active as systemd does: one state per unit, exit 3 unless all active. */
    private RuntimeProbe probeWithActive(String active) throws IOException {
        Path systemctl = bin.resolve("systemctl");
        Files.writeString(systemctl, """
                #!/bin/sh
                [ "$1" = is-active ] || exit 64
                shift
                rc=0
                for u; do if [ "$u" = "%s" ]; then echo active; else echo inactive; rc=3; fi; done
                exit $rc
                """.formatted(active));
        Files.setPosixFilePermissions(systemctl, PosixFilePermissions.fromString("rwx------"));
        return RuntimeProbe.parse(LocalSh.run(RuntimeProbe.COMMAND, null, Map.of("PATH", bin + ":/usr/bin:/bin"))
                .stdout());
    }

    @Test
    void theActiveK3sUnitComesFromOneSystemctlCall() throws IOException {
        assertThat(probeWithActive("k3s-agent").k3sService()).isEqualTo("k3s-agent");
        assertThat(probeWithActive("k3s").k3sService()).isEqualTo("k3s");
        assertThat(probeWithActive("docker").k3sService()).isNull();
        assertThat(probeWithActive("k3s").systemctl()).isEqualTo(bin.resolve("systemctl").toString());
    }

    @Test
    void probeCommandRunsOnAPlainShell() {
        RuntimeProbe p = RuntimeProbe.parse(LocalSh.run(RuntimeProbe.COMMAND, null).stdout());
        String docker = LocalSh.run("command -v docker", null).stdout().strip();
        assertThat(p.docker()).isEqualTo(docker.isEmpty() ? null : docker);
        assertThat(p.nvidiaContainerRuntime()).isNull();
    }
}
