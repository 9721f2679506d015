package io.k3gpu.core.k3s;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.facts.GatherFacts;
import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.Fabric8ClusterApi;
import io.k3gpu.core.remote.ChangesInFlight;
import io.k3gpu.core.remote.RemoteShell;

import java.time.Duration;

/**
 * k3sup install, verified: runs K3s's install script as a server, then fetches the kubeconfig and waits until the
 * server's own Node is Ready in the API.
 */
public final class InstallServer {

    /** @param kubeconfig the kubeconfig for the new cluster (pointed at the server, named after the context) */
    public record Result(String host, String nodeName, String serverUrl, String version, boolean installed,
                         String kubeconfig) {
        @Override
        public String toString() {
            return "InstallServer.Result[" + host + " " + nodeName + " " + serverUrl + " " + version + "]";
        }
    }

    private final Events events;
    private final Duration timeout;

    public InstallServer(Events events, Duration timeout) {
        this.events = events;
        this.timeout = timeout;
    }

    /**
     * @param address the address clients use to reach the server (its --ip/--host); the kubeconfig points there
     * @param force   run the install script even when K3s already runs here as a server
     */
    public Result run(RemoteShell shell, K3sInstall install, String address, String context, boolean force) {
        return run(shell, install, address, context, force, GatherFacts.from(shell));
    }

    /** As {@link #run(RemoteShell, K3sInstall, String, String, boolean)}, with the node's facts gathered already. */
    public Result run(RemoteShell shell, K3sInstall install, String address, String context, boolean force,
                      NodeFacts known) {
        String host = shell.host();
        NodeFacts facts = known;
        String serverUrl = "https://" + address + ":6443";
        boolean already = facts.k3sInstalled() && "server".equals(facts.k3sRole());
        boolean wanted = install.version() == null || install.version().equals(facts.k3sVersion());
        boolean run = force || !already || !wanted;
        if (run) {
            K3sFlowSupport.runInstall(shell, install, facts.arch(),
                    () -> events.info(host, "installing the K3s server (" + K3sArgs.masked(install.exec()) + ")"));
        } else {
            events.info(host, "K3s " + facts.k3sVersion() + " already runs here as a server; not reinstalling");
        }
        String kubeconfig = K3sFlowSupport.fetchKubeconfig(shell, serverUrl, context, timeout);
        try (ClusterApi api = Fabric8ClusterApi.fromKubeconfig(kubeconfig, context)) {
            events.info(host, "waiting for node " + facts.hostname() + " to be Ready");
            NodeIdentity identity = NodeIdentity.read(shell);
            boolean ready;
            // Nothing to roll back while K3s comes up; a Ctrl-C now still says how the server was left.
            try (ChangesInFlight.Registration waiting = ChangesInFlight.process().begin(new ChangesInFlight.Change(
                    host, "waiting for the K3s server to be Ready", "K3s is installed there and was not Ready yet; "
                    + "run the same command again to wait for it, or k3gpu reset --ip " + host + " to remove it",
                    null))) {
                // after a re-install at another release, the old Node stays Ready until the kubelet restarts and posts
                String release = install.version();
                ready = api.awaitNodeReady(facts.hostname(), n -> identity.owns(n)
                        && (release == null || release.equals(n.kubeletVersion())), timeout).isPresent();
            }
            if (!ready) {
                api.node(facts.hostname()).filter(n -> !identity.owns(n)).ifPresent(n -> {
                    throw new K3gpuException(ExitCode.FAILED, identity.notOurs(n) + ": it holds this server's hostname",
                            "give one of the two machines its own hostname (hostnamectl set-hostname NAME)");
                });
                throw new K3gpuException(ExitCode.TIMEOUT, "the K3s server on " + host + " did not become Ready within "
                        + timeout.toSeconds() + "s; its last log lines: "
                        + K3sFlowSupport.serviceLogTail(shell, K3sInstall.Role.SERVER.service(), 5).replace('\n', '|'),
                        "look at journalctl -u k3s on the node; --timeout waits longer");
            }
            return new Result(host, facts.hostname(), serverUrl, api.serverVersion(), run, kubeconfig);
        }
    }
}
