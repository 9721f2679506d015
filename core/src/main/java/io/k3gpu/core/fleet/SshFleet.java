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
import io.k3gpu.core.remote.RemoteStep;
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
    /** The release a rolling upgrade installs; null outside one. */
    private volatile String upgradeTo;
    private volatile boolean forceDrain;
    /** The apply lock taken on each host at its first connection, when {@link #takeLocks} asked for it. */
    private volatile HostLock lock;
    private final Map<HostSpec, RemoteShell> locked = new java.util.concurrent.ConcurrentHashMap<>();

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
        String upgrading = upgradeTo;
        // A rollout installs the release it resolved (a channel's too), with the file's flags in the same restart.
        K3sInstall install = new K3sInstall(K3sInstall.Role.SERVER, exec,
                upgrading != null ? upgrading : c.k3sVersion(), upgrading != null ? null : c.k3sChannel(), null,
                fileToken, c.installUrl(), c.airgapBundle());
        String flags = upgrading == null && running && PlanDiff.serverInstallReason(spec, facts) == null
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
        version = upgrading != null ? upgrading : c.k3sVersion() != null ? c.k3sVersion() : r.version();
        if (api != null) {
            api.close();
        }
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

    // ---- rolling upgrade

    /** The Node annotation that marks a node cordoned by a rollout (its value: the release being rolled). */
    public static final String ROLLOUT_ANNOTATION = "k3gpu.dev/upgrade-cordoned";

    /**
     * What a rolling upgrade would do: the release the file asks for (a channel resolved on the first server, as
     * the install script resolves it), and what each host runs now. Empty when the file asks for no release, or
     * when there is no cluster yet (apply installs it). A host that cannot be reached is left to apply's converge.
     */
    public RollingUpgrade.Plan planUpgrade(int parallel, boolean allowDowngrade) {
        ClusterSettings c = spec.cluster();
        RollingUpgrade.Plan none = RollingUpgrade.plan(spec, List.of(), null, c.upgrade().workerDisruptionPercent(),
                parallel, allowDowngrade);
        if (c.k3sVersion() == null && c.k3sChannel() == null) {
            return none;
        }
        HostSpec first = spec.firstServer();
        RemoteShell firstShell;
        NodeFacts firstFacts;
        try {
            firstShell = connect(first, Events.NONE);
            firstFacts = GatherFacts.from(firstShell);
        } catch (K3gpuException e) {
            if (e.getMessage() != null && e.getMessage().contains(HostLock.PATH)) {
                throw e;
            }
            return none;
        }
        if (!firstFacts.k3sInstalled() || !"server".equals(firstFacts.k3sRole())) {
            return none;
        }
        String target = c.k3sVersion() != null ? c.k3sVersion() : resolveChannel(firstShell, c.k3sChannel());
        if (api == null) {
            openCluster(firstShell, first);
        }
        List<RollingUpgrade.Seen> seen = new ArrayList<>();
        for (HostSpec h : spec.hosts()) {
            try {
                RemoteShell shell = h.equals(first) ? firstShell : connect(h, Events.NONE);
                NodeFacts f = h.equals(first) ? firstFacts : GatherFacts.from(shell);
                boolean installed = f.k3sInstalled() && h.role().label().equals(f.k3sRole());
                boolean resume = installed && api.meta(f.hostname()).map(m -> m.annotations()
                        .containsKey(ROLLOUT_ANNOTATION)).orElse(false);
                seen.add(new RollingUpgrade.Seen(h, installed ? f.k3sVersion() : null, resume));
            } catch (K3gpuException e) {
                if (e.getMessage() != null && e.getMessage().contains(HostLock.PATH)) {
                    throw e;
                }
                seen.add(new RollingUpgrade.Seen(h, null)); // unreachable: apply's converge reports it
            }
        }
        return RollingUpgrade.plan(spec, seen, target, c.upgrade().workerDisruptionPercent(), parallel,
                allowDowngrade);
    }

    /** The release a channel points to now, asked from the node as K3s's install script asks (update.k3s.io). */
    private static String resolveChannel(RemoteShell shell, String channel) {
        if (!channel.matches("[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}")) {
            throw new K3gpuException(ExitCode.USAGE, "bad k3sChannel '" + channel + "'", "write a channel like stable or v1.31");
        }
        var r = shell.exec("curl -sSfL -o /dev/null -w '%{url_effective}' "
                + "\"${INSTALL_K3S_CHANNEL_URL:-https://update.k3s.io/v1-release/channels}/" + channel + "\"");
        String url = r.stdout().strip();
        String v = url.substring(url.lastIndexOf('/') + 1);
        if (!r.ok() || io.k3gpu.core.k3s.K3sVersion.parse(v).isEmpty()) {
            throw new K3gpuException(ExitCode.REMOTE_COMMAND, "cannot resolve the K3s channel " + channel + " on "
                    + shell.host() + " (exit " + r.exitCode() + "): " + r.tail(2),
                    "check that the node reaches update.k3s.io, or give cluster.k3sVersion");
        }
        return v;
    }

    /** Runs the rollout; every step of every host is a gate (the first failure stops it). */
    public FleetResult upgrade(RollingUpgrade.Plan plan, boolean forceDrain, FleetEvents events) {
        this.forceDrain = forceDrain;
        this.upgradeTo = plan.target();
        this.version = plan.target();
        if (token == null && plan.servers().stream().noneMatch(m -> spec.isFirstServer(m.host()))) {
            // the first server is at the release already: the agents join with its token, read as apply reads it
            char[] fileToken = spec.cluster().token().read(environment);
            token = fileToken != null ? fileToken : NodeToken.read(shell(spec.firstServer()));
        }
        try {
            return FleetUpgrade.run(plan, new FleetUpgrade.HostWork() {
                @Override
                public List<String> upgradeServer(RollingUpgrade.Move move, Events ev) {
                    return rollServer(move, ev);
                }

                @Override
                public List<String> upgradeAgent(RollingUpgrade.Move move, Events ev) {
                    return rollAgent(move, ev);
                }
            }, events);
        } finally {
            this.upgradeTo = null;
        }
    }

    private List<String> rollServer(RollingUpgrade.Move m, Events events) {
        HostSpec h = m.host();
        String step = "upgrade";
        try {
            List<String> changes = new ArrayList<>(spec.isFirstServer(h) ? firstServer(h, events) : join(h, events));
            RemoteShell shell = shell(h);
            String node = GatherFacts.from(shell).hostname();
            step = "readyz";
            awaitReadyz(h, shell, events);
            step = "Ready at " + m.to();
            awaitVersion(h, node, m.to(), events);
            changes.add(0, m.describe());
            api.nodeEvent(node, "Normal", "K3gpuUpgraded", "k3gpu: K3s server upgraded " + m.from() + " -> "
                    + m.to() + "; API /readyz ok");
            return changes;
        } catch (K3gpuException e) {
            throw stopped(h, step, false, e);
        }
    }

    private List<String> rollAgent(RollingUpgrade.Move m, Events events) {
        HostSpec h = m.host();
        ClusterSettings c = spec.cluster();
        if (api == null || token == null) {
            throw new K3gpuException(ExitCode.FAILED, "the cluster is not up: the first server was not applied",
                    "apply the whole file");
        }
        String step = "connect";
        boolean cordoned = false;
        try {
            RemoteShell shell = connect(h, events);
            NodeFacts facts = GatherFacts.from(shell);
            String node = facts.hostname();
            List<String> changes = new ArrayList<>();
            changes.add(m.describe());
            step = "cordon";
            events.info(h.address(), "cordoning node " + node);
            api.cordon(node, true);
            Map<String, String> mark = new java.util.HashMap<>();
            mark.put(ROLLOUT_ANNOTATION, m.to());
            api.update(node, Map.of(), mark, null);
            cordoned = true;
            api.nodeEvent(node, "Normal", "K3gpuCordon", "k3gpu: cordoned for the upgrade to " + m.to());
            step = "drain";
            io.k3gpu.core.kube.NodeDrain.Result d = new io.k3gpu.core.kube.NodeDrain(events)
                    .run(api, h.address(), node, c.upgrade().drainTimeout(), forceDrain);
            api.nodeEvent(node, "Normal", "K3gpuDrain", "k3gpu: drained (" + d.evicted().size() + " evicted, "
                    + d.deleted().size() + " deleted, " + d.left().size() + " DaemonSet/static left)");
            changes.add("drained: " + d.evicted().size() + " evicted" + (d.deleted().isEmpty() ? ""
                    : ", " + d.deleted().size() + " deleted (--force-drain)"));
            step = "upgrade";
            changes.addAll(join(h, events));
            step = "Ready at " + m.to();
            awaitVersion(h, node, m.to(), events);
            api.nodeEvent(node, "Normal", "K3gpuUpgraded", "k3gpu: K3s agent upgraded " + m.from() + " -> " + m.to());
            if (h.gpu().runtime(facts) != null && facts.hasGpu()) {
                step = "GPU gate";
                gpuGate(h, node, events);
                api.nodeEvent(node, "Normal", "K3gpuGpuGate", "k3gpu: GPU gate passed (labels, "
                        + (c.devicePlugin() != null ? "allocatable nvidia.com/gpu, " : "") + "verify pod)");
                changes.add("GPU gate passed");
            }
            step = "uncordon";
            events.info(h.address(), "uncordoning node " + node);
            Map<String, String> unmark = new java.util.HashMap<>();
            unmark.put(ROLLOUT_ANNOTATION, null);
            api.update(node, Map.of(), unmark, null);
            api.cordon(node, false);
            api.nodeEvent(node, "Normal", "K3gpuUncordon", "k3gpu: uncordoned after the upgrade to " + m.to());
            return changes;
        } catch (K3gpuException e) {
            throw stopped(h, step, cordoned, e);
        }
    }

    /** The rollout's failure: which host, which step, how the node was left, and that running apply again resumes. */
    private K3gpuException stopped(HostSpec h, String step, boolean cordoned, K3gpuException e) {
        return new K3gpuException(e.exitCode(), "upgrade of " + h.name() + " stopped at step " + step + ": "
                + e.getMessage() + (cordoned ? "; the node stays cordoned" : "")
                + "; the hosts after it were not touched",
                (e.hint() == null ? "" : e.hint() + "; then ") + "run k3gpu apply -f " + spec.file()
                        + " again: the rollout resumes at " + h.name(), e);
    }

    /** A server's API answers /readyz (asked on the node with K3s's own kubeconfig: the API needs credentials). */
    private void awaitReadyz(HostSpec h, RemoteShell shell, Events events) {
        long secs = Math.max(1, spec.cluster().readyTimeout().toSeconds());
        events.info(h.address(), "waiting for the API's /readyz");
        var r = shell.sudo("timeout " + secs + " sh -c 'until k3s kubectl get --raw /readyz >/dev/null 2>&1; do "
                + "sleep 1; done'", null, RemoteStep.command("waiting for /readyz"));
        if (!r.ok()) {
            throw new K3gpuException(ExitCode.TIMEOUT, "the K3s API on " + h.address() + " did not answer /readyz "
                    + "within " + secs + "s", "journalctl -u k3s on the node tells why");
        }
    }

    /** The Node is Ready with the new kubelet version (a Node that was Ready before the restart is not taken). */
    private void awaitVersion(HostSpec h, String node, String target, Events events) {
        events.info(h.address(), "waiting for node " + node + " to be Ready at " + target);
        NodeIdentity identity = identities.get(h);
        Duration timeout = spec.cluster().readyTimeout();
        if (api.awaitNodeReady(node, n -> target.equals(n.kubeletVersion()) && (identity == null || identity.owns(n)),
                timeout).isEmpty()) {
            String now = api.node(node).map(n -> (n.ready() ? "Ready" : "NotReady") + " at " + n.kubeletVersion())
                    .orElse("absent");
            throw new K3gpuException(ExitCode.TIMEOUT, "node " + node + " was not Ready at " + target + " within "
                    + timeout.toSeconds() + "s (it is " + now + ")", "journalctl -u k3s-agent (or k3s) on the node "
                    + "tells why; cluster.readyTimeout waits longer");
        }
    }

    /**
     * The GPU gate: k3gpu's GPU labels are on the Node again, it advertises nvidia.com/gpu again when the file
     * installs the device plugin, and a verify pod passes on it (tolerating the cordon).
     */
    private void gpuGate(HostSpec h, String node, Events events) {
        Duration timeout = spec.cluster().readyTimeout();
        events.info(h.address(), "GPU gate: labels" + (spec.cluster().devicePlugin() != null
                ? ", allocatable nvidia.com/gpu" : "") + ", verify pod");
        NodeStatus n = api.node(node).orElseThrow(() -> new K3gpuException(ExitCode.KUBERNETES,
                "node " + node + " is gone", null));
        if (!"true".equals(n.labels().get(GpuLabels.PRESENT))) {
            throw new K3gpuException(ExitCode.FAILED, "node " + node + " lost its GPU labels (" + GpuLabels.PRESENT
                    + " is not true)", "k3gpu label --ip " + h.address() + " sets them again");
        }
        if (spec.cluster().devicePlugin() != null) {
            // Both: the Node's allocatable alone may still be what the kubelet posted before its restart.
            long deadline = System.nanoTime() + timeout.toNanos();
            boolean back = false;
            while (!back && System.nanoTime() < deadline) {
                back = api.node(node).map(x -> io.k3gpu.core.kube.GpuAccess.count(x.gpuAllocatable()) > 0)
                        .orElse(false) && api.activePods(node).stream()
                        .anyMatch(p -> p.devicePlugin() && p.running());
                if (!back) {
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new K3gpuException(ExitCode.INTERRUPTED, "interrupted in the GPU gate", null, e);
                    }
                }
            }
            if (!back) {
                throw new K3gpuException(ExitCode.TIMEOUT, "node " + node + " did not advertise nvidia.com/gpu again "
                        + "with its device plugin pod running within " + timeout.toSeconds() + "s", "kubectl -n kube-system logs of the device plugin "
                        + "pod on " + node + " tell why");
            }
        }
        io.k3gpu.core.verify.VerifyGpu.Result v = new io.k3gpu.core.verify.VerifyGpu(events)
                .run(api, node, null, false, timeout, false, true);
        if (!v.pass()) {
            throw new K3gpuException(ExitCode.FAILED, "the verify pod failed on " + node + ": " + v.reason(), v.hint());
        }
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
        lockOnce(h, shell);
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

    /** The host's apply lock, taken at its first connection when {@link #takeLocks} asked for locks. */
    private void lockOnce(HostSpec h, RemoteShell shell) {
        HostLock l = lock;
        if (l == null) {
            return;
        }
        synchronized (locked) {
            if (!locked.containsKey(h)) {
                l.acquire(shell, h.name());
                locked.put(h, shell);
            }
        }
    }

    /** From now on each host is locked ({@link HostLock}) at its first connection, until {@link #close}. */
    public void takeLocks() {
        lock = HostLock.ofThisProcess();
    }

    @Override
    public void close() {
        HostLock l = lock;
        if (l != null) {
            locked.values().forEach(shell -> {
                try {
                    l.release(shell);
                } catch (RuntimeException e) {
                    // the link is gone: the next apply reports the lock left there, with how to clear it
                }
            });
        }
        if (api != null) {
            api.close();
        }
        if (token != null) {
            Arrays.fill(token, '\0');
        }
    }
}
