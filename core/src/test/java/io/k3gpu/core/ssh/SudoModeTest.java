package io.k3gpu.core.ssh;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SudoModeTest {
    private static final String CMD = "cat /etc/docker/daemon.json";

    @Test
    void rootRunsTheCommandAsItIs() {
        assertThat(SudoMode.ROOT.wrap(CMD)).isEqualTo(CMD);
    }

    @Test
    void passwordlessSudoNeverPrompts() {
        assertThat(SudoMode.NOPASSWD.wrap(CMD)).isEqualTo("sudo -n -- sh -c 'cat /etc/docker/daemon.json'");
    }

    @Test
    void passwordSudoReadsStdinWithoutPromptAndIgnoresCachedCredentials() {
        assertThat(SudoMode.PASSWORD.wrap("echo 'x'"))
                .isEqualTo("sudo -k -S -p '' -- sh -c 'echo '\"'\"'x'\"'\"''");
    }

    @Test
    void hostKeyCheckingParsesOpenSshNames() {
        assertThat(HostKeyChecking.parse("accept-new")).isEqualTo(HostKeyChecking.ACCEPT_NEW);
        assertThat(HostKeyChecking.parse("YES")).isEqualTo(HostKeyChecking.YES);
        assertThat(HostKeyChecking.parse("no")).isEqualTo(HostKeyChecking.NO);
    }

    @Test
    void targetNeverPrintsSecrets() {
        SshTarget t = new SshTarget("10.0.0.5", 2222, "alice", java.util.List.of(), java.nio.file.Path.of("kh"),
                HostKeyChecking.YES, java.time.Duration.ofSeconds(5), null, "pw-secret".toCharArray(),
                "sudo-secret".toCharArray());
        assertThat(t.toString()).isEqualTo("SshTarget[alice@10.0.0.5:2222]").doesNotContain("secret");
    }
}
