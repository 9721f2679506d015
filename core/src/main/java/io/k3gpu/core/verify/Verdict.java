package io.k3gpu.core.verify;

import java.util.List;

/**
 * PASS or FAIL for a GPU check, why, and what to do.
 *
 * @param evidence the log lines the decision rests on
 */
public record Verdict(boolean pass, String reason, String hint, List<String> evidence) {
}
