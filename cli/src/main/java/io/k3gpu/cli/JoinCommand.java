package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.k3s.JoinNode;
import io.k3gpu.core.k3s.NodeToken;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.Fabric8ClusterApi;
import io.k3gpu.core.remote.RemoteShell;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.ssh.SshTarget;
import io.k3gpu.core.util.LocalFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "join",
        description = {"Join a node to the K3s cluster (as k3sup join) and wait until it is Ready in the API.",
                "The node token is read from the server over SSH and reaches the node on stdin, never on a command line.",
                "--gpu makes the NVIDIA runtime the default first and the node is labelled with its GPU."})
final class JoinCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    SshOptions ssh;

    @Mixin
    ServerOptions server;

    @Mixin
    K3sSourceOptions source;

    @Mixin
    StepTimeoutOptions deadline;

    @Mixin
    OutputOptions output;

    @Option(names = "--node-token-path", paramLabel = "FILE", description = "Read the node token from this local file instead of the server.")
    Path nodeTokenPath;

    @Option(names = "--node-token-stdin", description = "Read the node token from stdin instead of the server.")
    boolean nodeTokenStdin;

    @Option(names = "--docker", description = "Use Docker as the container runtime (the seed's way; K3s marks it experimental).")
    boolean docker;

    @Option(names = "--gpu", description = "Make the NVIDIA runtime the default first (Docker's with --docker, else K3s's containerd).")
    boolean gpu;

    @Option(names = "--k3s-extra-args", paramLabel = "ARGS", description = "More flags for k3s agent.")
    String extraArgs;

    @Option(names = "--server", description = "Join as an extra server of an HA cluster (the first one was installed with --cluster).")
    boolean asServer;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "3m",
            description = "How long to wait for the node to be Ready (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    JoinCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshOptions(terminal);
    }

    @Override
    public Integer call() {
        boolean json = output.json();
        if (nodeTokenPath != null && nodeTokenStdin) {
            throw new K3gpuException(ExitCode.USAGE, "both --node-token-path and --node-token-stdin were given", "pass only one");
        }
        ConsoleEvents events = new ConsoleEvents(terminal.err());
        SshTarget nodeTarget = ssh.target();
        char[] token = nodeTokenStdin ? terminal.secretFromStdin("--node-token-stdin")
                : nodeTokenPath != null ? LocalFiles.read(nodeTokenPath).map(s -> s.strip().toCharArray())
                .orElseThrow(() -> new K3gpuException(ExitCode.USAGE, "no token file at " + nodeTokenPath, null)) : null;
        try (SshConnector connector = deadline.applyTo(ssh.connector())) {
            RemoteShell serverShell = connector.connect(server.target(nodeTarget));
            if (token == null) {
                token = NodeToken.read(serverShell);
            }
            String kubeconfig = NodeToken.kubeconfig(serverShell, server.url(), timeout);
            RemoteShell node = connector.connect(nodeTarget);
            JoinNode.Options o = new JoinNode.Options(docker, gpu, extraArgs, asServer, source.version,
                    source.installUrl, source.airgapBundle, timeout);
            try (ClusterApi api = Fabric8ClusterApi.fromKubeconfig(kubeconfig, null)) {
                JoinNode.Result r = new JoinNode(events).run(node, api, server.url(), token, o);
                if (json) {
                    terminal.out().println(Json.pretty(r));
                } else {
                    terminal.out().println(r.host() + ": node " + r.nodeName() + " is Ready in " + r.serverUrl()
                            + " (" + r.node().containerRuntime() + ")"
                            + (r.changes().isEmpty() ? "; nothing changed" : "; " + String.join("; ", r.changes())));
                }
                return 0;
            }
        } finally {
            if (token != null) {
                Arrays.fill(token, '\0');
            }
        }
    }

}
