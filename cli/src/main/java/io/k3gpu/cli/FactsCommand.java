package io.k3gpu.cli;

import io.k3gpu.core.facts.GatherFacts;
import io.k3gpu.core.facts.Gpu;
import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.facts.NodeFactsJson;
import io.k3gpu.core.ssh.SshConnector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "facts",
        description = {"Show what the node is: its hardware, OS, GPU, CUDA, container runtime and K3s.",
                "Hostname, arch, OS, kernel, Jetson model and SoC, L4T/JetPack and CUDA versions, discrete GPUs (nvidia-smi), Docker and its default runtime, nvidia-container-runtime and the",
                "NVIDIA Container Toolkit's version, K3s. Warns when /usr/local/nvidia/toolkit holds another",
                "nvidia-container-runtime than the packaged one (K3s would use that one)."})
final class FactsCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    SshOptions ssh;

    @Mixin
    OutputOptions output;

    FactsCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshOptions(terminal);
    }

    @Override
    public Integer call() {
        boolean json = output.json();
        ConsoleEvents events = new ConsoleEvents(terminal.err());
        try (SshConnector connector = ssh.connector()) {
            NodeFacts f = GatherFacts.from(connector.connect(ssh.target()));
            if (json) {
                terminal.out().println(NodeFactsJson.toJson(f));
            } else {
                print(terminal.out(), f);
                f.toolkitDirWarning().ifPresent(w -> terminal.err().println("warning: " + w));
            }
            return 0;
        }
    }

    private static void print(PrintWriter out, NodeFacts f) {
        row(out, "hostname", f.hostname());
        row(out, "arch", f.arch());
        row(out, "os", f.os());
        row(out, "kernel", f.kernel());
        if (f.isJetson()) {
            row(out, "jetson model", f.jetsonModel());
            row(out, "soc family", f.socFamily());
            row(out, "l4t", f.l4tVersion() == null ? null : f.l4tVersion() + " (from " + f.l4tSource() + ")");
            row(out, "jetpack", f.jetpackVersion());
        }
        row(out, "cuda", f.cudaVersion());
        if (f.gpus().isEmpty()) {
            row(out, "gpus", f.isJetson() ? "integrated (Jetson)" : "none");
        }
        for (Gpu g : f.gpus()) {
            row(out, "gpu " + g.index(), g.name() + ", " + g.memoryTotalMiB() + " MiB, driver " + g.driverVersion()
                    + ", " + g.uuid());
        }
        row(out, "docker", !f.dockerInstalled() ? "not installed"
                : f.dockerRunning() ? "running, default runtime " + f.dockerDefaultRuntime()
                + (f.dockerRuntimes().isEmpty() ? "" : " (runtimes: " + String.join(", ", f.dockerRuntimes()) + ")")
                : "installed, not running");
        row(out, "nvidia-container-runtime", f.nvidiaContainerRuntime() ? f.nvidiaContainerRuntimePath() : "not installed");
        row(out, "container toolkit", f.nvidiaContainerToolkitVersion() == null ? "not installed"
                : f.nvidiaContainerToolkitVersion());
        row(out, "containerd", f.containerdInstalled() ? "installed" : "not installed");
        row(out, "k3s", !f.k3sInstalled() ? "not installed"
                : (f.k3sRole() == null ? "installed" : f.k3sRole()) + (f.k3sVersion() == null ? "" : " " + f.k3sVersion())
                + (f.k3sDefaultRuntime() == null ? "" : ", default runtime " + f.k3sDefaultRuntime()));
    }

    private static void row(PrintWriter out, String key, String value) {
        out.printf("%-25s %s%n", key + ":", value == null ? "-" : value);
    }
}
