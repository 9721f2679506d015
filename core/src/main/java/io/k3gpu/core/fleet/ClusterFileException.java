package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.util.List;

/** cluster.yaml is not valid: every problem found, each with its position. Nothing was contacted. */
public final class ClusterFileException extends K3gpuException {
    private final List<FileProblem> problems;

    public ClusterFileException(String file, List<FileProblem> problems) {
        super(ExitCode.USAGE, file + ": " + problems.size() + (problems.size() == 1 ? " problem" : " problems")
                        + "; nothing was contacted",
                "fix the file (its JSON Schema: io/k3gpu/fleet/cluster.schema.json in the k3gpu jar)");
        this.problems = List.copyOf(problems);
    }

    public List<FileProblem> problems() {
        return problems;
    }

    /** One problem a line, in file order. */
    public String lines() {
        StringBuilder sb = new StringBuilder();
        problems.forEach(p -> sb.append(p).append('\n'));
        return sb.toString();
    }
}
