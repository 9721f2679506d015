package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.lab.Lab;
import io.k3gpu.lab.LabConfig;
import io.k3gpu.lab.LabNode;
import io.k3gpu.lab.LabState;
import io.k3gpu.lab.LabUser;
import io.k3gpu.lab.k3sdist.K3sDistribution;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tools.jackson.databind.node.ObjectNode;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

@Command(name = "lab",
        description = {"Run simulated GPU nodes with a real sshd and replayed NVIDIA hardware (needs root).",
                "Each node has its own network namespace. Profiles: jetson-nano, orin-nano, thor, dgpu, cpu-only."},
        subcommands = {LabCommand.Up.class, LabCommand.Status.class, LabCommand.Down.class, LabBenchApplyCommand.class})
final class LabCommand {

    /** Options naming which lab. */
    static final class Which {
        @Option(names = "--id", paramLabel = "ID", defaultValue = LabConfig.DEFAULT_ID,
                description = "Lab name (default: ${DEFAULT-VALUE}); several labs can run side by side.")
        String id;

        Path stateDir() {
            return LabConfig.STATE_ROOT.resolve(id);
        }
    }

    @Command(name = "up", description = "Start a lab.")
    static final class Up implements java.util.concurrent.Callable<Integer> {
        private final Terminal terminal;

        @Mixin
        Which which;

        @Mixin
        OutputOptions output;

        @Option(names = "--nodes", paramLabel = "N", description = "Number of nodes (default: one per profile given).")
        Integer nodes;

        @Option(names = "--profile", paramLabel = "P[,P...]", split = ",", defaultValue = "jetson-nano",
                description = "Node profiles, cycled over the nodes (default: ${DEFAULT-VALUE}).")
        List<String> profiles;

        @Option(names = "--subnet", paramLabel = "N", defaultValue = "" + LabConfig.DEFAULT_SUBNET,
                description = "Third octet of the lab's subnet 10.213.N.0/24 (default: ${DEFAULT-VALUE}).")
        int subnet;

        Up(Terminal terminal) {
            this.terminal = terminal;
        }

        @Override
        public Integer call() {
            boolean json = output.json();
            int n = nodes == null ? profiles.size() : nodes;
            if (n < 1) {
                throw new K3gpuException(ExitCode.USAGE, "--nodes must be at least 1", null);
            }
            LabConfig config = new LabConfig(which.id, subnet, LabConfig.cycle(n, profiles), which.stateDir(), null);
            LabState state = Lab.up(config);
            render(terminal.out(), state, json);
            return 0;
        }
    }

    @Command(name = "status", description = "Show the lab's nodes and how to reach them.")
    static final class Status implements java.util.concurrent.Callable<Integer> {
        private final Terminal terminal;

        @Mixin
        Which which;

        @Mixin
        OutputOptions output;

        Status(Terminal terminal) {
            this.terminal = terminal;
        }

        @Override
        public Integer call() {
            boolean json = output.json();
            Optional<LabState> state = Lab.status(which.stateDir());
            if (state.isEmpty()) {
                throw new K3gpuException(ExitCode.FAILED, "no lab '" + which.id + "' is up",
                        "start one with: k3gpu lab up --nodes 2 --profile jetson-nano,dgpu");
            }
            render(terminal.out(), state.get(), json);
            return 0;
        }
    }

    @Command(name = "down", description = "Stop the lab and remove everything it made.")
    static final class Down implements java.util.concurrent.Callable<Integer> {
        private final Terminal terminal;

        @Mixin
        Which which;

        Down(Terminal terminal) {
            this.terminal = terminal;
        }

        @Override
        public Integer call() {
            Lab.down(which.stateDir());
            terminal.out().println("lab " + which.id + " is down");
            return 0;
        }
    }

    static void render(PrintWriter out, LabState s, boolean json) {
        Map<String, Object> served = K3sDistribution.of(s).served();
        if (json) {
            ObjectNode o = (ObjectNode) Json.MAPPER.readTree(s.toJson());
            o.set("serves", Json.MAPPER.valueToTree(served));
            out.println(Json.pretty(o));
            return;
        }
        out.printf("%-10s %-15s %-12s %s%n", "NODE", "IP", "PROFILE", "PID");
        for (LabNode n : s.nodes()) {
            out.printf("%-10s %-15s %-12s %d%n", n.name(), n.ip(), n.profile(), n.pid());
        }
        out.println();
        out.println("key: " + s.keyFile() + "   known_hosts: " + s.knownHostsFile());
        for (LabUser u : s.users()) {
            out.println("user " + u.name() + ": sudo " + u.sudo().name().toLowerCase().replace('_', ' '));
        }
        LabNode first = s.nodes().get(0);
        out.println("try: k3gpu facts --ip " + first.ip() + " --ssh-key " + s.keyFile() + " --known-hosts "
                + s.knownHostsFile());
        out.println();
        servedLines(served).forEach(out::println);
    }

    /** What the lab serves its nodes ({@link K3sDistribution#served()}), as lines for a terminal. */
    @SuppressWarnings("unchecked")
    static List<String> servedLines(Map<String, Object> m) {
        List<String> names = (List<String>) m.get("httpsNames");
        String https = String.join(", ", names.stream().map(n -> "https://" + n).toList());
        return List.of("the lab serves its nodes" + (Boolean.TRUE.equals(m.get("mirrorRunning")) ? ""
                        : " (its mirror is NOT running: `k3gpu lab down`, then up again)") + ":",
                "  " + https + " -> " + m.get("httpsAddress") + " (nodes resolve these names there and trust the "
                        + "lab's CA " + m.get("caCert") + ", on nodes " + m.get("nodeCaCert") + ")",
                "  K3s: k3gpu install --ip NODE needs no --install-url (" + m.get("installUrl") + "; channels "
                        + m.get("channelUrl") + "; releases " + m.get("githubUrl") + ")",
                "  install mirror: " + m.get("mirror") + " (plain HTTP: " + m.get("mirrorInstallUrl")
                        + ", GITHUB_URL " + m.get("mirrorGithubUrl") + ", INSTALL_K3S_CHANNEL_URL "
                        + m.get("mirrorChannelUrl") + ")",
                "  git repository: " + m.get("gitRepository"),
                "  air-gap bundle: " + m.get("airgapBundle"),
                "  registry: " + (m.get("registry") == null ? "none (pod images come from the lab's image catalog)"
                        : m.get("registry")));
    }


}
