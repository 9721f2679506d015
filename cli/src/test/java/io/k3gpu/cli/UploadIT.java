package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.RemoteFileCommands;
import io.k3gpu.core.remote.RemoteFiles;
import io.k3gpu.core.remote.RemoteShell;
import io.k3gpu.core.remote.RemoteStep;
import io.k3gpu.core.remote.Upload;
import io.k3gpu.core.ssh.HostKeyChecking;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.ssh.SshRemoteShell;
import io.k3gpu.core.ssh.SshTarget;
import io.k3gpu.lab.LabUser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Issue 10, hole 2: an upload cut mid-way is never committed; a large one is streamed and arrives whole. */
class UploadIT {
    private static final String K3S = "/usr/local/bin/k3s";
    static TestLab lab;

    @TempDir
    Path tmp;

    @BeforeAll
    static void up() {
        lab = TestLab.up("itupld", 244, "cpu-only", "jetson-nano");
    }

    @AfterAll
    static void down() {
        lab.close();
    }

    /** k3gpu's own SSH shell to {@code node} as {@code user}, with the sudo password when sudo asks for one. */
    private static SshRemoteShell connect(SshConnector connector, String node, String user) {
        LabUser u = lab.state.user(user);
        char[] sudoPassword = u.sudo() == LabUser.Sudo.PASSWORD ? u.password().toCharArray() : null;
        return connector.connect(target(lab.ip(node), user, sudoPassword));
    }

    private static SshTarget target(String ip, String user, char[] sudoPassword) {
        return new SshTarget(ip, 22, user, List.of(lab.state.keyFile()), lab.state.knownHostsFile(),
                HostKeyChecking.YES, Duration.ofSeconds(5), null, null, sudoPassword);
    }

    /** The real shell, except that stdin ends after half its bytes: what the node sees when the link drops. */
    private record HalfStdinShell(RemoteShell real) implements RemoteShell {
        @Override
        public String host() {
            return real.host();
        }

        @Override
        public ExecResult exec(String command, byte[] stdin, RemoteStep step) {
            return real.exec(command, stdin, step);
        }

        @Override
        public ExecResult sudo(String command, byte[] stdin, RemoteStep step) {
            return real.sudo(command, stdin == null ? null : java.util.Arrays.copyOf(stdin, stdin.length / 2), step);
        }

        @Override
        public ExecResult sudo(String command, InputStream stdin, long length, RemoteStep step) {
            return real.sudo(command, stdin, length / 2, step);
        }

        @Override
        public void close() {
            real.close();
        }
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = new byte[1 << 16];
            for (int n; (n = in.read(b)) > 0; ) {
                md.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Size and SHA-256: a readable stand-in for bytes in an assertion. */
    private static String describe(byte[] b) throws Exception {
        return b.length + " bytes, sha256 " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static String modeAndOwner(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p)) + " "
                + Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS) + ":"
                + Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
    }

