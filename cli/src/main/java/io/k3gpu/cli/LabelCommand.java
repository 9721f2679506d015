package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.facts.GatherFacts;
import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.k3s.NodeIdentity;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.remote.RemoteShell;
import io.k3gpu.core.ssh.SshConnector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "label", description = "Re-detect the node's facts and set its GPU labels in the cluster.")
final class LabelCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    SshOptions ssh;

    @Mixin
    KubeOptions kube;

    LabelCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshOptions(terminal);
        this.kube = new KubeOptions(terminal);
    }

    @Override
    public Integer call() {
        try (SshConnector connector = ssh.connector(); ClusterApi api = kube.api()) {
            RemoteShell shell = connector.connect(ssh.target());
            NodeFacts facts = GatherFacts.from(shell);
            NodeStatus node = api.node(facts.hostname()).orElseThrow(() -> new K3gpuException(ExitCode.KUBERNETES,
                    "node " + facts.hostname() + " is not in the cluster", "join it first: k3gpu join --ip " + ssh.address()));
            NodeIdentity identity = NodeIdentity.read(shell);
            if (!identity.owns(node)) {
                throw new K3gpuException(ExitCode.FAILED, identity.notOurs(node) + "; its labels were left alone",
                        "is --kubeconfig/--context the cluster " + ssh.address() + " is joined to? else give it its own hostname");
            }
            boolean docker = node.containerRuntime() != null && node.containerRuntime().startsWith("docker://");
            String engine = docker ? "docker" : "containerd";
            String dflt = docker ? facts.dockerDefaultRuntime() : facts.k3sDefaultRuntime();
            Map<String, String> changed = api.label(facts.hostname(), GpuLabels.of(facts, engine + "-" + (dflt == null ? "runc" : dflt)));
            terminal.out().println(facts.hostname() + ": " + (changed.isEmpty() ? "labels unchanged"
                    : "set " + changed.entrySet().stream().map(e -> e.getKey() + (e.getValue() == null ? "-" : "=" + e.getValue()))
                    .reduce((a, b) -> a + ", " + b).orElse("")));
            return 0;
        }
    }
}
