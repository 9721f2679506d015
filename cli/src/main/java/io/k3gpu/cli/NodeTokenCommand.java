package io.k3gpu.cli;

import io.k3gpu.core.k3s.NodeToken;
import io.k3gpu.core.ssh.SshConnector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "node-token",
        description = {"Print the K3s server's node token, a secret, for join --node-token-stdin elsewhere.",
                "Only when you ask for it, e.g. to pipe it into join --node-token-stdin on another machine."})
final class NodeTokenCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    SshOptions ssh;

    NodeTokenCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshOptions(terminal);
    }

    @Override
    public Integer call() {
        try (SshConnector connector = ssh.connector()) {
            char[] token = NodeToken.read(connector.connect(ssh.target()));
            terminal.out().println(token);
            Arrays.fill(token, '\0');
            return 0;
        }
    }
}
