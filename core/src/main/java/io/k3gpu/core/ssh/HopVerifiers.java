package io.k3gpu.core.ssh;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The host key verifiers of one connection: the target's and one per ProxyJump hop, each checking its own host's
 * known_hosts entry and naming its own host when it refuses. A session is matched to its hop by the address it was
 * connected to, so connections opened at once (a parallel apply) never share or swap verifiers.
 */
final class HopVerifiers {
    /** A refused key and the host (as known_hosts names it) that presented it. */
    record Refusal(HostKeyProblem problem, String host, Integer port) {
    }

    private final CheckingHostKeyVerifier target;
    private final Map<String, CheckingHostKeyVerifier> hops;

    private HopVerifiers(CheckingHostKeyVerifier target, Map<String, CheckingHostKeyVerifier> hops) {
        this.target = target;
        this.hops = hops;
    }

    /**
     * @param proxyJump {@code [user@]host[:port]}, comma-separated, as MINA (and OpenSSH's ProxyJump) reads it; null
     *                  for a direct connection
     * @param forHop    a new verifier for a hop, given as {@code host:port}
     */
    static HopVerifiers of(CheckingHostKeyVerifier target, String proxyJump,
                           Function<String, CheckingHostKeyVerifier> forHop) {
        Map<String, CheckingHostKeyVerifier> hops = new LinkedHashMap<>();
        if (proxyJump != null) {
            for (String jump : proxyJump.split(",")) {
                String j = jump.strip();
                if (j.isEmpty()) {
                    continue;
                }
                URI uri = URI.create(j.contains("//") ? j : "ssh://" + j);
                String host = unbracketed(uri.getHost());
                String key = key(host, uri.getPort() > 0 ? uri.getPort() : 22);
                hops.putIfAbsent(key, forHop.apply(key));
            }
        }
        return new HopVerifiers(target, hops);
    }

    /** The verifier of the session connected to {@code address}: its hop's, else the target's. */
    CheckingHostKeyVerifier of(SocketAddress address) {
        if (address instanceof InetSocketAddress a) {
            CheckingHostKeyVerifier hop = hops.get(key(unbracketed(a.getHostString()), a.getPort()));
            if (hop != null) {
                return hop;
            }
        }
        return target;
    }

    /** Why a key was refused on the way (the target's own refusal first); null when none was. */
    Refusal refusal() {
        if (target.problem() != null) {
            return new Refusal(target.problem(), null, null);
        }
        for (Map.Entry<String, CheckingHostKeyVerifier> hop : hops.entrySet()) {
            HostKeyProblem p = hop.getValue().problem();
            if (p != null) {
                int colon = hop.getKey().lastIndexOf(':');
                return new Refusal(p, hop.getKey().substring(0, colon), Integer.parseInt(hop.getKey().substring(colon + 1)));
            }
        }
        return null;
    }

    private static String key(String host, int port) {
        return host + ":" + port;
    }

    private static String unbracketed(String host) {
        return host != null && host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }
}
