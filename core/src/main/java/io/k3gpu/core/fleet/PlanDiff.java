package io.k3gpu.core.fleet;

import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.k3s.ContainerdTemplate;
import io.k3gpu.core.k3s.JoinNode;
import io.k3gpu.core.k3s.K3sArgs;
import io.k3gpu.core.k3s.K3sInstall;
import io.k3gpu.core.k3s.NvidiaDefaultRoute;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.runtime.ContainerRuntime;
import io.k3gpu.core.runtime.RuntimeChange;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Compares one host of the file with what it is ({@link HostObservation}) and says what apply would do there, in
 * apply's order. Pure: it predicts the decisions {@code InstallServer}, {@code JoinNode}, {@code ReconfigureNode}
 * and the fleet's labelling take, from the same facts. K3s's flags are compared as sets ({@link K3sArgs}): the
 * unit's ExecStart= against the command line apply would install; a difference alone means "reconfigure" (the
 * install script run again with the new flags, data kept), not a new join.
 */
public final class PlanDiff {
    static final String CLUSTER_INIT = "--cluster-init";

    /**
     * What the cluster is, as far as the hosts' plans need it.
     *
     * @param serverUrl     the URL the other nodes join
     * @param serverVersion the running cluster's version; null when there is no cluster to ask (yet)
     */
    public record ClusterView(String serverUrl, String serverVersion) {
    }

    private PlanDiff() {
    }

    public static HostPlan diff(ClusterSpec spec, HostSpec h, HostObservation o, ClusterView cluster) {
        boolean first = spec.isFirstServer(h);
        NodeFacts f = o.facts();
        List<HostPlan.Step> steps = new ArrayList<>();
        ContainerRuntime runtime = h.gpu().runtime(f);
        if (runtime != null && !f.hasGpu()) {
            return new HostPlan(h, first, steps, "gpu: " + h.gpu().label() + " but " + f.hostname()
                    + " has no NVIDIA GPU (no Jetson identity and nvidia-smi lists none); use gpu: none or auto");
        }
        if (o.runtimeProblem() != null) {
            return new HostPlan(h, first, steps, "cannot set the NVIDIA runtime: " + o.runtimeProblem());
        }
        NvidiaDefaultRoute.Decision route = route(spec, h, f, cluster.serverVersion());
        boolean nvidiaFlag = route != null && route.flag();
        boolean runtimeChanges;
        if (route != null && !route.flag() && o.containerdTemplate() == HostObservation.TemplateState.OTHER) {
            return new HostPlan(h, first, steps, "cannot set the NVIDIA runtime: " + ContainerdTemplate.PATH
                    + " is not k3gpu's (" + route.reason() + "); add default_runtime_name = \"nvidia\" to it by hand, "
                    + "or remove it", "k3s " + route.describe());
        }
        if (route != null) {
            String template = templateStep(route, o.containerdTemplate());
            runtimeChanges = template != null;
            if (runtimeChanges) {
                steps.add(new HostPlan.Step(Action.SET_NVIDIA_RUNTIME, runtime.flag() + ": " + template));
            }
        } else {
            runtimeChanges = runtime != null && o.runtime() != null
                    && o.runtime().outcome() == RuntimeChange.Outcome.WOULD_CHANGE;
            if (runtimeChanges) {
                steps.add(new HostPlan.Step(Action.SET_NVIDIA_RUNTIME, runtime.flag() + ": " + o.runtime().detail()));
            }
        }
        boolean docker = h.gpu().docker();
        if (first) {
            String why = serverInstallReason(spec, f);
            String flags = why == null ? flagChanges(o.installedArgs(),
                    firstServerExec(spec, h, o.installedArgs(), nvidiaFlag)) : null;
            String upgrade = upgrade(f, "server", spec.cluster().k3sVersion());
            if (upgrade != null) {
                steps.add(new HostPlan.Step(Action.UPGRADE, upgrade));
            } else if (why != null) {
                steps.add(new HostPlan.Step(Action.INSTALL_SERVER, why));
            } else if (flags != null) {
                steps.add(new HostPlan.Step(Action.RECONFIGURE_SERVER, flags));
            }
        } else {
            boolean server = h.role() == HostRole.SERVER;
            String why = joinReason(spec, h, o, cluster, docker);
            String flags = why == null ? flagChanges(o.installedArgs(), InstallExec.joined(spec, h, nvidiaFlag)) : null;
            if (why == null && flags == null && runtimeChanges) {
                why = (server ? K3sInstall.Role.SERVER : K3sInstall.Role.AGENT).service()
                        + " is restarted with the new runtime";
            }
            String upgrade = cluster.serverUrl().equals(o.joinedUrl()) ? upgrade(f, h.role().label(),
                    spec.cluster().k3sVersion() != null ? spec.cluster().k3sVersion() : cluster.serverVersion()) : null;
            if (upgrade != null) {
                steps.add(new HostPlan.Step(Action.UPGRADE, upgrade));
            } else if (why != null) {
                steps.add(new HostPlan.Step(server ? Action.JOIN_SERVER : Action.JOIN_AGENT, why));
            } else if (flags != null) {
                steps.add(new HostPlan.Step(server ? Action.RECONFIGURE_SERVER : Action.RECONFIGURE_AGENT, flags));
            }
        }
        String runtimeLabel = (docker ? "docker" : "containerd") + "-"
                + (runtime != null ? "nvidia" : currentDefault(f, docker));
        Map<String, String> wanted = FleetLabels.wanted(h, f, runtimeLabel, o.annotations());
        NodeStatus node = o.node();
        if (node == null) {
            long n = wanted.values().stream().filter(v -> v != null).count();
            steps.add(new HostPlan.Step(Action.RELABEL, "new node: " + n + (n == 1 ? " label" : " labels")));
            if (!h.taints().isEmpty()) {
                List<String> t = new ArrayList<>();
                h.taints().forEach(x -> t.add(x.toString()));
                steps.add(new HostPlan.Step(Action.SET_TAINTS, "new node: " + String.join(", ", t)));
            }
        } else {
            List<String> labels = FleetLabels.labelChanges(wanted, node.labels());
            if (!labels.isEmpty()) {
                steps.add(new HostPlan.Step(Action.RELABEL, String.join(", ", labels)));
            }
            List<String> taints = FleetLabels.taintChanges(h.taints(), FleetLabels.managedTaints(o.annotations()),
                    o.taints());
            if (!taints.isEmpty()) {
                steps.add(new HostPlan.Step(Action.SET_TAINTS, String.join(", ", taints)));
            }
        }
        return new HostPlan(h, first, steps, null, route == null ? null : runtime.flag() + " " + route.describe());
    }

