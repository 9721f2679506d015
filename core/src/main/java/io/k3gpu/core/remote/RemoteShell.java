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

    /**
     * Runs {@code command} as the login user within {@code step}'s deadline. Never throws for a non-zero exit status.
     *
     * @throws RemoteTimeoutException when the deadline passed; the command's process tree on the node was killed
     */
    ExecResult exec(String command, byte[] stdin, RemoteStep step);

    /** Runs {@code command} as root (directly when logged in as root, else through sudo) within {@code step}'s deadline. */
    ExecResult sudo(String command, byte[] stdin, RemoteStep step);

    /** {@link #exec(String, byte[], RemoteStep)} as a plain command step named by the command itself. */
    default ExecResult exec(String command, byte[] stdin) {
        return exec(command, stdin, RemoteStep.command(named(command)));
    }

    /** {@link #sudo(String, byte[], RemoteStep)} as a plain command step named by the command itself. */
    default ExecResult sudo(String command, byte[] stdin) {
        return sudo(command, stdin, RemoteStep.command(named(command)));
    }

    /**
     * Like {@link #sudo(String, byte[], RemoteStep)} with exactly {@code length} bytes of stdin read from
     * {@code stdin} as they are sent, so that a large upload is never held in memory. The deadline covers sending
     * them too: a link that stalls mid-upload ends the step.
     */
    ExecResult sudo(String command, InputStream stdin, long length, RemoteStep step);

    /** Runs {@code command} as root with the upload (header line, then content) on stdin; see {@link Upload}. */
    default ExecResult sudoUpload(String command, Upload upload, RemoteStep step) {
        try (InputStream in = upload.openStdin()) {
            return sudo(command, in, upload.stdinLength(), step);
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
        ExecResult r = sudo(command, stdin, RemoteStep.command(what));
        if (r.exitCode() != 0) {
            throw new RemoteCommandException(host(), what, r);
        }
        return r;
    }

    default ExecResult sudoOrThrow(String what, String command) {
        return sudoOrThrow(what, command, null);
    }

    /**
     * Ends a tagged step that is still running on the node (another channel of the same connection), as root.
     * Returns whether anything was stopped.
     */
    default boolean stop(RemoteStep step) {
        return sudo(step.stopCommand(), null, RemoteStep.command("stopping " + step.what())).ok();
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

    /** A command as a step's name in messages: its first line, cut short. */
    private static String named(String command) {
        String line = command.strip().lines().findFirst().orElse("");
        return "`" + (line.length() > 60 ? line.substring(0, 57) + "..." : line) + "`";
    }
}
