package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * How one host fared in an apply or a reset.
 *
 * @param changes  what changed there, in order; empty when nothing did (or it failed first)
 * @param error    the cause of a failure (message and hint), or why the host was skipped; null otherwise
 * @param exitCode the failure's exit code; null unless failed
 */
public record HostResult(HostSpec host, Status status, List<String> changes, String error, ExitCode exitCode,
                         Duration elapsed) {
    public HostResult {
        changes = List.copyOf(changes);
    }

    public enum Status {
        CHANGED, UNCHANGED, FAILED, SKIPPED;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public boolean ok() {
        return status == Status.CHANGED || status == Status.UNCHANGED;
    }
}
