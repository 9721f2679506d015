package io.k3gpu.core.telemetry;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

/**
 * A telemetry line that cannot be turned into a {@link GpuSample}: not tegrastats output at all, an nvidia-smi CSV
 * row that does not fit its header, and so on. Unchecked; the message says what was wrong with the line.
 */
public class TelemetryParseException extends K3gpuException {
    public TelemetryParseException(String message) {
        super(ExitCode.USAGE, message, "check that the input is tegrastats or nvidia-smi --query-gpu CSV output");
    }

    public TelemetryParseException(String message, Throwable cause) {
        super(ExitCode.USAGE, message, "check that the input is tegrastats or nvidia-smi --query-gpu CSV output",
                cause);
    }
}
