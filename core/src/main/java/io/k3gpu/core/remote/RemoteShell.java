package io.k3gpu.core.remote;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.Consumer;

/**
 * Runs shell commands on one node. Implementations reuse one connection for every call.
 * Commands are POSIX sh command lines; secrets never go in them, only in {@code stdin}.
 */
public interface RemoteShell extends AutoCloseable {

    /** The host as the user named it (for messages). */
    String host();

    /** Runs {@code command} as the login user. Never throws for a non-zero exit status. */
    ExecResult exec(String command, byte[] stdin);

    /** Runs {@code command} as root: directly when logged in as root, else through sudo. */
    ExecResult sudo(String command, byte[] stdin);

    /**
     * Like {@link #sudo(String, byte[])} with exactly {@code length} bytes of stdin read from {@code stdin} as they
     * are sent, so that a large upload is never held in memory.
     */
    ExecResult sudo(String command, InputStream stdin, long length);

    /** Runs {@code command} as root with the upload (header line, then content) on stdin; see {@link Upload}. */
    default ExecResult sudoUpload(String command, Upload upload) {
        try (InputStream in = upload.openStdin()) {
            return sudo(command, in, upload.stdinLength());
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.USAGE, "cannot read " + upload + ": " + e.getMessage(), null, e);
        }
    }

    default ExecResult exec(String command) {
        return exec(command, null);
    }

    default ExecResult sudo(String command) {
        return sudo(command, null);
    }

    /** Like {@link #sudo(String, byte[])} but throws {@link RemoteCommandException} on a non-zero exit status. */
    default ExecResult sudoOrThrow(String what, String command, byte[] stdin) {
        ExecResult r = sudo(command, stdin);
        if (r.exitCode() != 0) {
            throw new RemoteCommandException(host(), what, r);
        }
        return r;
    }

    default ExecResult sudoOrThrow(String what, String command) {
        return sudoOrThrow(what, command, null);
    }

    /**
     * Starts {@code command} as the login user and returns at once; each line it prints goes to {@code stdoutLines}
     * or {@code stderrLines} as it arrives (on the connection's I/O thread: keep the consumers short). The command
     * runs until it ends or {@link RemoteProcess#stop} is called.
     *
     * @throws UnsupportedOperationException when this shell cannot stream (the default)
     */
    default RemoteProcess start(String command, Consumer<String> stdoutLines, Consumer<String> stderrLines) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot stream a command");
    }

    @Override
    void close();
}
