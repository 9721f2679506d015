package io.k3gpu.cli;

import io.k3gpu.core.keys.KeyType;
import io.k3gpu.core.keys.LocalKeyPair;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("timed")
class SshIT {
    static TestLab lab;

    @TempDir
    Path tmp;

    @BeforeAll
    static void up() {
        lab = TestLab.up("itssh", 236, "cpu-only", "cpu-only", "jetson-nano");
    }

    @AfterAll
    static void down() {
        lab.close();
    }

    /** The facts command with the lab's key but our own choice of the other SSH flags. */
    private static Cli.Result facts(String... sshFlags) {
        List<String> a = new ArrayList<>(List.of("facts", "--ssh-config", "/dev/null", "--connect-timeout", "5s"));
        a.addAll(List.of(sshFlags));
        return Cli.run(a.toArray(String[]::new));
    }

    private String key() {
        return lab.state.keyFile().toString();
    }

    @Test
    void wrongKeyIsPermissionDenied() {
        Path other = tmp.resolve("other_ed25519");
        LocalKeyPair.ensure(other, KeyType.ED25519, 0, "stranger");
        Cli.Result r = facts("--ip", lab.ip("node1"), "--ssh-key", other.toString(),
                "--known-hosts", lab.state.knownHostsFile().toString());
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).startsWith("error: permission denied for root@" + lab.ip("node1") + ":22")
                .contains("k3gpu ssh-keys --ip " + lab.ip("node1"));
    }

    @Test
    void unknownHostIsRefusedInYesMode() {
        Path kh = tmp.resolve("known_hosts");
        Cli.Result r = facts("--ip", lab.ip("node1"), "--ssh-key", key(), "--known-hosts", kh.toString(),
                "--strict-host-key-checking", "yes");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("is not in " + kh).contains("--strict-host-key-checking is yes");
        assertThat(Files.exists(kh)).isFalse();
    }

    @Test
    void acceptNewRecordsTheKeyAndTheNextRunUsesIt() throws IOException {
        Path kh = tmp.resolve("known_hosts");
        Cli.Result first = facts("--ip", lab.ip("node1"), "--ssh-key", key(), "--known-hosts", kh.toString());
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.err()).contains("permanently added the ssh-ed25519 host key of " + lab.ip("node1"));
        assertThat(Files.readString(kh)).contains(lab.ip("node1") + " ssh-ed25519 ");

        Cli.Result second = facts("--ip", lab.ip("node1"), "--ssh-key", key(), "--known-hosts", kh.toString(),
                "--strict-host-key-checking", "yes");
        assertThat(second.exit()).isZero();
        assertThat(second.err()).doesNotContain("permanently added");
    }

    @Test
    void changedHostKeyIsRefusedNamingFileAndLineExceptInNoMode() throws IOException {
        // node2's key filed under node1's address: exactly what a re-installed or impersonated host looks like.
        String node2Line = Files.readAllLines(lab.state.knownHostsFile()).stream()
                .filter(l -> l.startsWith(lab.ip("node2") + " ")).findFirst().orElseThrow();
        Path kh = tmp.resolve("known_hosts");
        Files.writeString(kh, "# my hosts\n" + node2Line.replace(lab.ip("node2"), lab.ip("node1")) + "\n");
        byte[] before = Files.readAllBytes(kh);

        for (String mode : List.of("yes", "accept-new")) {
            Cli.Result r = facts("--ip", lab.ip("node1"), "--ssh-key", key(), "--known-hosts", kh.toString(),
                    "--strict-host-key-checking", mode);
            assertThat(r.exit()).as(mode).isEqualTo(3);
            assertThat(r.err()).as(mode).contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
                    .contains(kh + ":2").contains("ssh-keygen -f " + kh + " -R " + lab.ip("node1"));
        }
        Cli.Result no = facts("--ip", lab.ip("node1"), "--ssh-key", key(), "--known-hosts", kh.toString(),
                "--strict-host-key-checking", "no");
        assertThat(no.exit()).isZero();
        assertThat(no.err()).contains("WARNING: the host key of " + lab.ip("node1") + " has CHANGED");
        assertThat(Files.readAllBytes(kh)).isEqualTo(before);
    }

    @Test
    void unreachableHostFailsAfterThreeConnectTimeouts() {
        long start = System.nanoTime();
        // .250 is inside the lab's own subnet, where no node answers.
        String nobody = lab.ip("node1").replaceAll("\\.\\d+$", ".250");
        Cli.Result r = Cli.run("facts", "--ip", nobody, "--ssh-key", key(), "--ssh-config", "/dev/null",
                "--known-hosts", lab.state.knownHostsFile().toString(), "--connect-timeout", "2s");
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        assertThat(r.exit()).isEqualTo(3);
        // Three attempts of 2 s each, 1 s then 2 s apart: a lossy link gets a second and a third chance.
        assertThat(r.err().lines().filter(l -> l.startsWith("warning: ")).toList()).hasSize(2)
                .allMatch(l -> l.contains("cannot reach " + nobody + ":22") && l.contains("; trying again ("));
        assertThat(r.err()).contains("\nerror: cannot reach " + nobody + ":22").contains(" (3 attempts); ");
        assertThat(seconds).isLessThan(14);
    }

    @Test
    void sudoNeedingAPasswordFailsClearlyWithoutOne() {
        Cli.Result r = Cli.run(TestLab.args("facts", lab.ssh("node1", "--user", "alice")));
        assertThat(r.exit()).isEqualTo(4);
        assertThat(r.err()).contains("sudo on " + lab.ip("node1") + " needs a password for alice")
                .contains("NOPASSWD").contains("--sudo-password-stdin");
    }

    @Test
    void sudoPasswordFromStdinWorksAndIsNeverPrinted() {
        String pw = lab.password("alice");
        Cli.Result r = Cli.run(pw + "\n", Map.of(),
                TestLab.args("facts", lab.ssh("node1", "--user", "alice", "--sudo-password-stdin")));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("hostname:                 node1");
        assertThat(r.all()).doesNotContain(pw);
    }

    @Test
    void wrongSudoPasswordIsReportedAsSuch() {
        Cli.Result r = Cli.run("not-the-password\n", Map.of(),
                TestLab.args("facts", lab.ssh("node1", "--user", "alice", "--sudo-password-stdin")));
        assertThat(r.exit()).isEqualTo(4);
        assertThat(r.err()).contains("rejected the password").doesNotContain("not-the-password");
    }

    @Test
    void passwordlessSudoUserWorks() {
        Cli.Result r = Cli.run(TestLab.args("facts", lab.ssh("jetson1", "--user", "k3gpu")));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("l4t:                      32.7.1");
    }

    @Test
    void sshConfigSuppliesHostNameUserKeyAndProxyJump() throws IOException {
        Path config = tmp.resolve("config");
        Files.writeString(config, ""
                + "Host board\n  HostName " + lab.ip("jetson1") + "\n  User k3gpu\n  IdentityFile " + key() + "\n"
                + "Host behind\n  HostName " + lab.ip("node2") + "\n  IdentityFile " + key() + "\n"
                + "  ProxyJump root@" + lab.ip("node1") + "\n");
        String kh = lab.state.knownHostsFile().toString();

        Cli.Result direct = Cli.run("facts", "--host", "board", "--ssh-config", config.toString(),
                "--known-hosts", kh, "--strict-host-key-checking", "yes");
        assertThat(direct.exit()).as(direct.err()).isZero();
        assertThat(direct.out()).contains("hostname:                 jetson1");

        Cli.Result jumped = Cli.run("facts", "--host", "behind", "--ssh-config", config.toString(),
                "--known-hosts", kh, "--strict-host-key-checking", "yes");
        assertThat(jumped.exit()).as(jumped.err()).isZero();
        assertThat(jumped.out()).contains("hostname:                 node2");
    }

    @Test
    void sshAgentKeysAreTried() throws Exception {
        Path sock = tmp.resolve("agent.sock");
        Process agent = new ProcessBuilder("ssh-agent", "-D", "-a", sock.toString()).redirectErrorStream(true).start();
        try {
            for (int i = 0; i < 50 && !Files.exists(sock); i++) {
                Thread.sleep(100);
            }
            ProcessBuilder add = new ProcessBuilder("ssh-add", key()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            add.environment().put("SSH_AUTH_SOCK", sock.toString());
            assertThat(add.start().waitFor()).isZero();
            Path emptyConfig = tmp.resolve("empty-config");
            Files.writeString(emptyConfig, "");
            // No --ssh-key: the agent is the only way in (the default ~/.ssh/id_* files do not open the lab).
            Cli.Result r = Cli.run("", Map.of("SSH_AUTH_SOCK", sock.toString()), "facts", "--ip", lab.ip("node1"),
                    "--ssh-config", emptyConfig.toString(), "--known-hosts", lab.state.knownHostsFile().toString());
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).contains("hostname:                 node1");
        } finally {
            agent.destroy();
        }
    }
}
