package io.k3gpu.core.k3s;

import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.LocalSh;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class K3sUnitTest {
    @TempDir
    Path tmp;

    @Test
    void theCommandReadsOnlyTheUrlLineOfTheEnvironmentFileThenTheUnit() {
        assertThat(K3sUnit.command(K3sInstall.Role.AGENT)).isEqualTo(
                "grep -h '^K3S_URL=' /etc/systemd/system/k3s-agent.service.env 2>/dev/null; "
                        + "echo '--- k3gpu: unit'; cat /etc/systemd/system/k3s-agent.service 2>/dev/null");
    }

    @Test
    void anAgentsUnitGivesItsServerUrlAndCommandLineAndNeverItsToken() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("etc/systemd/system"));
        Files.writeString(dir.resolve("k3s-agent.service.env"), "K3S_TOKEN='K10abc::server:s3cr3t'\n"
                + "K3S_URL='https://10.0.0.1:6443'\n");
        Files.writeString(dir.resolve("k3s-agent.service"),
                "[Service]\nExecStart=/usr/local/bin/k3s \\\n    agent \\\n\t'--docker' \\\n\n");
        ExecResult r = LocalSh.run(K3sUnit.command(K3sInstall.Role.AGENT).replace("/etc/", tmp + "/etc/"), "");
        assertThat(r.stdout()).doesNotContain("s3cr3t");
        assertThat(K3sUnit.parse(r.stdout())).isEqualTo(new K3sUnit("https://10.0.0.1:6443",
                java.util.List.of("agent", "--docker")));
    }

    @Test
    void noUnitMeansNothingInstalled() {
        K3sUnit u = K3sUnit.parse("--- k3gpu: unit\n");
        assertThat(u.installed()).isFalse();
        assertThat(u.joinedUrl()).isNull();
    }
}
