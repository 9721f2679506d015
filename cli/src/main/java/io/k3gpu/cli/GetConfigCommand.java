package io.k3gpu.cli;

import io.k3gpu.core.k3s.NodeToken;
import io.k3gpu.core.kube.Kubeconfig;
import io.k3gpu.core.ssh.SshConnector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "get-config", description = "Fetch the K3s server's kubeconfig, point it at the server and save or merge it.")
final class GetConfigCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    SshOptions ssh;

    @Mixin
    KubeconfigOutput kubeconfig;

    GetConfigCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshOptions(terminal);
    }

    @Override
    public Integer call() {
        String address = ssh.address();
        try (SshConnector connector = ssh.connector()) {
            String yaml = NodeToken.kubeconfig(connector.connect(ssh.target()), "https://" + address + ":6443",
                    Duration.ofSeconds(5));
            String named = kubeconfig.context.equals("default") ? yaml
                    : Kubeconfig.fromK3s("the server's kubeconfig", yaml, "https://" + address + ":6443", kubeconfig.context);
            terminal.out().println(kubeconfig.save(named));
            return 0;
        }
    }
}
