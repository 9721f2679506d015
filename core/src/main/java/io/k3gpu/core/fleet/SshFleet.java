package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.facts.GatherFacts;
import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.k3s.ContainerdTemplate;
import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.k3s.InstallCommands;
import io.k3gpu.core.k3s.InstallServer;
import io.k3gpu.core.k3s.JoinNode;
import io.k3gpu.core.k3s.K3sArgs;
import io.k3gpu.core.k3s.K3sInstall;
import io.k3gpu.core.k3s.K3sUnit;
import io.k3gpu.core.k3s.NodeIdentity;
import io.k3gpu.core.k3s.NodeToken;
import io.k3gpu.core.k3s.NvidiaDefaultRoute;
import io.k3gpu.core.k3s.ReconfigureNode;
import io.k3gpu.core.k3s.ResetNode;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.Fabric8ClusterApi;
import io.k3gpu.core.kube.NodeMeta;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.remote.RemoteFiles;
import io.k3gpu.core.remote.RemoteShell;
import io.k3gpu.core.runtime.ContainerRuntime;
import io.k3gpu.core.runtime.EnableNvidiaRuntime;
import io.k3gpu.core.runtime.RuntimeChange;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.ssh.SshRemoteShell;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The hosts of one cluster file, reached over SSH (one connection per host for the whole run, through one
 * {@link SshConnector}) and the cluster through the first server's kubeconfig, fetched over SSH and kept in memory.
 * Does apply's and reset's work on one host by running the single-node flows ({@code InstallServer},
 * {@code JoinNode}, {@code ResetNode}), and observes hosts for plan without changing anything.
 */
public final class SshFleet implements FleetApply.HostWork, FleetReset.HostWork, AutoCloseable {
    private static final Duration RUNTIME_VERIFY = Duration.ofSeconds(20);
    private static final Duration KUBECONFIG_WAIT = Duration.ofSeconds(5);

    private final ClusterSpec spec;
    private final SshConnector connector;
    private final Function<String, String> environment;
    private final boolean sendSecrets;
    /** Each observed host's addresses, which tell its Node from another machine's of the same hostname. */
    private final Map<HostSpec, NodeIdentity> identities = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile ClusterApi api;
    private volatile char[] token;
    private volatile String kubeconfig;
    /** The cluster's K3s release: the file's, else the first server's; every other node installs it. */
    private volatile String version;

    /**
     * The fleet for apply and reset: each host's sudo password (ssh.sudoPassword) is handed to its session, which
     * sends it only once the host's key is verified.
     *
     * @param environment the k3gpu process's environment (for {@code token: {env: NAME}})
     */
    public SshFleet(ClusterSpec spec, SshConnector connector, Function<String, String> environment) {
        this(spec, connector, environment, true);
    }

    private SshFleet(ClusterSpec spec, SshConnector connector, Function<String, String> environment,
                     boolean sendSecrets) {
        this.spec = spec;
        this.connector = connector;
        this.environment = environment;
        this.sendSecrets = sendSecrets;
    }

    /**
     * The fleet for plan, which sends no secret anywhere: the file's secrets were only checked to exist when it was
     * read; a host whose sudo needs its password cannot be observed and says so (apply --dry-run can).
     */
    public static SshFleet forPlan(ClusterSpec spec, SshConnector connector, Function<String, String> environment) {
        return new SshFleet(spec, connector, environment, false);
    }

    /**
     * The host's SSH session, opened on first use, then reused for the whole run; with the host's sudo password
     * (read from its source here, handed to the session, then wiped) when the file gives one.
     */
    public RemoteShell shell(HostSpec h) {
        SecretRef ref = sendSecrets ? h.ssh().sudoPassword() : null;
        char[] password = ref == null ? null : ref.read(h.name() + ": ssh.sudoPassword", environment);
        try {
            SshRemoteShell shell = connector.connect(h.ssh().target(h.address(), password), h.ssh().proxyJump());
            if (!sendSecrets && h.ssh().sudoPassword() != null && !"root".equals(shell.user())
                    && !shell.exec("sudo -n true", null).ok()) {
                throw new K3gpuException(ExitCode.FAILED, "sudo on " + h.address() + " needs the password of "
                        + shell.user() + " (ssh.sudoPassword), and plan sends no secrets",
                        "k3gpu apply --dry-run shows this host's plan: apply sends the password, once the host key "
                                + "is verified");
            }
            return shell;
        } finally {
            if (password != null) {
                Arrays.fill(password, '\0');
            }
        }
    }

