package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.fleet.ClusterSettings;
import io.k3gpu.core.fleet.ClusterSpec;
import io.k3gpu.core.fleet.FleetApply;
import io.k3gpu.core.fleet.FleetEvents;
import io.k3gpu.core.fleet.FleetPlan;
import io.k3gpu.core.fleet.FleetResult;
import io.k3gpu.core.fleet.RollingUpgrade;
import io.k3gpu.core.fleet.SshFleet;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.kube.Kubeconfig;
import io.k3gpu.core.plugin.DevicePlugin;
import io.k3gpu.core.plugin.DevicePluginSettings;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.util.LocalFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "apply",
        description = {"Converge a cluster to its file, host by host.",
                "The first server alone, then the other",
                "servers one at a time, then the agents, up to --parallel at once. Each",
                "host's steps are join --gpu's (NVIDIA runtime, install, wait until Ready,",
                "labels) plus the file's labels and taints; one SSH connection per host.",
                "Changed serverArgs / agentArgs restart K3s with them in place (data",
                "kept); a single server that the file now lists with others is turned",
                "into etcd (--cluster-init) before they join.",
                "A host that fails does not stop the others: the summary lists each",
                "failure with its cause, and the exit code is 1. A converged cluster is",
                "left unchanged, host by host. The kubeconfig goes where",
                "cluster.kubeconfig says. With cluster.devicePlugin, NVIDIA's device plugin",
                "is installed once every host is Ready, as k3gpu device-plugin does (exit 7",
                "when a GPU node does not advertise nvidia.com/gpu in time).",
                "A new cluster.k3sVersion / k3sChannel is rolled first: the servers one at a",
                "time (until /readyz and Ready at the release), then the agents in batches of",
                "cluster.upgrade.workerDisruptionPercent (cordon, drain through the Eviction",
                "API, upgrade, Ready, GPU gate, uncordon). The first failure stops the",
                "rollout; running apply again resumes it. Each host is locked",
                "(/var/lib/k3gpu/apply.lock) while apply runs."})
