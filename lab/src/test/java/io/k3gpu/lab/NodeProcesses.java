package io.k3gpu.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A lab's own processes, told apart from other labs' (integration test classes run in parallel forks, each with its
 * lab): those in its nodes' network namespaces, which every process of a node, pods included, shares. Read the
 * namespaces before {@code Lab.down}, then check what is still in them after.
 */
public final class NodeProcesses {
    private NodeProcesses() {
    }

    /** The network namespaces ({@code net:[inode]}) of the lab's running nodes. */
    public static Set<String> namespaces(LabState lab) throws IOException {
        Set<String> ns = new HashSet<>();
        for (LabNode n : lab.nodes()) {
            ns.add(Files.readSymbolicLink(Path.of("/proc", Long.toString(n.pid()), "ns", "net")).toString());
        }
        return ns;
    }

    /** The command lines of the processes still in those namespaces. */
    public static List<String> left(Set<String> namespaces) throws IOException {
        List<String> left = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    boolean zombie = stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
                    // a zombie is gone, waiting for its parent (the host's init) to reap it
                    if (!zombie && namespaces.contains(Files.readSymbolicLink(p.resolve("ns/net")).toString())) {
                        left.add(Files.readString(p.resolve("cmdline")).replace('\0', ' ').strip());
                    }
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return left;
    }
}
