package io.k3gpu.core.remote;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

/** A command on a node exited non-zero; keeps the host, the step, the exit status and the stderr tail. */
public class RemoteCommandException extends K3gpuException {
    private final String host;
    private final int remoteExitCode;
    private final String stderrTail;

    public RemoteCommandException(String host, String what, ExecResult result) {
        this(host, what, result, null);
    }

    public RemoteCommandException(String host, String what, ExecResult result, String hint) {
        super(ExitCode.REMOTE_COMMAND,
                what + " failed on " + host + " (exit " + result.exitCode() + ")"
                        + (result.tail(3).isEmpty() ? "" : ": " + result.tail(3)),
                hint);
        this.host = host;
        this.remoteExitCode = result.exitCode();
        this.stderrTail = result.tail(3);
    }

    public String host() {
        return host;
    }

    public int remoteExitCode() {
        return remoteExitCode;
    }

    public String stderrTail() {
        return stderrTail;
    }
}
