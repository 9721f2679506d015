package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.NodeStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "ready",
        description = "Wait until the API answers and every node is Ready; exits 7 when it does not happen in time (k3sup exits 0).")
final class ReadyCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    KubeOptions kube;

    @Option(names = "--attempts", paramLabel = "N", defaultValue = "25", description = "How many checks (default: ${DEFAULT-VALUE}).")
    int attempts;

    @Option(names = "--pause", paramLabel = "DURATION", defaultValue = "2s", description = "Pause between checks (default: ${DEFAULT-VALUE}).")
    Duration pause;

    ReadyCommand(Terminal terminal) {
        this.terminal = terminal;
        this.kube = new KubeOptions(terminal);
    }

    @Override
    public Integer call() throws InterruptedException {
        Duration wait = pause;
        String last = "";
        try (ClusterApi api = kube.api()) {
            for (int i = 1; i <= attempts; i++) {
                try {
                    List<NodeStatus> nodes = api.nodes();
                    List<String> notReady = nodes.stream().filter(n -> !n.ready()).map(NodeStatus::name).toList();
                    if (!nodes.isEmpty() && notReady.isEmpty()) {
                        terminal.out().println("ready: " + nodes.size() + " node(s) Ready");
                        return 0;
                    }
                    last = nodes.isEmpty() ? "no nodes yet" : "not Ready: " + String.join(", ", notReady);
                } catch (K3gpuException e) {
                    last = e.getMessage();
                }
                terminal.err().println("attempt " + i + "/" + attempts + ": " + last);
                if (i < attempts) {
                    Thread.sleep(wait.toMillis());
                }
            }
        }
        throw new K3gpuException(ExitCode.TIMEOUT, "the cluster was not ready after " + attempts + " attempts: " + last,
                "k3gpu nodes shows each node; journalctl -u k3s / k3s-agent on a node tells why");
    }
}