    /** The cluster's kubeconfig (named after cluster.kubeconfig.context) once the first server is up; else null. */
    public String kubeconfig() {
        return kubeconfig;
    }

    /** The cluster's API once apply or plan has opened it (the first server answers); else empty. */
    public Optional<ClusterApi> clusterApi() {
        return Optional.ofNullable(api);
    }

    public int connectionsOpened() {
        return connector.connectionsOpened();
    }

    // ---- apply

    @Override
    public List<String> firstServer(HostSpec h, Events events) {
        ClusterSettings c = spec.cluster();
        RemoteShell shell = connect(h, events);
        NodeFacts facts = GatherFacts.from(shell);
        List<String> changes = new ArrayList<>();
        ContainerRuntime runtime = runtime(h, facts);
        NvidiaDefaultRoute.Decision route = PlanDiff.route(spec, h, facts, null);
        boolean templateChanged = false;
        if (route != null) {
            templateChanged = containerdRoute(h, shell, facts, route, changes, events);
            facts = facts.withK3sDefaultRuntime(EnableNvidiaRuntime.NVIDIA);
        } else if (runtime != null) {
            RuntimeChange rc = new EnableNvidiaRuntime(events, Clock.systemUTC(), RUNTIME_VERIFY).run(shell, runtime, false);
            if (rc.outcome() == RuntimeChange.Outcome.CHANGED) {
                changes.add("set the NVIDIA default runtime (" + runtime.flag() + ")");
                facts = rc.appliedTo(facts);
            }
        }
        char[] fileToken = c.token().read(environment);
        boolean running = facts.k3sInstalled() && "server".equals(facts.k3sRole());
        List<String> installed = running ? K3sUnit.read(shell, K3sInstall.Role.SERVER).execArgs() : List.of();
        String exec = PlanDiff.firstServerExec(spec, h, installed, route != null && route.flag());
        K3sInstall install = new K3sInstall(K3sInstall.Role.SERVER, exec, c.k3sVersion(), c.k3sChannel(), null,
                fileToken, c.installUrl(), c.airgapBundle());
        String flags = running && PlanDiff.serverInstallReason(spec, facts) == null
                ? PlanDiff.flagChanges(installed, exec) : null;
        if (flags != null) {
            String yaml = NodeToken.kubeconfig(shell, "https://" + h.address() + ":6443", KUBECONFIG_WAIT);
            // the release it runs, not the channel's newest: new flags are not an upgrade
            K3sInstall same = new K3sInstall(K3sInstall.Role.SERVER, exec, facts.k3sVersion(), null, null, fileToken,
                    c.installUrl(), c.airgapBundle());
            try (ClusterApi current = Fabric8ClusterApi.fromKubeconfig(yaml, null)) {
                new ReconfigureNode(events, c.readyTimeout()).run(shell, same, facts.hostname(), facts.arch(), current);
            }
            changes.add("reconfigured the K3s server: " + flags);
        } else if (templateChanged && running && PlanDiff.serverInstallReason(spec, facts) == null) {
            // K3s reads its containerd template when it starts: the running server must restart to use it.
            events.info(h.address(), "restarting k3s to use the new containerd template");
            shell.sudoOrThrow("restarting k3s", InstallCommands.restartService("k3s"));
            changes.add("restarted k3s");
        }
        String context = c.kubeconfig().context();
        InstallServer.Result r = new InstallServer(events, c.readyTimeout())
                .run(shell, install, h.address(), context, false, facts);
        if (r.installed()) {
            changes.add("installed the K3s server " + r.version() + " (" + K3sArgs.masked(exec) + ")");
        }
        kubeconfig = r.kubeconfig();
        version = c.k3sVersion() != null ? c.k3sVersion() : r.version();
        api = Fabric8ClusterApi.fromKubeconfig(r.kubeconfig(), context);
        token = fileToken != null ? fileToken : NodeToken.read(shell);
        changes.addAll(labelAndTaint(h, r.nodeName(),
                GpuLabels.of(facts, JoinNode.runtimeLabel(facts, h.gpu().docker())), events));
        return changes;
    }

