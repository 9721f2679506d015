package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Which node a command reaches is an argument group: picocli refuses --ip with --host while parsing (exit 2, one line
 * saying what to do), so nothing connects. The addresses are unroutable: a run that got past parsing would fail
 * otherwise (exit 3), not with this line.
 */
class NodeOptionsTest {

    @Test
    void ipWithHostIsAUsageErrorOfEveryOneNodeCommand() {
        for (String command : new String[] {"facts", "install", "doctor", "node-token"}) {
            Cli.Result r = Cli.run(command, "--ip", "192.0.2.1", "--host", "jetson.invalid", "--connect-timeout", "1s");
            assertThat(r.exit()).as(command).isEqualTo(2);
            assertThat(r.err()).isEqualTo("error: --ip and --host cannot be used together; pass only one of them; "
                    + "see 'k3gpu " + command + " --help'\n");
        }
    }

    @Test
    void theDashboardFollowsTheClusterAndTakesNoIp() {
        Cli.Result r = Cli.run("dashboard", "--ip", "192.0.2.1");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("error: Unknown options: '--ip', '192.0.2.1'; see 'k3gpu dashboard --help'\n");
    }

    @Test
    void picocliMessagesOfArgumentGroupsReadAsK3gpuErrors() {
        assertThat(ErrorHandler.message("Error: --ip=IP, --host=HOST, --all are mutually exclusive (specify only one)"))
                .isEqualTo("--ip and --host and --all cannot be used together; pass only one of them");
        assertThat(ErrorHandler.message("Error: expected only one match but got [--ip=IP | --host=HOST]={--ip=a} and "
                + "[--ip=IP | --host=HOST]={--ip=b}")).isEqualTo("only one of --ip, --host can be given, once");
        assertThat(ErrorHandler.message("Missing required parameter: 'FILE'")).isEqualTo(
                "Missing required parameter: 'FILE'");
    }
}
