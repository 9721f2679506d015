package io.k3gpu.core.ssh;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Where and how to reach one node. {@code user} and {@code port} may be null: then ~/.ssh/config decides, and
 * failing that root and 22 (k3sup's defaults). Explicit identity files come first; the defaults
 * (~/.ssh/id_ed25519, else ~/.ssh/id_rsa), the config's IdentityFile entries and ssh-agent keys are tried after.
 *
 * @param password     login password, only for {@code ssh-keys}; null otherwise
 * @param sudoPassword the password for {@code sudo -S}; null when sudo must be passwordless
 * @param sshConfig    an ssh_config file to honour; null for none
 */
public record SshTarget(
        String host,
        Integer port,
        String user,
        List<Path> identityFiles,
        Path knownHosts,
        HostKeyChecking hostKeyChecking,
        Duration connectTimeout,
        Path sshConfig,
        char[] password,
        char[] sudoPassword) {

    public SshTarget {
        identityFiles = List.copyOf(identityFiles);
    }

    public SshTarget withHost(String newHost) {
        return new SshTarget(newHost, port, user, identityFiles, knownHosts, hostKeyChecking, connectTimeout,
                sshConfig, password, sudoPassword);
    }

    public SshTarget withUser(String newUser) {
        return new SshTarget(host, port, newUser, identityFiles, knownHosts, hostKeyChecking, connectTimeout,
                sshConfig, password, sudoPassword);
    }

    public SshTarget withPassword(char[] newPassword) {
        return new SshTarget(host, port, user, identityFiles, knownHosts, hostKeyChecking, connectTimeout,
                sshConfig, newPassword, sudoPassword);
    }

    public SshTarget withIdentityFiles(List<Path> files) {
        return new SshTarget(host, port, user, files, knownHosts, hostKeyChecking, connectTimeout,
                sshConfig, password, sudoPassword);
    }

    @Override
    public String toString() {
        // Never print the secrets.
        return "SshTarget[" + (user == null ? "" : user + "@") + host + (port == null ? "" : ":" + port) + "]";
    }
}