    /**
     * How a host whose GPU comes through K3s's containerd gets NVIDIA as its default ({@link NvidiaDefaultRoute}),
     * decided by the release known at plan time: the file's k3sVersion, else the running cluster's, else the first
     * server's own K3s, else what the file's channel (stable when none) resolves to. Null for other hosts.
     */
    static NvidiaDefaultRoute.Decision route(ClusterSpec spec, HostSpec h, NodeFacts f, String clusterVersion) {
        if (h.gpu().runtime(f) != ContainerRuntime.K3S || !f.hasGpu()) {
            return null;
        }
        boolean server = h.role() == HostRole.SERVER;
        String version = spec.cluster().k3sVersion() != null ? spec.cluster().k3sVersion() : clusterVersion;
        if (version == null && spec.isFirstServer(h) && f.k3sInstalled() && "server".equals(f.k3sRole())) {
            version = f.k3sVersion();
        }
        return version != null ? NvidiaDefaultRoute.forVersion(version, server)
                : NvidiaDefaultRoute.forChannel(spec.cluster().k3sChannel(), server);
    }

    /** What apply does to K3s's containerd template on the route; null when it is as the route needs. */
    static String templateStep(NvidiaDefaultRoute.Decision route, HostObservation.TemplateState t) {
        if (route.flag()) {
            return t == HostObservation.TemplateState.K3GPU || t == HostObservation.TemplateState.K3GPU_STALE
                    ? "remove k3gpu's " + ContainerdTemplate.PATH + " (" + route.reason() + ")" : null;
        }
        return switch (t) {
            case K3GPU -> null;
            case NONE -> "write " + ContainerdTemplate.PATH + " (" + route.reason() + ")";
            case K3GPU_STALE -> "rewrite " + ContainerdTemplate.PATH + " (" + route.reason() + ")";
            case OTHER -> throw new IllegalStateException("not k3gpu's template");
        };
    }

