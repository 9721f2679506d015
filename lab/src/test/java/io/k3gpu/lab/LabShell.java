package io.k3gpu.lab;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * What the lab's integration tests run: commands on the host, on a lab node over the lab's ssh, and the real kubectl
 * with the cluster's kubeconfig; waiting for a condition; a test class's setup and cleanup. The static methods need no
 * lab; an instance is bound to one lab (its nodes' ssh), one kubeconfig and a work directory for manifests.
 */
public final class LabShell {
    /** How long any one command may run before the test fails. */
    static final long COMMAND_SECONDS = 300;
    /** How often {@link #await} checks again. */
    static final long POLL_MILLIS = 200;
    static final JsonMapper JSON = JsonMapper.builder().build();

    /** A finished command: its exit status, stdout (with stderr unless read apart) and stderr read apart. */
    public record Result(int exit, String out, String err) {
    }

    /** A condition {@link #await} checks until it holds. */
    @FunctionalInterface
    public interface Check {
        boolean done() throws Exception;
    }

    private final LabState lab;
    private final Path kubeconfig;
    private final Path work;
    private final boolean stderrApart;

    /**
     * @param lab        whose nodes {@link #ssh} reaches (null when the test has no lab)
     * @param kubeconfig for {@link #kubectl}; it may be written later, before the first kubectl
     * @param work       where {@link #apply} writes its manifests
     */
    public LabShell(LabState lab, Path kubeconfig, Path work) {
        this(lab, kubeconfig, work, false);
    }

    private LabShell(LabState lab, Path kubeconfig, Path work, boolean stderrApart) {
        this.lab = lab;
        this.kubeconfig = kubeconfig;
        this.work = work;
        this.stderrApart = stderrApart;
    }

    /** The same shell, but its commands' stderr is read apart from stdout ({@link Result#err}). */
    public LabShell withStderrApart() {
        return new LabShell(lab, kubeconfig, work, true);
    }

    // ------------------------------------------------------------------------------------------------- host

    /** Runs {@code cmd} on the host with {@code stdin} (or none), stderr merged into stdout. */
    public static Result run(List<String> cmd, String stdin) {
        return run(cmd, stdin, Map.of(), false);
    }

    /** Runs {@code cmd} on the host with {@code stdin} (or none) and {@code env} added, stderr read apart. */
    public static Result runApart(List<String> cmd, String stdin, Map<String, String> env) {
        return run(cmd, stdin, env, true);
    }

    private static Result run(List<String> cmd, String stdin, Map<String, String> env, boolean stderrApart) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(!stderrApart);
            pb.environment().putAll(env);
            Process p = pb.start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
            CompletableFuture<String> err = stderrApart
                    ? CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()))
                    : CompletableFuture.completedFuture("");
            try (var in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            assertThat(p.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)).as("%s finished", cmd).isTrue();
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** All of a stream, as UTF-8; closes it. */
    public static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sends SIGTERM to a process and waits for it (SIGKILL after 10 s), leaving its pipes open: {@link Process#destroy}
     * closes them, and a thread still reading stderr then fails with "Stream closed" and loses the last lines.
     */
    public static void terminate(Process p) throws InterruptedException {
        p.toHandle().destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Checks every {@value #POLL_MILLIS} ms until {@code check} holds; fails the test after {@code seconds}. */
    public static void await(String what, long seconds, Check check) throws Exception {
        await(what, seconds, check, () -> "");
    }

    /** As {@link #await(String, long, Check)}, and the failure tells {@code context} (what was seen then). */
    public static void await(String what, long seconds, Check check, Supplier<String> context) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!check.done()) {
            if (System.nanoTime() > deadline) {
                assertThat(System.nanoTime()).as("waited %d s for %s%s", seconds, what, context.get())
                        .isLessThan(deadline);
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    // ------------------------------------------------------------------------------------------------- setup

    /** Skips the test class unless it runs as root (a lab's namespaces and mounts need it). */
    public static void assumeRoot() {
        assumeThat(Lab.isRoot()).as("the lab needs root").isTrue();
    }

    /** Holds lab {@code id}'s lock file until the channel is closed: one test class at a time on a lab id. */
    public static FileChannel lockLab(String id) throws IOException {
        FileChannel lock = FileChannel.open(Path.of(System.getProperty("java.io.tmpdir"), "k3gpu-" + id + ".it-lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        lock.lock();
        return lock;
    }

    /** Deletes a test's work directory (manifests, kubeconfig: files only), if it was made. */
    public static void deleteWork(Path work) throws IOException {
        if (work != null) {
            try (var files = Files.list(work)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(work);
        }
    }

    // ------------------------------------------------------------------------------------------------- nodes

    /** Runs {@code command} as root on {@code node} over the lab's ssh, with {@code stdin} (or none). */
    public Result ssh(String node, String command, String stdin) {
        return run(lab.sshCommand(node, "root", command), stdin, Map.of(), stderrApart);
    }

    /** Runs {@code command} as root on {@code node}; fails the test unless it exits 0; returns its stdout. */
    public String sshOk(String node, String command) {
        Result r = ssh(node, command, null);
        assertThat(r.exit()).as("%s on %s: %s", command, node, r.out() + r.err()).isZero();
        return r.out();
    }

    // ------------------------------------------------------------------------------------------------- kubectl

    /** The real kubectl with this shell's kubeconfig. */
    public Result kubectl(String... args) {
        return kubectlWithInput(null, Map.of(), args);
    }

    /** The real kubectl with {@code stdin} (or none) and {@code env} added. */
    public Result kubectlWithInput(String stdin, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of("kubectl", "--kubeconfig", kubeconfig.toString()));
        cmd.addAll(List.of(args));
        return run(cmd, stdin, env, stderrApart);
    }

    /** kubectl that must exit 0; returns its stdout. */
    public String kubectlOk(String... args) {
        Result r = kubectl(args);
        assertThat(r.exit()).as("kubectl %s: %s", String.join(" ", args), r.out() + r.err()).isZero();
        return r.out();
    }

    /** {@code kubectl apply -f} of {@code manifest}, written to {@code <work>/<name>.yaml}. */
    public void apply(String name, String manifest) throws IOException {
        Path file = work.resolve(name + ".yaml");
        Files.writeString(file, manifest);
        kubectlOk("apply", "-f", file.toString());
    }

    /** The pod {@code name} of the default namespace, or an empty object where there is none. */
    public JsonNode pod(String name) {
        Result r = kubectl("get", "pod", name, "-o", "json");
        return r.exit() == 0 ? JSON.readTree(r.out()) : JSON.createObjectNode();
    }

    /** The pod's status.phase, or null where there is no such pod. */
    public String phase(String name) {
        JsonNode p = pod(name);
        return p.isEmpty() ? null : p.path("status").path("phase").asString("");
    }

    /** Waits for a pod to reach one of {@code phases}; returns the time it took in ms. */
    public long awaitPhase(String name, int seconds, String... phases) throws Exception {
        long t0 = System.nanoTime();
        await("pod " + name + " in " + List.of(phases), seconds, () -> List.of(phases).contains(phase(name)));
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** The events about {@code name} (any kind), each as "type reason message". */
    public List<String> events(String name) {
        List<String> out = new ArrayList<>();
        JsonNode list = JSON.readTree(kubectlOk("get", "events", "-o", "json"));
        for (JsonNode e : list.path("items")) {
            if (name.equals(e.path("involvedObject").path("name").asString(""))) {
                out.add(e.path("type").asString("") + " " + e.path("reason").asString("") + " "
                        + e.path("message").asString(""));
            }
        }
        return out;
    }
}
