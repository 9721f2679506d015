package io.k3gpu.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real kubectl, run against a kubeconfig, as the lab tests check the cluster. */
final class Kubectl {
    record Result(int exit, String out) {
    }

    private Kubectl() {
    }

    /**
     * client-go's discovery error, on stderr for every command while an aggregated API is unavailable: K3s's
     * metrics-server (v1beta1.metrics.k8s.io) for a moment after a cluster starts or its node's runtime restarts, as
     * on a real K3s. It says nothing about the command the tests run, so it is left out of their output.
     */
    private static final java.util.regex.Pattern METRICS_DISCOVERY = java.util.regex.Pattern.compile(
            "(?m)^E\\d{4} [0-9:.]+\\s+\\d+ [\\w.]+\\.go:\\d+\\] .*metrics\\.k8s\\.io/v1beta1.*\\R");

    /**
     * kubectl --kubeconfig FILE ARGS..., its stdout and stderr together (without the metrics API's discovery
     * errors); exit -1 when it ran past a minute.
     */
    static Result run(Path kubeconfig, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("kubectl", "--kubeconfig", kubeconfig.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = METRICS_DISCOVERY.matcher(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .replaceAll("");
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, out);
        }
        return new Result(p.exitValue(), out);
    }
}
