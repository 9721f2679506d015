package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code k3s server} as a command: flags, config.yaml, restarts and K3s's fatal errors (exit 1). */
class K3sServerMainIT {
    @TempDir
    Path root;

    private record Run(int exit, String err) {
    }

    private Run run(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new ArrayList<>(List.of("server", "--etc-root", root.toString()));
        all.addAll(List.of(args));
        int exit = K3sServerMain.run(all, new PrintStream(err, true, StandardCharsets.UTF_8), false);
        return new Run(exit, err.toString(StandardCharsets.UTF_8));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void anUnknownFlagIsRefusedWithExit1() {
        Run r = run("--foo");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).startsWith("Incorrect Usage: flag provided but not defined: -foo\n")
                .containsPattern("level=fatal msg=\"flag provided but not defined: -foo\"");
    }

    @Test
    void configYamlIsReadAndARestartKeepsTheClusterCaAndToken() throws IOException {
        Path config = root.resolve("etc/rancher/k3s/config.yaml");
        Files.createDirectories(config.getParent());
        Files.writeString(config, """
                bind-address: 127.0.0.1
                https-listen-port: %d
                token: s3cret
                write-kubeconfig-mode: "0644"
                node-label:
                  - k3gpu.dev/role=server
                disable:
                  - traefik
                disable-agent: true
                """.formatted(freePort()));
        Run first = run();
        assertThat(first.exit()).as(first.err()).isZero();
        Path token = root.resolve("var/lib/rancher/k3s/server/token");
        String tokenText = Files.readString(token);
        assertThat(tokenText).endsWith("::server:s3cret\n");
        Path kubeconfig = root.resolve("etc/rancher/k3s/k3s.yaml");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(kubeconfig))).isEqualTo("rw-r--r--");
        assertThat(first.err()).contains("level=info msg=\"k3s is up and running\"")
                .doesNotContain("Successfully registered node");

        Run again = run();
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(Files.readString(token)).isEqualTo(tokenText);

        Run otherToken = run("--token", "different");
        assertThat(otherToken.exit()).isEqualTo(1);
        assertThat(otherToken.err()).contains("level=fatal msg=\"starting kubernetes: preparing server: bootstrap "
                + "data already found and encrypted with different token\"");
        assertThat(root.resolve("var/lib/rancher/k3s/server/tls/server-ca.crt")).exists();
    }

    @Test
    void aFullTokenIsCheckedAgainstTheClusterCa() throws IOException {
        Run r = run("--bind-address", "127.0.0.1", "--https-listen-port", String.valueOf(freePort()),
                "--disable-agent", "--token", "K10" + "0".repeat(64) + "::server:pw");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).containsPattern("level=fatal msg=\"starting kubernetes: preparing server: token CA hash "
                + "does not match the Cluster CA certificate hash: 0{64} != [0-9a-f]{64}\"");
    }

    @Test
    void anAgentTokenIsWrittenNextToTheServerToken() throws IOException {
        Run r = run("--bind-address", "127.0.0.1", "--https-listen-port", String.valueOf(freePort()),
                "--disable-agent", "--agent-token", "agent-secret");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(Files.readString(root.resolve("var/lib/rancher/k3s/server/agent-token")))
                .matches("K10[0-9a-f]{64}::node:agent-secret\n");
        assertThat(r.err()).contains("msg=\"Agent token is available at ");
    }
}
