package io.k3gpu.core.remote;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ExecResultTest {
    private static ExecResult of(int code, String out, String err) {
        return new ExecResult(code, out.getBytes(StandardCharsets.UTF_8), err.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void tailTakesTheLastLinesOfStderr() {
        assertThat(of(1, "ignored", "a\nb\n\nc\nd\n").tail(2)).isEqualTo("c | d");
    }

    @Test
    void tailFallsBackToStdout() {
        assertThat(of(1, "only out\n", "").tail(3)).isEqualTo("only out");
    }

    @Test
    void remoteCommandExceptionKeepsStatusAndTail() {
        RemoteCommandException e = new RemoteCommandException("10.0.0.5", "restarting docker",
                of(3, "", "Job for docker.service failed.\nSee journalctl.\n"));
        assertThat(e.getMessage()).isEqualTo(
                "restarting docker failed on 10.0.0.5 (exit 3): Job for docker.service failed. | See journalctl.");
        assertThat(e.remoteExitCode()).isEqualTo(3);
        assertThat(e.exitCode().code()).isEqualTo(4);
    }
}
