package io.k3gpu.core.k3s;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.facts.GatherFacts;
import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.RemoteShell;
import io.k3gpu.core.remote.RemoteStep;

import java.util.List;

/**
 * Removes K3s from a node with its own uninstall script, deletes its Node object (told from a same-named one of another
 * machine by its address), and proves nothing is left.
 */
public final class ResetNode {

    public record Result(String host, String nodeName, String role, boolean uninstalled, boolean nodeDeleted) {
    }

    private final Events events;

    public ResetNode(Events events) {
        this.events = events;
    }

    /** @param api the cluster to delete the Node from; null when there is none to reach (a server being reset) */
    public Result run(RemoteShell node, ClusterApi api) {
        return run(node, api, null);
    }

    /**
     * As {@link #run(RemoteShell, ClusterApi)}; the Node deleted is this machine's only (its InternalIP is one of
     * the machine's addresses), and only when the machine is joined to {@code api}'s cluster: otherwise nothing
     * is changed at all.
     *
     * @param alsoJoinedAs another URL by which nodes join {@code api}'s cluster (a cluster file's serverUrl), or null
     */
    public Result run(RemoteShell node, ClusterApi api, String alsoJoinedAs) {
        String host = node.host();
        NodeFacts facts = GatherFacts.from(node);
        String role = facts.k3sRole();
        NodeStatus mine = api == null ? null : ownNode(node, api, alsoJoinedAs, facts);
        boolean uninstalled = false;
        for (K3sInstall.Role r : List.of(K3sInstall.Role.AGENT, K3sInstall.Role.SERVER)) {
            ExecResult out = node.sudo(InstallCommands.uninstall(r), null,
                    RemoteStep.install("running " + r.uninstallScript()));
            if (!out.ok()) {
                throw new K3gpuException(ExitCode.REMOTE_COMMAND, r.uninstallScript() + " failed on " + host
                        + " (exit " + out.exitCode() + "): " + out.tail(3), "run it by hand on the node to see why");
            }
            if (!out.stdout().strip().endsWith("absent")) {
                uninstalled = true;
                events.info(host, "ran " + r.uninstallScript());
            }
        }
        if (uninstalled) {
            node.sudoOrThrow("removing K3s's node password", InstallCommands.removeKept());
        }
        String left = node.sudo(InstallCommands.leftovers()).stdout().strip();
        if (!left.isEmpty()) {
            throw new K3gpuException(ExitCode.FAILED, "K3s files are still on " + host + " after uninstalling: "
                    + left.replace('\n', ' '), "remove them by hand");
        }
        boolean deleted = mine != null && api.deleteNode(mine.name());
        if (deleted) {
            events.info(host, "deleted node " + mine.name() + " from the cluster");
        }
        return new Result(host, facts.hostname(), role, uninstalled, deleted);
    }

    /**
     * This machine's Node in {@code api}'s cluster, or null; read before the uninstall removes the unit's K3S_URL.
     * Refuses (changing nothing) when the machine's K3s is joined to another cluster.
     */
    private NodeStatus ownNode(RemoteShell node, ClusterApi api, String alsoJoinedAs, NodeFacts facts) {
        NodeIdentity identity = NodeIdentity.read(node);
        if (facts.k3sInstalled()) {
            identity.checkCluster(api.serverUrl(), alsoJoinedAs, facts.hostname());
        }
        NodeStatus named = api.node(facts.hostname()).orElse(null);
        if (named != null && !identity.owns(named)) {
            events.warn(node.host(), identity.notOurs(named) + "; leaving it there");
            return null;
        }
        return named;
    }
}
