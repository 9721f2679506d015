package io.k3gpu.cli;

import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fault-injection suite: real faults on real lab nodes (a cut link, a slow link, a full disk, a wedged daemon, a
 * script that never ends, Ctrl-C) in the middle of k3gpu's changes to one node; {@link FaultFleetIT} has the faults
 * of a fleet's apply (the K3s server restarted, one agent cut off, packet loss and latency). For each: the exit code,
 * how long it took to fail, what is on the node afterwards (file hashes), and whether a plain re-run converges. The
 * results table goes to target/reliability.md (docs/reliability.md has a copy).
 */
@Tag("fault")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultIT {
    private static final String DAEMON_JSON = "/etc/docker/daemon.json";
    private static final String IMAGES = "/var/lib/rancher/k3s/agent/images";
    private static final FaultTable TABLE = new FaultTable("1-nodes");
    static TestLab lab;
    static K3sDistribution k3s;
    static Path dir;
    static Path kubeconfig;
    static byte[] stockDaemonJson;

    @BeforeAll
    static void up() throws Exception {
        lab = TestLab.up("itfault", 247, "cpu-only", "jetson-nano", "jetson-nano");
        k3s = K3sDistribution.of(lab.state);
        dir = Files.createTempDirectory("k3gpu-fault-it");
        kubeconfig = dir.resolve("kubeconfig");
        stockDaemonJson = Files.readAllBytes(lab.path("jetson1", DAEMON_JSON));
        Cli.Result server = k3gpu("install", "node1", "--install-url", k3s.installUrl(), "--local-path",
                kubeconfig.toString(), "--context", "fault");
        assertThat(server.exit()).as(server.err()).isZero();
    }

    @AfterAll
    static void down() throws Exception {
        if (lab != null) {
            for (var n : lab.state.nodes()) {
                Faults.restore(lab, n.name());
                Faults.fast(lab, n.name());
                Faults.noLoss(lab, n.name());
            }
            lab.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static Cli.Result k3gpu(String command, String node, String... more) {
        return Cli.run(TestLab.args(command, lab.ssh(node), more));
    }

    private static CompletableFuture<Cli.Result> k3gpuAsync(String command, String node, String... more) {
        return CompletableFuture.supplyAsync(() -> k3gpu(command, node, more));
    }

    private static String[] joinArgs(String node, String... more) {
        List<String> a = new ArrayList<>(List.of("join"));
        a.addAll(List.of(lab.ssh(node)));
        a.addAll(List.of("--server-ip", lab.ip("node1")));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    private static String dockerRuntime(String node) throws Exception {
        return lab.sh(node, "docker info --format '{{.DefaultRuntime}}'").strip();
    }

    /** Puts the node's daemon.json back to the lab's and restarts Docker (the stock node: runc by default). */
    private static void stockDocker(String node) throws Exception {
        lab.sh(node, "rm -f /etc/docker/daemon.json.k3gpu-backup-* /etc/docker/*.k3gpu.*");
        Files.write(lab.path(node, DAEMON_JSON), stockDaemonJson);
        lab.sh(node, "systemctl restart docker");
    }

    private static String kubectl(String... args) throws Exception {
        return Kubectl.run(kubeconfig, args).out();
    }

    private static double since(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    @Test
    @Order(1)
    void aFullDiskUnderEtcDockerFailsTheEditAndLeavesTheFileAsItWas() throws Exception {
        String node = "jetson1";
        lab.sh(node, "cp -a /etc/docker /tmp/docker-save && mount -t tmpfs -o size=64k tmpfs /etc/docker"
                + " && cp -a /tmp/docker-save/. /etc/docker/ && (dd if=/dev/zero of=/etc/docker/fill bs=1k 2>/dev/null; true)");
        try {
            String before = lab.sh(node, "sha256sum < " + DAEMON_JSON).strip();
            long start = System.nanoTime();
            Cli.Result r = k3gpu("gpu-runtime", node);
            double took = since(start);
            assertThat(r.exit()).as(r.all()).isNotZero();
            assertThat(r.err()).contains(DAEMON_JSON).contains(lab.ip(node));
            assertThat(lab.sh(node, "sha256sum < " + DAEMON_JSON).strip()).isEqualTo(before);
            assertThat(lab.sh(node, "ls -a /etc/docker")).doesNotContain(".k3gpu.").doesNotContain("k3gpu-backup");
            assertThat(dockerRuntime(node)).isEqualTo("runc");

            lab.sh(node, "rm -f /etc/docker/fill");
            Cli.Result again = k3gpu("gpu-runtime", node);
            assertThat(again.exit()).as(again.all()).isZero();
            assertThat(dockerRuntime(node)).isEqualTo("nvidia");
            TABLE.add(new FaultTable.Row("full disk (64 KiB tmpfs on /etc/docker, filled)", "daemon.json backup and edit",
                    "k3gpu gpu-runtime", r.exit(), took, "-", "daemon.json unchanged (same SHA-256), no temporary file, "
                    + "Docker still runc", "exit 0 once space is freed; default runtime nvidia"));
        } finally {
            lab.sh(node, "umount /etc/docker; rm -rf /tmp/docker-save; systemctl restart docker");
        }
    }

    @Test
    @Order(2)
    void aLinkCutBetweenTheEditAndTheRestartLeavesAWholeFileAndARerunConverges() throws Exception {
        String node = "jetson1";
        Path etcDocker = lab.path(node, "/etc/docker");
        String before = Faults.sha256(lab.path(node, DAEMON_JSON));
        long start = System.nanoTime();
        CompletableFuture<Cli.Result> run = k3gpuAsync("gpu-runtime", node, "--step-timeout", "8s");
        boolean cut = Faults.await(20, () -> {
            try (var s = Files.list(etcDocker)) {
                return s.anyMatch(p -> p.getFileName().toString().startsWith("daemon.json.k3gpu-backup-"));
            } catch (IOException e) {
                return false;
            }
        });
        Faults.cut(lab, node);
        Cli.Result r;
        try {
            r = run.get(120, TimeUnit.SECONDS);
        } finally {
            Faults.restore(lab, node);
        }
        double took = since(start);
        assertThat(cut).as("the backup appeared").isTrue();
        assertThat(r.exit()).as(r.all()).isIn(1, 3, 7);
        assertThat(r.err()).contains(lab.ip(node));
        String after = Faults.sha256(lab.path(node, DAEMON_JSON));
        String text = Files.readString(lab.path(node, DAEMON_JSON));
        assertThat(text.strip()).startsWith("{").endsWith("}");
        assertThat(Faults.tempFiles(lab, node, "/etc/docker")).isEmpty();

        Faults.await(10, () -> {
            try {
                lab.sh(node, "true");
                return true;
            } catch (Exception e) {
                return false;
            }
        });
        Cli.Result again = k3gpu("gpu-runtime", node);
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(dockerRuntime(node)).isEqualTo("nvidia");
        TABLE.add(new FaultTable.Row("link cut (veth down)", "between the daemon.json edit and Docker's restart",
                "k3gpu gpu-runtime --step-timeout 8s", r.exit(), took, "8 s a step",
                (after.equals(before) ? "daemon.json as before" : "daemon.json whole (the new one)")
                        + ", no temporary file", "exit 0; default runtime nvidia"));
        stockDocker(node);
    }

    @Test
    @Order(3)
    void aWedgedDockerdTimesOutBeforeAnythingIsChanged() throws Exception {
        String node = "jetson1";
        String before = Faults.sha256(lab.path(node, DAEMON_JSON));
        lab.sh(node, "kill -STOP $(cat /run/docker.pid)");
        long start = System.nanoTime();
        Cli.Result r;
        try {
            r = k3gpu("gpu-runtime", node, "--step-timeout", "5s");
        } finally {
            lab.sh(node, "kill -CONT $(cat /run/docker.pid)");
        }
        double took = since(start);
        assertThat(r.exit()).as(r.all()).isEqualTo(7);
        assertThat(r.err()).contains(lab.ip(node)).contains("5s");
        assertThat(Faults.sha256(lab.path(node, DAEMON_JSON))).isEqualTo(before);
        assertThat(Faults.tempFiles(lab, node, "/etc/docker")).isEmpty();
        assertThat(lab.sh(node, "ls /etc/docker")).doesNotContain("k3gpu-backup");
        assertThat(lab.processesLeft(node, "docker")).isEmpty();

        Cli.Result again = k3gpu("gpu-runtime", node);
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(dockerRuntime(node)).isEqualTo("nvidia");
        TABLE.add(new FaultTable.Row("wedged dockerd (SIGSTOP)", "gpu-runtime's first question to Docker",
                "k3gpu gpu-runtime --step-timeout 5s", r.exit(), took, "5 s a step",
                "nothing changed (daemon.json same SHA-256, no backup), no `docker info` left running",
                "exit 0 once dockerd runs again (SIGCONT); default runtime nvidia"));
        stockDocker(node);
    }

    @Test
    @Order(4)
    void anInstallScriptThatNeverEndsIsStoppedOnTheNodeAtItsDeadline() throws Exception {
        String node = "jetson2";
        Files.writeString(k3s.mirrorDir().resolve("hangs.sh"), "#!/bin/sh\necho installing\nsleep 3599\n");
        long start = System.nanoTime();
        Cli.Result r = Cli.run(joinArgs(node, "--install-url", k3s.mirrorUrl() + "/hangs.sh", "--step-timeout", "5s"));
        double took = since(start);
        assertThat(r.exit()).as(r.all()).isEqualTo(7);
        assertThat(r.err()).contains(lab.ip(node)).contains("install script");
        assertThat(lab.sh(node, "pgrep -f 'slee[p] 3599' || true").strip()).as("the script's sleep").isEmpty();
        assertThat(Files.exists(lab.path(node, "/etc/systemd/system/k3s-agent.service"))).isFalse();

        Cli.Result again = Cli.run(joinArgs(node, "--install-url", k3s.installUrl(), "--timeout", "60s"));
        assertThat(again.exit()).as(again.all()).isZero();
        TABLE.add(new FaultTable.Row("an install script that never ends", "join's install step",
                "k3gpu join --install-url URL --step-timeout 5s", r.exit(), took, "5 s a step",
                "the script and its children killed on the node by its deadline; no K3s unit",
                "exit 0 with the real install script; Node Ready"));
        Cli.Result reset = k3gpu("reset", node, "--kubeconfig", kubeconfig.toString());
        assertThat(reset.exit()).as(reset.all()).isZero();
    }

    @Test
    @Order(5)
    void aLinkCutDuringAnAirGapUploadNeverCommitsAPartialFile() throws Exception {
        String node = "jetson2";
        reset(node);
        Path bundle = dir.resolve("bundle");
        Files.createDirectories(bundle);
        try (var s = Files.list(k3s.airgapDir())) {
            for (Path p : s.toList()) {
                Files.copy(p, bundle.resolve(p.getFileName()));
            }
        }
        Path images = bundle.resolve("k3s-airgap-images-arm64.tar"); // a Jetson: arm64
        byte[] big = new byte[24 << 20];
        new SecureRandom().nextBytes(big);
        Files.write(images, big);
        String want = Faults.sha256(images);
        Path remote = lab.path(node, IMAGES + "/k3s-airgap-images-arm64.tar");
        Faults.slow(lab, node, 16);
        long start = System.nanoTime();
        CompletableFuture<Cli.Result> run = CompletableFuture.supplyAsync(() -> Cli.run(joinArgs(node,
                "--airgap-bundle", bundle.toString(), "--step-timeout", "20s")));
        boolean cut = Faults.await(60, () -> {
            try (var s = Files.list(lab.path(node, IMAGES))) {
                return s.anyMatch(p -> p.getFileName().toString().contains(".k3gpu.") && p.toFile().length() > (4 << 20));
            } catch (IOException e) {
                return false;
            }
        });
        Faults.cut(lab, node);
        Cli.Result r;
        try {
            r = run.get(180, TimeUnit.SECONDS);
        } finally {
            Faults.restore(lab, node);
            Faults.fast(lab, node);
        }
        double took = since(start);
        assertThat(cut).as("the upload was under way").isTrue();
        assertThat(r.exit()).as(r.all()).isIn(3, 7);
        assertThat(r.err()).contains(lab.ip(node));
        assertThat(Faults.sha256(remote)).as("never a partial file").isIn("absent", want);

        Cli.Result again = Cli.run(joinArgs(node, "--airgap-bundle", bundle.toString(), "--timeout", "60s"));
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(Faults.sha256(remote)).isEqualTo(want);
        assertThat(Faults.tempFiles(lab, node, IMAGES)).isEmpty();
        TABLE.add(new FaultTable.Row("link cut (veth down) on a 16 Mbit/s link", "the upload of a 24 MiB air-gap image archive",
                "k3gpu join --airgap-bundle DIR --step-timeout 20s", r.exit(), took, "20 s a step",
                "no partial archive at its path; the temporary file is gone after the re-run",
                "exit 0; the archive byte for byte"));
        Cli.Result reset = k3gpu("reset", node, "--kubeconfig", kubeconfig.toString());
        assertThat(reset.exit()).as(reset.all()).isZero();
    }

    @Test
    @Order(6)
    void aLinkCutWhileJoinWaitsForReadyFailsByItsDeadlineAndARerunJoins() throws Exception {
        String node = "jetson2";
        reset(node);
        K3gpuProcess join = K3gpuProcess.start(Map.of(), joinArgs(node, "--install-url", k3s.installUrl(),
                "--timeout", "15s"));
        boolean waiting = join.awaitLine(l -> l.contains("waiting for node"), 60);
        Faults.cut(lab, node);
        int exit;
        try {
            exit = join.await(120);
        } finally {
            Faults.restore(lab, node);
        }
        assertThat(waiting).as(join.err()).isTrue();
        assertThat(exit).as(join.err()).isEqualTo(7);
        assertThat(join.err()).contains("Ready");

        Cli.Result again = Cli.run(joinArgs(node, "--install-url", k3s.installUrl(), "--timeout", "60s"));
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(kubectl("get", "node", node)).contains("Ready");
        TABLE.add(new FaultTable.Row("link cut (veth down)", "join's wait for the Node to be Ready",
                "k3gpu join --timeout 15s", exit, join.seconds(), "15 s (Ready)", "K3s installed; the agent rejoins by itself",
                "exit 0; Node Ready"));
    }

    @Test
    @Order(7)
    void ctrlCAtEachPhaseOfJoinLeavesTheNodeWholeAndARerunConverges() throws Exception {
        String node = "jetson2";
        for (String phase : List.of("restarting docker", "installing the K3s", "waiting for node")) {
            reset(node);
            stockDocker(node);
            String before = Faults.sha256(lab.path(node, DAEMON_JSON));
            K3gpuProcess join = K3gpuProcess.start(Map.of(), joinArgs(node, "--install-url", k3s.installUrl(),
                    "--docker", "--gpu", "--timeout", "60s"));
            boolean reached = join.awaitLine(l -> l.contains(phase), 60);
            join.interrupt();
            int exit = join.await(60);
            assertThat(reached).as(phase + ": " + join.err()).isTrue();
            assertThat(exit).as(phase + ": " + join.err()).isEqualTo(130);
            assertThat(join.err()).as("one line says how the node was left").contains("interrupted: " + lab.ip(node) + ": ");
            String after = Faults.sha256(lab.path(node, DAEMON_JSON));
            assertThat(Files.readString(lab.path(node, DAEMON_JSON)).strip()).startsWith("{").endsWith("}");
            assertThat(Faults.tempFiles(lab, node, "/etc/docker")).isEmpty();

            Cli.Result again = Cli.run(joinArgs(node, "--install-url", k3s.installUrl(), "--docker", "--gpu",
                    "--timeout", "60s"));
            assertThat(again.exit()).as(again.all()).isZero();
            assertThat(dockerRuntime(node)).isEqualTo("nvidia");
            TABLE.add(new FaultTable.Row("Ctrl-C (SIGINT to k3gpu)", "join --docker --gpu: " + phase,
                    "k3gpu join --docker --gpu", exit, join.seconds(), "-",
                    (after.equals(before) ? "daemon.json as before" : "daemon.json whole (nvidia)")
                            + "; " + lastLine(join.err()), "exit 0; Node Ready, runtime nvidia"));
        }
    }

    /** Takes the node out of the cluster (nothing to do when it is not in it), so that a join starts afresh. */
    private static void reset(String node) {
        Cli.Result reset = k3gpu("reset", node, "--kubeconfig", kubeconfig.toString());
        assertThat(reset.exit()).as(reset.all()).isZero();
    }

    private static String lastLine(String text) {
        List<String> lines = text.strip().lines().filter(l -> !l.isBlank()).toList();
        return lines.isEmpty() ? "" : "said: \"" + lines.get(lines.size() - 1).replace("|", "\\|") + "\"";
    }
}
