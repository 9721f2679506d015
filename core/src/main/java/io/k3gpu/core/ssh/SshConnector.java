package io.k3gpu.core.ssh;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.config.hosts.ConfigFileHostEntryResolver;
import org.apache.sshd.client.config.hosts.HostConfigEntry;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.keyprovider.KeyIdentityProvider;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.core.CoreModuleProperties;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Opens SSH sessions (Apache MINA SSHD) for one run of the tool: one client, one session per host, reused by every
 * command of the run. Host keys are checked against known_hosts with OpenSSH's modes; ~/.ssh/config is honoured
 * (HostName, User, Port, IdentityFile, ProxyJump).
 */
public final class SshConnector implements AutoCloseable {
    private static final int CONNECT_ATTEMPTS = 3;
    static final Duration HANDSHAKE_GRACE = Duration.ofSeconds(10);
    private static final AttributeRepository.AttributeKey<HopVerifiers> VERIFIERS =
            new AttributeRepository.AttributeKey<>();
    private final SshClient client;
    private final Consumer<String> warnings;
    private final Map<String, SshRemoteShell> open = new ConcurrentHashMap<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final Set<KeyPair> loadedKeys = ConcurrentHashMap.newKeySet();
    private volatile Duration stepTimeout;
    /** What the SSH handshake (key exchange and authentication) gets beyond the connect timeout. */
    private Duration handshakeGrace = HANDSHAKE_GRACE;

    /** A connector that tries ssh-agent keys from {@code SSH_AUTH_SOCK} of this process. */
    public SshConnector(Consumer<String> warnings) {
        this(warnings, System.getenv("SSH_AUTH_SOCK"));
    }

    /**
     * @param agentSocket the ssh-agent socket whose keys are tried after the key files; null for none
     */
    public SshConnector(Consumer<String> warnings, String agentSocket) {
        this.warnings = warnings;
        this.client = SshClient.setUpDefaultClient();
        CoreModuleProperties.TCP_NODELAY.set(client, true);
        // Sessions live for a whole run; a node busy installing K3s must not see its connection dropped.
        CoreModuleProperties.IDLE_TIMEOUT.set(client, Duration.ZERO);
        CoreModuleProperties.HEARTBEAT_INTERVAL.set(client, Duration.ofSeconds(30));
        client.setHostConfigEntryResolver((host, port, local, user, proxy, ctx) -> null);
        client.setAgentFactory(UnixSocketSshAgent.factoryFor(agentSocket));
        // Each connection carries its verifiers (mode, file, and why one refused) in its connect context; MINA
        // connects the ProxyJump hops with the same context, so each session picks the verifier of its own hop.
        client.setServerKeyVerifier((session, remote, key) -> {
            AttributeRepository context = session.getConnectionContext();
            HopVerifiers v = context == null ? null : context.getAttribute(VERIFIERS);
            return v != null && v.of(session.getConnectAddress()).verifyServerKey(session, remote, key);
        });
        // Jump hosts authenticate with every key this run has loaded (as OpenSSH uses the same identities).
        client.setKeyIdentityProvider(session -> List.copyOf(loadedKeys));
        client.start();
    }

    /** One deadline for every remote step of this run (--step-timeout); null: each step's own default. */
    public void stepTimeout(Duration override) {
        this.stepTimeout = override;
    }

    /** How many SSH connections this run has opened (the fleet benchmark checks one per host). */
    public int connectionsOpened() {
        return connections.get();
    }

    /** The session for {@code target}, opened on first use and reused afterwards. */
    public SshRemoteShell connect(SshTarget target) {
        return connect(target, null);
    }

    /**
     * The session for {@code target}, reached through {@code proxyJump} ({@code [user@]host[:port]}, comma-separated
     * for several hops, as OpenSSH's ProxyJump); null: as ~/.ssh/config says. Opened on first use, reused afterwards.
     */
    public SshRemoteShell connect(SshTarget target, String proxyJump) {
        String key = target.user() + "@" + target.host() + ":" + target.port();
        SshRemoteShell existing = open.get(key);
        if (existing != null && existing.isOpen()) {
            return existing;
        }
        SshRemoteShell shell = openSession(target, proxyJump);
        shell.stepTimeout(stepTimeout);
        open.put(key, shell);
        return shell;
    }

