package io.k3gpu.core.ssh;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A handshake that times out (a lossy link) is tried again; what still times out fails naming the attempts. The
 * handshake gets the connect timeout (0.5 s here) without the usual 10 s more, so the three attempts take ~4.5 s.
 */
class SshConnectorRetryTest {
    @TempDir
    Path dir;

    @Test
    void aHandshakeThatTimesOutIsTriedThreeTimesThenFailsAsUnreachable() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        List<Socket> held = new CopyOnWriteArrayList<>();
        // Accepts the TCP connection and never says a word: no SSH banner, as when every answer is lost.
        try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept());
                        accepted.incrementAndGet();
                    }
                } catch (java.io.IOException e) {
                    // closed
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            List<String> warnings = new CopyOnWriteArrayList<>();
            try (SshConnector connector = new SshConnector(warnings::add, null).handshakeGrace(Duration.ZERO)) {
                SshTarget target = new SshTarget("127.0.0.1", silent.getLocalPort(), "root", List.of(),
                        dir.resolve("known_hosts"), HostKeyChecking.ACCEPT_NEW, Duration.ofMillis(500), null,
                        "unused".toCharArray(), null);
                assertThatThrownBy(() -> connector.connect(target))
                        .isInstanceOfSatisfying(K3gpuException.class, e -> {
                            assertThat(e.exitCode()).isEqualTo(ExitCode.SSH);
                            assertThat(e.getMessage()).startsWith("cannot reach 127.0.0.1:" + silent.getLocalPort() + ": ")
                                    .endsWith(" (3 attempts)");
                        });
            }
            assertThat(accepted.get()).isEqualTo(3);
            assertThat(SshConnector.HANDSHAKE_GRACE).isEqualTo(Duration.ofSeconds(10));
            assertThat(warnings).hasSize(2).allMatch(w -> w.startsWith("cannot reach 127.0.0.1:"))
                    .anyMatch(w -> w.endsWith("trying again (2 of 3)"))
                    .anyMatch(w -> w.endsWith("trying again (3 of 3)"));
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }
}
