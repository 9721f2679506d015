package io.k3gpu.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SshKeysIT {
    static TestLab lab;

    @TempDir
    Path tmp;

    @BeforeAll
    static void up() {
        lab = TestLab.up("itkeys", 237, "jetson-nano", "cpu-only");
    }

    @AfterAll
    static void down() {
        lab.close();
    }

    private static long count(String text, String line) {
        return text.lines().filter(line::equals).count();
    }

    @Test
    void seedFlowCreatesRsaKeyAuthorizesUserAndRootOnceAndProvesKeyLogin() throws Exception {
        Path key = tmp.resolve("rpi");
        String pw = lab.password("alice");
        String kh = tmp.resolve("known_hosts").toString();
        String[] args = {"ssh-keys", "--ip", lab.ip("jetson1"), "--user", "alice", "--type", "rsa", "--bits", "4096",
                "--key", key.toString(), "--root", "--password-stdin", "--known-hosts", kh,
                "--ssh-config", "/dev/null", "-o", "json"};

        Cli.Result first = Cli.run(pw + "\n", Map.of(), args);
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("\"keyCreated\" : true").contains("\"userKey\" : \"added\"")
                .contains("\"rootKey\" : \"added\"").contains("\"keyLoginWorks\" : true")
                .contains("\"sudo\" : \"needs a password\"");
        assertThat(first.all()).doesNotContain(pw);
        String pub = Files.readString(Path.of(key + ".pub")).strip();
        assertThat(pub).startsWith("ssh-rsa ");

        Cli.Result again = Cli.run(pw + "\n", Map.of(), args);
        assertThat(again.exit()).isZero();
        assertThat(again.out()).contains("\"keyCreated\" : false").contains("\"userKey\" : \"present\"")
                .contains("\"rootKey\" : \"present\"");

        assertThat(count(lab.read("jetson1", "/home/alice/.ssh/authorized_keys"), pub)).isEqualTo(1);
        assertThat(count(lab.read("jetson1", "/root/.ssh/authorized_keys"), pub)).isEqualTo(1);
        assertThat(lab.sh("jetson1", "stat -c %a /home/alice/.ssh /home/alice/.ssh/authorized_keys"))
                .isEqualTo("700\n600\n");
        // The new key alone now opens root: what --root is for.
        Cli.Result asRoot = Cli.run("facts", "--ip", lab.ip("jetson1"), "--ssh-key", key.toString(),
                "--known-hosts", kh, "--ssh-config", "/dev/null");
        assertThat(asRoot.exit()).as(asRoot.err()).isZero();
    }

    @Test
    void passwordFromTheEnvironmentAndPasswordlessSudoIsReported() {
        Path key = tmp.resolve("id_ed25519");
        Cli.Result r = Cli.run("", Map.of("K3GPU_SSH_PASSWORD", lab.password("k3gpu")), "ssh-keys",
                "--ip", lab.ip("node1"), "--user", "k3gpu", "--key", key.toString(),
                "--known-hosts", tmp.resolve("kh").toString(), "--ssh-config", "/dev/null");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("added for k3gpu").contains("key login works").contains("sudo: passwordless");
    }

    @Test
    void wrongPasswordIsPermissionDenied() {
        Cli.Result r = Cli.run("wrong\n", Map.of(), "ssh-keys", "--ip", lab.ip("node1"), "--user", "alice",
                "--key", tmp.resolve("k").toString(), "--password-stdin",
                "--known-hosts", tmp.resolve("kh").toString(), "--ssh-config", "/dev/null");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("permission denied for alice@").contains("password rejected");
    }

    @Test
    void noPasswordAndNoConsoleSaysHowToGiveOne() {
        Cli.Result r = Cli.run("", Map.of(), "ssh-keys", "--ip", lab.ip("node1"), "--user", "alice",
                "--key", tmp.resolve("k").toString(), "--known-hosts", tmp.resolve("kh").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--password-stdin").contains("K3GPU_SSH_PASSWORD");
    }
}
