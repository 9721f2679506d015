package io.k3gpu.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The k3gpu jar run as its own process, as a user runs it from a shell: for what an in-process run cannot show
 * (Ctrl-C, the JVM's shutdown hooks). Its output is collected line by line while it runs.
 */
final class K3gpuProcess {
    static final Path JAR = Path.of("target", "k3gpu.jar");
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final StringBuilder out = new StringBuilder();
    private final StringBuilder err = new StringBuilder();
    private final long started = System.nanoTime();
    private final Thread outReader;
    private final Thread errReader;
    private long ended;

    private K3gpuProcess(Process process) {
        this.process = process;
        this.outReader = reader(process.getInputStream(), out);
        this.errReader = reader(process.getErrorStream(), err);
    }

    static K3gpuProcess start(Map<String, String> env, String... args) throws IOException {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR.toAbsolutePath() + " is missing: run mvn verify (the package phase makes it)");
        }
        List<String> cmd = new ArrayList<>(List.of("java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar",
                JAR.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        return new K3gpuProcess(pb.start());
    }

    private Thread reader(InputStream in, StringBuilder into) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (lines) {
                        lines.add(line);
                        into.append(line).append('\n');
                        lines.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Waits until a line of its output (stdout or stderr) matches; false when it ended or the time ran out first. */
    boolean awaitLine(Predicate<String> match, double seconds) throws InterruptedException {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        synchronized (lines) {
            int seen = 0;
            while (true) {
                for (; seen < lines.size(); seen++) {
                    if (match.test(lines.get(seen))) {
                        return true;
                    }
                }
                long left = end - System.nanoTime();
                if (left <= 0 || !process.isAlive() && !outReader.isAlive() && !errReader.isAlive()) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lines, Math.min(left, 50_000_000L));
            }
        }
    }

    /** Ctrl-C: SIGINT to the JVM, as a terminal sends it. */
    void interrupt() throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).start().waitFor();
    }

    /** Its exit code, waiting up to {@code seconds}; the process is killed and -1 returned when it does not end. */
    int await(double seconds) throws InterruptedException {
        if (!process.waitFor((long) (seconds * 1000), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            ended = System.nanoTime();
            return -1;
        }
        ended = System.nanoTime();
        outReader.join(2000);
        errReader.join(2000);
        return process.exitValue();
    }

    /** Seconds from start to exit. */
    double seconds() {
        return (ended - started) / 1e9;
    }

    String out() {
        synchronized (lines) {
            return out.toString();
        }
    }

    String err() {
        synchronized (lines) {
            return err.toString();
        }
    }
}
