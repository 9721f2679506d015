package io.k3gpu.cli;

import io.k3gpu.core.k3s.ResetNode;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.util.LocalFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "reset",
        description = {"Remove K3s from a node and delete its Node object; no K3s files are left.",
                "Runs K3s's own uninstall script, deletes the Node when a kubeconfig is at hand, then checks the node."})
final class ResetCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    SshOptions ssh;

    @Mixin
    KubeOptions kube;

    ResetCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshOptions(terminal);
        this.kube = new KubeOptions(terminal);
    }

    @Override
    public Integer call() {
        ConsoleEvents events = new ConsoleEvents(terminal.err());
        boolean haveKubeconfig = LocalFiles.read(kube.file()).isPresent();
        try (SshConnector connector = ssh.connector(); ClusterApi api = haveKubeconfig ? kube.api() : null) {
            ResetNode.Result r = new ResetNode(events).run(connector.connect(ssh.target()), api);
            terminal.out().println(r.host() + ": " + (r.uninstalled() ? "K3s removed" : "K3s was not installed")
                    + (r.nodeDeleted() ? "; node " + r.nodeName() + " deleted from the cluster" : "")
                    + "; no K3s files left");
            return 0;
        }
    }
}
