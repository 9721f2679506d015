package io.k3gpu.core.error;

/**
 * Base of every failure the tool reports to a user: a one-line message, a hint that says what to do, and the
 * process exit code the CLI maps it to.
 */
public class K3gpuException extends RuntimeException {
    private final ExitCode exitCode;
    private final String hint;

    public K3gpuException(ExitCode exitCode, String message, String hint) {
        this(exitCode, message, hint, null);
    }

    public K3gpuException(ExitCode exitCode, String message, String hint, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
        this.hint = hint;
    }

    public ExitCode exitCode() {
        return exitCode;
    }

    /** What the user can do about it; may be null. */
    public String hint() {
        return hint;
    }
}
