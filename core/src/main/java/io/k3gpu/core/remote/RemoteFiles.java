package io.k3gpu.core.remote;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/** Reads and safely replaces root-owned files on a node through a {@link RemoteShell}. */
public final class RemoteFiles {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    private final RemoteShell shell;
    private final Clock clock;

    public RemoteFiles(RemoteShell shell, Clock clock) {
        this.shell = shell;
        this.clock = clock;
    }

    /** The file's content, or empty when it does not exist. */
    public Optional<String> read(String path) {
        ExecResult r = shell.sudo(RemoteFileCommands.read(path));
        if (r.exitCode() == RemoteFileCommands.ABSENT) {
            return Optional.empty();
        }
        if (!r.ok()) {
            throw new RemoteCommandException(shell.host(), "reading " + path, r);
        }
        return Optional.of(r.stdout());
    }

    /** Copies the file to a timestamped backup beside it and returns the backup's path. */
    public String backup(String path) {
        String backup = path + ".k3gpu-backup-" + STAMP.format(clock.instant());
        shell.sudoOrThrow("backing up " + path, RemoteFileCommands.backup(path, backup));
        return backup;
    }

    public void writeAtomically(String path, String content, String newFileMode) {
        shell.sudoOrThrow("writing " + path, RemoteFileCommands.atomicWrite(path, newFileMode),
                content.getBytes(StandardCharsets.UTF_8));
    }

    /** Uploads bytes (a binary, an archive) the same safe way. */
    public void writeAtomically(String path, byte[] content, String newFileMode) {
        shell.sudoOrThrow("writing " + path, RemoteFileCommands.atomicWrite(path, newFileMode), content);
    }

    public void restore(String backup, String path) {
        shell.sudoOrThrow("restoring " + path + " from " + backup, RemoteFileCommands.restore(backup, path));
    }

    public void remove(String path) {
        shell.sudoOrThrow("removing " + path, RemoteFileCommands.remove(path));
    }
}
