package io.k3gpu.core.fleet;

import io.k3gpu.core.ssh.HostKeyChecking;
import io.k3gpu.core.ssh.SshTarget;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How to reach hosts over SSH: the file's {@code ssh:} defaults, or a host's {@code ssh:} overrides. A null field
 * means "not said here": a host's falls back to the defaults', the defaults' to k3gpu's (as the SSH flags of the
 * other commands: ~/.ssh/config, then root and 22; ~/.ssh/known_hosts, accept-new, 10s).
 *
 * @param proxyJump    a bastion, {@code [user@]host[:port]} (comma-separated hops), as OpenSSH's ProxyJump
 * @param sudoPassword where the password for sudo comes from, for a user whose sudo asks for one; null: sudo must be
 *                     passwordless (or the user root)
 */
public record SshSettings(String user, Path key, Integer port, Path knownHosts, HostKeyChecking strictHostKeyChecking,
                          String proxyJump, Duration connectTimeout, Path sshConfig, SecretRef sudoPassword) {
    public static final SshSettings NONE = new SshSettings(null, null, null, null, null, null, null, null, null);
    private static final Path HOME_SSH = Path.of(System.getProperty("user.home"), ".ssh");

    /** These settings where said, {@code defaults} elsewhere. */
    public SshSettings over(SshSettings defaults) {
        return new SshSettings(
                user != null ? user : defaults.user,
                key != null ? key : defaults.key,
                port != null ? port : defaults.port,
                knownHosts != null ? knownHosts : defaults.knownHosts,
                strictHostKeyChecking != null ? strictHostKeyChecking : defaults.strictHostKeyChecking,
                proxyJump != null ? proxyJump : defaults.proxyJump,
                connectTimeout != null ? connectTimeout : defaults.connectTimeout,
                sshConfig != null ? sshConfig : defaults.sshConfig,
                sudoPassword != null ? sudoPassword : defaults.sudoPassword);
    }

    /** The SSH target of {@code address}, k3gpu's defaults filled in; {@code sudoPassword} read from its source. */
    public SshTarget target(String address, char[] sudoPassword) {
        return new SshTarget(address, port, user, key == null ? List.of() : List.of(key),
                knownHosts != null ? knownHosts : HOME_SSH.resolve("known_hosts"),
                strictHostKeyChecking != null ? strictHostKeyChecking : HostKeyChecking.ACCEPT_NEW,
                connectTimeout != null ? connectTimeout : Duration.ofSeconds(10),
                sshConfig != null ? sshConfig : HOME_SSH.resolve("config"), null, sudoPassword);
    }
}
