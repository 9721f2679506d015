package io.k3gpu.core.remote;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

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

    @Test
    void boundsACommandWithCoreutilsTimeoutRoundingUpToWholeSeconds() {
        assertThat(Shell.withDeadline("docker info --format '{{.DefaultRuntime}}'", Duration.ofMillis(29_001)))
                .isEqualTo("timeout -k 5s 30s sh -c 'docker info --format '\"'\"'{{.DefaultRuntime}}'\"'\"''");
    }

    @Test
    void aTaggedCommandCarriesItsTagAsANoOpWord() {
        assertThat(Shell.withDeadline("sh /tmp/install.sh", Duration.ofMinutes(10), "k3gpu-step-0123456789ab"))
                .isEqualTo("timeout -k 5s 600s sh -c ': k3gpu-step-0123456789ab; sh /tmp/install.sh'");
    }

    @Test
    void theStopCommandEndsATaggedStepAndItsChildrenFromOutside() throws Exception {
        RemoteStep step = RemoteStep.install("a long script");
        Process running = new ProcessBuilder("sh", "-c",
                Shell.withDeadline("sleep 300 >/dev/null 2>&1 & echo $!; wait", Duration.ofMinutes(5), step.tag()))
                .redirectErrorStream(true).start();
        String child = new java.io.BufferedReader(new java.io.InputStreamReader(running.getInputStream())).readLine();
        ExecResult stop = LocalSh.run(step.stopCommand(), null);
        assertThat(stop.exitCode()).as("pkill found the step (and not itself)").isZero();
        assertThat(running.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)).as("the step ended").isTrue();
        Path stat = Path.of("/proc", child.strip(), "stat");
        for (int i = 0; i < 50 && alive(stat); i++) {
            Thread.sleep(20);
        }
        assertThat(alive(stat)).as("the step's background child is alive").isFalse();
    }

    @Test
    void theDeadlineKillsTheWholeProcessTreeAndExits124() throws Exception {
        long t0 = System.nanoTime();
        ExecResult r = LocalSh.run(Shell.withDeadline("sleep 300 >/dev/null 2>&1 & echo $!; wait", Duration.ofSeconds(1)),
                null);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.exitCode()).isEqualTo(124);
        assertThat(ms).isBetween(900L, 4000L);
        Path stat = Path.of("/proc", r.stdout().strip(), "stat");
        for (int i = 0; i < 50 && alive(stat); i++) {
            Thread.sleep(20);
        }
        assertThat(alive(stat)).as("the background child of the timed-out command is alive").isFalse();
    }

    /** Running or sleeping; a zombie (dead, not yet reaped by a busy init) is not alive. */
    private static boolean alive(Path stat) throws java.io.IOException {
        try {
            String s = Files.readString(stat);
            return !s.substring(s.lastIndexOf(')') + 2).startsWith("Z");
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }
}
