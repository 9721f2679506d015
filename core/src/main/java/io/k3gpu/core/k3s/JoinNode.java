package io.k3gpu.core.k3s;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.facts.GatherFacts;
import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.remote.ChangesInFlight;
import io.k3gpu.core.remote.RemoteShell;
import io.k3gpu.core.remote.RemoteStep;
import io.k3gpu.core.runtime.ContainerRuntime;
import io.k3gpu.core.runtime.EnableNvidiaRuntime;
import io.k3gpu.core.runtime.RuntimeChange;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * k3sup join, verified: installs the agent with the server's token (never on a command line), waits until the Node
 * is Ready in the API (k3sup never checks), and labels it with what its GPU is. With {@code gpu} the NVIDIA runtime
 * is made the default first. Re-running on a joined node changes only what is out of date.
 */
public final class JoinNode {

    /** @param changes what this run changed, in order; empty when the node was already as asked */
    public record Result(String host, String nodeName, String serverUrl, NodeStatus node, Map<String, String> labels,
                         List<String> changes) {
    }

    /**
     * @param docker     K3s with --docker (the seed's way; experimental in K3s)
     * @param gpu        make nvidia the default runtime first (Docker's with --docker, else K3s's containerd)
     * @param extraArgs  more k3s agent flags (k3sup's --k3s-extra-args)
     * @param asServer   join as an extra server (embedded etcd HA) instead of an agent
     */
    public record Options(boolean docker, boolean gpu, String extraArgs, boolean asServer, String version,
                          String installUrl, java.nio.file.Path airgapBundle, Duration timeout) {
    }

    private final Events events;

    public JoinNode(Events events) {
        this.events = events;
    }

    public Result run(RemoteShell node, ClusterApi api, String serverUrl, char[] token, Options o) {
        return run(node, api, serverUrl, token, o, GatherFacts.from(node));
    }

