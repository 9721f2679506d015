package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A validated cluster.yaml: what the cluster should be. Pure data; {@link ClusterFile} makes it, plan / apply /
 * reset act on it. The first server in the file starts the cluster; with several servers it does so with embedded
 * etcd ({@code --cluster-init}) and the others join it as servers.
 *
 * @param file  the file it came from (for messages)
 * @param hosts in file order
 */
public record ClusterSpec(Path file, ClusterSettings cluster, SshSettings ssh, List<HostSpec> hosts) {
    public ClusterSpec {
        hosts = List.copyOf(hosts);
        if (hosts.stream().noneMatch(h -> h.role() == HostRole.SERVER)) {
            throw new IllegalArgumentException("a cluster needs a server");
        }
    }

    public HostSpec firstServer() {
        return servers().get(0);
    }

    public List<HostSpec> servers() {
        return hosts.stream().filter(h -> h.role() == HostRole.SERVER).toList();
    }

    /** The servers after the first, in file order. */
    public List<HostSpec> extraServers() {
        List<HostSpec> s = servers();
        return s.subList(1, s.size());
    }

    public List<HostSpec> agents() {
        return hosts.stream().filter(h -> h.role() == HostRole.AGENT).toList();
    }

    /** Several servers: embedded etcd, the first one with --cluster-init. */
    public boolean highAvailability() {
        return servers().size() > 1;
    }

    /** The API URL the other nodes join. */
    public String serverUrl() {
        return cluster.serverUrl() != null ? cluster.serverUrl() : "https://" + firstServer().address() + ":6443";
    }

    /** The host called {@code nameOrAddress} in the file. */
    public HostSpec host(String nameOrAddress) {
        for (HostSpec h : hosts) {
            if (h.name().equals(nameOrAddress) || h.address().equals(nameOrAddress)) {
                return h;
            }
        }
        List<String> names = new ArrayList<>();
        hosts.forEach(h -> names.add(h.name()));
        throw new K3gpuException(ExitCode.USAGE, file + " has no host '" + nameOrAddress + "'",
                "its hosts: " + String.join(", ", names));
    }

    /** Whether {@code h} is the server that starts the cluster. */
    public boolean isFirstServer(HostSpec h) {
        return h.equals(firstServer());
    }
}