final class ApplyCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", required = true, description = "The cluster file (cluster.yaml).")
    Path file;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "0",
            description = "At most N agents at once (default: all of them).")
    int parallel;

    @Option(names = "--dry-run", description = "Print what would be done, in apply's order (as plan), changing nothing.")
    boolean dryRun;

    @Option(names = "--force-drain", description = "In a rolling upgrade, delete the pods that cannot be evicted "
            + "(a PodDisruptionBudget forbids it) once cluster.upgrade.drainTimeout has passed, instead of failing.")
    boolean forceDrain;

    @Option(names = "--allow-downgrade", description = "Roll an older release than the nodes run (K3s does not "
            + "support downgrades: refused without this).")
    boolean allowDowngrade;

    @Mixin
    StepTimeoutOptions deadline;

    @Mixin
    OutputOptions output;

    ApplyCommand(Terminal terminal) {
        this.terminal = terminal;
    }

    @Override
    public Integer call() {
        boolean json = output.json();
        if (parallel < 0) {
            throw new K3gpuException(ExitCode.USAGE, "--parallel must be 1 or more (0: all agents at once)", null);
        }
        ClusterSpec spec = FleetCommands.load(file, terminal);
        try (SshConnector connector = deadline.applyTo(FleetCommands.connector(terminal));
             SshFleet fleet = new SshFleet(spec, connector, terminal::env)) {
            if (dryRun) {
                return dryRun(spec, fleet, json);
            }
            fleet.takeLocks();
            RollingUpgrade.Plan upgrade = fleet.planUpgrade(parallel, allowDowngrade);
            if (upgrade.refused()) {
                throw new K3gpuException(ExitCode.FAILED, "the rolling upgrade to " + upgrade.target()
                        + " is refused: " + String.join("; ", upgrade.refusals()), "nothing was changed");
            }
            Map<String, Object> rolled = null;
            if (!upgrade.empty()) {
                if (!json) {
                    terminal.out().print(RollingUpgrade.text(upgrade));
                    terminal.out().flush();
                }
                FleetResult u;
                try (FleetProgress progress = FleetCommands.progress(terminal, json, spec, "upgraded")) {
                    u = fleet.upgrade(upgrade, forceDrain, progress);
                }
                if (json) {
                    rolled = FleetCommands.summaryJson(u, fleet.connectionsOpened());
                    rolled.put("event", "upgrade");
                    rolled.put("target", upgrade.target());
                } else {
                    FleetCommands.summary(terminal.out(), "upgrade to " + upgrade.target(), u,
                            fleet.connectionsOpened());
                }
                if (!u.ok()) {
                    if (json) {
                        FleetProgress.jsonLine(terminal.out(), rolled);
                    }
                    terminal.out().flush();
                    return ExitCode.FAILED.code();
                }
            }
            FleetResult r;
            try (FleetProgress progress = FleetCommands.progress(terminal, json, spec, "applied")) {
                r = FleetApply.run(spec, parallel, fleet, progress);
            }
            Optional<String> saved = Optional.ofNullable(fleet.kubeconfig()).map(k -> save(spec.cluster(), k));
            PluginOutcome plugin = r.ok() ? devicePlugin(spec, fleet, json) : null;
            if (json) {
                Map<String, Object> s = FleetCommands.summaryJson(r, fleet.connectionsOpened());
                s.put("upgrade", rolled);
                s.put("kubeconfig", saved.isPresent() ? spec.cluster().kubeconfig().path().toString() : null);
                if (plugin != null) {
                    s.put("devicePlugin", plugin.report() != null ? plugin.report() : Map.of("error", plugin.error()));
                }
                FleetProgress.jsonLine(terminal.out(), s);
            } else {
                FleetCommands.summary(terminal.out(), "apply", r, fleet.connectionsOpened());
                if (plugin != null && plugin.report() != null) {
                    DevicePluginCommand.print(terminal.out(), plugin.report());
                } else if (plugin != null) {
                    terminal.out().println("device plugin: " + plugin.error());
                }
                saved.ifPresent(terminal.out()::println);
                if (r.ok() && saved.isPresent()) {
                    terminal.out().println("next: export KUBECONFIG=" + spec.cluster().kubeconfig().path()
                            + "; k3gpu nodes -o wide");
                }
            }
            terminal.out().flush();
            if (plugin != null && plugin.exit() != null) {
                return plugin.exit().code();
            }
            return r.ok() ? 0 : ExitCode.FAILED.code();
        }
    }

    /** The device plugin step's report, or why it failed and the exit code that gives. */
    private record PluginOutcome(DevicePlugin.Report report, String error, ExitCode exit) {
    }

    /** cluster.devicePlugin, once every host is Ready: what k3gpu device-plugin does; null when not asked for. */
    private PluginOutcome devicePlugin(ClusterSpec spec, SshFleet fleet, boolean json) {
        DevicePluginSettings settings = spec.cluster().devicePlugin();
        if (settings == null || fleet.clusterApi().isEmpty()) {
            return null;
        }
        try {
            DevicePlugin.Report report = new DevicePlugin(json ? Events.NONE : new ConsoleEvents(terminal.err()))
                    .install(fleet.clusterApi().get(), settings, DevicePlugin.DEFAULT_TIMEOUT);
            return new PluginOutcome(report, report.timedOut() ? "timed out" : null,
                    report.timedOut() ? ExitCode.TIMEOUT : null);
        } catch (K3gpuException e) {
            return new PluginOutcome(null, e.getMessage() + (e.hint() == null ? "" : "; " + e.hint()), e.exitCode());
        }
    }

    private int dryRun(ClusterSpec spec, SshFleet fleet, boolean json) {
        FleetPlan.Result r = FleetPlan.run(spec, fleet, FleetEvents.NONE);
        RollingUpgrade.Plan upgrade = fleet.planUpgrade(parallel, allowDowngrade);
        String order = "order: " + spec.firstServer().name() + " alone"
                + (spec.extraServers().isEmpty() ? "" : ", then servers one at a time: "
                + String.join(", ", spec.extraServers().stream().map(h -> h.name()).toList()))
                + (spec.agents().isEmpty() ? "" : ", then " + spec.agents().size()
                + (spec.agents().size() == 1 ? " agent " : " agents ")
                + (parallel == 0 ? "all at once" : "up to " + parallel + " at once"));
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("dryRun", true);
            doc.put("order", order);
            doc.putAll(PlanCommand.json(spec, r));
            doc.put("upgrade", PlanCommand.upgradeJson(upgrade));
            doc.put("devicePlugin", PlanCommand.devicePluginJson(spec, PlanCommand.devicePlugin(spec, fleet)));
            terminal.out().println(Json.pretty(doc));
        } else {
            terminal.out().println("apply --dry-run: nothing is changed; " + order);
            terminal.out().print(PlanCommand.text(spec, r));
            terminal.out().print(RollingUpgrade.text(upgrade));
            terminal.out().print(PlanCommand.devicePluginText(spec, PlanCommand.devicePlugin(spec, fleet)));
        }
        terminal.out().flush();
        return r.ok() && !upgrade.refused() ? 0 : ExitCode.FAILED.code();
    }

    /** Writes (or merges) the kubeconfig 0600 where the file says, unless it already holds exactly this. */
    private static String save(ClusterSettings c, String kubeconfig) {
        ClusterSettings.KubeconfigSettings k = c.kubeconfig();
        Path path = k.path();
        Optional<String> existing = LocalFiles.read(path);
        String next = k.merge() && existing.isPresent()
                ? Kubeconfig.merge(path.toString(), existing.get(), kubeconfig, false) : kubeconfig;
        if (existing.isPresent() && existing.get().equals(next)) {
            return "kubeconfig: " + path + " is up to date (context " + k.context() + ")";
        }
        LocalFiles.writePrivate(path, next);
        return "kubeconfig: " + (k.merge() && existing.isPresent() ? "merged context " + k.context() + " into " : "saved to ")
                + path + (k.merge() ? "" : " (context " + k.context() + ")");
    }
}
