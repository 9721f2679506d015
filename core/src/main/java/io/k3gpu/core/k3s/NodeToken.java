package io.k3gpu.core.k3s;

import io.k3gpu.core.remote.RemoteShell;

import java.time.Duration;

/** What a join needs from the server: its node token and its kubeconfig (both read over SSH, kept in memory). */
public final class NodeToken {
    private NodeToken() {
    }

    public static char[] read(RemoteShell server) {
        return K3sFlowSupport.readNodeToken(server);
    }

    /** The server's kubeconfig pointed at {@code serverUrl}, in memory only (context "default"). */
    public static String kubeconfig(RemoteShell server, String serverUrl, Duration wait) {
        return K3sFlowSupport.fetchKubeconfig(server, serverUrl, "default", wait);
    }
}