    /** As {@link #run(RemoteShell, ClusterApi, String, char[], Options)}, with the node's facts gathered already. */
    public Result run(RemoteShell node, ClusterApi api, String serverUrl, char[] token, Options o, NodeFacts known) {
        String host = node.host();
        List<String> changes = new ArrayList<>();
        if (o.docker()) {
            events.warn(host, "--docker uses K3s's embedded cri-dockerd, which K3s marks experimental; "
                    + "--gpu (containerd with the NVIDIA default runtime) is the supported way");
        }
        NodeFacts facts = known;
        String restarted = null;
        String version = o.version() != null ? o.version() : api.serverVersion();
        K3sInstall.Role role = o.asServer() ? K3sInstall.Role.SERVER : K3sInstall.Role.AGENT;
        NvidiaDefaultRoute.Decision route = null;
        if (o.gpu()) {
            if (!facts.hasGpu()) {
                throw new K3gpuException(ExitCode.FAILED, host + " (" + facts.hostname() + ") has no NVIDIA GPU: "
                        + "no Jetson identity and nvidia-smi lists none", "join it without --gpu");
            }
            if (o.docker()) {
                RuntimeChange rc = new EnableNvidiaRuntime(events, Clock.systemUTC(), Duration.ofSeconds(20))
                        .run(node, ContainerRuntime.DOCKER, false);
                if (rc.outcome() == RuntimeChange.Outcome.CHANGED) {
                    changes.add("set the NVIDIA default runtime (" + rc.runtime().flag() + ")");
                    restarted = rc.restarted();
                    facts = rc.appliedTo(facts);
                }
            } else {
                route = NvidiaDefaultRoute.forVersion(version, o.asServer());
                facts = containerdRoute(node, facts, route, changes);
            }
        }
        String exec = K3sExec.joined(o.asServer(), o.docker(), route != null && route.flag(), o.extraArgs());
        // Two boards cloned from one image share a hostname: the Node of that name counts only with our address.
        NodeIdentity identity = NodeIdentity.read(node);
        // The facts first (known already), then the node's unit, then the cluster (one read of the Node).
        NodeStatus seen = facts.k3sInstalled() && version.equals(facts.k3sVersion()) && joinedTo(node, role, serverUrl)
                ? api.node(facts.hostname()).filter(identity::owns).orElse(null) : null;
        boolean joined = seen != null && seen.ready() && runtimeMatches(seen, o.docker());
        String flagChange = joined && route != null ? defaultRuntimeChange(node, role, route) : null;
        boolean untouched = joined && changes.isEmpty() && flagChange == null;
        if (untouched) {
            events.info(host, "already joined to " + serverUrl + " as " + facts.hostname());
        } else if (flagChange != null) {
            // Joined with the other route: the install script again, same release, with the flag as it must be.
            new ReconfigureNode(events, o.timeout()).run(node, new K3sInstall(role, exec, version, null, serverUrl,
                    token, o.installUrl(), o.airgapBundle()), facts.hostname(), facts.arch(), api);
            changes.add("reconfigured K3s: " + flagChange);
        } else if (joined) {
            // Only the runtime changed: K3s picks it up when it starts, so a restart is enough (no reinstall). The
            // change restarted K3s itself when it wrote K3s's config; after Docker's restart K3s must follow.
            if (!role.service().equals(restarted)) {
                events.info(host, "restarting " + role.service() + " to use the new runtime");
                var r = node.sudo(InstallCommands.restartService(role.service()), null,
                        RemoteStep.restart(role.service()));
                if (!r.ok()) {
                    throw new K3gpuException(ExitCode.REMOTE_COMMAND, "restarting " + role.service() + " failed on "
                            + host + " (exit " + r.exitCode() + "): " + r.tail(2) + "; its last log lines: "
                            + K3sFlowSupport.serviceLogTail(node, role.service(), 5).replace('\n', '|'),
                            "journalctl -u " + role.service() + " on the node tells more");
                }
                changes.add("restarted " + role.service());
            }
        } else {
            K3sInstall install = new K3sInstall(role, exec, version, null, serverUrl, token, o.installUrl(), o.airgapBundle());
            String installing = "installing the K3s " + role.name().toLowerCase() + " " + version + " ("
                    + K3sArgs.masked(exec) + ")";
            K3sFlowSupport.runInstall(node, install, facts.arch(), () -> events.info(host, installing));
            if (o.airgapBundle() != null && o.version() == null) {
                // The bundle's binary is whatever release it holds: the Node must report that one, not the server's.
                version = installedVersion(node).orElse(version);
            }
            changes.add("installed K3s " + version + " (" + K3sArgs.masked(exec) + ")");
        }
        String name = facts.hostname();
        if (!untouched) {
            events.info(host, "waiting for node " + name + " to be Ready");
        }
        NodeStatus ready;
        // Nothing to roll back while K3s comes up; a Ctrl-C now still says how the node was left.
        try (ChangesInFlight.Registration waiting = untouched ? null : ChangesInFlight.process().begin(
                new ChangesInFlight.Change(host, "waiting for node " + name + " to be Ready", "K3s is installed there "
                        + "and node " + name + " was not Ready yet; run the same command again to wait for it, or "
                        + "k3gpu reset --ip " + host + " to remove it", null))) {
            // A re-install leaves the old Node Ready until its kubelet restarts and posts: wait for the release we
            // installed, as k3s-upgrade's plans do, not for any Ready Node of that name.
            String release = version;
            ready = untouched ? seen : api.awaitNodeReady(name, n -> identity.owns(n) && release.equals(n.kubeletVersion()),
                            o.timeout())
                    .orElseThrow(() -> notReady(node, api, identity, name, role, release, o.timeout()));
        }
        Map<String, String> labels = GpuLabels.of(facts, runtimeLabel(facts, o.docker()));
        Map<String, String> changedLabels = api.label(facts.hostname(), labels);
        if (!changedLabels.isEmpty()) {
            changes.add("labelled " + String.join(", ", changedLabels.keySet()));
        }
        NodeStatus now = changedLabels.isEmpty() ? ready : api.node(facts.hostname()).orElse(ready);
        return new Result(host, facts.hostname(), serverUrl, now, labels, changes);
    }

    /**
     * K3s's containerd with NVIDIA as its default, the way the release allows ({@link NvidiaDefaultRoute}): k3gpu's
     * containerd template for the template route (written before K3s starts or restarts), or no template of k3gpu's
     * for the flag route (the flag goes on the install's command line). The facts as they will be once K3s runs so.
     */
    private NodeFacts containerdRoute(RemoteShell node, NodeFacts facts, NvidiaDefaultRoute.Decision route,
                                      List<String> changes) {
        String host = node.host();
        if (facts.nvidiaContainerRuntimePath() == null) {
            throw new K3gpuException(ExitCode.FAILED, "nvidia-container-runtime is not installed on " + host
                    + "; nothing was changed", "install the NVIDIA Container Toolkit (apt-get install "
                    + "nvidia-container-toolkit; on Jetson it comes with JetPack's nvidia-container package), then run again");
        }
        events.info(host, "NVIDIA default runtime: " + route.describe());
        ContainerdTemplate.Change t = ContainerdTemplate.converge(node, route.flag() ? null
                : facts.nvidiaContainerRuntimePath());
        if (t == ContainerdTemplate.Change.WRITTEN) {
            changes.add("wrote " + ContainerdTemplate.PATH + " (NVIDIA as containerd's default: " + route.reason() + ")");
        } else if (t == ContainerdTemplate.Change.REMOVED) {
            changes.add("removed k3gpu's " + ContainerdTemplate.PATH + " (" + route.reason() + ")");
        }
        return facts.withK3sDefaultRuntime(EnableNvidiaRuntime.NVIDIA);
    }

