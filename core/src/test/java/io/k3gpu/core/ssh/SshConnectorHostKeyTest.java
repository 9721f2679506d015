package io.k3gpu.core.ssh;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.keys.KeyType;
import io.k3gpu.core.keys.LocalKeyPair;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.pubkey.AcceptAllPublickeyAuthenticator;
import org.apache.sshd.server.forward.AcceptAllForwardingFilter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Host key checking against real SSH servers (Apache MINA SSHD's, in this JVM, on 127.0.0.1): what reaches a server
 * whose key changed, what is said when known_hosts cannot be written, and that each ProxyJump hop is checked against
 * its own known_hosts entry.
 */
class SshConnectorHostKeyTest {
    private static final String PASSWORD = "s3cret-pw";

    @TempDir
    Path dir;

    private final List<SshServer> servers = new ArrayList<>();
    private final List<String> passwordsReceived = new CopyOnWriteArrayList<>();
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private SshConnector connector;
    private Path clientKey;

    @BeforeEach
    void setUp() {
        connector = new SshConnector(warnings::add, null);
        clientKey = dir.resolve("id_ed25519");
        LocalKeyPair.ensure(clientKey, KeyType.ED25519, 0, "test");
    }

    @AfterEach
    void tearDown() throws IOException {
        connector.close();
        for (SshServer s : servers) {
            s.stop(true);
        }
    }

    /** A server with its own host key; password logins with {@value PASSWORD} and any key; forwarding allowed. */
    private record Server(SshServer sshd, KeyPair hostKey) {
        int port() {
            return sshd.getPort();
        }

        String knownHostsLine(KeyPair key) {
            return "[127.0.0.1]:" + port() + " " + PublicKeyEntry.toString(key.getPublic()) + "\n";
        }
    }

    private Server server(boolean keys) throws IOException, GeneralSecurityException {
        KeyPair hostKey = KeyUtils.generateKeyPair("ssh-ed25519", 256);
        SshServer sshd = SshServer.setUpDefaultServer();
        sshd.setHost("127.0.0.1");
        sshd.setPort(0);
        sshd.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
        sshd.setPasswordAuthenticator((user, password, session) -> {
            passwordsReceived.add(password);
            return PASSWORD.equals(password);
        });
        if (keys) {
            sshd.setPublickeyAuthenticator(AcceptAllPublickeyAuthenticator.INSTANCE);
        }
        sshd.setForwardingFilter(AcceptAllForwardingFilter.INSTANCE);
        sshd.start();
        servers.add(sshd);
        return new Server(sshd, hostKey);
    }

    private SshTarget target(Server s, Path knownHosts, HostKeyChecking mode, String password) {
        return new SshTarget("127.0.0.1", s.port(), "alice", List.of(clientKey), knownHosts, mode,
                Duration.ofSeconds(5), null, password == null ? null : password.toCharArray(), null);
    }

    private Path knownHosts(String content) throws IOException {
        Path kh = Files.createTempFile(dir, "known_hosts", "");
        Files.writeString(kh, content);
        return kh;
    }

    @Test
    void aChangedKeyLetThroughByModeNoGetsNoPasswordAsOpenSshDoes() throws Exception {
        Server s = server(false);
        Path kh = knownHosts(s.knownHostsLine(KeyUtils.generateKeyPair("ssh-ed25519", 256)));

        assertThatThrownBy(() -> connector.connect(target(s, kh, HostKeyChecking.NO, PASSWORD)))
                .isInstanceOf(K3gpuException.class)
                .hasMessageStartingWith("permission denied for alice@127.0.0.1:" + s.port())
                .hasMessageContaining("no password sent: its host key has CHANGED")
                .satisfies(e -> assertThat(((K3gpuException) e).exitCode()).isEqualTo(ExitCode.SSH));
        assertThat(passwordsReceived).isEmpty();
        assertThat(warnings).anySatisfy(w -> assertThat(w).contains("has CHANGED")
                .contains("without sending it any password"));
    }

    @Test
    void theSameServerWithItsRightKeyGetsThePassword() throws Exception {
        Server s = server(false);
        Path kh = knownHosts(s.knownHostsLine(s.hostKey()));

        connector.connect(target(s, kh, HostKeyChecking.NO, PASSWORD));

        assertThat(passwordsReceived).containsExactly(PASSWORD);
    }

    @Test
    void aNewKeyThatCannotBeWrittenIsSaidSoNotPermanentlyAdded() throws Exception {
        Server s = server(true);
        Path notAFile = Files.createDirectory(dir.resolve("known_hosts.d"));

        connector.connect(target(s, notAFile, HostKeyChecking.ACCEPT_NEW, null));

        assertThat(warnings).singleElement().asString()
                .startsWith("could not add the ssh-ed25519 host key of 127.0.0.1 (SHA256:")
                .contains(" to " + notAFile + " (")
                .endsWith("): it is trusted for this run only and will be new again next time");
    }

    @Test
    void aNewKeyWrittenIsPermanentlyAdded() throws Exception {
        Server s = server(true);
        Path kh = dir.resolve("new_known_hosts");

        connector.connect(target(s, kh, HostKeyChecking.ACCEPT_NEW, null));

        assertThat(warnings).singleElement().asString().startsWith("permanently added the ssh-ed25519 host key of 127.0.0.1");
        assertThat(Files.readString(kh)).contains(PublicKeyEntry.toString(s.hostKey().getPublic()));
    }

    @Test
    void eachJumpHostIsCheckedAgainstItsOwnEntryAndNamedWhenRefusedEvenWhenConnectingAtOnce() throws Exception {
        Server jumpOk = server(true);
        Server jumpChanged = server(true);
        Server behindOk = server(true);
        Server behindChanged = server(true);
        Path kh = knownHosts(jumpOk.knownHostsLine(jumpOk.hostKey())
                + jumpChanged.knownHostsLine(KeyUtils.generateKeyPair("ssh-ed25519", 256))
                + behindOk.knownHostsLine(behindOk.hostKey())
                + behindChanged.knownHostsLine(behindChanged.hostKey()));

        CompletableFuture<SshRemoteShell> ok = CompletableFuture.supplyAsync(() -> connector.connect(
                target(behindOk, kh, HostKeyChecking.ACCEPT_NEW, null), "root@127.0.0.1:" + jumpOk.port()));
        CompletableFuture<SshRemoteShell> refused = CompletableFuture.supplyAsync(() -> connector.connect(
                target(behindChanged, kh, HostKeyChecking.ACCEPT_NEW, null), "root@127.0.0.1:" + jumpChanged.port()));

        assertThat(ok.join().isOpen()).isTrue();
        assertThatThrownBy(refused::join).cause().isInstanceOf(K3gpuException.class)
                .hasMessageStartingWith("REMOTE HOST IDENTIFICATION HAS CHANGED for jump host 127.0.0.1:"
                        + jumpChanged.port() + ": it presented SHA256:")
                .hasMessageContaining("differs from the key in " + kh + ":2 ");
        assertThat(((K3gpuException) refused.handle((r, e) -> e.getCause()).join()).hint())
                .isEqualTo("if the node was reinstalled, remove the old key with: ssh-keygen -f " + kh
                        + " -R '[127.0.0.1]:" + jumpChanged.port() + "'");
        assertThat(warnings).noneMatch(w -> w.contains("permanently added"));
    }
}
