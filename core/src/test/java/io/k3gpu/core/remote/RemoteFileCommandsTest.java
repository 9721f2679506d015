package io.k3gpu.core.remote;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

class RemoteFileCommandsTest {
    @TempDir
    Path dir;

    @Test
    void readCommandIsGolden() {
        assertThat(RemoteFileCommands.read("/etc/docker/daemon.json"))
                .isEqualTo("if [ -f /etc/docker/daemon.json ]; then cat -- /etc/docker/daemon.json; else exit 44; fi");
    }

    @Test
    void atomicWriteCommandIsGolden() {
        assertThat(RemoteFileCommands.atomicWrite("/etc/docker/daemon.json", "0644")).isEqualTo(
                "set -e; f=/etc/docker/daemon.json; mkdir -p -- \"$(dirname -- \"$f\")\"; "
                        + "t=$(mktemp \"$f.k3gpu.XXXXXX\"); trap 'rm -f -- \"$t\"' EXIT; cat > \"$t\"; "
                        + "if [ -e \"$f\" ]; then chmod --reference=\"$f\" -- \"$t\"; chown --reference=\"$f\" -- \"$t\"; "
                        + "else chmod 0644 -- \"$t\"; fi; sync -- \"$t\" 2>/dev/null || true; mv -f -- \"$t\" \"$f\"; trap - EXIT");
    }

    @Test
    void readReportsAbsentFileWithItsOwnStatus() {
        ExecResult r = LocalSh.run(RemoteFileCommands.read(dir.resolve("none.json").toString()), null);
        assertThat(r.exitCode()).isEqualTo(RemoteFileCommands.ABSENT);
    }

    @Test
    void atomicWriteKeepsModeAndLeavesNoTemporaryFile() throws IOException {
        Path f = dir.resolve("daemon.json");
        Files.writeString(f, "{}\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));

        ExecResult r = LocalSh.run(RemoteFileCommands.atomicWrite(f.toString(), "0644"), "{\"a\": 1}\n");

        assertThat(r.exitCode()).isZero();
        assertThat(Files.readString(f)).isEqualTo("{\"a\": 1}\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-r-----");
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(f);
        }
    }

    @Test
    void atomicWriteCreatesDirectoryAndUsesNewFileMode() throws IOException {
        Path f = dir.resolve("rancher/k3s/config.yaml");
        ExecResult r = LocalSh.run(RemoteFileCommands.atomicWrite(f.toString(), "0600"), "default-runtime: nvidia\n");
        assertThat(r.exitCode()).isZero();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
    }

    @Test
    void failedWriteLeavesTargetUntouched() throws IOException {
        Path f = dir.resolve("daemon.json");
        Files.writeString(f, "old\n");
        // A target whose directory cannot be created: the write fails before anything is renamed.
        Path blocker = dir.resolve("file");
        Files.writeString(blocker, "x");
        ExecResult r = LocalSh.run(RemoteFileCommands.atomicWrite(blocker.resolve("sub/daemon.json").toString(), "0644"), "new\n");
        assertThat(r.exitCode()).isNotZero();
        assertThat(Files.readString(f)).isEqualTo("old\n");
    }

    @Test
    void backupThenRestoreGivesTheSameBytesBack() throws IOException {
        Path f = dir.resolve("daemon.json");
        Path b = dir.resolve("daemon.json.k3gpu-backup-20261128T120000Z");
        Files.writeString(f, "{\n  \"data-root\": \"/mnt/docker\"\n}");
        byte[] original = Files.readAllBytes(f);

        assertThat(LocalSh.run(RemoteFileCommands.backup(f.toString(), b.toString()), null).exitCode()).isZero();
        Files.writeString(f, "broken");
        assertThat(LocalSh.run(RemoteFileCommands.restore(b.toString(), f.toString()), null).exitCode()).isZero();

        assertThat(Files.readAllBytes(f)).isEqualTo(original);
    }

    @Test
    void backupNeverOverwritesAnEarlierBackup() throws IOException {
        Path f = dir.resolve("daemon.json");
        Path b = dir.resolve("daemon.json.bak");
        Files.writeString(f, "new");
        Files.writeString(b, "earlier");
        LocalSh.run(RemoteFileCommands.backup(f.toString(), b.toString()), null);
        assertThat(Files.readString(b)).isEqualTo("earlier");
    }
}
