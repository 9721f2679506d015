package io.k3gpu.core.fleet;

/**
 * The K3s command line (INSTALL_K3S_EXEC) apply installs on each host, from the file alone: plan compares it, as a
 * set of flags, with the command line the host's unit runs now. Pure.
 */
final class InstallExec {
    private InstallExec() {
    }

    /**
     * {@code server [--cluster-init] --tls-san ADDRESS [--tls-san ...] [--docker] [serverArgs]}. {@code --cluster-init}
     * when the file has several servers (embedded etcd), and kept when the server already runs with it: it is on
     * etcd then, which a restart without the flag does not undo.
     */
    static String firstServer(ClusterSpec spec, HostSpec h, boolean hasClusterInit) {
        StringBuilder sb = new StringBuilder("server");
        if (spec.highAvailability() || hasClusterInit) {
            sb.append(" --cluster-init");
        }
        sb.append(' ').append(sansAndArgs(spec, h, h.gpu().docker()));
        return sb.toString();
    }

    /** The flags an extra server joins with, after JoinNode's {@code server [--docker]}: --tls-san ... [serverArgs]. */
    static String joinFlags(ClusterSpec spec, HostSpec h) {
        return sansAndArgs(spec, h, false);
    }

    /**
     * What JoinNode installs on an extra server or an agent: {@code server|agent [--docker]} and then the extra
     * server's flags or the file's agentArgs.
     */
    static String joined(ClusterSpec spec, HostSpec h) {
        boolean server = h.role() == HostRole.SERVER;
        String more = server ? joinFlags(spec, h) : spec.cluster().agentArgs();
        return (server ? "server" : "agent") + (h.gpu().docker() ? " --docker" : "")
                + (more == null || more.isBlank() ? "" : " " + more.strip());
    }

    private static String sansAndArgs(ClusterSpec spec, HostSpec h, boolean docker) {
        StringBuilder sb = new StringBuilder("--tls-san ").append(h.address());
        for (String san : spec.cluster().tlsSan()) {
            sb.append(" --tls-san ").append(san);
        }
        if (docker) {
            sb.append(" --docker");
        }
        String more = spec.cluster().serverArgs();
        if (more != null && !more.isBlank()) {
            sb.append(' ').append(more.strip());
        }
        return sb.toString();
    }
}