    /** How the unit's --default-runtime differs from what the route needs; null when it does not. */
    private static String defaultRuntimeChange(RemoteShell node, K3sInstall.Role role, NvidiaDefaultRoute.Decision route) {
        List<String> installed = K3sUnit.read(node, role).execArgs();
        boolean has = K3sArgs.flags(installed).contains(new K3sArgs.Flag(NvidiaDefaultRoute.FLAG, "nvidia"));
        if (route.flag() == has) {
            return null;
        }
        return route.flag() ? NvidiaDefaultRoute.FLAG + " nvidia added" : NvidiaDefaultRoute.FLAG + " nvidia removed";
    }

    /** Why the wait ended empty: another machine holds the Node's name (a cloned hostname), or it never got Ready. */
    private static K3gpuException notReady(RemoteShell node, ClusterApi api, NodeIdentity identity, String name,
                                           K3sInstall.Role role, String release, Duration timeout) {
        String log = K3sFlowSupport.serviceLogTail(node, role.service(), 5).replace('\n', '|');
        NodeStatus now = api.node(name).orElse(null);
        NodeStatus other = now != null && !identity.owns(now) ? now : null;
        if (now != null && other == null && now.ready() && !release.equals(now.kubeletVersion())) {
            return new K3gpuException(ExitCode.TIMEOUT, "node " + name + " (" + node.host() + ") still reports K3s "
                    + now.kubeletVersion() + ", not the installed " + release + ", after " + timeout.toSeconds()
                    + "s; the agent's last log lines: " + log,
                    "journalctl -u " + role.service() + " on the node tells why K3s did not restart with the new release");
        }
        if (other != null) {
            return new K3gpuException(ExitCode.FAILED, identity.notOurs(other) + ": two machines share the hostname "
                    + name + ", and " + node.host() + " did not join; the agent's last log lines: " + log,
                    "give " + node.host() + " its own hostname (hostnamectl set-hostname NAME) and join it again");
        }
        return new K3gpuException(ExitCode.TIMEOUT, "node " + name + " (" + node.host() + ") did not become Ready within "
                + timeout.toSeconds() + "s; the agent's last log lines: " + log,
                "check --server-ip and the token; journalctl -u " + role.service() + " on the node tells more");
    }

    /** The release of the k3s binary now on the node ({@code k3s --version}'s first line), if it answers. */
    private static java.util.Optional<String> installedVersion(RemoteShell node) {
        var r = node.sudo("/usr/local/bin/k3s --version 2>/dev/null | head -n 1");
        var m = java.util.regex.Pattern.compile("^k3s version (v[0-9A-Za-z.+-]{1,64})").matcher(r.stdout().strip());
        return r.ok() && m.find() ? java.util.Optional.of(m.group(1)) : java.util.Optional.empty();
    }

    /** Does the node's K3s unit already point at this server? Reads only the K3S_URL line (never the token). */
    private static boolean joinedTo(RemoteShell node, K3sInstall.Role role, String serverUrl) {
        String env = "/etc/systemd/system/" + role.service() + ".service.env";
        var r = node.sudo("grep -h '^K3S_URL=' " + env + " 2>/dev/null");
        String line = r.stdout().strip();
        return role == K3sInstall.Role.SERVER ? !line.isEmpty() && line.contains(serverUrl)
                : line.replace("'", "").replace("\"", "").equals("K3S_URL=" + serverUrl);
    }

    private static boolean runtimeMatches(NodeStatus node, boolean docker) {
        String runtime = node.containerRuntime();
        return docker == (runtime != null && runtime.startsWith("docker://"));
    }

    /** How pods here get (or don't get) the GPU: docker-nvidia, containerd-nvidia, docker-runc, containerd-runc. */
    public static String runtimeLabel(NodeFacts f, boolean docker) {
        String engine = docker ? "docker" : "containerd";
        String dflt = docker ? f.dockerDefaultRuntime() : f.k3sDefaultRuntime();
        return engine + "-" + (dflt == null ? "runc" : dflt);
    }
}
