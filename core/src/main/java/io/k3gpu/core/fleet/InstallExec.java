package io.k3gpu.core.fleet;

import io.k3gpu.core.k3s.K3sExec;

import java.util.ArrayList;
import java.util.List;

/**
 * The K3s command line (INSTALL_K3S_EXEC) apply installs on each host, from the file alone: plan compares it, as a
 * set of flags, with the command line the host's unit runs now. Built by {@link K3sExec}, as the flows build it. Pure.
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
        return firstServer(spec, h, hasClusterInit, false);
    }

    /** As {@link #firstServer(ClusterSpec, HostSpec, boolean)}, with {@code --default-runtime nvidia} when asked. */
    static String firstServer(ClusterSpec spec, HostSpec h, boolean hasClusterInit, boolean nvidiaDefault) {
        return K3sExec.server(spec.highAvailability() || hasClusterInit, sans(spec, h), h.gpu().docker(),
                nvidiaDefault, spec.cluster().serverArgs());
    }

    /** The flags an extra server joins with, after JoinNode's {@code server [--docker]}: --tls-san ... [serverArgs]. */
    static String joinFlags(ClusterSpec spec, HostSpec h) {
        return K3sExec.serverFlags(sans(spec, h), false, spec.cluster().serverArgs());
    }

    /**
     * What JoinNode installs on an extra server or an agent: {@code server|agent [--docker]} and then the extra
     * server's flags or the file's agentArgs.
     */
    static String joined(ClusterSpec spec, HostSpec h) {
        return joined(spec, h, false);
    }

    /** As {@link #joined(ClusterSpec, HostSpec)}, with {@code --default-runtime nvidia} when asked (JoinNode's). */
    static String joined(ClusterSpec spec, HostSpec h, boolean nvidiaDefault) {
        boolean server = h.role() == HostRole.SERVER;
        return K3sExec.joined(server, h.gpu().docker(), nvidiaDefault,
                server ? joinFlags(spec, h) : spec.cluster().agentArgs());
    }

    private static List<String> sans(ClusterSpec spec, HostSpec h) {
        List<String> sans = new ArrayList<>();
        sans.add(h.address());
        sans.addAll(spec.cluster().tlsSan());
        return sans;
    }
}