    @Override
    public List<String> joinServer(HostSpec h, Events events) {
        return join(h, events);
    }

    @Override
    public List<String> joinAgent(HostSpec h, Events events) {
        return join(h, events);
    }

    private List<String> join(HostSpec h, Events events) {
        ClusterSettings c = spec.cluster();
        if (api == null || token == null) {
            throw new K3gpuException(ExitCode.FAILED, "the cluster is not up: the first server was not applied",
                    "apply the whole file");
        }
        RemoteShell shell = connect(h, events);
        NodeFacts facts = GatherFacts.from(shell);
        ContainerRuntime runtime = runtime(h, facts);
        boolean server = h.role() == HostRole.SERVER;
        List<String> changes = new ArrayList<>(reconfigure(h, shell, facts, events));
        JoinNode.Options o = new JoinNode.Options(h.gpu().docker(), runtime != null,
                server ? InstallExec.joinFlags(spec, h) : c.agentArgs(), server,
                version, c.installUrl(), c.airgapBundle(), c.readyTimeout());
        JoinNode.Result r = new JoinNode(events).run(shell, api, spec.serverUrl(), token, o, facts);
        changes.addAll(r.changes());
        changes.addAll(labelAndTaint(h, r.nodeName(), Map.of(), events));
        return changes;
    }

    /**
     * Restarts K3s on a joined host with the file's flags when they are all that differs: when JoinNode will leave
     * K3s as it is (joined here, this release, Ready, this runtime), as plan predicts it from the same observation.
     */
    private List<String> reconfigure(HostSpec h, RemoteShell shell, NodeFacts facts, Events events) {
        if (!facts.k3sInstalled() || !h.role().label().equals(facts.k3sRole())) {
            return List.of();
        }
        boolean server = h.role() == HostRole.SERVER;
        K3sInstall.Role role = server ? K3sInstall.Role.SERVER : K3sInstall.Role.AGENT;
        K3sUnit unit = K3sUnit.read(shell, role);
        NodeIdentity identity = NodeIdentity.read(shell);
        HostObservation seen = new HostObservation(facts, unit.joinedUrl(), null, null,
                api.node(facts.hostname()).filter(identity::owns).orElse(null), List.of(), Map.of(), unit.execArgs());
        if (PlanDiff.joinReason(spec, h, seen, new PlanDiff.ClusterView(spec.serverUrl(), version),
                h.gpu().docker()) != null) {
            return List.of();
        }
        NvidiaDefaultRoute.Decision route = PlanDiff.route(spec, h, facts, version);
        String exec = InstallExec.joined(spec, h, route != null && route.flag());
        String flags = PlanDiff.flagChanges(unit.execArgs(), exec);
        if (flags == null) {
            return List.of();
        }
        ClusterSettings c = spec.cluster();
        K3sInstall install = new K3sInstall(role, exec, version, null, spec.serverUrl(), token, c.installUrl(),
                c.airgapBundle());
        new ReconfigureNode(events, c.readyTimeout()).run(shell, install, facts.hostname(), facts.arch(), api);
        return List.of("reconfigured K3s (" + h.role().label() + "): " + flags);
    }

    /**
     * The file's labels and taints on the Node (with {@code gpuLabels} when the flow did not set them), and the
     * annotations that remember them: one read, and one update only when something differs.
     */
    private List<String> labelAndTaint(HostSpec h, String node, Map<String, String> gpuLabels, Events events) {
        NodeMeta meta = api.meta(node).orElseThrow(() -> new K3gpuException(ExitCode.KUBERNETES,
                "node " + node + " is not in the cluster", "check the cluster with: k3gpu nodes"));
        Map<String, String> wanted = new LinkedHashMap<>(gpuLabels);
        wanted.putAll(FleetLabels.fileLabels(h, meta.annotations()));
        Map<String, String> labels = FleetLabels.changed(wanted, meta.labels());
        Set<String> managed = FleetLabels.managedTaints(meta.annotations());
        List<String> taintChanges = FleetLabels.taintChanges(h.taints(), managed, meta.taints());
        Map<String, String> annotations = FleetLabels.changed(FleetLabels.annotations(h), meta.annotations());
        List<String> changes = new ArrayList<>();
        if (labels.isEmpty() && taintChanges.isEmpty() && annotations.isEmpty()) {
            return changes;
        }
        events.info(h.address(), "labelling node " + node);
        api.update(node, labels, annotations,
                taintChanges.isEmpty() ? null : FleetLabels.nextTaints(h.taints(), managed, meta.taints()));
        if (!labels.isEmpty()) {
            changes.add("labelled " + String.join(", ", FleetLabels.labelChanges(labels, meta.labels())));
        }
        if (!taintChanges.isEmpty()) {
            changes.add("taints " + String.join(", ", taintChanges));
        }
        return changes;
    }

