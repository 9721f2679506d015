package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

class ControlFreeOutputTest {
    private static final String PWNED = "\033]0;pwned\007\033[2J";

    @Test
    void anErrorLineCarriesNoControlSequenceFromTheNodesStderr() {
        K3gpuException e = new K3gpuException(ExitCode.REMOTE_COMMAND,
                "systemctl restart docker failed on jetson1 (exit 1): " + PWNED + "Job\bfailed", "see " + PWNED + "journalctl");
        assertThat(ErrorHandler.line(e))
                .isEqualTo("error: systemctl restart docker failed on jetson1 (exit 1): Jobfailed; see journalctl");
    }

    @Test
    void whatCommandsPrintLosesControlSequencesWhileTheLiveViewsDrawWithThem() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Terminal t = new Terminal(new PrintWriter(out), new PrintWriter(err), new ByteArrayInputStream(new byte[0]), Map.of());

        t.out().println("hostname: " + PWNED + "jetson1\tok");
        t.err().println("warning: jetson1: " + PWNED + "journal line");
        t.screen().print("\033[H");

        assertThat(out.toString()).isEqualTo("hostname: jetson1\tok\n\033[H");
        assertThat(err.toString()).isEqualTo("warning: jetson1: journal line\n");
    }
}
