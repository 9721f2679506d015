package io.k3gpu.core.k3s;

import java.util.List;

/**
 * The K3s command lines k3gpu installs (the install script's {@code INSTALL_K3S_EXEC}), in one place: {@code install},
 * {@code join} and the fleet's {@code plan}/{@code apply} build them here, so what plan compares with a node's unit is
 * what the flows install. Pure.
 */
public final class K3sExec {
    private K3sExec() {
    }

    /**
     * A server that starts the cluster: {@code server [--cluster-init] --tls-san SAN... [--docker] [EXTRA]}.
     *
     * @param clusterInit embedded etcd (HA), K3s's {@code --cluster-init}
     * @param tlsSans     names and addresses for the server certificate, the server's own address first
     * @param extraArgs   more flags as the user wrote them, or null
     */
    public static String server(boolean clusterInit, List<String> tlsSans, boolean docker, String extraArgs) {
        StringBuilder sb = new StringBuilder("server");
        if (clusterInit) {
            sb.append(" --cluster-init");
        }
        String flags = serverFlags(tlsSans, docker, extraArgs);
        return flags.isEmpty() ? sb.toString() : sb.append(' ').append(flags).toString();
    }

    /** The flags after {@code server}, as an extra server joins with them: {@code --tls-san SAN... [--docker] [EXTRA]}. */
    public static String serverFlags(List<String> tlsSans, boolean docker, String extraArgs) {
        StringBuilder sb = new StringBuilder();
        for (String san : tlsSans) {
            sb.append(sb.isEmpty() ? "" : " ").append("--tls-san ").append(san);
        }
        if (docker) {
            sb.append(sb.isEmpty() ? "" : " ").append("--docker");
        }
        return append(sb.toString(), extraArgs);
    }

    /** A node that joins a cluster: {@code server|agent [--docker] [EXTRA]}. */
    public static String joined(boolean server, boolean docker, String extraArgs) {
        return joined(server, docker, false, extraArgs);
    }

    /**
     * A node that joins a cluster: {@code server|agent [--docker] [--default-runtime nvidia] [EXTRA]}, the flag when
     * its K3s release makes NVIDIA containerd's default that way ({@link NvidiaDefaultRoute}).
     */
    public static String joined(boolean server, boolean docker, boolean nvidiaDefault, String extraArgs) {
        return append((server ? "server" : "agent") + (docker ? " --docker" : "") + nvidiaFlag(nvidiaDefault), extraArgs);
    }

    /** {@code server ...} as {@link #server(boolean, List, boolean, String)}, with {@code --default-runtime nvidia}. */
    public static String server(boolean clusterInit, List<String> tlsSans, boolean docker, boolean nvidiaDefault,
                                String extraArgs) {
        String exec = server(clusterInit, tlsSans, docker, null);
        return append(exec + nvidiaFlag(nvidiaDefault), extraArgs);
    }

    private static String nvidiaFlag(boolean nvidiaDefault) {
        return nvidiaDefault ? " " + NvidiaDefaultRoute.FLAG + " nvidia" : "";
    }

    private static String append(String exec, String extraArgs) {
        if (extraArgs == null || extraArgs.isBlank()) {
            return exec;
        }
        return exec.isEmpty() ? extraArgs.strip() : exec + " " + extraArgs.strip();
    }
}
