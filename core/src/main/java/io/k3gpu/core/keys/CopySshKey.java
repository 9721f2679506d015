package io.k3gpu.core.keys;

import io.k3gpu.core.event.Events;
import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.RemoteCommandException;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.ssh.SshRemoteShell;
import io.k3gpu.core.ssh.SshTarget;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * ssh-copy-id, done safely: logs in once with a password, appends the public key (no duplicate line), optionally
 * for root too, then proves that key login works on a fresh connection and reports how sudo behaves.
 */
public final class CopySshKey {

    /**
     * @param userKey  "added" or "present" for the login user's authorized_keys
     * @param rootKey  the same for /root/.ssh/authorized_keys, or null when not asked for
     * @param sudo     "root" (logged in as root), "passwordless" or "needs a password"
     */
    public record Result(String host, String user, String privateKey, boolean keyCreated, String userKey,
                         String rootKey, boolean keyLoginWorks, String sudo) {
    }

    private final Events events;

    public CopySshKey(Events events) {
        this.events = events;
    }

    /** {@code target} carries the login password; its sudo password, if any, is used for --root. */
    public Result run(SshConnector connector, SshTarget target, LocalKeyPair pair, boolean alsoRoot) {
        byte[] keyLine = (pair.publicKeyLine() + "\n").getBytes(StandardCharsets.UTF_8);
        SshRemoteShell login = connector.connect(target);
        String host = login.host();
        String user = login.user();
        events.info(host, "logged in as " + user + "; authorizing " + pair.privateKey() + ".pub");
        String userKey = authorize(login, AuthorizedKeysCommands.authorize("~/.ssh", null), keyLine, false);
        String rootKey = null;
        if (alsoRoot) {
            rootKey = "root".equals(user) ? userKey
                    : authorize(login, AuthorizedKeysCommands.authorize("/root/.ssh", "root"), keyLine, true);
        }
        SshTarget keyOnly = target.withPassword(null).withIdentityFiles(List.of(pair.privateKey()));
        // Only the key itself: no password, no ssh-agent.
        try (SshConnector proof = new SshConnector(m -> events.warn(host, m), null)) {
            SshRemoteShell withKey = proof.connect(keyOnly);
            ExecResult who = withKey.exec("id -un");
            boolean works = who.ok() && who.stdout().strip().equals(user);
            String sudo;
            if ("root".equals(user)) {
                sudo = "root";
            } else {
                sudo = withKey.exec("sudo -n true").ok() ? "passwordless" : "needs a password";
            }
            return new Result(host, user, pair.privateKey().toString(), pair.created(), userKey, rootKey, works, sudo);
        }
    }

    private static String authorize(SshRemoteShell shell, String command, byte[] keyLine, boolean asRoot) {
        ExecResult r = asRoot ? shell.sudo(command, keyLine) : shell.exec(command, keyLine);
        if (!r.ok()) {
            throw new RemoteCommandException(shell.host(),
                    "adding the key to " + (asRoot ? "/root/.ssh/authorized_keys" : "~/.ssh/authorized_keys"), r);
        }
        String out = r.stdout().strip();
        return out.endsWith("present") ? "present" : "added";
    }

}
