package io.k3gpu.core.runtime;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/**
 * What {@link EnableNvidiaRuntime} did on one node.
 *
 * @param outcome  unchanged, changed, or (with --dry-run) what would change
 * @param diff     unified diff of the config file; empty when the file is already right
 * @param backup   the backup of the previous file, or null when none was made
 * @param restarted the service that was restarted, or null
 */
public record RuntimeChange(String host, ContainerRuntime runtime, Outcome outcome, String file, String diff,
                            String backup, String restarted, String detail) {

    public enum Outcome {
        UNCHANGED, CHANGED, WOULD_CHANGE;

        /** As shown to users and in JSON: unchanged, changed, would-change. */
        @JsonValue
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }
}