    // ---- reset

    /**
     * Opens the cluster's API through the first server when K3s runs there, so that reset can delete the Node
     * objects of the hosts it resets.
     *
     * @return why the API could not be opened (Node objects will be left), or empty
     */
    public Optional<String> openExistingCluster() {
        HostSpec first = spec.firstServer();
        try {
            RemoteShell shell = shell(first);
            NodeFacts facts = GatherFacts.from(shell);
            if (!facts.k3sInstalled() || !"server".equals(facts.k3sRole())) {
                return Optional.of("K3s does not run on the first server " + first.name());
            }
            openCluster(shell, first);
            return Optional.empty();
        } catch (K3gpuException e) {
            return Optional.of("cannot reach the cluster through " + first.name() + ": " + e.getMessage());
        }
    }

    @Override
    public List<String> reset(HostSpec h, boolean firstServer, Events events) {
        RemoteShell shell = connect(h, events);
        ResetNode.Result r = new ResetNode(events).run(shell, firstServer ? null : api, spec.serverUrl());
        List<String> changes = new ArrayList<>();
        if (r.uninstalled()) {
            changes.add("removed K3s" + (r.role() == null ? "" : " (" + r.role() + ")"));
        }
        if (r.nodeDeleted()) {
            changes.add("deleted Node " + r.nodeName());
        }
        return changes;
    }

    // ---- plan

    /** What the host is, seen over SSH, changing nothing (the cluster's side comes with {@link #withNode}). */
    public HostObservation observe(HostSpec h, Events events) {
        RemoteShell shell = connect(h, events);
        NodeFacts facts = GatherFacts.from(shell);
        K3sUnit unit = K3sUnit.read(shell, h.role() == HostRole.SERVER ? K3sInstall.Role.SERVER : K3sInstall.Role.AGENT);
        identities.put(h, NodeIdentity.read(shell));
        ContainerRuntime runtime = h.gpu().runtime(facts);
        RuntimeChange rc = null;
        String problem = null;
        HostObservation.TemplateState template = HostObservation.TemplateState.NONE;
        if (runtime == ContainerRuntime.K3S && facts.hasGpu()) {
            // K3s's containerd: the route (flag or template) is decided with the release, in PlanDiff.
            if (facts.nvidiaContainerRuntimePath() == null) {
                problem = "nvidia-container-runtime is not installed on " + h.address()
                        + "; install the NVIDIA Container Toolkit";
            } else {
                template = templateState(shell, facts.nvidiaContainerRuntimePath());
            }
        } else if (runtime != null && facts.hasGpu()) {
            events.info(h.address(), "checking the " + runtime.flag() + " runtime");
            try {
                rc = new EnableNvidiaRuntime(Events.NONE, Clock.systemUTC(), RUNTIME_VERIFY).run(shell, runtime, true);
            } catch (K3gpuException e) {
                problem = e.getMessage();
            }
        }
        return new HostObservation(facts, unit.joinedUrl(), rc, problem, null, List.of(), Map.of(), unit.execArgs(),
                template);
    }

    /** What K3s's containerd template is on the host, compared with k3gpu's for its NVIDIA runtime. */
    private static HostObservation.TemplateState templateState(RemoteShell shell, String nvidiaRuntime) {
        Optional<String> t = new RemoteFiles(shell, Clock.systemUTC()).read(ContainerdTemplate.PATH);
        if (t.isEmpty()) {
            return HostObservation.TemplateState.NONE;
        }
        if (!t.get().startsWith(ContainerdTemplate.MARKER)) {
            return HostObservation.TemplateState.OTHER;
        }
        return t.get().equals(ContainerdTemplate.content(nvidiaRuntime)) ? HostObservation.TemplateState.K3GPU
                : HostObservation.TemplateState.K3GPU_STALE;
    }

