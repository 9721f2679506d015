package io.k3gpu.cli;

import io.k3gpu.core.ssh.HostKeyChecking;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.ssh.SshTarget;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.nio.file.Path;
import java.util.List;

/**
 * How to reach nodes over SSH, with k3sup's names: the options every command that reaches nodes shares. Which node is
 * the caller's: {@link SshOptions} adds {@code --ip | --host}, {@code stats} and {@code exporter} add {@code --all}.
 */
public class SshConnection {
    private static final Path HOME_SSH = Path.of(System.getProperty("user.home"), ".ssh");
    private final Terminal terminal;

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

    public SshConnection(Terminal terminal) {
        this.terminal = terminal;
    }

    /** The node named on the command line, for warnings; null when there is none (or several). */
    String node() {
        return null;
    }

    /** A connector for this run; warnings (e.g. a newly recorded host key) go to stderr. */
    public SshConnector connector() {
        String node = node();
        return new SshConnector(m -> terminal.err().println("warning: " + (node == null ? "" : node + ": ") + m),
                terminal.env("SSH_AUTH_SOCK"));
    }

    /** The sudo password of --sudo-password-stdin (read from stdin), else null. */
    char[] sudoPassword() {
        return sudoPasswordStdin ? terminal.secretFromStdin("--sudo-password-stdin") : null;
    }

    /** These options for a host of their caller's choosing (one of several nodes). */
    public SshTarget target(String host, char[] sudoPassword) {
        return new SshTarget(host, sshPort, user, sshKey == null ? List.of() : List.of(sshKey), knownHosts,
                HostKeyChecking.parse(strictHostKeyChecking), connectTimeout,
                sshConfig, null, sudoPassword);
    }
}
