package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.keys.CopySshKey;
import io.k3gpu.core.keys.KeyType;
import io.k3gpu.core.keys.LocalKeyPair;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.ssh.SshTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "ssh-keys",
        description = {"Create a key pair when missing and authorize it on the node (ssh-keygen + ssh-copy-id, safely).",
                "Logs in once with the password (prompt, --password-stdin or K3GPU_SSH_PASSWORD), appends the public key",
                "to ~/.ssh/authorized_keys without duplicating it (with --root also to /root/.ssh/authorized_keys),",
                "then proves that key login works and reports whether sudo is passwordless."})
final class SshKeysCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    SshOptions ssh;

    @Mixin
    OutputOptions output;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "ed25519", description = "ed25519 (default) or rsa.")
    String type;

    @Option(names = "--bits", paramLabel = "N", defaultValue = "4096", description = "RSA key size (default: ${DEFAULT-VALUE}).")
    int bits;

    @Option(names = "--key", paramLabel = "PATH",
            description = "Private key to create or use (default: ~/.ssh/id_ed25519, or ~/.ssh/id_rsa with --type rsa).")
    Path key;

    @Option(names = "--root", description = "Also authorize the key for root (/root/.ssh/authorized_keys), through sudo.")
    boolean root;

    @Option(names = "--password-stdin", description = "Read the login password from the first line of stdin.")
    boolean passwordStdin;

    SshKeysCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshOptions(terminal);
    }

    @Override
    public Integer call() {
        boolean json = output.json();
        KeyType keyType = KeyType.parse(type);
        if (keyType == KeyType.RSA && bits < 2048) {
            throw new K3gpuException(ExitCode.USAGE, "--bits " + bits + " is too small", "use 2048 or more (4096 is the default)");
        }
        Path keyPath = key != null ? key : Path.of(System.getProperty("user.home"), ".ssh", keyType.defaultFileName());
        String address = ssh.address();
        char[] password = password(address);
        LocalKeyPair pair = LocalKeyPair.ensure(keyPath, keyType, bits, "k3gpu@" + localHostName());
        ConsoleEvents events = new ConsoleEvents(terminal.err());
        if (pair.created()) {
            events.info(null, "created " + keyPath + " and " + keyPath + ".pub");
        }
        // The login password doubles as the sudo password for --root, as it does for ssh-copy-id users.
        SshTarget target = ssh.target(password).withPassword(password);
        try (SshConnector connector = ssh.connector()) {
            CopySshKey.Result r = new CopySshKey(events).run(connector, target, pair, root);
            if (json) {
                terminal.out().println(Json.pretty(r));
            } else {
                terminal.out().println(r.host() + ": key " + r.privateKey() + ".pub " + r.userKey() + " for " + r.user()
                        + (r.rootKey() == null ? "" : ", " + r.rootKey() + " for root")
                        + "; key login " + (r.keyLoginWorks() ? "works" : "FAILED") + "; sudo: " + r.sudo());
                if (r.keyLoginWorks()) {
                    terminal.out().println("next: k3gpu facts --ip " + address + " --user " + r.user()
                            + (key != null ? " --ssh-key " + keyPath : ""));
                }
            }
            if (!r.keyLoginWorks()) {
                throw new K3gpuException(ExitCode.FAILED, "the key was added but key login to " + address + " still fails",
                        "check sshd's PubkeyAuthentication and AuthorizedKeysFile settings on the node");
            }
            return 0;
        }
    }

    private char[] password(String address) {
        if (passwordStdin) {
            return terminal.secretFromStdin("--password-stdin");
        }
        String env = terminal.env("K3GPU_SSH_PASSWORD");
        if (env != null && !env.isEmpty()) {
            return env.toCharArray();
        }
        char[] typed = terminal.prompt("password for " + (ssh.user == null ? "root" : ssh.user) + "@" + address + ": ");
        if (typed == null || typed.length == 0) {
            throw new K3gpuException(ExitCode.USAGE, "no password to log in with",
                    "type it at the prompt, pipe it with --password-stdin, or set K3GPU_SSH_PASSWORD");
        }
        return typed;
    }

    private static String localHostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }
}
