package io.k3gpu.core.remote;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Random;

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
                        + "t=$(mktemp \"$f.k3gpu.XXXXXX\"); trap 'rm -f -- \"$t\"' EXIT; trap 'exit 1' HUP INT TERM; "
                        + "read -r n h || true; cat > \"$t\"; s=$(wc -c < \"$t\"); if [ \"$s\" != \"$n\" ]; "
                        + "then rm -f -- \"$t\"; echo \"k3gpu: $f: only $s of $n bytes arrived (the upload was cut); "
                        + "nothing was changed\" >&2; exit 45; fi; c=$(sha256sum < \"$t\"); "
                        + "if [ \"${c%% *}\" != \"$h\" ]; then rm -f -- \"$t\"; echo \"k3gpu: $f: the bytes that "
                        + "arrived are not those sent (SHA-256 differs); nothing was changed\" >&2; exit 45; fi; "
                        + "if [ -e \"$f\" ]; then chmod --reference=\"$f\" -- \"$t\"; chown --reference=\"$f\" -- \"$t\"; "
                        + "else chmod 0644 -- \"$t\"; fi; sync -- \"$t\" 2>/dev/null || true; mv -f -- \"$t\" \"$f\"; trap - EXIT");
    }

    /** What RemoteFiles sends: the upload's header line, then its content. */
    private static byte[] stdin(Upload upload) throws IOException {
        try (var in = upload.openStdin()) {
            return in.readAllBytes();
        }
    }

    private static byte[] stdin(String content) throws IOException {
        return stdin(Upload.of(content.getBytes(StandardCharsets.UTF_8)));
    }

    private static ExecResult write(Path f, String mode, byte[] stdin) {
        return LocalSh.runBytes(RemoteFileCommands.atomicWrite(f.toString(), mode), stdin);
    }

    private void oldFileWithMode(Path f, byte[] content, String mode) throws IOException {
        Files.write(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
    }

    private void assertOnlyFileIs(Path f, byte[] content, String mode) throws IOException {
        assertThat(Files.readAllBytes(f)).isEqualTo(content);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo(mode);
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(f);
        }
    }

    @Test
    void anUploadCutMidWayLeavesTheTargetUntouchedAndNoTemporaryFile() throws IOException {
        Path f = dir.resolve("k3s");
        byte[] old = "old k3s\n".getBytes(StandardCharsets.UTF_8);
        oldFileWithMode(f, old, "rwxr-x---");
        byte[] content = new byte[100_000];
        new Random(7).nextBytes(content);
        byte[] full = stdin(Upload.of(content));

        ExecResult r = write(f, "0755", Arrays.copyOf(full, full.length - content.length / 2));

        assertThat(r.exitCode()).isEqualTo(RemoteFileCommands.REFUSED);
        assertThat(r.stderr()).isEqualTo("k3gpu: " + f + ": only 50000 of 100000 bytes arrived (the upload was cut); "
                + "nothing was changed\n");
        assertOnlyFileIs(f, old, "rwxr-x---");
    }

    @Test
    void anUploadCutInsideItsHeaderIsRefused() throws IOException {
        Path f = dir.resolve("daemon.json");
        byte[] old = "{}\n".getBytes(StandardCharsets.UTF_8);
        oldFileWithMode(f, old, "rw-r--r--");

        ExecResult r = write(f, "0644", Arrays.copyOf(stdin("{\"a\": 1}\n"), 5));

        assertThat(r.exitCode()).isEqualTo(RemoteFileCommands.REFUSED);
        assertOnlyFileIs(f, old, "rw-r--r--");
    }

    @Test
    void bytesOtherThanThoseAnnouncedAreRefusedEvenAtTheRightLength() throws IOException {
        Path f = dir.resolve("daemon.json");
        byte[] old = "{}\n".getBytes(StandardCharsets.UTF_8);
        oldFileWithMode(f, old, "rw-r--r--");
        byte[] altered = stdin("{\"a\": 1}\n");
        altered[altered.length - 2] = '2';

        ExecResult r = write(f, "0644", altered);

        assertThat(r.exitCode()).isEqualTo(RemoteFileCommands.REFUSED);
        assertThat(r.stderr()).contains("(SHA-256 differs); nothing was changed");
        assertOnlyFileIs(f, old, "rw-r--r--");
    }

    @Test
    void moreBytesThanAnnouncedAreRefused() throws IOException {
        Path f = dir.resolve("daemon.json");
        byte[] old = "{}\n".getBytes(StandardCharsets.UTF_8);
        oldFileWithMode(f, old, "rw-r--r--");
        byte[] sent = stdin("{}\n");
        byte[] longer = Arrays.copyOf(sent, sent.length + 1);
        longer[sent.length] = '\n';

        assertThat(write(f, "0644", longer).exitCode()).isEqualTo(RemoteFileCommands.REFUSED);
        assertOnlyFileIs(f, old, "rw-r--r--");
    }

    @Test
    void aWholeUploadOfAFileIsCommittedWithTheNewFileMode() throws IOException {
        Path local = Files.createTempFile("k3s", ".bin");
        try {
            byte[] content = new byte[300_000];
            new Random(8).nextBytes(content);
            Files.write(local, content);
            Path f = dir.resolve("k3s");

            ExecResult r = write(f, "0755", stdin(Upload.of(local)));

            assertThat(r.exitCode()).as(r.stderr()).isZero();
            assertOnlyFileIs(f, content, "rwxr-xr-x");
        } finally {
            Files.delete(local);
        }
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

        ExecResult r = write(f, "0644", stdin("{\"a\": 1}\n"));

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
        ExecResult r = write(f, "0600", stdin("default-runtime: nvidia\n"));
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
        ExecResult r = write(blocker.resolve("sub/daemon.json"), "0644", stdin("new\n"));
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

    @Test
    void aBackupIsCopiedBesideThenRenamed() {
        assertThat(RemoteFileCommands.backup("/etc/docker/daemon.json", "/etc/docker/daemon.json.k3gpu-backup-1Z"))
                .isEqualTo("set -e; t=$(mktemp /etc/docker/daemon.json.k3gpu.XXXXXX); trap 'rm -f -- \"$t\"' EXIT; "
                        + "trap 'exit 1' HUP INT TERM; cp -p -- /etc/docker/daemon.json \"$t\"; "
                        + "[ ! -e /etc/docker/daemon.json.k3gpu-backup-1Z ]; "
                        + "mv -- \"$t\" /etc/docker/daemon.json.k3gpu-backup-1Z; trap - EXIT");
    }

    @Test
    void aBackupWhoseCopyFailsLeavesNoPartialBackupAndNoTemporaryFile() throws IOException {
        Path f = dir.resolve("daemon.json");
        Files.createDirectories(f); // cp refuses to copy a directory, as it stops on a full disk
        Path b = dir.resolve("daemon.json.k3gpu-backup-20261128T120000Z");
        assertThat(LocalSh.run(RemoteFileCommands.backup(f.toString(), b.toString()), null).exitCode()).isNotZero();
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("daemon.json");
        }
    }
}
