package io.k3gpu.core.error;

/** The process exit codes of every k3gpu command. */
public enum ExitCode {
    OK(0, "success"),
    FAILED(1, "the operation failed (e.g. a verification did not pass)"),
    USAGE(2, "usage error: bad flags or input"),
    SSH(3, "SSH failure: connect, host key or authentication"),
    REMOTE_COMMAND(4, "a command on the node failed"),
    KUBERNETES(5, "Kubernetes API error"),
    TIMEOUT(7, "timed out"),
    INTERRUPTED(130, "interrupted");

    private final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }
}
