package io.k3gpu.cli;

import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 12 §2: the everyday commands of K3s's quick start and kubectl's cheat sheet, run with the real kubectl
 * against a lab cluster that k3gpu installed (a server and two agents, one on Docker): Deployments and their
 * rollouts, scale, wait, watches, auth can-i, top, what K3s runs in kube-system.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EverydayKubectlIT {
    static TestLab lab;
    static Path dir;
    static Path kubeconfig;

    @BeforeAll
    static void up() throws IOException {
        lab = TestLab.up("itkubectl", 227, "cpu-only", "cpu-only", "jetson-nano");
        dir = Files.createTempDirectory("k3gpu-kubectl-it");
        kubeconfig = dir.resolve("kubeconfig");
        String install = K3sDistribution.of(lab.state).installUrl();
        Cli.Result s = Cli.run(TestLab.args("install", lab.ssh("node1"), "--install-url", install, "--local-path",
                kubeconfig.toString()));
        assertThat(s.exit()).as(s.all()).isZero();
        Cli.Result j = Cli.run(TestLab.args("join", lab.ssh("node2"), "--server-ip", lab.ip("node1"),
                "--install-url", install));
        assertThat(j.exit()).as(j.all()).isZero();
        Cli.Result d = Cli.run(TestLab.args("join", lab.ssh("jetson1"), "--server-ip", lab.ip("node1"), "--docker",
                "--install-url", install));
        assertThat(d.exit()).as(d.all()).isZero();
    }

    @AfterAll
    static void down() throws IOException {
        lab.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static Kubectl.Result kubectl(String... args) throws IOException, InterruptedException {
        return Kubectl.run(kubeconfig, args);
    }

    private static Kubectl.Result ok(String... args) throws IOException, InterruptedException {
        Kubectl.Result r = kubectl(args);
        assertThat(r.exit()).as("kubectl " + String.join(" ", args) + "\n" + r.out()).isZero();
        return r;
    }

    @Test
    @Order(1)
    void everyNodeIsReadyAndKubeSystemRunsCoreDns() throws Exception {
        ok("wait", "--for=condition=Ready", "node", "--all", "--timeout=90s");
        Kubectl.Result nodes = ok("get", "nodes", "-o", "wide");
        assertThat(nodes.out()).contains("node1", "node2", "jetson1").contains("docker://").contains("containerd://");
        ok("wait", "-n", "kube-system", "--for=condition=Ready", "pod", "-l", "k8s-app=kube-dns", "--timeout=90s");
        assertThat(ok("get", "pods", "-n", "kube-system", "-o", "wide").out()).contains("coredns-");
    }

    @Test
    @Order(2)
    void aDeploymentRollsOutScalesRollsToANewImageAndBack() throws Exception {
        assertThat(ok("create", "deployment", "web", "--image=busybox:1.36", "--replicas=2", "--", "sleep", "3600")
                .out()).contains("deployment.apps/web created");
        assertThat(ok("rollout", "status", "deployment/web", "--timeout=120s").out())
                .contains("successfully rolled out");
        ok("wait", "--for=condition=Available", "deployment/web", "--timeout=60s");

        assertThat(ok("scale", "deployment/web", "--replicas=3").out()).contains("deployment.apps/web scaled");
        ok("rollout", "status", "deployment/web", "--timeout=120s");
        assertThat(ok("get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}").out()).isEqualTo("3");

        ok("set", "image", "deployment/web", "busybox=busybox:1.37");
        ok("rollout", "status", "deployment/web", "--timeout=180s");
        assertThat(ok("get", "rs", "-l", "app=web", "-o", "name").out().lines().count()).isEqualTo(2);
        assertThat(ok("rollout", "history", "deployment/web").out()).contains("1 ").contains("2 ");

        ok("rollout", "undo", "deployment/web");
        ok("rollout", "status", "deployment/web", "--timeout=180s");
        assertThat(ok("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}").out())
                .isEqualTo("busybox:1.36");
    }

    @Test
    @Order(3)
    void aWatchSeesAPodDeletedAndWaitForDeleteReturns() throws Exception {
        // a pod of the current ReplicaSet: the rollback's old pods may still be Terminating (their 30 s of grace)
        String pod = ok("get", "pods", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.metadata.name} "
                + "{.metadata.deletionTimestamp}{\"\\n\"}{end}").out().lines().map(String::strip)
                .filter(l -> !l.contains(" ")).findFirst().orElseThrow();
        Path out = dir.resolve("watch.out");
        Process watch = new ProcessBuilder("kubectl", "--kubeconfig", kubeconfig.toString(), "get", "pods", "-l",
                "app=web", "-w", "--output-watch-events").redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        try {
            Thread.sleep(1500);
            // its sleep, PID 1 of the container, ignores SIGTERM: a short grace period spares the 30 s default
            ok("delete", "pod", pod, "--wait=false", "--grace-period=2");
            ok("wait", "--for=delete", "pod/" + pod, "--timeout=90s");
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < until && !Files.readString(out, StandardCharsets.UTF_8)
                    .contains("DELETED ")) {
                Thread.sleep(200);
            }
        } finally {
            watch.destroy();
        }
        String events = Files.readString(out, StandardCharsets.UTF_8);
        // kubectl's table with its EVENT column, as against a real API server.
        assertThat(events).startsWith("EVENT").containsPattern("(?m)^ADDED +" + pod + " ")
                .containsPattern("(?m)^DELETED +" + pod + " ");
        // The ReplicaSet replaces it.
        ok("rollout", "status", "deployment/web", "--timeout=120s");
        assertThat(ok("get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}").out()).isEqualTo("3");
    }

    @Test
    @Order(4)
    void authCanIAndWhoAmIAnswerForTheAdmin() throws Exception {
        assertThat(ok("auth", "can-i", "create", "deployments").out().trim()).isEqualTo("yes");
        assertThat(ok("auth", "can-i", "--list").out()).contains("*.*");
        assertThat(ok("auth", "whoami").out()).contains("system:admin").contains("system:masters");
    }

    @Test
    @Order(5)
    void topShowsEveryNodeAndThePodsOfTheDeployment() throws Exception {
        Kubectl.Result nodes = null;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until) {
            nodes = kubectl("top", "nodes");
            if (nodes.exit() == 0 && nodes.out().contains("jetson1")) {
                break;
            }
            Thread.sleep(2000);
        }
        assertThat(nodes.exit()).as(nodes.out()).isZero();
        assertThat(nodes.out()).contains("CPU(cores)", "MEMORY(bytes)", "node1", "node2", "jetson1");
        // metrics-server's scrape (every 15 s) has to see a pod before top shows it: "metrics not available yet"
        Kubectl.Result pods = null;
        until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until) {
            pods = kubectl("top", "pods", "-l", "app=web");
            if (pods.exit() == 0 && pods.out().contains("web-")) {
                break;
            }
            Thread.sleep(2000);
        }
        assertThat(pods.exit()).as(pods.out()).isZero();
        assertThat(pods.out()).contains("CPU(cores)", "MEMORY(bytes)", "web-");
    }

    @Test
    @Order(9)
    void deletingTheDeploymentTakesItsReplicaSetsAndPods() throws Exception {
        ok("delete", "deployment", "web");
        ok("wait", "--for=delete", "pod", "-l", "app=web", "--timeout=120s");
        assertThat(kubectl("get", "rs", "-l", "app=web", "-o", "name").out()).doesNotContain("replicaset");
        List<String> left = new ArrayList<>(ok("get", "pods", "-o", "name").out().lines().toList());
        assertThat(left).isEmpty();
    }
}
