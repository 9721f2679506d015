package io.k3gpu.core.runtime;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

/** A configuration file k3gpu was asked to edit cannot be read safely; the file was left as it is. */
public class InvalidConfigException extends K3gpuException {
    static final String FIX_HINT = "fix or remove the file, then run again; nothing was changed";

    private final String path;

    public InvalidConfigException(String path, String message) {
        this(path, message, FIX_HINT);
    }

    public InvalidConfigException(String path, String message, String hint) {
        super(ExitCode.FAILED, message, hint);
        this.path = path;
    }

    /** The file on the node. */
    public String path() {
        return path;
    }
}
