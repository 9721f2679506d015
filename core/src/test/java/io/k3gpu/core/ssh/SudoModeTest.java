package io.k3gpu.core.ssh;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class SudoModeTest {
    private static final String CMD = "cat /etc/docker/daemon.json";

    @Test
    void rootRunsTheCommandUnderItsDeadline() {
        assertThat(SudoMode.ROOT.wrap(CMD, Duration.ofSeconds(90)))
                .isEqualTo("timeout -k 5s 90s sh -c 'cat /etc/docker/daemon.json'");
    }

    @Test
    void passwordlessSudoNeverPromptsAndRunsTheDeadlineAsRoot() {
        assertThat(SudoMode.NOPASSWD.wrap(CMD, Duration.ofMinutes(10)))
                .isEqualTo("sudo -n -- timeout -k 5s 600s sh -c 'cat /etc/docker/daemon.json'");
    }

    @Test
    void passwordSudoReadsStdinWithoutPromptAndIgnoresCachedCredentials() {
        assertThat(SudoMode.PASSWORD.wrap("echo 'x'", Duration.ofMillis(2500)))
                .isEqualTo("sudo -k -S -p '' -- timeout -k 5s 3s sh -c 'echo '\"'\"'x'\"'\"''");
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
