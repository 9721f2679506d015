package io.k3gpu.cli;

import io.k3gpu.core.fleet.ClusterSpec;
import io.k3gpu.core.fleet.FleetEvents;
import io.k3gpu.core.fleet.FleetPlan;
import io.k3gpu.core.fleet.RollingUpgrade;
import io.k3gpu.core.fleet.HostPlan;
import io.k3gpu.core.fleet.HostSpec;
import io.k3gpu.core.fleet.SshFleet;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.plugin.DevicePlugin;
import io.k3gpu.core.plugin.DevicePluginSettings;
import io.k3gpu.core.ssh.SshConnector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "plan",
        description = {"Show what apply would do on each host of a cluster file, changing nothing.",
                "Every host is reached at once over SSH, its facts are gathered",
                "and compared with the file (install server, reconfigure server, join",
                "server, join agent, reconfigure agent, set NVIDIA runtime, relabel, set",
                "taints, or nothing). K3s's flags are compared as sets with the unit's",
                "ExecStart=. With cluster.devicePlugin: the device plugin's objects to create,",
                "update or delete. A new k3sVersion / k3sChannel shows as \"upgrade A → B\" per",
                "host and as the rolling upgrade's order (servers, then agent batches).",
                "Exit 1 when a host cannot be observed or the upgrade would be refused."})
