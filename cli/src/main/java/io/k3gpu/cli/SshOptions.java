package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.ssh.HostKeyChecking;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.ssh.SshTarget;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.nio.file.Path;
import java.util.List;

/** The SSH options every command that reaches a node shares, with k3sup's names. */
public final class SshOptions {
    private static final Path HOME_SSH = Path.of(System.getProperty("user.home"), ".ssh");
    private final Terminal terminal;

    @Option(names = "--ip", paramLabel = "IP", description = "Address of the node.")
    String ip;

    @Option(names = "--host", paramLabel = "HOST", description = "Host name of the node (instead of --ip).")
    String host;

    @Option(names = "--user", paramLabel = "USER",
            description = "SSH user (default: User from ~/.ssh/config, else root). Non-root users need sudo.")
    String user;

    @Option(names = "--ssh-key", paramLabel = "FILE",
            description = "Private key (default: ~/.ssh/id_ed25519 when present, else ~/.ssh/id_rsa; IdentityFile entries of ~/.ssh/config are tried too).")
    Path sshKey;

    @Option(names = "--ssh-port", paramLabel = "PORT", description = "SSH port (default: Port from ~/.ssh/config, else 22).")
    Integer sshPort;

    @Option(names = "--known-hosts", paramLabel = "FILE", description = "known_hosts file (default: ~/.ssh/known_hosts).")
    Path knownHosts = HOME_SSH.resolve("known_hosts");

    @Option(names = "--strict-host-key-checking", paramLabel = "MODE", defaultValue = "accept-new",
            description = "yes: only known hosts; accept-new (default): record new host keys, refuse changed ones; no: accept anything (with a warning).")
    String strictHostKeyChecking;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", defaultValue = "10s",
            description = "Give up connecting after this long (default: ${DEFAULT-VALUE}).")
    Duration connectTimeout;

    @Option(names = "--ssh-config", paramLabel = "FILE",
            description = "ssh_config file to honour (HostName, User, Port, IdentityFile, ProxyJump); default ~/.ssh/config.")
    Path sshConfig = HOME_SSH.resolve("config");

    @Option(names = "--sudo-password-stdin",
            description = "Read the sudo password from the first line of stdin (it is passed to sudo -S on stdin, never on a command line).")
    boolean sudoPasswordStdin;

    public SshOptions(Terminal terminal) {
        this.terminal = terminal;
    }

    public String address() {
        if (ip != null && host != null && !ip.equals(host)) {
            throw new K3gpuException(ExitCode.USAGE, "both --ip and --host were given", "pass only one of them");
        }
        String a = ip != null ? ip : host;
        if (a == null || a.isBlank()) {
            throw new K3gpuException(ExitCode.USAGE, "no node given", "pass --ip ADDRESS (or --host NAME)");
        }
        return a;
    }

    /** A connector for this run; warnings (e.g. a newly recorded host key) go to stderr. */
    public SshConnector connector() {
        String node = ip != null ? ip : host;
        return new SshConnector(m -> terminal.err().println("warning: " + (node == null ? "" : node + ": ") + m),
                terminal.env("SSH_AUTH_SOCK"));
    }

    public SshTarget target() {
        return target(sudoPasswordStdin ? terminal.secretFromStdin("--sudo-password-stdin") : null);
    }

    public SshTarget target(char[] sudoPassword) {
        return target(address(), sudoPassword);
    }

    /** These options for a host of their caller's choosing (one of several nodes). */
    public SshTarget target(String host, char[] sudoPassword) {
        return new SshTarget(host, sshPort, user, sshKey == null ? List.of() : List.of(sshKey), knownHosts,
                HostKeyChecking.parse(strictHostKeyChecking), connectTimeout,
                sshConfig, null, sudoPassword);
    }
}
