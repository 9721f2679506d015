package io.k3gpu.cli;

import io.k3gpu.core.kube.Kubeconfig;
import io.k3gpu.core.util.LocalFiles;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where a fetched kubeconfig goes: k3sup's --local-path, --context, --merge, plus --set-current. */
public final class KubeconfigOutput {
    @Option(names = "--local-path", paramLabel = "FILE", defaultValue = "kubeconfig",
            description = "Where to save the kubeconfig (default: ./${DEFAULT-VALUE}); written 0600.")
    Path localPath;

    @Option(names = "--context", paramLabel = "NAME", defaultValue = "default",
            description = "Name of the cluster, user and context in the kubeconfig (default: ${DEFAULT-VALUE}).")
    String context;

    @Option(names = "--merge", description = "Merge into the kubeconfig at --local-path (entries of the same name are replaced) instead of overwriting it.")
    boolean merge;

    @Option(names = "--set-current", description = "With --merge: make the new context the current one.")
    boolean setCurrent;

    /** Writes (or merges) the kubeconfig atomically with mode 0600; returns a sentence saying what was done. */
    String save(String kubeconfig) {
        if (merge) {
            String existing = LocalFiles.read(localPath).orElse(null);
            LocalFiles.writePrivate(localPath, Kubeconfig.merge(localPath.toString(), existing, kubeconfig, setCurrent));
            return "merged context " + context + " into " + localPath;
        }
        LocalFiles.writePrivate(localPath, kubeconfig);
        return "saved the kubeconfig to " + localPath;
    }
}
