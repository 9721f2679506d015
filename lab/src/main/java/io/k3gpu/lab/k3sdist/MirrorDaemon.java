package io.k3gpu.lab.k3sdist;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The install mirror's HTTP server: {@code k3s-mirror.py}, a python3 daemon in the host's network namespace,
 * detached ({@code setsid -f}) so that it outlives the JVM that brought the lab up. Its pid is in
 * {@code <stateDir>/k3s-mirror.pid}, its log in {@code <stateDir>/k3s-mirror.log}; its command line names its script
 * under {@code <stateDir>}, which is how {@link #stop} recognises it (also after a crash lost the pid file).
 */
final class MirrorDaemon {
    static final String SCRIPT = "k3s-mirror.py";
    static final String PID_FILE = "k3s-mirror.pid";
    static final String LOG_FILE = "k3s-mirror.log";

    private MirrorDaemon() {
    }

    /**
     * Starts the mirror and returns once it accepts connections (10 s at most): plain HTTP on {@code port}, and HTTPS
     * on {@code httpsPort} with the certificate chain and key in {@code tlsDir} ({@link MirrorTls}).
     */
    static void start(Path stateDir, String bindIp, int port, Path root, int httpsPort, Path tlsDir)
            throws IOException {
        Path script = stateDir.resolve("lib").resolve(SCRIPT);
        Files.createDirectories(script.getParent());
        MirrorContent.write(script, MirrorContent.resource(SCRIPT), "rwxr-xr-x");
        Path pid = stateDir.resolve(PID_FILE);
        Files.deleteIfExists(pid);
        ProcessBuilder pb = new ProcessBuilder("setsid", "-f", "/usr/bin/python3", "-S", script.toString(), bindIp,
                Integer.toString(port), root.toString(), pid.toString(), Integer.toString(httpsPort),
                tlsDir.resolve(MirrorTls.SERVER_CERT).toString(), tlsDir.resolve(MirrorTls.SERVER_KEY).toString())
                .redirectInput(new File("/dev/null"))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(stateDir.resolve(LOG_FILE).toFile()))
                .redirectErrorStream(true);
        Process p = pb.start();
        try {
            p.waitFor();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (Files.exists(pid) && accepts(bindIp, port) && accepts(bindIp, httpsPort)) {
                    return;
                }
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "lab: interrupted", null, e);
        }
        String log = Files.exists(stateDir.resolve(LOG_FILE)) ? Files.readString(stateDir.resolve(LOG_FILE)).strip()
                : "";
        throw new K3gpuException(ExitCode.FAILED, "lab: the K3s install mirror did not start on " + bindIp + ":" + port
                + " and :" + httpsPort
                + (log.isEmpty() ? "" : ": " + log.lines().reduce((a, b) -> b).orElse("")),
                "see " + stateDir.resolve(LOG_FILE));
    }

    /** Stops the mirror of this lab, if one runs; waits until it has exited (5 s, then SIGKILL). */
    static void stop(Path stateDir) {
        List<ProcessHandle> mirrors = processes(stateDir);
        for (ProcessHandle h : mirrors) {
            h.destroy();
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (ProcessHandle h : mirrors) {
            while (alive(h.pid()) && System.nanoTime() < deadline) {
                sleep();
            }
            if (alive(h.pid())) {
                h.destroyForcibly();
                while (alive(h.pid())) {
                    sleep();
                }
            }
        }
    }

    /**
     * Whether {@code pid} still runs. Exited means dead here even while unreaped: the mirror's parent is the host's
     * init, which reaps when it will, and a zombie holds no port and no file.
     */
    static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
            return !state.equals("Z") && !state.equals("X");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static boolean running(Path stateDir) {
        return !processes(stateDir).isEmpty();
    }

    /** The mirror processes of this lab: the pid file's, else any whose command line runs this lab's script. */
    static List<ProcessHandle> processes(Path stateDir) {
        String script = stateDir.resolve("lib").resolve(SCRIPT).toString();
        List<ProcessHandle> out = new ArrayList<>();
        if (!Files.isDirectory(stateDir)) {
            return out;
        }
        Optional<ProcessHandle> fromFile = readPid(stateDir.resolve(PID_FILE)).flatMap(ProcessHandle::of);
        if (fromFile.isPresent() && runs(fromFile.get().pid(), script)) {
            out.add(fromFile.get());
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : ds) {
                long pid = Long.parseLong(p.getFileName().toString());
                if (runs(pid, script)) {
                    ProcessHandle.of(pid).ifPresent(out::add);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return out;
        }
        return out;
    }

    private static boolean runs(long pid, String script) {
        try {
            String cmd = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    StandardCharsets.UTF_8);
            return List.of(cmd.split("\0")).contains(script);
        } catch (IOException e) {
            return false;
        }
    }

    private static Optional<Long> readPid(Path file) {
        try {
            return Optional.of(Long.parseLong(Files.readString(file).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    static boolean accepts(String ip, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(ip, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "lab: interrupted", null, e);
        }
    }
}
