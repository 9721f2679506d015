package io.k3gpu.core.k3s;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.NodeMeta;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.remote.RemoteShell;

import java.time.Duration;

/**
 * Gives a node that runs K3s other flags, keeping its data, as k3sup does when run again: K3s's install script is run
 * with the new INSTALL_K3S_EXEC (same role, release, server URL and token), which rewrites the unit and restarts K3s.
 * Then it waits until the Node is Ready with a new {@code k3s.io/node-args} annotation — K3s rewrites it when it
 * starts with other flags — so a restart that has not happened yet, or one that failed, is not taken for success.
 */
public final class ReconfigureNode {
    private final Events events;
    private final Duration timeout;

    public ReconfigureNode(Events events, Duration timeout) {
        this.events = events;
        this.timeout = timeout;
    }

    /**
     * @param install  what to install: the node's role and release, K3S_URL and token for a joined node, new flags
     * @param nodeName the node's Kubernetes name
     * @param arch     the node's architecture (for an air-gap bundle)
     * @param api      the cluster; it must answer again once the install script returns (a server's restart is over
     *                 by then: its unit is Type=notify)
     */
    public NodeStatus run(RemoteShell shell, K3sInstall install, String nodeName, String arch, ClusterApi api) {
        String host = shell.host();
        String before = api.meta(nodeName).map(NodeMeta::annotations)
                .map(a -> a.get(K3sArgs.NODE_ARGS_ANNOTATION)).orElse(null);
        K3sFlowSupport.runInstall(shell, install, arch,
                () -> events.info(host, "restarting K3s with new flags (" + K3sArgs.masked(install.exec()) + ")"));
        events.info(host, "waiting for node " + nodeName + " to be Ready with its new flags");
        return api.awaitNodeReadyAndChanged(nodeName, K3sArgs.NODE_ARGS_ANNOTATION, before, timeout)
                .orElseThrow(() -> new K3gpuException(ExitCode.TIMEOUT, "node " + nodeName + " (" + host
                        + ") did not come back Ready with its new flags within " + timeout.toSeconds()
                        + "s; its last log lines: "
                        + K3sFlowSupport.serviceLogTail(shell, install.role().service(), 5).replace('\n', '|'),
                        "check the flags (serverArgs / agentArgs in the file); journalctl -u "
                                + install.role().service() + " on the node tells more"));
    }
}