    /** Why InstallServer would run the install script on the first server; null when it would not. */
    static String serverInstallReason(ClusterSpec spec, NodeFacts f) {
        if (!f.k3sInstalled()) {
            return "K3s is not installed";
        }
        if (!"server".equals(f.k3sRole())) {
            return "K3s runs here as " + (f.k3sRole() == null ? "an unknown role" : "an " + f.k3sRole()) + ", not a server";
        }
        String version = spec.cluster().k3sVersion();
        if (version != null && !version.equals(f.k3sVersion())) {
            return "K3s " + f.k3sVersion() + " is installed, the file asks for " + version;
        }
        return null;
    }

    /**
     * {@code v1.30.8+k3s1 → v1.31.4+k3s1} when K3s runs here in {@code role} at another release than {@code wanted}:
     * apply's rolling upgrade; null otherwise (not installed, another role, no release asked for, or the same).
     */
    static String upgrade(NodeFacts f, String role, String wanted) {
        if (wanted == null || !f.k3sInstalled() || !role.equals(f.k3sRole()) || f.k3sVersion() == null
                || wanted.equals(f.k3sVersion())) {
            return null;
        }
        return f.k3sVersion() + " → " + wanted;
    }

    /** The command line apply gives the first server: the file's, keeping --cluster-init where it is (etcd stays). */
    static String firstServerExec(ClusterSpec spec, HostSpec h, List<String> installedArgs, boolean nvidiaFlag) {
        return InstallExec.firstServer(spec, h, K3sArgs.has(installedArgs, CLUSTER_INIT), nvidiaFlag);
    }

    /**
     * How the flags K3s runs with differ from those apply would install, as a set ("--disable traefik added,
     * --cluster-init added (SQLite to embedded etcd, data kept)"); null when they do not, or when the host's unit
     * cannot tell (no ExecStart=).
     */
    static String flagChanges(List<String> installedArgs, String wantedExec) {
        if (installedArgs.isEmpty()) {
            return null;
        }
        List<String> diff = K3sArgs.diff(installedArgs, K3sArgs.splitExec(wantedExec));
        if (diff.isEmpty()) {
            return null;
        }
        List<String> shown = new ArrayList<>();
        for (String d : diff) {
            shown.add(d.equals(CLUSTER_INIT + " added") ? d + " (SQLite to embedded etcd, data kept)" : d);
        }
        return String.join(", ", shown);
    }

    /** Why JoinNode would (re)install K3s on an extra server or an agent; null when it would not. */
    static String joinReason(ClusterSpec spec, HostSpec h, HostObservation o, ClusterView cluster, boolean docker) {
        NodeFacts f = o.facts();
        String url = cluster.serverUrl();
        if (!f.k3sInstalled()) {
            return "K3s is not installed";
        }
        String wantedRole = h.role().label();
        if (f.k3sRole() != null && !wantedRole.equals(f.k3sRole())) {
            return "K3s runs here as " + (f.k3sRole().equals("agent") ? "an agent" : "a server") + ", the file says "
                    + wantedRole;
        }
        if (o.joinedUrl() == null) {
            return "K3s is not joined to " + url;
        }
        if (!o.joinedUrl().equals(url)) {
            return "joined to " + o.joinedUrl() + ", not " + url;
        }
        String version = spec.cluster().k3sVersion() != null ? spec.cluster().k3sVersion() : cluster.serverVersion();
        if (version == null) {
            return "the cluster at " + url + " does not answer (yet)";
        }
        if (!version.equals(f.k3sVersion())) {
            return "K3s " + f.k3sVersion() + " is installed, the cluster runs " + version;
        }
        NodeStatus node = o.node();
        if (node == null) {
            return "no Node " + f.hostname() + " in the cluster";
        }
        if (!node.ready()) {
            return "Node " + f.hostname() + " is not Ready";
        }
        String cr = node.containerRuntime() == null ? "" : node.containerRuntime();
        if (docker != cr.startsWith("docker://")) {
            return "K3s runs " + (cr.isEmpty() ? "an unknown runtime" : cr) + ", the file says gpu: " + h.gpu().label();
        }
        return null;
    }

    private static String currentDefault(NodeFacts f, boolean docker) {
        String label = JoinNode.runtimeLabel(f, docker);
        return label.substring(label.indexOf('-') + 1);
    }
}
