package io.k3gpu.cli;

import io.k3gpu.core.keys.KeyType;
import io.k3gpu.core.keys.LocalKeyPair;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What k3gpu lets out of this machine and onto its terminal, against real nodes: no password to a host whose key
 * changed, no secret from plan, no secret in the diffs it prints, no control sequence from a node's text.
 */
class SecretsIT {
    private static final String SUDO_ENV = "K3GPU_ITSECR_SUDO_PASSWORD";
    private static final String CONFIG_YAML = "/etc/rancher/k3s/config.yaml";
    static TestLab lab;

    @TempDir
    Path tmp;

    @BeforeAll
    static void up() {
        lab = TestLab.up("itsecr", 246, "orin-nano", "cpu-only", "cpu-only");
    }

    @AfterAll
    static void down() {
        lab.close();
    }

    @Test
    void aChangedHostKeyWithStrictCheckingNoGetsNoPasswordSoSshKeysInstallsNothing() throws Exception {
        String ip = lab.ip("node2");
        Path other = tmp.resolve("other");
        String otherKey = LocalKeyPair.ensure(other, KeyType.ED25519, 0, "x").publicKeyLine().split(" ")[1];
        Path kh = tmp.resolve("known_hosts");
        Files.writeString(kh, ip + " ssh-ed25519 " + otherKey + "\n");
        Path key = tmp.resolve("id_ed25519");
        String pw = lab.password("alice");

        Cli.Result r = Cli.run(pw + "\n", Map.of(), "ssh-keys", "--ip", ip, "--user", "alice", "--key",
                key.toString(), "--password-stdin", "--known-hosts", kh.toString(), "--strict-host-key-checking", "no",
                "--ssh-config", "/dev/null");

        assertThat(r.exit()).as(r.all()).isEqualTo(3);
        assertThat(r.err()).contains("the host key of " + ip + " has CHANGED")
                .contains("error: permission denied for alice@" + ip + ":22 (")
                .contains("no password sent: its host key has CHANGED)");
        assertThat(r.all()).doesNotContain(pw);
        String pub = Files.readString(Path.of(key + ".pub")).strip();
        assertThat(lab.sh("node2", "cat /home/alice/.ssh/authorized_keys 2>/dev/null || true")).doesNotContain(pub);
    }

    @Test
    void planSendsNoSudoPasswordAndRefusesSecretsNotMeantForK3gpuBeforeContactingAnyHost() throws Exception {
        Path file = tmp.resolve("cluster.yaml");
        Files.writeString(file, """
                hosts:
                  - {name: cp1, address: %s, role: server, gpu: none}
                  - {name: a1, address: %s, role: agent, gpu: none, ssh: {user: alice, sudoPassword: {env: %s}}}
                """.formatted(lab.ip("node1"), lab.ip("node2"), SUDO_ENV));
        Map<String, String> env = Map.of(SUDO_ENV, lab.password("alice"));
        Path withKey = tmp.resolve("with-key.yaml");
        Files.writeString(withKey, "ssh: {key: " + lab.state.keyFile() + ", knownHosts: "
                + lab.state.knownHostsFile() + ", sshConfig: /dev/null}\n" + Files.readString(file));

        Cli.Result plan = Cli.run("", env, "plan", "-f", withKey.toString());
        assertThat(plan.exit()).as(plan.all()).isEqualTo(1);
        assertThat(plan.out()).contains("a1 (" + lab.ip("node2") + "), agent:\n  ! sudo on " + lab.ip("node2")
                + " needs the password of alice (ssh.sudoPassword), and plan sends no secrets");

        Cli.Result dry = Cli.run("", env, "apply", "-f", withKey.toString(), "--dry-run");
        assertThat(dry.exit()).as(dry.all()).isZero();
        assertThat(dry.out()).contains("a1 (" + lab.ip("node2") + "), agent:\n  + join agent:");
        assertThat(plan.all() + dry.all()).doesNotContain(lab.password("alice"));

        Path stolen = tmp.resolve("stolen.yaml");
        Files.writeString(stolen, Files.readString(withKey).replace("{env: " + SUDO_ENV + "}",
                "{file: " + lab.state.keyFile() + "}"));
        Cli.Result refused = Cli.run("", env, "plan", "-f", stolen.toString());
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains(stolen + ":4:")
                .contains(": sudoPassword: " + lab.state.keyFile() + " is outside the places secrets are read from")
                .contains("1 problem; nothing was contacted");
        assertThat(refused.out()).isEmpty();
    }

    @Test
    void gpuRuntimeK3sShowsConfigYamlSecretsMaskedAndWritesThemUntouched() throws Exception {
        String node = "jetson1";
        String config = """
                node-label:
                  - site=lab
                datastore-endpoint: "postgres://k3s:dbpw@db.lan:5432/k3s"
                token: K10secret::server:abc123
                """;
        lab.write(node, CONFIG_YAML, config);

        Cli.Result dry = Cli.run(TestLab.args("gpu-runtime", lab.ssh(node), "--runtime", "k3s", "--dry-run", "-o",
                "json"));
        assertThat(dry.exit()).as(dry.all()).isZero();
        assertThat(dry.out()).contains(" token: ********\\n")
                .contains(" datastore-endpoint: \\\"postgres://k3s:********@db.lan:5432/k3s\\\"\\n");

        Cli.Result run = Cli.run(TestLab.args("gpu-runtime", lab.ssh(node), "--runtime", "k3s"));
        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(run.out()).contains("\n token: ********\n")
                .contains("\n datastore-endpoint: \"postgres://k3s:********@db.lan:5432/k3s\"\n")
                .contains("\n+default-runtime: nvidia\n");
        assertThat(dry.all() + run.all()).doesNotContain("K10secret").doesNotContain("abc123").doesNotContain("dbpw");
        assertThat(lab.read(node, CONFIG_YAML)).isEqualTo(config + "default-runtime: nvidia\n");
    }

    @Test
    void aNodesHostnameAndOsReleaseReachTheTerminalWithoutControlSequences() throws Exception {
        String node = "node1";
        String evil = "\\033]0;pwned\\007\\033[2J\\033[31m";
        lab.sh(node, "printf '#!/bin/sh\\nprintf \"node1" + evil + "\\\\n\"\\n' > /usr/local/bin/hostname"
                + " && chmod +x /usr/local/bin/hostname"
                + " && rm -f /etc/os-release && printf 'PRETTY_NAME=\"Debian" + evil + " 12\"\\n' > /etc/os-release");
        assertThat(lab.sh(node, "hostname")).contains("\033]0;pwned");

        Cli.Result r = Cli.run(TestLab.args("facts", lab.ssh(node)));

        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("hostname:                 node1\n").contains("os:                       Debian 12\n");
        assertThat(r.all()).doesNotContain("\033").doesNotContain("\007").doesNotContain("pwned");
    }
}
