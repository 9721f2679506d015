package io.k3gpu.lab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

class HostKeysTest {

    @Test
    void rfc8032PublicKeyOfTheFirstTestVectorAndItsOpenSshLine() {
        // RFC 8032 section 7.1, TEST 1
        byte[] seed = HexFormat.of().parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        byte[] pk = HexFormat.of().parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        String[] files = HostKeys.format(seed, pk, "root@jetson1", 0x01020304);
        assertThat(files[1]).isEqualTo("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea "
                + "root@jetson1");
        assertThat(files[0]).startsWith("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ")
                .endsWith("\n-----END OPENSSH PRIVATE KEY-----\n");
    }

    @Test
    void sshKeygenReadsTheKeyAndDerivesTheSamePublicKey(@TempDir Path dir) throws Exception {
        assumeThat(Path.of("/usr/bin/ssh-keygen")).isExecutable();
        Path key = dir.resolve("ssh_host_ed25519_key");
        String line = HostKeys.write(key, "root@gpu1");
        Process p = new ProcessBuilder("ssh-keygen", "-y", "-f", key.toString()).start();
        String derived = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        assertThat(line).startsWith(derived);
        assertThat(Files.readString(key.resolveSibling("ssh_host_ed25519_key.pub"))).isEqualTo(line + "\n");
        assertThat(Files.getPosixFilePermissions(key)).isEqualTo(NodeFiles.perms(0600));
    }
}
