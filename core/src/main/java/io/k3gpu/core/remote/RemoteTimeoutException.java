package io.k3gpu.core.remote;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.time.Duration;

/** A remote step ran past its deadline; its process tree on the node was killed. */
public class RemoteTimeoutException extends K3gpuException {
    private final String host;
    private final RemoteStep step;
    private final Duration limit;

    public RemoteTimeoutException(String host, RemoteStep step, Duration limit) {
        super(ExitCode.TIMEOUT, step.what() + " on " + host + " did not finish within " + format(limit),
                "the command was stopped on the node; look at the node (journalctl), then run again, "
                        + "with a longer --step-timeout if it is only slow");
        this.host = host;
        this.step = step;
        this.limit = limit;
    }

    public String host() {
        return host;
    }

    public RemoteStep step() {
        return step;
    }

    public Duration limit() {
        return limit;
    }

    /** "90s", "10m", "1h30m", "500ms": as the user writes durations. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = ms / 1000;
        String text = (s >= 3600 ? s / 3600 + "h" : "") + (s % 3600 >= 60 ? s % 3600 / 60 + "m" : "")
                + (s % 60 != 0 ? s % 60 + "s" : "");
        return text.isEmpty() ? "0s" : text;
    }
}
