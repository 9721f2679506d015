package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.kube.Fabric8ClusterApi;
import io.k3gpu.core.util.LocalFiles;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/** Which cluster: --kubeconfig and --context, found as kubectl finds them. */
public final class KubeOptions {
    private final Terminal terminal;

    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "kubeconfig to use (default: $KUBECONFIG, else ./kubeconfig as written by k3gpu install, else ~/.kube/config).")
    Path kubeconfig;

    @Option(names = "--context", paramLabel = "NAME", description = "Context in the kubeconfig (default: its current context).")
    String context;

    public KubeOptions(Terminal terminal) {
        this.terminal = terminal;
    }

    Path file() {
        if (kubeconfig != null) {
            return kubeconfig;
        }
        String env = terminal.env("KUBECONFIG");
        if (env != null && !env.isBlank()) {
            return Path.of(env.split(":")[0]);
        }
        Path local = Path.of("kubeconfig");
        if (Files.isRegularFile(local)) {
            return local;
        }
        return Path.of(System.getProperty("user.home"), ".kube", "config");
    }

    /** The kubeconfig's text, or a clear error when there is none. */
    String yaml() {
        Path f = file();
        return LocalFiles.read(f).orElseThrow(() -> new K3gpuException(ExitCode.USAGE, "no kubeconfig at " + f,
                "fetch one with: k3gpu get-config --ip SERVER (or pass --kubeconfig FILE)"));
    }

    Fabric8ClusterApi api() {
        return Fabric8ClusterApi.forCommands(yaml(), context);
    }
}
