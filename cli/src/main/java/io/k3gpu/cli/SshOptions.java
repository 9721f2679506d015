package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.ssh.SshTarget;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * The SSH options of a command that reaches one node, with k3sup's names: {@code --ip} or {@code --host} (picocli
 * refuses both, a usage error before anything connects) and how to reach it ({@link SshConnection}).
 */
public final class SshOptions extends SshConnection {
    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Node node;

    /** Which node: an address or a host name, not both. */
    static final class Node {
        @Option(names = "--ip", paramLabel = "IP", required = true, description = "Address of the node.")
        String ip;

        @Option(names = "--host", paramLabel = "HOST", required = true,
                description = "Host name of the node (instead of --ip).")
        String host;
    }

    public SshOptions(Terminal terminal) {
        super(terminal);
    }

    /** The --ip or --host given; null when neither was. */
    @Override
    String node() {
        return node == null ? null : node.ip != null ? node.ip : node.host;
    }

    public String address() {
        String a = node();
        if (a == null || a.isBlank()) {
            throw new K3gpuException(ExitCode.USAGE, "no node given", "pass --ip ADDRESS (or --host NAME)");
        }
        return a;
    }

    public SshTarget target() {
        return target(sudoPassword());
    }

    public SshTarget target(char[] sudoPassword) {
        return target(address(), sudoPassword);
    }
}
