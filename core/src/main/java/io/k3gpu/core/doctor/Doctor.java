package io.k3gpu.core.doctor;

import io.k3gpu.core.facts.GatherFacts;
import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.remote.RemoteShell;

import java.nio.charset.StandardCharsets;

/**
 * Examines one node: its facts and the doctor's probes (two read-only scripts as root, each a step with the
 * default deadline of a probe; the probe's own waits are bounded on the node too), then the checks.
 */
public final class Doctor {
    private Doctor() {
    }

    public static DoctorReport examine(RemoteShell shell, DoctorChecks.Cluster cluster) {
        NodeFacts facts = GatherFacts.from(shell);
        String out = shell.sudoOrThrow("running doctor's probes", "sh -s",
                DoctorProbe.script(cluster.server()).getBytes(StandardCharsets.UTF_8)).stdout();
        DoctorProbe.Result probe = DoctorProbe.parse(shell.host(), out);
        return new DoctorReport(shell.host(), facts.hostname(), DoctorChecks.run(facts, probe, cluster), null);
    }
}
