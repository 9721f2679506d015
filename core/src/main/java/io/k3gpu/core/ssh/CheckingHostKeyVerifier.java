package io.k3gpu.core.ssh;

import org.apache.sshd.client.config.hosts.KnownHostEntry;
import org.apache.sshd.client.keyverifier.KnownHostsServerKeyVerifier;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.KeyUtils;

import java.net.SocketAddress;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

/**
 * known_hosts verification with OpenSSH's StrictHostKeyChecking semantics. MINA's verifier does the matching
 * (hashed entries, [host]:port) and appends new keys; this class decides by mode and remembers why it refused.
 */
final class CheckingHostKeyVerifier extends KnownHostsServerKeyVerifier {
    /** Connections to many hosts may append to one known_hosts file at once. */
    private static final Object FILE_UPDATES = new Object();
    private final HostKeyChecking mode;
    private final Path file;
    private final String displayHost;
    private final Consumer<String> warnings;
    private volatile HostKeyProblem problem;
    private volatile boolean changedKeyAccepted;
    private volatile Throwable fileUpdateFailure;

    CheckingHostKeyVerifier(HostKeyChecking mode, Path file, String displayHost, Consumer<String> warnings) {
        super(delegateFor(mode), file);
        this.mode = mode;
        this.file = file;
        this.displayHost = displayHost;
        this.warnings = warnings;
    }

    private static ServerKeyVerifier delegateFor(HostKeyChecking mode) {
        // The delegate decides on keys that known_hosts does not hold at all.
        return (session, remote, key) -> mode != HostKeyChecking.YES;
    }

    HostKeyProblem problem() {
        return problem;
    }

    /** Whether a CHANGED key was let through (mode no): then, as OpenSSH, no password goes to this host. */
    boolean changedKeyAccepted() {
        return changedKeyAccepted;
    }

    String displayHost() {
        return displayHost;
    }

    @Override
    protected boolean acceptUnknownHostKey(ClientSession session, SocketAddress remote, PublicKey key) {
        if (mode == HostKeyChecking.YES) {
            problem = new HostKeyProblem(HostKeyProblem.Kind.UNKNOWN, displayHost, file.toString(), -1,
                    KeyUtils.getFingerPrint(key));
            return false;
        }
        boolean accepted;
        synchronized (FILE_UPDATES) {
            fileUpdateFailure = null;
            accepted = super.acceptUnknownHostKey(session, remote, key);
        }
        if (accepted) {
            Throwable failed = fileUpdateFailure;
            String what = KeyUtils.getKeyType(key) + " host key of " + displayHost + " (" + KeyUtils.getFingerPrint(key) + ")";
            warnings.accept(failed == null ? "permanently added the " + what + " to " + file
                    : "could not add the " + what + " to " + file + " (" + reason(failed)
                    + "): it is trusted for this run only and will be new again next time");
        }
        return accepted;
    }

    /** MINA accepts the key even when known_hosts cannot be written; remember why, to say so. */
    @Override
    protected void handleKnownHostsFileUpdateFailure(ClientSession session, SocketAddress remote, PublicKey key,
                                                     Path path, Collection<HostEntryPair> entries, Throwable reason) {
        fileUpdateFailure = reason;
    }

    private static String reason(Throwable t) {
        if (t instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (t instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /**
     * OpenSSH compares a presented key only with known keys of the same type: a host listed with its RSA and ECDSA
     * keys that presents Ed25519 is new, not changed. MINA looks at the first entry only, so the choice is made here.
     */
    @Override
    protected boolean acceptKnownHostEntries(ClientSession session, SocketAddress remote, PublicKey serverKey,
                                             Collection<HostEntryPair> knownHosts) {
        List<HostEntryPair> forHost = findKnownHostEntries(session, remote, knownHosts);
        for (HostEntryPair pair : forHost) {
            if (KeyUtils.compareKeys(pair.getServerKey(), serverKey)) {
                if ("revoked".equals(pair.getHostEntry().getMarker())) {
                    handleRevokedKey(session, remote, serverKey);
                    return false;
                }
                return true;
            }
        }
        String type = KeyUtils.getKeyType(serverKey);
        for (HostEntryPair pair : forHost) {
            if (type.equals(KeyUtils.getKeyType(pair.getServerKey()))) {
                return acceptChanged(pair.getHostEntry(), serverKey);
            }
        }
        return acceptUnknownHostKey(session, remote, serverKey);
    }

    private boolean acceptChanged(KnownHostEntry entry, PublicKey actual) {
        int line = KnownHostsLines.lineOf(file, entry);
        String where = file + (line > 0 ? ":" + line : "");
        if (mode == HostKeyChecking.NO) {
            // Like OpenSSH with StrictHostKeyChecking=no: go on, warn, and leave the offending entry alone.
            warnings.accept("WARNING: the host key of " + displayHost + " has CHANGED (offending key in " + where
                    + "); continuing because --strict-host-key-checking=no, without sending it any password");
            changedKeyAccepted = true;
            return true;
        }
        problem = new HostKeyProblem(HostKeyProblem.Kind.CHANGED, displayHost, file.toString(), line,
                KeyUtils.getFingerPrint(actual));
        return false;
    }
}
