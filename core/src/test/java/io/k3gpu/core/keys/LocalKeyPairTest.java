package io.k3gpu.core.keys;

import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.LocalSh;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

class LocalKeyPairTest {
    @TempDir
    Path dir;

    @Test
    void createsAnEd25519PairThatOpenSshReads() throws IOException {
        Path key = dir.resolve("keys/rpi");
        LocalKeyPair pair = LocalKeyPair.ensure(key, KeyType.ED25519, 0, "me@laptop");

        assertThat(pair.created()).isTrue();
        assertThat(pair.publicKeyLine()).startsWith("ssh-ed25519 ").endsWith(" me@laptop");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(Files.readString(Path.of(key + ".pub"))).isEqualTo(pair.publicKeyLine() + "\n");
        ExecResult derived = LocalSh.run("ssh-keygen -y -f " + key, null);
        assertThat(derived.stdout().strip()).isEqualTo(pair.publicKeyLine());
    }

    @Test
    void createsRsaOfTheAskedSize() {
        Path key = dir.resolve("id_rsa");
        LocalKeyPair.ensure(key, KeyType.RSA, 3072, "c");
        assertThat(LocalSh.run("ssh-keygen -l -f " + key, null).stdout()).startsWith("3072 SHA256:");
    }

    @Test
    void reusesAnExistingPairUntouched() throws IOException {
        Path key = dir.resolve("id_ed25519");
        LocalKeyPair first = LocalKeyPair.ensure(key, KeyType.ED25519, 0, "a");
        byte[] bytes = Files.readAllBytes(key);
        LocalKeyPair again = LocalKeyPair.ensure(key, KeyType.ED25519, 0, "b");
        assertThat(again.created()).isFalse();
        assertThat(again.publicKeyLine()).isEqualTo(first.publicKeyLine());
        assertThat(Files.readAllBytes(key)).isEqualTo(bytes);
    }
}
