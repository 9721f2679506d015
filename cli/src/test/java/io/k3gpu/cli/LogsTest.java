package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The libraries' logs (MINA SSHD here) reach stderr under --debug only; a fresh JVM each, as SLF4J starts once. */
class LogsTest {

    @Test
    void debugShowsMinaSshdsOwnLogsOnStderr(@TempDir Path home) throws Exception {
        Run r = facts(home, true);
        assertThat(r.exit).isEqualTo(3);
        assertThat(r.err).containsPattern("(?m)^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\[[^]]+\\] DEBUG [A-Za-z0-9$]+ - ");
        assertThat(r.err).contains("DEBUG SshClient - ");
    }

    @Test
    void withoutDebugTheyStayQuiet(@TempDir Path home) throws Exception {
        Run r = facts(home, false);
        assertThat(r.exit).isEqualTo(3);
        assertThat(r.err.lines().toList()).singleElement().asString().startsWith("error: ");
    }

    private record Run(int exit, String err) {
    }

    /** facts against a port where nothing listens: the SSH client starts, logs, and fails to connect. */
    private static Run facts(Path home, boolean debug) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path key = home.resolve("id_ed25519");
        Files.writeString(key, "");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Duser.home=" + home, "-cp", System.getProperty("java.class.path"), K3gpu.class.getName()));
        if (debug) {
            cmd.add("--debug");
        }
        cmd.addAll(List.of("facts", "--ip", "127.0.0.1", "--ssh-port", String.valueOf(port), "--connect-timeout", "1s",
                "--known-hosts", home.resolve("known_hosts").toString(), "--ssh-config", home.resolve("config").toString()));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), err);
    }
}
