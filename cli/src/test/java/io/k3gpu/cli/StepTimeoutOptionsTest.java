package io.k3gpu.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StepTimeoutOptionsTest {

    @Test
    void aBadStepTimeoutIsAUsageErrorBeforeAnySshConnection() {
        // 192.0.2.1 (TEST-NET-1) never answers: reaching for it would take --connect-timeout and exit 3.
        for (String command : new String[] {"gpu-runtime", "install", "join", "reset"}) {
            Cli.Result r = Cli.run(command, "--ip", "192.0.2.1", "--step-timeout", "soon");
            assertThat(r.exit()).as(command + ": " + r.err()).isEqualTo(2);
            assertThat(r.err()).startsWith("error: Invalid value for option '--step-timeout': 'soon' is not a "
                    + "duration (write it like 500ms, 10s, 2m or 1h30m)");
        }
        Cli.Result zero = Cli.run("apply", "-f", "cluster.yaml", "--step-timeout", "0s");
        assertThat(zero.exit()).isEqualTo(2);
        assertThat(zero.err()).startsWith("error: Invalid value for option '--step-timeout': '0s' is not a positive "
                + "duration");
    }

    @Test
    void convertsGoStyleDurations() {
        assertThat(new DurationConverter().convert("1m30s")).hasSeconds(90);
        assertThat(new DurationConverter().convert("500ms")).hasMillis(500);
    }
}
