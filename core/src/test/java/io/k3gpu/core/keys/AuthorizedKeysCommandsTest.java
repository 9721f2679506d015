package io.k3gpu.core.keys;

import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.LocalSh;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class AuthorizedKeysCommandsTest {
    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICWTie4PahmbuEOor4rE k3gpu@host\n";

    @TempDir
    Path home;

    @Test
    void commandIsGolden() {
        assertThat(AuthorizedKeysCommands.authorize("/root/.ssh", "root")).isEqualTo(
                "set -e; umask 077; k=$(cat); d=/root/.ssh; f=\"$d/authorized_keys\"; mkdir -p -- \"$d\"; touch -- \"$f\"; "
                        + "if grep -qxF -- \"$k\" \"$f\"; then echo present; else "
                        + "if [ -s \"$f\" ] && [ -n \"$(tail -c 1 -- \"$f\")\" ]; then echo >> \"$f\"; fi; "
                        + "printf '%s\\n' \"$k\" >> \"$f\"; echo added; fi; chmod 700 -- \"$d\"; chmod 600 -- \"$f\"; "
                        + "chown root: -- \"$d\" \"$f\"");
    }

    @Test
    void addsOnceWithOpenSshModes() throws IOException {
        String cmd = AuthorizedKeysCommands.authorize("~/.ssh", null);
        ExecResult first = LocalSh.run(cmd, KEY, Map.of("HOME", home.toString()));
        ExecResult second = LocalSh.run(cmd, KEY, Map.of("HOME", home.toString()));

        assertThat(first.stdout().strip()).isEqualTo("added");
        assertThat(second.stdout().strip()).isEqualTo("present");
        Path f = home.resolve(".ssh/authorized_keys");
        assertThat(Files.readString(f)).isEqualTo(KEY);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f.getParent()))).isEqualTo("rwx------");
    }

    @Test
    void neverGluesTheKeyOntoALastLineWithoutNewline() throws IOException {
        Path f = home.resolve(".ssh/authorized_keys");
        Files.createDirectories(f.getParent());
        Files.writeString(f, "ssh-rsa AAAAB3Nza other@host");
        LocalSh.run(AuthorizedKeysCommands.authorize("~/.ssh", null), KEY, Map.of("HOME", home.toString()));
        assertThat(Files.readString(f)).isEqualTo("ssh-rsa AAAAB3Nza other@host\n" + KEY);
    }
}
