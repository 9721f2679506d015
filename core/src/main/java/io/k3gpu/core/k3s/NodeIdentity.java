package io.k3gpu.core.k3s;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.RemoteShell;

import java.net.URI;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Which Node object is this machine's, and which cluster it is joined to. A Node's name is only the hostname, and
 * boards cloned from one image share it; so a Node is this machine's only when its InternalIP is one of the
 * machine's own addresses, and the machine belongs to a kubeconfig's cluster only when its K3S_URL names that API
 * server (or the API server is the machine itself).
 *
 * @param host      the address k3gpu reached the machine at
 * @param addresses the machine's own addresses ({@code hostname -I}), with {@code host}
 * @param joinedUrl K3S_URL of its K3s unit (an agent or a joined server); null when there is none
 */
public record NodeIdentity(String host, Set<String> addresses, String joinedUrl) {
    private static final String SEPARATOR = "--- k3gpu: K3S_URL";

    public NodeIdentity {
        addresses = Collections.unmodifiableSet(new LinkedHashSet<>(addresses));
    }

    /** The machine's addresses, a separator line, then the K3S_URL line of the agent's or the server's unit. */
    static String command() {
        return "hostname -I 2>/dev/null || ip -o addr show | awk '{sub(/\\/.*/, \"\", $4); print $4}'; echo '"
                + SEPARATOR + "'; grep -h '^K3S_URL=' /etc/systemd/system/k3s-agent.service.env "
                + "/etc/systemd/system/k3s.service.env 2>/dev/null";
    }

    /** The output of {@link #command}, for the machine reached at {@code host}. */
    static NodeIdentity parse(String host, String stdout) {
        int at = stdout.indexOf(SEPARATOR);
        String own = at < 0 ? stdout : stdout.substring(0, at);
        String env = at < 0 ? "" : stdout.substring(at + SEPARATOR.length());
        Set<String> addresses = new LinkedHashSet<>();
        addresses.add(host);
        for (String a : own.strip().split("\\s+")) {
            if (!a.isEmpty()) {
                addresses.add(a);
            }
        }
        String url = null;
        for (String line : env.split("\n")) {
            if (url == null && line.startsWith("K3S_URL=")) {
                url = line.substring("K3S_URL=".length()).replace("'", "").replace("\"", "").strip();
            }
        }
        return new NodeIdentity(host, addresses, url == null || url.isEmpty() ? null : url);
    }

    /** Reads it over SSH (through sudo: the unit's environment file is 0600; only the K3S_URL line is read). */
    public static NodeIdentity read(RemoteShell shell) {
        ExecResult r = shell.sudo(command());
        return parse(shell.host(), r.stdout());
    }

    /** Whether the Node is this machine's: its InternalIP is one of the machine's addresses. */
    public boolean owns(NodeStatus node) {
        return node.internalIp() != null && addresses.contains(node.internalIp());
    }

    /**
     * Refuses, naming both, when this machine is not a node of the cluster whose API server is {@code apiServer}:
     * its K3S_URL names another server (compared as host:port; {@code alsoJoinedAs}, when given, is another URL of
     * the same cluster) and the API server is not the machine itself. A machine without K3S_URL (a first server, or
     * no K3s) must itself be the API server.
     */
    public void checkCluster(String apiServer, String alsoJoinedAs, String nodeName) {
        String api = hostPort(apiServer);
        if (addresses.contains(uri(apiServer).getHost().replace("[", "").replace("]", ""))) {
            return;
        }
        if (joinedUrl != null) {
            String joined = hostPort(joinedUrl);
            if (joined.equals(api) || (alsoJoinedAs != null && joined.equals(hostPort(alsoJoinedAs)))) {
                return;
            }
        }
        throw new K3gpuException(ExitCode.FAILED, host + " (node " + nodeName + ") is "
                + (joinedUrl == null ? "not joined to any server" : "joined to " + joinedUrl)
                + ", not to the kubeconfig's cluster at " + apiServer + "; nothing was changed",
                "use the --kubeconfig/--context of " + (joinedUrl == null ? "the cluster it is in" : "the cluster at " + joinedUrl));
    }

    /** The one-line reason the Node of that name is not this machine's, naming both sides. */
    public String notOurs(NodeStatus node) {
        return "node " + node.name() + " in the cluster is another machine (InternalIP " + node.internalIp()
                + ", not one of " + host + "'s addresses " + String.join(" ", addresses) + ")";
    }

    /** {@code host:port} of an https URL, the port defaulting to 443, the host lower-cased without IPv6 brackets. */
    static String hostPort(String url) {
        URI u = uri(url);
        String h = u.getHost().replace("[", "").replace("]", "").toLowerCase(Locale.ROOT);
        return h + ":" + (u.getPort() >= 0 ? u.getPort() : "http".equals(u.getScheme()) ? 80 : 443);
    }

    private static URI uri(String url) {
        try {
            URI u = URI.create(url.strip());
            if (u.getHost() != null) {
                return u;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new K3gpuException(ExitCode.FAILED, "'" + url + "' is not a server URL",
                "K3S_URL and a kubeconfig's server are https://HOST:PORT");
    }
}
