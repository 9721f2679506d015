package io.k3gpu.core.remote;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
        writeAtomically(path, Upload.of(content.getBytes(StandardCharsets.UTF_8)), newFileMode);
    }

    /** Uploads a local file (a binary, an image archive) the same safe way, streamed from disk. */
    public void writeAtomically(String path, Path local, String newFileMode) {
        Upload upload;
        try {
            upload = Upload.of(local);
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.USAGE, "cannot read " + local + ": " + e.getMessage(), null, e);
        }
        writeAtomically(path, upload, newFileMode);
    }

    /**
     * Replaces {@code path} with the upload, or leaves it as it was: the node checks the byte count and SHA-256
     * before the rename and refuses a cut upload ({@link RemoteFileCommands#REFUSED}).
     */
    public void writeAtomically(String path, Upload content, String newFileMode) {
        String what = "writing " + path;
        ExecResult r;
        try {
            r = shell.sudoUpload(RemoteFileCommands.atomicWrite(path, newFileMode), content, RemoteStep.upload(what));
        } catch (K3gpuException e) {
            if (e.exitCode() != ExitCode.SSH) {
                throw e;
            }
            throw new K3gpuException(ExitCode.SSH, e.getMessage() + " while " + what + " (" + content.size()
                    + " bytes); the node has either the old file or the whole new one",
                    e.hint(), e);
        }
        if (r.exitCode() == RemoteFileCommands.REFUSED) {
            throw new RemoteCommandException(shell.host(), what, r, "the link to the node was cut; run again");
        }
        if (!r.ok()) {
            throw new RemoteCommandException(shell.host(), what, r);
        }
    }

    public void restore(String backup, String path) {
        shell.sudoOrThrow("restoring " + path + " from " + backup, RemoteFileCommands.restore(backup, path));
    }

    public void remove(String path) {
        shell.sudoOrThrow("removing " + path, RemoteFileCommands.remove(path));
    }
}
