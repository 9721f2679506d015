package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A bad duration is a usage error from picocli's converter, before any connection (192.0.2.x is unroutable). */
class DurationOptionsTest {

    @Test
    void aBadTimeoutFailsWithExit2BeforeAnySsh() {
        for (String[] args : new String[][] {
                {"join", "--ip", "192.0.2.1", "--server-ip", "192.0.2.2", "--timeout", "soon"},
                {"install", "--ip", "192.0.2.1", "--timeout", "soon"},
                {"verify", "--node", "n1", "--timeout", "soon"},
                {"ready", "--pause", "soon"},
                {"facts", "--ip", "192.0.2.1", "--connect-timeout", "soon"}}) {
            Cli.Result r = Cli.run(args);
            assertThat(r.exit()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err()).as(String.join(" ", args))
                    .matches("(?s)error: Invalid value for option '--[a-z-]+': 'soon' is not a duration \\(write it "
                            + "like 500ms, 10s, 2m or 1h30m\\); see 'k3gpu [a-z]+ --help'\n");
        }
    }

    @Test
    void aZeroTimeoutIsRefusedToo() {
        Cli.Result r = Cli.run("facts", "--ip", "192.0.2.1", "--connect-timeout", "0s");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("'0s' is not a positive duration");
    }

    @Test
    void enumOptionsAreCheckedByPicocliToo() {
        Cli.Result r = Cli.run("facts", "--ip", "192.0.2.1", "-o", "yaml");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: Invalid value for option '--output': expected one of [text, json] "
                + "(case-insensitive) but was 'yaml'");
        r = Cli.run("stats", "parse", "--source", "jtop");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: Invalid value for option '--source': 'jtop' is not auto, tegrastats "
                + "or nvidia-smi");
    }
}
