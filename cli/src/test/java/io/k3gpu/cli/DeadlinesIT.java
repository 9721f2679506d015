package io.k3gpu.cli;

import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Every remote step has a deadline (issue 10, hole 1), and Ctrl-C mid-change rolls back (hole 8). */
@Tag("timed")
class DeadlinesIT {
    private static final String DAEMON_JSON = "/etc/docker/daemon.json";
    private static final String ORIGINAL = "{\n  \"data-root\": \"/var/lib/docker\",\n  \"log-driver\": \"json-file\",\n"
            + "  \"runtimes\": {\"nvidia\": {\"path\": \"nvidia-container-runtime\", \"runtimeArgs\": []}}\n}\n";
    static TestLab lab;

    @BeforeAll
    static void up() {
        // jetson1, jetson2, node1; for apply: jetson3, node2, node3; for the lost link: jetson4
        lab = TestLab.up("itdeadl", 243, "jetson-nano", "jetson-nano", "cpu-only", "jetson-nano", "cpu-only",
                "cpu-only", "jetson-nano");
    }

    @AfterAll
    static void down() {
        lab.close();
    }

    /** The node's daemon.json as the test wants it, Docker running with it, and its next start wedged. */
    private static void wedgeTheNextDockerStart(String node) throws Exception {
        lab.write(node, DAEMON_JSON, ORIGINAL);
        lab.sh(node, "systemctl restart docker");
        lab.write(node, "/etc/k3gpu-lab/faults/dockerd-hang-starts", "1\n");
    }

    /** Command lines on the node matching the extended regex (the bracket keeps pgrep from matching this shell). */
    private static String processesMatching(String node, String regex) throws Exception {
        String left = "";
        for (int i = 0; i < 30; i++) {
            left = lab.sh(node, "pgrep -af '" + regex + "' || true").strip();
            if (left.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        return left;
    }

    @Test
    void gpuRuntimeGivesUpOnAWedgedDockerWithinItsDeadlineAndRestoresDaemonJson() throws Exception {
        String node = "jetson1";
        wedgeTheNextDockerStart(node);

        long t0 = System.nanoTime();
        Cli.Result r = Cli.run(TestLab.args("gpu-runtime", lab.ssh(node), "--step-timeout", "3s"));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);

        assertThat(r.exit()).as(r.err()).isEqualTo(7);
        assertThat(seconds).as("3s for docker info, then the rollback's restart").isLessThan(15);
        String error = r.err().lines().filter(l -> l.startsWith("error: ")).findFirst().orElse("");
        assertThat(error).startsWith("error: waiting for docker to answer docker info on " + lab.ip(node)
                        + " did not finish within 3s; " + DAEMON_JSON + " was restored from " + DAEMON_JSON
                        + ".k3gpu-backup-")
                .contains(" and docker restarted");
        assertThat(Files.readAllBytes(lab.path(node, DAEMON_JSON))).isEqualTo(ORIGINAL.getBytes(StandardCharsets.UTF_8));
        assertThat(processesMatching(node, "docke[r] info")).as("docker info left on the node").isEmpty();
        assertThat(lab.sh(node, "docker info --format '{{.DefaultRuntime}}'").strip()).isEqualTo("runc");
    }

    @Test
    void anInstallScriptThatNeverEndsIsKilledOnTheNodeAtItsDeadline() throws Exception {
        K3sDistribution k3s = K3sDistribution.of(lab.state);
        Files.writeString(k3s.mirrorDir().resolve("never-ends.sh"), "#!/bin/sh\necho started\nsleep 3601\n");

        long t0 = System.nanoTime();
        Cli.Result r = Cli.run(TestLab.args("install", lab.ssh("node1"), "--install-url",
                k3s.mirrorUrl() + "/never-ends.sh", "--step-timeout", "3s", "--local-path",
                lab.state.stateDir().resolve("never.kubeconfig").toString()));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);

        assertThat(r.exit()).as(r.err()).isEqualTo(7);
        assertThat(seconds).isLessThan(12);
        assertThat(r.err().strip()).endsWith("error: running the K3s install script on " + lab.ip("node1")
                + " did not finish within 3s; the script was stopped on the node; run the same command again to "
                + "finish the install, or k3gpu reset --ip " + lab.ip("node1") + " to remove what it installed");
        assertThat(processesMatching("node1", "slee[p] 3601")).as("the script's sleep left on the node").isEmpty();
    }