    /** Tests: a shorter handshake allowance than {@link #HANDSHAKE_GRACE}, so that timeouts are waited out fast. */
    SshConnector handshakeGrace(Duration grace) {
        this.handshakeGrace = grace;
        return this;
    }

    /**
     * Opens the session, trying again after a connect or handshake that timed out or found no route (a lossy or
     * flapping link, as k0sctl retries): {@value #CONNECT_ATTEMPTS} attempts, each with the whole connect timeout,
     * 1 s then 2 s apart. Refusals (host key, authentication, connection refused) are not retried.
     */
    private SshRemoteShell openSession(SshTarget target, String proxyJump) {
        for (int attempt = 1; ; attempt++) {
            try {
                return openSessionOnce(target, proxyJump);
            } catch (Unreachable e) {
                if (attempt >= CONNECT_ATTEMPTS) {
                    throw new K3gpuException(e.exitCode(), e.getMessage() + " (" + attempt + " attempts)", e.hint(), e);
                }
                warnings.accept(e.getMessage() + "; trying again (" + (attempt + 1) + " of " + CONNECT_ATTEMPTS + ")");
                try {
                    Thread.sleep(1000L * attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private SshRemoteShell openSessionOnce(SshTarget target, String proxyJump) {
        HostConfigEntry entry = resolve(target, proxyJump);
        String display = target.host();
        Duration timeout = target.connectTimeout();
        Path knownHosts = target.knownHosts();
        createParent(knownHosts);
        CheckingHostKeyVerifier verifier = new CheckingHostKeyVerifier(
                target.hostKeyChecking(), knownHosts, display, warnings);
        HopVerifiers verifiers = HopVerifiers.of(verifier, entry.getProxyJump(),
                hop -> new CheckingHostKeyVerifier(target.hostKeyChecking(), knownHosts, "jump host " + hop, warnings));
        List<KeyPair> keys = loadKeys(target, entry);
        loadedKeys.addAll(keys);
        ClientSession session = null;
        try {
            AttributeRepository context = AttributeRepository.ofKeyValuePair(VERIFIERS, verifiers);
            ConnectFuture future = client.connect(entry, context, null);
            if (!future.await(timeout)) {
                future.cancel();
                throw unreachable(target, entry, "no answer within " + seconds(timeout));
            }
            if (future.getException() != null) {
                // A jump host whose key is refused fails the connection before the target's session exists.
                throw refused(verifiers, target).orElseGet(() -> translateConnect(target, entry, future.getException()));
            }
            session = future.getSession();
            connections.incrementAndGet();
            for (KeyPair kp : keys) {
                session.addPublicKeyIdentity(kp);
            }
            if (target.password() != null) {
                // Asked for when password or keyboard-interactive auth starts, after the host key was checked: as
                // OpenSSH, a host whose key CHANGED (let through by mode no) gets no password.
                String password = new String(target.password());
                session.setPasswordIdentityProvider(
                        s -> verifier.changedKeyAccepted() ? List.of() : List.of(password));
            }
            session.setKeyIdentityProvider(KeyIdentityProvider.EMPTY_KEYS_PROVIDER);
            session.auth().verify(timeout.plus(handshakeGrace));
            if (target.sudoPassword() != null && verifier.changedKeyAccepted()) {
                throw new K3gpuException(ExitCode.SSH, "the host key of " + display + " has CHANGED: k3gpu sends no "
                        + "sudo password to it, even with --strict-host-key-checking no",
                        "if the node was reinstalled, remove the old key with: ssh-keygen -f " + knownHosts + " -R "
                                + knownHostsName(target.host(), target.port()));
            }
            return new SshRemoteShell(display, entry.getUsername(), session, target.sudoPassword());
        } catch (K3gpuException e) {
            closeQuietly(session);
            throw e;
        } catch (IOException | RuntimeException e) {
            closeQuietly(session);
            throw refused(verifiers, target)
                    .orElseGet(() -> translateAuth(target, entry, keys, verifier.changedKeyAccepted(), e));
        }
    }

    /** The error for a host key refused on the way to {@code target}, naming the hop that presented it. */
    private static Optional<K3gpuException> refused(HopVerifiers verifiers, SshTarget target) {
        HopVerifiers.Refusal r = verifiers.refusal();
        if (r == null) {
            return Optional.empty();
        }
        return Optional.of(r.host() == null ? hostKeyRefused(r.problem(), target.host(), target.port())
                : hostKeyRefused(r.problem(), r.host(), r.port()));
    }

    private HostConfigEntry resolve(SshTarget target, String proxyJump) {
        int port = target.port() == null ? 0 : target.port();
        HostConfigEntry fromConfig = null;
        if (target.sshConfig() != null && Files.isRegularFile(target.sshConfig())) {
            try {
                fromConfig = new ConfigFileHostEntryResolver(target.sshConfig())
                        .resolveEffectiveHost(target.host(), port, null, target.user(), null, null);
            } catch (IOException e) {
                throw new K3gpuException(ExitCode.USAGE, "cannot read " + target.sshConfig() + ": " + e.getMessage(),
                        "fix the file or pass --ssh-config /dev/null", e);
            }
        }
        String hostName = fromConfig != null && fromConfig.getHostName() != null ? fromConfig.getHostName() : target.host();
        String user = target.user() != null ? target.user()
                : fromConfig != null && fromConfig.getUsername() != null && !fromConfig.getUsername().isEmpty()
                ? fromConfig.getUsername() : "root";
        int effectivePort = target.port() != null ? target.port()
                : fromConfig != null && fromConfig.getPort() > 0 ? fromConfig.getPort() : 22;
        HostConfigEntry entry = new HostConfigEntry(target.host(), hostName, effectivePort, user,
                proxyJump != null ? proxyJump : fromConfig == null ? null : fromConfig.getProxyJump());
        if (fromConfig != null && fromConfig.getIdentities() != null) {
            entry.setIdentities(fromConfig.getIdentities());
        }
        return entry;
    }

    /** Explicit --ssh-key files, then the config's IdentityFile entries, then ~/.ssh/id_ed25519 or id_rsa. */
    private List<KeyPair> loadKeys(SshTarget target, HostConfigEntry entry) {
        Set<Path> files = new LinkedHashSet<>(target.identityFiles());
        if (entry.getIdentities() != null) {
            for (String id : entry.getIdentities()) {
                files.add(Path.of(id.replaceFirst("^~", System.getProperty("user.home"))));
            }
        }
        if (target.identityFiles().isEmpty()) {
            files.addAll(defaultIdentityFiles());
        }
        List<KeyPair> keys = new ArrayList<>();
        Map<Path, String> problems = new LinkedHashMap<>();
        for (Path file : files) {
            if (!Files.isRegularFile(file)) {
                if (target.identityFiles().contains(file)) {
                    throw new K3gpuException(ExitCode.USAGE, "SSH key " + file + " does not exist",
                            "create one with k3gpu ssh-keys, or pass --ssh-key with an existing private key");
                }
                continue;
            }
            try (InputStream in = Files.newInputStream(file)) {
                Iterable<KeyPair> loaded = SecurityUtils.loadKeyPairIdentities(null, () -> file.toString(), in,
                        FilePasswordProvider.EMPTY);
                if (loaded != null) {
                    loaded.forEach(keys::add);
                }
            } catch (IOException | GeneralSecurityException | RuntimeException e) {
                problems.put(file, e.getMessage());
            }
        }
        if (keys.isEmpty() && target.password() == null && !problems.isEmpty()) {
            Map.Entry<Path, String> first = problems.entrySet().iterator().next();
            throw new K3gpuException(ExitCode.SSH, "cannot load SSH key " + first.getKey() + ": " + first.getValue(),
                    "k3gpu needs an unencrypted private key (or one without a passphrase): pass --ssh-key");
        }
        return keys;
    }

    /** k3sup's default: ~/.ssh/id_ed25519 when present, else ~/.ssh/id_rsa. */
    public static List<Path> defaultIdentityFiles() {
        Path ssh = Path.of(System.getProperty("user.home"), ".ssh");
        Path ed = ssh.resolve("id_ed25519");
        return List.of(Files.exists(ed) ? ed : ssh.resolve("id_rsa"));
    }

    private static void createParent(Path knownHosts) {
        try {
            Path parent = knownHosts.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.SSH, "cannot create the directory of " + knownHosts + ": " + e.getMessage(),
                    "pass --known-hosts with a writable file");
        }
    }

    private static K3gpuException translateConnect(SshTarget target, HostConfigEntry entry, Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof UnknownHostException) {
            return new K3gpuException(ExitCode.SSH, "cannot resolve host " + entry.getHostName(),
                    "check --ip/--host and ~/.ssh/config", t);
        }
        if (root instanceof ConnectException) {
            return new K3gpuException(ExitCode.SSH, "connection refused by " + where(entry),
                    "is sshd running on the node and listening on port " + entry.getPort() + "?", t);
        }
        if (root instanceof NoRouteToHostException) {
            return unreachable(target, entry, "no route to host");
        }
        return new K3gpuException(ExitCode.SSH, "cannot connect to " + where(entry) + ": " + root.getMessage(),
                "check the address, the port and the network", t);
    }

    /** A connect or handshake that timed out or found no route: worth another attempt. */
    private static final class Unreachable extends K3gpuException {
        Unreachable(String message, String hint) {
            super(ExitCode.SSH, message, hint);
        }
    }

    private static K3gpuException unreachable(SshTarget target, HostConfigEntry entry, String why) {
        return new Unreachable("cannot reach " + where(entry) + ": " + why,
                "check that the node is on and its address is right (--connect-timeout is "
                        + seconds(target.connectTimeout()) + ")");
    }

    private static K3gpuException hostKeyRefused(HostKeyProblem p, String host, Integer port) {
        if (p.kind() == HostKeyProblem.Kind.CHANGED) {
            return new K3gpuException(ExitCode.SSH,
                    "REMOTE HOST IDENTIFICATION HAS CHANGED for " + p.host() + ": it presented " + p.presentedFingerprint()
                            + ", which differs from the key in " + p.knownHostsFile()
                            + (p.line() > 0 ? ":" + p.line() : "") + " (someone may be intercepting the connection)",
                    "if the node was reinstalled, remove the old key with: ssh-keygen -f " + p.knownHostsFile()
                            + " -R " + knownHostsName(host, port));
        }
        return new K3gpuException(ExitCode.SSH,
                "host key of " + p.host() + " (" + p.presentedFingerprint() + ") is not in " + p.knownHostsFile()
                        + " and --strict-host-key-checking is yes",
                "verify the fingerprint, then add it (ssh-keyscan " + (port == null || port == 22 ? "" : "-p " + port + " ")
                        + host + " >> " + p.knownHostsFile()
                        + ") or run once with --strict-host-key-checking accept-new");
    }

    private static String knownHostsName(String host, Integer port) {
        return port == null || port == 22 ? host : "'[" + host + "]:" + port + "'";
    }

    private static K3gpuException translateAuth(SshTarget target, HostConfigEntry entry, Collection<KeyPair> keys,
                                                boolean changedKey, Exception e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof SshException && msg.contains("No more authentication methods")) {
            String tried = keys.isEmpty() ? "no key could be loaded" : keys.size() + " key(s) tried";
            String password = target.password() == null ? ""
                    : changedKey ? ", no password sent: its host key has CHANGED" : ", password rejected";
            return new K3gpuException(ExitCode.SSH,
                    "permission denied for " + entry.getUsername() + "@" + where(entry) + " (" + tried + password + ")",
                    "copy your key to the node with: k3gpu ssh-keys --ip " + target.host() + " --user "
                            + entry.getUsername() + ", or pass --ssh-key / --user", e);
        }
        if (msg.contains("timeout") || msg.contains("Timeout")) {
            return unreachable(target, entry, "the SSH handshake did not finish within " + seconds(target.connectTimeout()));
        }
        return new K3gpuException(ExitCode.SSH, "SSH to " + where(entry) + " failed: " + msg,
                "run with --debug for details", e);
    }

    private static String where(HostConfigEntry entry) {
        return entry.getHostName() + ":" + entry.getPort();
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static void closeQuietly(ClientSession s) {
        if (s != null) {
            try {
                s.close(true);
            } catch (RuntimeException ignored) {
                // closing a half-open session: nothing to report
            }
        }
    }

    @Override
    public void close() {
        for (SshRemoteShell s : open.values()) {
            s.close();
        }
        open.clear();
        client.stop();
    }
}
