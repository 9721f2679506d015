package io.k3gpu.core.keys;

import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.LocalSh;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    @Test
    void aStalePubNextToANewlyGeneratedKeyIsReplaced() throws IOException {
        Path old = dir.resolve("old");
        LocalKeyPair stale = LocalKeyPair.ensure(old, KeyType.ED25519, 0, "stale");
        Path key = dir.resolve("id_ed25519");
        Files.writeString(Path.of(key + ".pub"), stale.publicKeyLine() + "\n");

        LocalKeyPair pair = LocalKeyPair.ensure(key, KeyType.ED25519, 0, "new");

        assertThat(pair.created()).isTrue();
        String fromPrivate = keyOf(LocalSh.run("ssh-keygen -y -f " + key, null).stdout());
        assertThat(pair.publicKeyLine()).isEqualTo(fromPrivate + " new");
        assertThat(Files.readString(Path.of(key + ".pub"))).isEqualTo(fromPrivate + " new\n");
    }

    @Test
    void aPubThatDoesNotMatchAnExistingKeyIsAnError() throws IOException {
        Path other = dir.resolve("other");
        LocalKeyPair otherPair = LocalKeyPair.ensure(other, KeyType.ED25519, 0, "other");
        Path key = dir.resolve("id_ed25519");
        LocalKeyPair.ensure(key, KeyType.ED25519, 0, "mine");
        Files.writeString(Path.of(key + ".pub"), otherPair.publicKeyLine() + "\n");

        assertThatThrownBy(() -> LocalKeyPair.ensure(key, KeyType.ED25519, 0, "mine"))
                .isInstanceOf(K3gpuException.class)
                .hasMessage(key + ".pub does not hold the public key of " + key);
    }

    @Test
    void anExistingKeyWithoutPubGetsItsDerivedLine() throws IOException {
        Path key = dir.resolve("id_ed25519");
        LocalKeyPair.ensure(key, KeyType.ED25519, 0, "mine");
        Files.delete(Path.of(key + ".pub"));

        LocalKeyPair again = LocalKeyPair.ensure(key, KeyType.ED25519, 0, "c");

        assertThat(again.publicKeyLine()).isEqualTo(keyOf(LocalSh.run("ssh-keygen -y -f " + key, null).stdout()) + " c");
    }

    /** "TYPE BASE64" of a public key line, without its comment. */
    private static String keyOf(String line) {
        String[] fields = line.strip().split(" ");
        return fields[0] + " " + fields[1];
    }
}
