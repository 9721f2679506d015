package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.ssh.SshTarget;
import picocli.CommandLine.Option;

/** How to reach the K3s server over SSH (k3sup's --server-ip, --server-user, --server-ssh-port). */
public final class ServerOptions {
    @Option(names = "--server-ip", paramLabel = "IP", description = "Address of the K3s server.")
    String serverIp;

    @Option(names = "--server-host", paramLabel = "HOST", description = "Host name of the K3s server (instead of --server-ip).")
    String serverHost;

    @Option(names = "--server-user", paramLabel = "USER", description = "SSH user on the server (default: the --user value, else root).")
    String serverUser;

    @Option(names = "--server-ssh-port", paramLabel = "PORT", description = "SSH port of the server (default 22).")
    Integer serverSshPort;

    @Option(names = "--server-url", paramLabel = "URL", description = "The API URL agents use (default: https://SERVER:6443).")
    String serverUrl;

    String address() {
        String a = serverIp != null ? serverIp : serverHost;
        if (a == null || a.isBlank()) {
            throw new K3gpuException(ExitCode.USAGE, "no server given", "pass --server-ip ADDRESS of the K3s server");
        }
        return a;
    }

    String url() {
        return serverUrl != null ? serverUrl : "https://" + address() + ":6443";
    }

    /** The node's SSH settings, aimed at the server. */
    SshTarget target(SshTarget node) {
        return new SshTarget(address(), serverSshPort, serverUser != null ? serverUser : node.user(),
                node.identityFiles(), node.knownHosts(), node.hostKeyChecking(), node.connectTimeout(),
                node.sshConfig(), null, node.sudoPassword());
    }
}
