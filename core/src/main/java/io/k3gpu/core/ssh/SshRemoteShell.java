package io.k3gpu.core.ssh;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.LineSplitter;
import io.k3gpu.core.remote.RemoteProcess;
import io.k3gpu.core.remote.RemoteShell;
import io.k3gpu.core.remote.RemoteStep;
import io.k3gpu.core.remote.RemoteTimeoutException;
import io.k3gpu.core.remote.Shell;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** A {@link RemoteShell} over one MINA SSHD session; every command is a new exec channel on that session. */
public final class SshRemoteShell implements RemoteShell {
    private static final Duration OPEN_TIMEOUT = Duration.ofSeconds(30);
    /** How long past the node's own KILL the client still waits for the channel to close. */
    private static final Duration CLIENT_GRACE = Duration.ofSeconds(2);
    /** GNU timeout's exit status when the deadline passed (TERM sent), and after its KILL. */
    private static final int TIMEOUT_TERM = 124;
    private static final int TIMEOUT_KILL = 137;
    /** Ends a command's channel at its deadline even while its stdin is still being sent over a stalled link. */
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "k3gpu-ssh-deadlines");
        t.setDaemon(true);
        return t;
    });
    private final String host;
    private final String user;
    private final ClientSession session;
    private final char[] sudoPassword;
    private volatile SudoMode sudoMode;
    private volatile Duration stepTimeout;

    SshRemoteShell(String host, String user, ClientSession session, char[] sudoPassword) {
        this.host = host;
        this.user = user;
        this.session = session;
        this.sudoPassword = sudoPassword == null ? null : sudoPassword.clone();
    }

    @Override
    public String host() {
        return host;
    }

    public String user() {
        return user;
    }

    boolean isOpen() {
        return session.isOpen();
    }

    /** One deadline for every step of this session (--step-timeout); null: each step's own default. */
    void stepTimeout(Duration override) {
        this.stepTimeout = override;
    }

    @Override
    public ExecResult exec(String command, byte[] stdin, RemoteStep step) {
        Duration limit = step.limit(stepTimeout);
        return run(Shell.withDeadline(command, limit, step.tag()), bytes(stdin), length(stdin), step, limit);
    }

    /**
     * Runs a command line already bounded by {@code timeout} on the node, with {@code length} bytes of {@code stdin}
     * streamed to it, and bounds the wait for it here too.
     */
    private ExecResult run(String commandLine, InputStream stdin, long length, RemoteStep step, Duration limit) {
        long started = System.nanoTime();
        // The node's timeout ends the command at the deadline (KILL a few seconds later); a channel that is not
        // open, or still open, after that means the node or the link is stuck: stop waiting, report the step.
        Duration budget = limit.plusSeconds(Shell.KILL_AFTER_SECONDS).plus(CLIENT_GRACE);
        AtomicBoolean expired = new AtomicBoolean();
        try (ChannelExec channel = session.createExecChannel(commandLine)) {
            // Sending stdin blocks while the link stalls (the SSH window is full): the watchdog closes the channel.
            ScheduledFuture<?> watchdog = WATCHDOG.schedule(() -> {
                expired.set(true);
                channel.close(true);
            }, budget.toMillis(), TimeUnit.MILLISECONDS);
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                channel.setOut(out);
                channel.setErr(err);
                channel.open().verify(budget);
                try (OutputStream in = channel.getInvertedIn()) {
                    copy(stdin, length, in);
                } catch (IOException e) {
                    // The command may exit without reading its input, or the source may end early: the command's
                    // status tells what happened (an upload refuses what it did not receive whole).
                }
                long waitMillis = budget.toMillis() - (System.nanoTime() - started) / 1_000_000;
                Set<ClientChannelEvent> events = channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED),
                        Math.max(1, waitMillis));
                if (expired.get() || !events.contains(ClientChannelEvent.CLOSED)) {
                    channel.close(true);
                    throw new RemoteTimeoutException(host, step, limit);
                }
                return result(channel, events, out, err, started, step, limit);
            } finally {
                watchdog.cancel(false);
            }
        } catch (IOException e) {
            if (expired.get() || System.nanoTime() - started >= budget.toNanos()) {
                throw new RemoteTimeoutException(host, step, limit);
            }
            throw new K3gpuException(ExitCode.SSH, "SSH channel to " + host + " failed: " + e.getMessage(),
                    "check the node and the network, then run again", e);
        }
    }

    private ExecResult result(ChannelExec channel, Set<ClientChannelEvent> events, ByteArrayOutputStream out,
                              ByteArrayOutputStream err, long started, RemoteStep step, Duration limit) {
        Integer status = channel.getExitStatus();
        if (status == null) {
            String signal = channel.getExitSignal();
            if (signal == null && !events.contains(ClientChannelEvent.EXIT_STATUS) && !session.isOpen()) {
                throw new K3gpuException(ExitCode.SSH, "the SSH connection to " + host + " was lost",
                        "check the node and the network, then run again");
            }
            status = signal == null ? 255 : 128 + signalNumber(signal);
        }
        boolean pastDeadline = System.nanoTime() - started >= limit.toNanos();
        if (pastDeadline && (status == TIMEOUT_TERM || status == TIMEOUT_KILL)) {
            throw new RemoteTimeoutException(host, step, limit);
        }
        ExecResult result = new ExecResult(status, out.toByteArray(), err.toByteArray());
        if (status == 127 && result.stderr().matches("(?s).*\\btimeout: (command )?not found.*")) {
            throw new K3gpuException(ExitCode.REMOTE_COMMAND, host + " has no `timeout` command (GNU coreutils), "
                    + "which bounds every remote step", "install coreutils on the node");
        }
        return result;
    }

    /** Sends exactly {@code length} bytes of {@code source}, fewer only when it ends early. */
    private static void copy(InputStream source, long length, OutputStream in) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long left = length;
        while (left > 0) {
            int n = source.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                break;
            }
            in.write(buffer, 0, n);
            left -= n;
        }
        in.flush();
    }

    private static InputStream bytes(byte[] stdin) {
        return stdin == null ? InputStream.nullInputStream() : new ByteArrayInputStream(stdin);
    }

    private static long length(byte[] stdin) {
        return stdin == null ? 0 : stdin.length;
    }

    @Override
    public RemoteProcess start(String command, Consumer<String> stdoutLines, Consumer<String> stderrLines) {
        ChannelExec channel = null;
        try {
            channel = session.createExecChannel(command);
            LineSplitter out = new LineSplitter(stdoutLines);
            LineSplitter err = new LineSplitter(stderrLines);
            channel.setOut(out);
            channel.setErr(err);
            SshRemoteProcess process = new SshRemoteProcess(host, session, channel, out, err);
            channel.open().verify(OPEN_TIMEOUT);
            return process;
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close(true);
            }
            if (e instanceof K3gpuException k) {
                throw k;
            }
            throw new K3gpuException(ExitCode.SSH, "cannot start a command on " + host + ": " + e.getMessage(),
                    "check the node and the network, then run again", e);
        }
    }

    @Override
    public ExecResult sudo(String command, byte[] stdin, RemoteStep step) {
        return sudo(command, bytes(stdin), length(stdin), step);
    }

    @Override
    public ExecResult sudo(String command, InputStream stdin, long length, RemoteStep step) {
        SudoMode mode = sudoMode();
        Duration limit = step.limit(stepTimeout);
        if (mode != SudoMode.PASSWORD) {
            return run(mode.wrap(command, limit, step.tag()), stdin, length, step, limit);
        }
        // sudo -S reads the password line, then the command gets the rest of stdin.
        byte[] password = passwordLine();
        try {
            return run(mode.wrap(command, limit, step.tag()), new SequenceInputStream(new ByteArrayInputStream(password), stdin),
                    password.length + length, step, limit);
        } finally {
            Arrays.fill(password, (byte) 0);
        }
    }

    /** How this session gets root; found out once, on first use. */
    public SudoMode sudoMode() {
        SudoMode m = sudoMode;
        if (m == null) {
            m = detectSudo();
            sudoMode = m;
        }
        return m;
    }

    private SudoMode detectSudo() {
        if ("root".equals(user)) {
            return SudoMode.ROOT;
        }
        ExecResult probe = exec("sudo -n true", null);
        if (probe.ok()) {
            return SudoMode.NOPASSWD;
        }
        String why = probe.stderr();
        if (why.contains("not in the sudoers") || why.contains("may not run sudo")) {
            throw new K3gpuException(ExitCode.REMOTE_COMMAND, user + " on " + host + " may not use sudo",
                    "log in as root (--user root) or add " + user + " to the sudo group on the node");
        }
        if (probe.exitCode() == 127 || why.contains("sudo: not found") || why.contains("command not found")) {
            throw new K3gpuException(ExitCode.REMOTE_COMMAND, "sudo is not installed on " + host,
                    "log in as root with --user root, or install sudo on the node");
        }
        if (sudoPassword == null) {
            throw new K3gpuException(ExitCode.REMOTE_COMMAND,
                    "sudo on " + host + " needs a password for " + user,
                    "allow passwordless sudo on the node (echo '" + user + " ALL=(ALL) NOPASSWD: ALL' | sudo tee /etc/sudoers.d/"
                            + user + ") or pass the password with --sudo-password-stdin (in cluster.yaml: "
                            + "ssh: {sudoPassword: {env: NAME}})");
        }
        RemoteStep step = RemoteStep.command("checking sudo's password");
        Duration limit = step.limit(stepTimeout);
        byte[] password = passwordLine();
        ExecResult check;
        try {
            check = run(SudoMode.PASSWORD.wrap("true", limit), bytes(password), password.length, step, limit);
        } finally {
            Arrays.fill(password, (byte) 0);
        }
        if (!check.ok()) {
            throw new K3gpuException(ExitCode.REMOTE_COMMAND,
                    "sudo on " + host + " rejected the password given for " + user,
                    "check the password passed with --sudo-password-stdin (or cluster.yaml's ssh.sudoPassword)");
        }
        return SudoMode.PASSWORD;
    }

    private byte[] passwordLine() {
        return new String(sudoPassword).concat("\n").getBytes(StandardCharsets.UTF_8);
    }

    static int signalNumber(String signal) {
        return switch (signal) {
            case "HUP" -> 1;
            case "INT" -> 2;
            case "KILL" -> 9;
            case "TERM" -> 15;
            case "PIPE" -> 13;
            default -> 0;
        };
    }

    @Override
    public void close() {
        try {
            session.close(false).await(java.time.Duration.ofSeconds(5));
        } catch (IOException e) {
            // closing: nothing left to report
        }
    }
}
