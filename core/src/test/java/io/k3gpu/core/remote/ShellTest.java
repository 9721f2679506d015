package io.k3gpu.core.remote;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ShellTest {
    @Test
    void leavesSafeWordsBare() {
        assertThat(Shell.quote("/etc/docker/daemon.json")).isEqualTo("/etc/docker/daemon.json");
    }

    @Test
    void singleQuotesEverythingElse() {
        assertThat(Shell.quote("a b")).isEqualTo("'a b'");
        assertThat(Shell.quote("")).isEqualTo("''");
        assertThat(Shell.quote("it's $HOME")).isEqualTo("'it'\"'\"'s $HOME'");
    }

    @Test
    void quotedWordsSurviveTheShell() {
        String nasty = "x'; rm -rf / #\"$(id)`id`";
        ExecResult r = LocalSh.run("printf '%s' " + Shell.quote(nasty), null);
        assertThat(r.stdout()).isEqualTo(nasty);
    }
}