    /**
     * The first server's NVIDIA default through K3s's containerd, the route's way: k3gpu's template written, or
     * removed for the flag route (the flag goes on the install's command line).
     *
     * @return whether the template changed (a running K3s must restart to read it)
     */
    private static boolean containerdRoute(HostSpec h, RemoteShell shell, NodeFacts facts,
                                           NvidiaDefaultRoute.Decision route, List<String> changes, Events events) {
        if (facts.nvidiaContainerRuntimePath() == null) {
            throw new K3gpuException(ExitCode.FAILED, "nvidia-container-runtime is not installed on " + h.address()
                    + "; nothing was changed", "install the NVIDIA Container Toolkit, then run again");
        }
        events.info(h.address(), "NVIDIA default runtime: " + route.describe());
        ContainerdTemplate.Change t = ContainerdTemplate.converge(shell, route.flag() ? null
                : facts.nvidiaContainerRuntimePath());
        if (t == ContainerdTemplate.Change.WRITTEN) {
            changes.add("wrote " + ContainerdTemplate.PATH + " (" + route.reason() + ")");
        } else if (t == ContainerdTemplate.Change.REMOVED) {
            changes.add("removed k3gpu's " + ContainerdTemplate.PATH + " (" + route.reason() + ")");
        }
        return t != ContainerdTemplate.Change.UNCHANGED;
    }

    /**
     * Opens the cluster through the first server for plan, when K3s runs there as a server.
     *
     * @return the cluster's version; empty when there is no cluster (yet)
     */
    public Optional<String> openClusterFor(HostSpec first, HostObservation firstServer) {
        NodeFacts f = firstServer.facts();
        if (!f.k3sInstalled() || !"server".equals(f.k3sRole())) {
            return Optional.empty();
        }
        openCluster(shell(first), first);
        return Optional.of(api.serverVersion());
    }

    /** The cluster's Nodes, once plan has opened it; none when there is no cluster (yet). */
    public List<NodeStatus> clusterNodes() {
        return api == null ? List.of() : api.nodes();
    }

    /** The observation with the host's Node (labels, taints, annotations) from the cluster, when there is one. */
    public HostObservation withNode(HostSpec h, HostObservation o) {
        if (api == null) {
            return o;
        }
        Optional<NodeStatus> node = api.node(o.facts().hostname());
        NodeIdentity identity = identities.get(h);
        if (node.isEmpty() || identity != null && !identity.owns(node.get())) {
            // No Node, or another machine's of the same (cloned) hostname: this host has not joined.
            return o;
        }
        NodeMeta meta = api.meta(node.get().name()).orElse(new NodeMeta(Map.of(), Map.of(), List.of()));
        return new HostObservation(o.facts(), o.joinedUrl(), o.runtime(), o.runtimeProblem(), node.get(),
                meta.taints(), meta.annotations(), o.installedArgs());
    }

    // ----

    private void openCluster(RemoteShell shell, HostSpec first) {
        String yaml = NodeToken.kubeconfig(shell, "https://" + first.address() + ":6443", KUBECONFIG_WAIT);
        api = Fabric8ClusterApi.fromKubeconfig(yaml, null);
    }

    private RemoteShell connect(HostSpec h, Events events) {
        events.info(h.address(), "connecting to " + h.address());
        RemoteShell shell = shell(h);
        events.info(h.address(), "gathering facts");
        return shell;
    }

    /** The runtime to make NVIDIA's default; a clear failure when the file asks for one on a host without a GPU. */
    private static ContainerRuntime runtime(HostSpec h, NodeFacts facts) {
        ContainerRuntime runtime = h.gpu().runtime(facts);
        if (runtime != null && !facts.hasGpu()) {
            throw new K3gpuException(ExitCode.FAILED, h.name() + " (" + facts.hostname() + ") has no NVIDIA GPU: "
                    + "no Jetson identity and nvidia-smi lists none", "set gpu: none (or auto) for it in the file");
        }
        return runtime;
    }

    @Override
    public void close() {
        if (api != null) {
            api.close();
        }
        if (token != null) {
            Arrays.fill(token, '\0');
        }
    }
}