    /** The upload's temporary files left in the directory of {@code abs} on the node. */
    private static List<String> temporaryFiles(String node, String abs) throws IOException {
        Path p = lab.path(node, abs);
        String prefix = p.getFileName() + ".k3gpu.";
        try (Stream<Path> s = Files.list(p.getParent())) {
            return s.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(prefix)).toList();
        }
    }

    /** An old k3s binary stand-in with its own mode and owner, so "untouched" can be checked to the byte. */
    private static byte[] installOld(String node, String abs) throws Exception {
        byte[] old = ("#!/bin/sh\necho 'the old k3s on " + node + "'\n").getBytes(StandardCharsets.UTF_8);
        lab.write(node, abs, new String(old, StandardCharsets.UTF_8));
        lab.sh(node, "chown 0:" + lab.state.user("k3gpu").uid() + " " + abs + " && chmod 0750 " + abs);
        return old;
    }

    @ParameterizedTest(name = "{0} as {1}")
    @CsvSource({"node1, root", "jetson1, alice"})
    void anUploadWhoseStdinEndsHalfWayFailsNamingFileAndNodeAndLeavesTheOldFile(String node, String user)
            throws Exception {
        byte[] old = installOld(node, K3S);
        String before = modeAndOwner(lab.path(node, K3S));
        byte[] random = new byte[1_500_000];
        new Random(1).nextBytes(random);
        String content = Base64.getEncoder().encodeToString(random);

        try (SshConnector connector = new SshConnector(m -> { })) {
            RemoteShell cut = new HalfStdinShell(connect(connector, node, user));
            K3gpuException e = catchThrowableOfType(K3gpuException.class,
                    () -> new RemoteFiles(cut, Clock.systemUTC()).writeAtomically(K3S, content, "0755"));

            assertThat(e).as("a cut upload must fail the step").isNotNull();
            assertThat(e.exitCode()).isEqualTo(ExitCode.REMOTE_COMMAND);
            assertThat(e.getMessage()).startsWith("writing " + K3S + " failed on " + lab.ip(node) + " (exit 45): ")
                    .contains(" of " + content.length() + " bytes arrived (the upload was cut); nothing was changed")
                    .doesNotContain("\n");
        }
        assertThat(describe(Files.readAllBytes(lab.path(node, K3S)))).isEqualTo(describe(old));
        assertThat(modeAndOwner(lab.path(node, K3S))).isEqualTo(before);
        assertThat(temporaryFiles(node, K3S)).isEmpty();
    }

    @Test
    void anUploadCutByTheSshClientDyingLeavesTheOldFile() throws Exception {
        String node = "node1";
        byte[] old = installOld(node, K3S);
        byte[] content = new byte[4 << 20];
        new Random(2).nextBytes(content);
        Upload upload = Upload.of(content);

        // The real OpenSSH client, killed half-way: sshd closes the command's stdin, and cat sees a plain EOF.
        Process ssh = new ProcessBuilder(lab.state.sshCommand(node, "root", RemoteFileCommands.atomicWrite(K3S, "0755")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        OutputStream in = ssh.getOutputStream();
        in.write(upload.header());
        in.write(content, 0, content.length / 2);
        in.flush();
        awaitTrue(() -> temporaryFiles(node, K3S).size() == 1, "the node is receiving");
        ssh.destroyForcibly();
        assertThat(ssh.waitFor(10, TimeUnit.SECONDS)).isTrue();

        awaitTrue(() -> temporaryFiles(node, K3S).isEmpty(), "the node has finished with the cut upload");
        assertThat(describe(Files.readAllBytes(lab.path(node, K3S)))).isEqualTo(describe(old));
    }

    /**
     * A link that dies mid-upload for real: the node's end of the TCP connection is destroyed ({@code ss -K}, a RST to
     * k3gpu), so sshd closes the command's stdin while k3gpu is still streaming the file.
     */
    @Test
    @Timeout(60)
    void aConnectionResetMidUploadFailsNamingFileAndNodeAndLeavesTheOldFile() throws Exception {
        String node = "node1";
        byte[] old = installOld(node, K3S);
        Path local = randomFile("k3s", 96, 4);
        Thread cutter = new Thread(() -> {
            try {
                awaitTrue(() -> temporaryBytes(node, K3S) > 8 << 20, "8 MB have arrived");
                Process ss = new ProcessBuilder("ip", "netns", "exec", lab.state.node(node).netns(),
                        "ss", "-K", "-t", "state", "established", "( sport = :22 )")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                ss.waitFor();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        K3gpuException e;
        try (SshConnector connector = new SshConnector(m -> { })) {
            RemoteFiles files = new RemoteFiles(connect(connector, node, "root"), Clock.systemUTC());
            cutter.start();
            e = catchThrowableOfType(K3gpuException.class, () -> files.writeAtomically(K3S, local, "0755"));
        }
        cutter.join();

        assertThat(e).as("a cut upload must fail the step").isNotNull();
        assertThat(e.exitCode()).as(e.getMessage()).isEqualTo(ExitCode.SSH);
        assertThat(e.getMessage()).contains(lab.ip(node)).contains(" while writing " + K3S + " (" + Files.size(local)
                + " bytes); the node has either the old file or the whole new one");
        awaitTrue(() -> temporaryFiles(node, K3S).isEmpty(), "the node has finished with the cut upload");
        assertThat(describe(Files.readAllBytes(lab.path(node, K3S)))).isEqualTo(describe(old));
    }

    private Path randomFile(String name, int megabytes, long seed) throws IOException {
        Path local = tmp.resolve(name);
        byte[] block = new byte[1 << 20];
        Random random = new Random(seed);
        try (OutputStream out = Files.newOutputStream(local)) {
            for (int i = 0; i < megabytes; i++) {
                random.nextBytes(block);
                out.write(block);
            }
        }
        return local;
    }

    private static long temporaryBytes(String node, String abs) throws IOException {
        long total = 0;
        for (String t : temporaryFiles(node, abs)) {
            try {
                total += Files.size(lab.path(node, abs).resolveSibling(t));
            } catch (NoSuchFileException renamedOrRemoved) {
                // gone between the listing and the look
            }
        }
        return total;
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void awaitTrue(Check check, String what) throws Exception {
        for (int i = 0; i < 100; i++) {
            if (check.holds()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not within 10 s: " + what);
    }

    @ParameterizedTest(name = "{0} as {1}")
    @CsvSource({"node1, root", "jetson1, alice", "jetson1, k3gpu"})
    void aMultiMegabyteFileStreamedFromDiskArrivesByteIdenticalWithItsMode(String node, String user) throws Exception {
        Path local = randomFile("k3s-airgap-images-amd64.tar", 12, 3);
        String remote = "/var/lib/rancher/k3s/agent/images/upload-" + user + ".tar";

        try (SshConnector connector = new SshConnector(m -> { })) {
            new RemoteFiles(connect(connector, node, user), Clock.systemUTC()).writeAtomically(remote, local, "0644");
        }

        Path onNode = lab.path(node, remote);
        assertThat(sha256(onNode)).isEqualTo(sha256(local));
        assertThat(modeAndOwner(onNode)).isEqualTo("rw-r--r-- 0:0");
        assertThat(temporaryFiles(node, remote)).isEmpty();
    }

    /**
     * An air-gap sized upload (200 MB) from a JVM whose heap could not hold it: the old readAllBytes failed here with
     * OutOfMemoryError. Runs {@link #main} in a child JVM with -Xmx64m.
     */
    @Test
    void aTwoHundredMegabyteUploadNeedsNoMoreThanASmallHeap() throws Exception {
        Path local = tmp.resolve("k3s-airgap-images-arm64.tar");
        try (RandomAccessFile f = new RandomAccessFile(local.toFile(), "rw")) {
            f.setLength(200L << 20);
            for (long at = 0; at < 200L << 20; at += 10L << 20) {
                f.seek(at);
                f.write(("block at " + at).getBytes(StandardCharsets.UTF_8));
            }
        }
        String remote = "/var/lib/rancher/k3s/agent/images/k3s-airgap-images-arm64.tar";
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-cp", classpath, UploadIT.class.getName(), lab.ip("jetson1"),
                lab.state.keyFile().toString(), lab.state.knownHostsFile().toString(), local.toString(), remote));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(sha256(lab.path("jetson1", remote))).isEqualTo(sha256(local));
        Files.delete(lab.path("jetson1", remote));
    }

    /** The child JVM of the small-heap test: uploads one file as root, with a heap smaller than the file. */
    public static void main(String[] args) throws IOException {
        if (Runtime.getRuntime().maxMemory() >= Files.size(Path.of(args[3]))) {
            System.out.println("the heap could hold the whole file: this run would prove nothing");
            System.exit(2);
        }
        SshTarget t = new SshTarget(args[0], 22, "root", List.of(Path.of(args[1])), Path.of(args[2]),
                HostKeyChecking.YES, Duration.ofSeconds(5), null, null, null);
        try (SshConnector connector = new SshConnector(m -> { })) {
            new RemoteFiles(connector.connect(t), Clock.systemUTC()).writeAtomically(args[4], Path.of(args[3]), "0644");
        }
    }
}