final class PlanCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", required = true, description = "The cluster file (cluster.yaml).")
    Path file;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "0",
            description = "As apply's: at most N agents of a rolling upgrade at once (default: as cluster.upgrade says).")
    int parallel;

    @Option(names = "--allow-downgrade", description = "As apply's: show an older release's rollout instead of refusing it.")
    boolean allowDowngrade;

    @Mixin
    OutputOptions output;

    PlanCommand(Terminal terminal) {
        this.terminal = terminal;
    }

    @Override
    public Integer call() {
        boolean json = output.json();
        ClusterSpec spec = FleetCommands.load(file, terminal);
        try (SshConnector connector = FleetCommands.connector(terminal);
             SshFleet fleet = SshFleet.forPlan(spec, connector, terminal::env)) {
            FleetPlan.Result r = FleetPlan.run(spec, fleet, FleetEvents.NONE);
            RollingUpgrade.Plan upgrade = fleet.planUpgrade(parallel, allowDowngrade);
            List<String> plugin = devicePlugin(spec, fleet);
            if (json) {
                Map<String, Object> doc = json(spec, r);
                doc.put("upgrade", upgradeJson(upgrade));
                doc.put("devicePlugin", devicePluginJson(spec, plugin));
                terminal.out().print(Json.pretty(doc) + "\n");
            } else {
                terminal.out().print(text(spec, r) + RollingUpgrade.text(upgrade) + devicePluginText(spec, plugin));
            }
            terminal.out().flush();
            return r.ok() && !upgrade.refused() ? 0 : 1;
        }
    }

    /** The plan for people: per host its steps ("+ action: why"), "nothing to do", or "! why it cannot be told". */
    static String text(ClusterSpec spec, FleetPlan.Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append("cluster ").append(spec.serverUrl()).append(": ")
                .append(r.clusterNote() != null ? r.clusterNote() : "K3s " + r.clusterVersion()).append('\n');
        for (HostPlan p : r.hosts()) {
            sb.append(p.host().display()).append(", ").append(role(spec, p.host())).append(':');
            if (p.nothing()) {
                sb.append(" nothing to do\n");
                if (p.gpuRoute() != null) {
                    sb.append("  gpu: ").append(p.gpuRoute()).append('\n');
                }
                continue;
            }
            sb.append('\n');
            if (p.gpuRoute() != null) {
                sb.append("  gpu: ").append(p.gpuRoute()).append('\n');
            }
            for (HostPlan.Step s : p.steps()) {
                sb.append("  + ").append(s.action().label()).append(": ").append(s.detail()).append('\n');
            }
            if (p.error() != null) {
                sb.append("  ! ").append(p.error()).append('\n');
            }
        }
        for (NodeStatus n : r.notInFile()) {
            String at = n.internalIp() == null ? "" : " (" + n.internalIp() + ")";
            sb.append("not in the file: node ").append(n.name()).append(at).append(", left as it is")
                    .append(n.internalIp() == null ? "" : "; k3gpu reset --ip " + n.internalIp()
                            + " takes it out of the cluster").append('\n');
        }
        long change = r.count(p -> !p.failed() && !p.nothing());
        long nothing = r.count(HostPlan::nothing);
        long failed = r.count(HostPlan::failed);
        sb.append("plan: ").append(change).append(" to change, ").append(nothing).append(" unchanged, ")
                .append(failed).append(" failed (").append(r.hosts().size()).append(" hosts, ")
                .append(FleetProgress.seconds(r.elapsed().toNanos())).append(")\n");
        return sb.toString();
    }

    /** The rollout apply would run, in its order; null when there is none. */
    static Map<String, Object> upgradeJson(RollingUpgrade.Plan p) {
        if (p.empty()) {
            return null;
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("target", p.target());
        doc.put("batchSize", p.batchSize());
        List<Map<String, Object>> order = new ArrayList<>();
        int step = 1;
        for (RollingUpgrade.Move m : p.servers()) {
            order.add(move(m, step++, null));
        }
        int batch = 1;
        for (List<RollingUpgrade.Move> b : p.agentBatches()) {
            for (RollingUpgrade.Move m : b) {
                order.add(move(m, step, batch));
            }
            step++;
            batch++;
        }
        doc.put("order", order);
        doc.put("refusals", p.refusals());
        return doc;
    }

    private static Map<String, Object> move(RollingUpgrade.Move m, int step, Integer batch) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("step", step);
        o.put("host", m.host().name());
        o.put("role", m.host().role().label());
        o.put("batch", batch);
        o.put("from", m.from());
        o.put("to", m.to());
        return o;
    }

    static Map<String, Object> json(ClusterSpec spec, FleetPlan.Result r) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("file", spec.file().toString());
        Map<String, Object> cluster = new LinkedHashMap<>();
        cluster.put("serverUrl", spec.serverUrl());
        cluster.put("version", r.clusterVersion());
        cluster.put("note", r.clusterNote());
        List<Map<String, Object>> others = new ArrayList<>();
        for (NodeStatus n : r.notInFile()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", n.name());
            o.put("address", n.internalIp());
            others.add(o);
        }
        cluster.put("notInFile", others);
        doc.put("cluster", cluster);
        List<Map<String, Object>> hosts = new ArrayList<>();
        for (HostPlan p : r.hosts()) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("name", p.host().name());
            h.put("address", p.host().address());
            h.put("role", p.host().role().label());
            h.put("firstServer", p.firstServer());
            h.put("status", p.failed() ? "failed" : p.nothing() ? "nothing" : "change");
            h.put("gpuRoute", p.gpuRoute());
            List<Map<String, Object>> steps = new ArrayList<>();
            for (HostPlan.Step s : p.steps()) {
                Map<String, Object> st = new LinkedHashMap<>();
                st.put("action", s.action().id());
                st.put("detail", s.detail());
                steps.add(st);
            }
            h.put("steps", steps);
            h.put("error", p.error());
            hosts.add(h);
        }
        doc.put("hosts", hosts);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("change", r.count(p -> !p.failed() && !p.nothing()));
        summary.put("nothing", r.count(HostPlan::nothing));
        summary.put("failed", r.count(HostPlan::failed));
        summary.put("elapsedMs", r.elapsed().toMillis());
        doc.put("summary", summary);
        return doc;
    }

    /**
     * The device plugin step of {@code cluster.devicePlugin} (apply runs it once the nodes are Ready): what it would
     * change in the cluster as it is, as {@link DevicePlugin#preview} says; null when the file asks for no plugin.
     */
    static List<String> devicePlugin(ClusterSpec spec, SshFleet fleet) {
        DevicePluginSettings settings = spec.cluster().devicePlugin();
        if (settings == null) {
            return null;
        }
        return fleet.clusterApi().map(api -> new DevicePlugin(Events.NONE).preview(api, settings))
                .orElse(List.of("create the device plugin's DaemonSets for the GPU nodes (no cluster yet)"));
    }

    static String devicePluginText(ClusterSpec spec, List<String> steps) {
        if (steps == null) {
            return "";
        }
        DevicePluginSettings s = spec.cluster().devicePlugin();
        StringBuilder sb = new StringBuilder("device plugin ").append(s.image())
                .append(s.sharing() ? ", time-slicing " + s.timeSlicing() : "").append(", after the nodes are Ready:");
        if (steps.isEmpty()) {
            return sb.append(" nothing to do\n").toString();
        }
        sb.append('\n');
        for (String step : steps) {
            sb.append(step.startsWith("refused: ") || step.startsWith("warning: ") ? "  ! " : "  + ").append(step)
                    .append('\n');
        }
        return sb.toString();
    }

    static Map<String, Object> devicePluginJson(ClusterSpec spec, List<String> steps) {
        if (steps == null) {
            return null;
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("image", spec.cluster().devicePlugin().image());
        doc.put("timeSlicing", spec.cluster().devicePlugin().timeSlicing());
        doc.put("steps", steps);
        return doc;
    }

    static String role(ClusterSpec spec, HostSpec h) {
        return spec.isFirstServer(h) ? (spec.highAvailability() ? "first server (--cluster-init)" : "server")
                : h.role().label();
    }
}
