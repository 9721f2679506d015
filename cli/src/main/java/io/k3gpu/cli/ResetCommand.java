package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.fleet.ClusterSpec;
import io.k3gpu.core.fleet.FleetReset;
import io.k3gpu.core.fleet.FleetResult;
import io.k3gpu.core.fleet.HostSpec;
import io.k3gpu.core.fleet.SshFleet;
import io.k3gpu.core.k3s.ResetNode;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.util.LocalFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "reset",
        description = {"Remove K3s from a node and check that nothing of it is left.",
                "Runs K3s's own uninstall script, deletes the Node object (when a kubeconfig is at hand) and checks",
                "that no K3s files are left.",
                "With -f cluster.yaml: every host of the file (or the one --host/--ip",
                "names), agents first, then the other servers one at a time, then the",
                "first server; SSH settings come from the file, Node objects are deleted",
                "through the first server."})
final class ResetCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    SshOptions ssh;

    @Mixin
    KubeOptions kube;

    @Mixin
    StepTimeoutOptions deadline;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Reset the hosts of this cluster file.")
    Path file;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "0",
            description = "With -f: at most N agents at once (default: all of them).")
    int parallel;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text",
            description = "With -f: text (default) or json (a JSON object per event).")
    String output;

    @Spec
    CommandSpec spec;

    ResetCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshOptions(terminal);
        this.kube = new KubeOptions(terminal);
    }

    @Override
    public Integer call() {
        if (file != null) {
            return fleet();
        }
        ConsoleEvents events = new ConsoleEvents(terminal.err());
        boolean haveKubeconfig = LocalFiles.read(kube.file()).isPresent();
        try (SshConnector connector = deadline.applyTo(ssh.connector()); ClusterApi api = haveKubeconfig ? kube.api() : null) {
            ResetNode.Result r = new ResetNode(events).run(connector.connect(ssh.target()), api);
            terminal.out().println(r.host() + ": " + (r.uninstalled() ? "K3s removed" : "K3s was not installed")
                    + (r.nodeDeleted() ? "; node " + r.nodeName() + " deleted from the cluster" : "")
                    + "; no K3s files left");
            return 0;
        }
    }

    private int fleet() {
        boolean json = switch (output) {
            case "json" -> true;
            case "text" -> false;
            default -> throw new K3gpuException(ExitCode.USAGE, "unknown output format '" + output + "'",
                    "use -o text or -o json");
        };
        if (parallel < 0) {
            throw new K3gpuException(ExitCode.USAGE, "--parallel must be 1 or more (0: all agents at once)", null);
        }
        for (String flag : List.of("--user", "--ssh-key", "--ssh-port", "--known-hosts", "--strict-host-key-checking",
                "--connect-timeout", "--ssh-config", "--sudo-password-stdin", "--kubeconfig", "--context")) {
            if (this.spec.commandLine().getParseResult().hasMatchedOption(flag)) {
                throw new K3gpuException(ExitCode.USAGE, flag + " cannot be combined with -f",
                        "with -f the SSH settings come from the file's ssh: sections and the cluster from its first server");
            }
        }
        ClusterSpec spec = FleetCommands.load(file, terminal);
        String only = ssh.node();
        List<HostSpec> selected = only == null ? spec.hosts() : List.of(spec.host(only));
        try (SshConnector connector = deadline.applyTo(FleetCommands.connector(terminal));
             SshFleet fleet = new SshFleet(spec, connector, terminal::env)) {
            boolean needApi = selected.stream().anyMatch(h -> !spec.isFirstServer(h));
            Optional<String> noApi = needApi ? fleet.openExistingCluster() : Optional.empty();
            if (only != null && selected.get(0).equals(spec.firstServer()) && spec.hosts().size() > 1) {
                terminal.err().println("warning: " + only + " is the first server: the cluster's datastore goes with it, "
                        + "the other hosts keep running K3s without a cluster");
            }
            FleetResult r;
            try (FleetProgress progress = FleetCommands.progress(terminal, json, spec, "reset")) {
                progress.only(selected);
                r = FleetReset.run(spec, selected, parallel, fleet, progress);
            }
            if (json) {
                FleetProgress.jsonLine(terminal.out(), FleetCommands.summaryJson(r, fleet.connectionsOpened()));
            } else {
                FleetCommands.summary(terminal.out(), "reset", r, fleet.connectionsOpened());
            }
            Optional<String> left = FleetReset.nodesLeft(spec, r, noApi);
            if (left.isPresent()) {
                throw new K3gpuException(ExitCode.FAILED, left.get(),
                        "delete them (kubectl delete node NAME) once the cluster answers, or reset its first server too");
            }
            return r.ok() ? 0 : ExitCode.FAILED.code();
        }
    }
}
