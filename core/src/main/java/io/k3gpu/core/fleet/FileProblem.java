package io.k3gpu.core.fleet;

/**
 * One thing wrong in cluster.yaml, where it is: {@code cluster.yaml:12:5: unknown key 'gpuu' (did you mean 'gpu'?)}.
 *
 * @param line   1-based
 * @param column 1-based
 */
public record FileProblem(String file, int line, int column, String message) {
    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + message;
    }
}
