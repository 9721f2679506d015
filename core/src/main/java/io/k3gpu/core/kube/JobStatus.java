package io.k3gpu.core.kube;

import java.time.Instant;
import java.util.Map;

/**
 * A Job as k3gpu shows it.
 *
 * @param state Running, Complete or Failed (from the Job's conditions and counts)
 */
public record JobStatus(String name, String namespace, String state, Instant started, Instant finished,
                        Map<String, String> labels) {
}