    @Test
    void inApplyAHostWhoseDockerWedgesFailsAloneAndTheOthersFinish() throws Exception {
        wedgeTheNextDockerStart("jetson3");
        Path dir = Files.createDirectories(lab.state.stateDir().resolve("apply-it"));
        Path file = dir.resolve("cluster.yaml");
        Files.writeString(file, """
                cluster:
                  installUrl: %s
                  readyTimeout: 60s
                  kubeconfig: {path: kubeconfig, context: itdeadl}
                ssh:
                  key: %s
                  knownHosts: %s
                  sshConfig: /dev/null
                  connectTimeout: 3s
                hosts:
                  - {name: cp, address: %s, role: server, gpu: none}
                  - {name: stuck, address: %s, role: agent, gpu: docker}
                  - {name: plain, address: %s, role: agent, gpu: none}
                """.formatted(K3sDistribution.of(lab.state).installUrl(), lab.state.keyFile(),
                lab.state.knownHostsFile(), lab.ip("node2"), lab.ip("jetson3"), lab.ip("node3")));

        Cli.Result r = Cli.run("apply", "-f", file.toString(), "--step-timeout", "10s");

        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).contains("  cp: changed").contains("  plain: changed")
                .contains("  stuck: failed: waiting for docker to answer docker info on " + lab.ip("jetson3")
                        + " did not finish within 10s; " + DAEMON_JSON + " was restored from ")
                .contains("2 changed, 0 unchanged, 1 failed");
        assertThat(dir.resolve("kubeconfig")).isRegularFile();
        assertThat(Files.readAllBytes(lab.path("jetson3", DAEMON_JSON)))
                .isEqualTo(ORIGINAL.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void ctrlCDuringTheRestartRollsBackAndExits130() throws Exception {
        String node = "jetson2";
        wedgeTheNextDockerStart(node);
        Path errFile = lab.state.stateDir().resolve("ctrl-c.err");
        Process p = k3gpuJar(errFile, TestLab.args("gpu-runtime", lab.ssh(node), "--step-timeout", "60s"));
        try {
            awaitWedged(node, () -> !p.isAlive());
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
            assertThat(p.waitFor(40, TimeUnit.SECONDS)).as("k3gpu ended after Ctrl-C").isTrue();
        } finally {
            p.destroyForcibly();
        }
        String err = Files.readString(errFile);
        assertThat(p.exitValue()).as(err).isEqualTo(130);
        assertThat(err).contains("error: interrupted\n")
                .containsPattern("interrupted: " + lab.ip(node).replace(".", "\\.") + ": rolled back: "
                        + DAEMON_JSON + " was restored from " + DAEMON_JSON + "\\.k3gpu-backup-\\d{8}T\\d{6}Z"
                        + " and docker restarted\n");
        assertThat(Files.readAllBytes(lab.path(node, DAEMON_JSON))).isEqualTo(ORIGINAL.getBytes(StandardCharsets.UTF_8));
        assertThat(lab.sh(node, "docker info --format '{{.DefaultRuntime}}'").strip()).isEqualTo("runc");
    }

    @Test
    void aLinkLostDuringTheRestartSaysWhatWasLeftAndWhichBackupRestoresIt() throws Exception {
        String node = "jetson4";
        wedgeTheNextDockerStart(node);
        String veth = lab.state.node(node).veth();
        CompletableFuture<Cli.Result> run = CompletableFuture.supplyAsync(
                () -> Cli.run(TestLab.args("gpu-runtime", lab.ssh(node), "--step-timeout", "3s")));
        Cli.Result r;
        try {
            awaitWedged(node, run::isDone);
            ip("link", "set", veth, "down");
            r = run.get(60, TimeUnit.SECONDS);
        } finally {
            ip("link", "set", veth, "up");
        }

        assertThat(r.exit()).as(r.err()).isEqualTo(7);
        String error = r.err().lines().filter(l -> l.startsWith("error: ")).findFirst().orElse("");
        Matcher m = Pattern.compile("^error: waiting for docker to answer docker info on " + Pattern.quote(lab.ip(node))
                + " did not finish within 3s; restoring " + DAEMON_JSON + " ALSO failed: restoring " + DAEMON_JSON
                + " from (\\S+) on \\S+ did not finish within 3s; restore it by hand from (\\S+) and restart docker$")
                .matcher(error);
        assertThat(m.find()).as(error).isTrue();
        assertThat(m.group(2)).isEqualTo(m.group(1));
        assertThat(Files.readAllBytes(lab.path(node, m.group(2))))
                .as("the backup the message names").isEqualTo(ORIGINAL.getBytes(StandardCharsets.UTF_8));
        assertThat(lab.read(node, DAEMON_JSON)).as("the new file, left in place").contains("\"default-runtime\"");
    }

    @Test
    void ctrlCDuringTheInstallScriptStopsItOnTheNodeAndSaysWhatToDo() throws Exception {
        K3sDistribution k3s = K3sDistribution.of(lab.state);
        Files.writeString(k3s.mirrorDir().resolve("never-ends-2.sh"), "#!/bin/sh\nsleep 3602\n");
        String ip = lab.ip("node1");
        Process p = k3gpuJar(lab.state.stateDir().resolve("ctrl-c-install.err"), TestLab.args("install",
                lab.ssh("node1"), "--install-url", k3s.mirrorUrl() + "/never-ends-2.sh", "--local-path",
                lab.state.stateDir().resolve("never2.kubeconfig").toString()));
        try {
            for (int i = 0; i < 100 && lab.sh("node1", "pgrep -f 'slee[p] 3602' || true").isBlank(); i++) {
                assertThat(p.isAlive()).isTrue();
                Thread.sleep(200);
            }
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
            assertThat(p.waitFor(40, TimeUnit.SECONDS)).as("k3gpu ended after Ctrl-C").isTrue();
            assertThat(lab.sh("node1", "pgrep -f 'slee[p] 3602' || true").strip()).as("the script's sleep").isEmpty();
        } finally {
            p.destroyForcibly();
            lab.sh("node1", "pkill -f 'slee[p] 3602' || true");
        }
        String err = Files.readString(lab.state.stateDir().resolve("ctrl-c-install.err"));
        assertThat(p.exitValue()).as(err).isEqualTo(130);
        assertThat(err).contains("error: interrupted\ninterrupted: " + ip + ": rolled back: the K3s install script "
                + "was stopped there; run the same command again to finish the install, or k3gpu reset --ip " + ip
                + " to remove what it installed\n");
    }

    /** The real k3gpu jar in its own JVM (signals reach it as they reach a user's), stderr to {@code err}. */
    private static Process k3gpuJar(Path err, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", Path.of("target", "k3gpu.jar").toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile())
                .start();
    }

    private static void ip(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        assertThat(new ProcessBuilder(cmd).inheritIO().start().waitFor()).isZero();
    }

    /** Until the new daemon.json is in place and the restarted dockerd is stopped (k3gpu waits on docker info). */
    private static void awaitWedged(String node, BooleanSupplier k3gpuEnded) throws Exception {
        for (int i = 0; i < 150; i++) {
            if (k3gpuEnded.getAsBoolean()) {
                throw new IOException("k3gpu ended before the wedge");
            }
            String state = lab.sh(node, "p=$(cat /run/docker.pid 2>/dev/null) && cut -d')' -f2 /proc/$p/stat || true")
                    .strip();
            if (state.startsWith("T") && !lab.read(node, DAEMON_JSON).equals(ORIGINAL)) {
                Thread.sleep(500); // k3gpu's docker info is now waiting on the stopped daemon
                return;
            }
            Thread.sleep(200);
        }
        throw new IOException("the restarted dockerd never wedged");
    }
}
