package io.k3gpu.core.runtime;

import com.fasterxml.jackson.annotation.JsonValue;
import io.k3gpu.core.facts.NodeFacts;

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

    /**
     * A node's facts after this change: once changed, the NVIDIA runtime is the default the change proved (Docker's
     * running default, or K3s's config as written); no other fact moved, so nothing needs gathering again.
     */
    public NodeFacts appliedTo(NodeFacts facts) {
        if (outcome != Outcome.CHANGED) {
            return facts;
        }
        return runtime == ContainerRuntime.DOCKER ? facts.withDockerDefaultRuntime(EnableNvidiaRuntime.NVIDIA)
                : facts.withK3sDefaultRuntime(EnableNvidiaRuntime.NVIDIA);
    }
}
