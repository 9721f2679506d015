package io.k3gpu.core.ssh;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.LineSplitter;
import io.k3gpu.core.remote.RemoteProcess;
import io.k3gpu.core.remote.RemoteShell;
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
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Consumer;

/** A {@link RemoteShell} over one MINA SSHD session; every command is a new exec channel on that session. */
public final class SshRemoteShell implements RemoteShell {
    private static final java.time.Duration OPEN_TIMEOUT = java.time.Duration.ofSeconds(30);
    private final String host;
    private final String user;
    private final ClientSession session;
    private final char[] sudoPassword;
    private volatile SudoMode sudoMode;

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

    @Override
    public ExecResult exec(String command, byte[] stdin) {
        return exec(command, stdin == null ? InputStream.nullInputStream() : new ByteArrayInputStream(stdin),
                stdin == null ? 0 : stdin.length);
    }

    /** Runs {@code command} with {@code length} bytes of {@code stdin}, streamed (the window bounds the memory). */
    private ExecResult exec(String command, InputStream stdin, long length) {
        try (ChannelExec channel = session.createExecChannel(command)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            channel.setOut(out);
            channel.setErr(err);
            channel.open().verify();
            try (OutputStream in = channel.getInvertedIn()) {
                copy(stdin, length, in);
            } catch (IOException e) {
                // The command may exit without reading its input, or the source may end early: the command's status
                // tells what happened (an upload refuses what it did not receive whole).
            }
            Set<ClientChannelEvent> events = channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), 0L);
            Integer status = channel.getExitStatus();
            if (status == null) {
                String signal = channel.getExitSignal();
                if (signal == null && !events.contains(ClientChannelEvent.EXIT_STATUS) && !session.isOpen()) {
                    throw new K3gpuException(ExitCode.SSH, "the SSH connection to " + host + " was lost",
                            "check the node and the network, then run again");
                }
                status = signal == null ? 255 : 128 + signalNumber(signal);
            }
            return new ExecResult(status, out.toByteArray(), err.toByteArray());
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.SSH, "SSH channel to " + host + " failed: " + e.getMessage(),
                    "check the node and the network, then run again", e);
        }
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

    @Override
    public ExecResult sudo(String command, byte[] stdin) {
        return sudo(command, stdin == null ? InputStream.nullInputStream() : new ByteArrayInputStream(stdin),
                stdin == null ? 0 : stdin.length);
    }

    @Override
    public ExecResult sudo(String command, InputStream stdin, long length) {
        SudoMode mode = sudoMode();
        if (mode != SudoMode.PASSWORD) {
            return exec(mode.wrap(command), stdin, length);
        }
        // sudo -S reads the password line, then the command gets the rest of stdin.
        byte[] password = passwordLine();
        try {
            return exec(mode.wrap(command), new SequenceInputStream(new ByteArrayInputStream(password), stdin),
                    password.length + length);
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
        byte[] password = passwordLine();
        ExecResult check;
        try {
            check = exec(SudoMode.PASSWORD.wrap("true"), password);
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
