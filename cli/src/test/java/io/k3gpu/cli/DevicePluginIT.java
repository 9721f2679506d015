package io.k3gpu.cli;

import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 11's "Done when", driven by the CLI and checked with the real kubectl: a server, a Jetson Nano on Docker
 * (NVIDIA made Docker's default first), an Orin on K3s's containerd (join --gpu), a discrete-GPU server joined
 * plainly (its pods reach NVIDIA through the RuntimeClass) and a CPU-only agent; the device plugin refused on the
 * Nano's stock toolkit, then installed, GPUs scheduled as nvidia.com/gpu, shared by time-slicing, and removed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DevicePluginIT {
    private static final String DS_SELECTOR = "app.kubernetes.io/name=nvidia-device-plugin,app.kubernetes.io/managed-by=k3gpu";
    private static final List<String> GPU_NODES = List.of("jetson1", "jetson2", "gpu1");
    static TestLab lab;
    static String install;
    @TempDir
    static Path tmp;
    static Path kubeconfig;

    @BeforeAll
    static void up() {
        lab = TestLab.up("itdevpl", 251, "cpu-only", "cpu-only", "jetson-nano", "orin-nano", "dgpu");
        install = K3sDistribution.of(lab.state).installUrl();
        kubeconfig = tmp.resolve("kubeconfig");
    }

    @AfterAll
    static void down() {
        lab.close();
    }

    private static Cli.Result k3gpu(String command, String node, String... more) {
        return Cli.run(TestLab.args(command, lab.ssh(node), more));
    }

    private static Cli.Result join(String node, String... more) {
        List<String> a = new ArrayList<>(List.of("--server-ip", lab.ip("node1"), "--install-url", install,
                "--timeout", "60s"));
        a.addAll(List.of(more));
        return k3gpu("join", node, a.toArray(String[]::new));
    }

    private static Cli.Result devicePlugin(String... more) {
        List<String> a = new ArrayList<>(List.of("device-plugin", "--kubeconfig", kubeconfig.toString(),
                "--timeout", "90s"));
        a.addAll(List.of(more));
        return Cli.run(a.toArray(String[]::new));
    }

    private static String kubectl(String... args) throws IOException, InterruptedException {
        Kubectl.Result r = Kubectl.run(kubeconfig, args);
        assertThat(r.exit()).as(r.out()).isZero();
        return r.out();
    }

    private static String allocatable(String node) throws IOException, InterruptedException {
        return kubectl("get", "node", node, "-o", "jsonpath={.status.allocatable.nvidia\\.com/gpu}").strip();
    }

    private static List<String> daemonSets() throws IOException, InterruptedException {
        return kubectl("get", "daemonsets", "-n", "kube-system", "-l", DS_SELECTOR, "-o", "name").lines()
                .map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    private static String resourceVersions() throws IOException, InterruptedException {
        return kubectl("get", "daemonsets,configmaps", "-n", "kube-system", "-l", DS_SELECTOR, "-o",
                "jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion} {end}");
    }

    /** A pod asking for one nvidia.com/gpu on {@code node} that sleeps. */
    private static void gpuPod(String name, String node) throws IOException, InterruptedException {
        Path file = tmp.resolve(name + ".yaml");
        Files.writeString(file, """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                  labels: {app: gpu-share}
                spec:
                  nodeSelector: {kubernetes.io/hostname: %s}
                  restartPolicy: Never
                  containers:
                    - name: main
                      image: docker.io/library/busybox:1.36
                      command: [sh, -c, "sleep 3600"]
                      resources:
                        limits: {nvidia.com/gpu: 1}
                """.formatted(name, node));
        kubectl("create", "-f", file.toString());
    }

    /** Waits (polling kubectl, which has no wait against the lab) until the pod has the phase; returns it. */
    private static String awaitPhase(String pod, String phase) throws IOException, InterruptedException {
        String now = "";
        for (int i = 0; i < 120; i++) {
            now = kubectl("get", "pod", pod, "-o", "jsonpath={.status.phase}").strip();
            if (now.equals(phase)) {
                return now;
            }
            Thread.sleep(500);
        }
        return now;
    }

    @Test
    @Order(1)
    void aServerANanoOnDockerAnOrinAGpuServerAndACpuNodeJoin() throws Exception {
        Cli.Result server = k3gpu("install", "node1", "--install-url", install, "--local-path", kubeconfig.toString(),
                "--timeout", "60s");
        assertThat(server.exit()).as(server.err()).isZero();
        Cli.Result runtime = k3gpu("gpu-runtime", "jetson1");
        assertThat(runtime.exit()).as(runtime.err()).isZero();
        for (Cli.Result r : List.of(join("jetson1", "--docker"), join("jetson2", "--gpu"), join("gpu1"),
                join("node2"))) {
            assertThat(r.exit()).as(r.err()).isZero();
        }
        assertThat(kubectl("get", "nodes").lines().filter(l -> l.contains(" Ready "))).hasSize(5);
        assertThat(kubectl("get", "node", "jetson1", "-o",
                "jsonpath={.metadata.labels.k3gpu\\.dev/nvidia-container-toolkit}")).isEqualTo("1.7.0");
        assertThat(kubectl("get", "node", "gpu1", "-o",
                "jsonpath={.metadata.labels.k3gpu\\.dev/nvidia-container-toolkit}")).isEqualTo("1.17.8");
        assertThat(kubectl("get", "node", "node2", "--show-labels")).doesNotContain("nvidia-container-toolkit");
    }

    @Test
    @Order(2)
    void factsShowTheToolkitVersion() {
        Cli.Result text = k3gpu("facts", "jetson1");
        assertThat(text.exit()).as(text.err()).isZero();
        assertThat(text.out()).containsPattern("container toolkit: +1\\.7\\.0\n");
        Cli.Result json = k3gpu("facts", "gpu1", "-o", "json");
        assertThat(json.out()).contains("\"nvidiaContainerToolkitVersion\": \"1.17.8\"", "\"warnings\": []");
    }

    @Test
    @Order(3)
    void theStockNanosToolkitIsRefusedWithWhyAndWhatToDo() throws Exception {
        Cli.Result r = devicePlugin();

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).startsWith("error: node jetson1 is a Jetson with NVIDIA Container Toolkit 1.7.0")
                .contains("toolkit >= 1.11", "apt-get install --only-upgrade nvidia-container-toolkit",
                        "k3gpu label --ip " + lab.ip("jetson1"));
        assertThat(daemonSets()).isEmpty();
    }

    @Test
    @Order(4)
    void anUpgradedToolkitIsSeenByFactsAndLabel() throws Exception {
        // what apt-get leaves behind: dpkg's record of the package at its new version, and the new tools
        lab.sh("jetson1", "f=$(grep -l '^Package: nvidia-container-toolkit$' /var/lib/dpkg/updates/*) && "
                + "sed -i '/^Package: nvidia-container-toolkit$/,/^$/s/^Version: .*/Version: 1.16.2-1/' \"$f\" && "
                + "sed -i 's/1\\.7\\.0/1.16.2/g' /usr/local/bin/nvidia-container-runtime /etc/k3gpu-lab/node.json");
        assertThat(lab.sh("jetson1", "dpkg-query -W -f '${Version}' nvidia-container-toolkit")).isEqualTo("1.16.2-1");

        Cli.Result label = k3gpu("label", "jetson1", "--kubeconfig", kubeconfig.toString());

        assertThat(label.exit()).as(label.err()).isZero();
        assertThat(label.out()).contains("k3gpu.dev/nvidia-container-toolkit=1.16.2");
    }

    @Test
    @Order(5)
    void thePluginMakesEachGpuNodeAdvertiseOneGpuAndTheCpuNodeNone() throws Exception {
        Cli.Result r = devicePlugin();

        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("created DaemonSet kube-system/nvidia-device-plugin-jetson-docker-nvidia");
        for (String node : GPU_NODES) {
            assertThat(r.out().lines().filter(l -> l.startsWith(node + " ")).findFirst().orElse(""))
                    .as(node).containsPattern("^" + node + " +1 +1 +nvidia-device-plugin-\\S+ +Running");
            assertThat(allocatable(node)).as(node).isEqualTo("1");
        }
        assertThat(allocatable("node2")).isEmpty();
        assertThat(allocatable("node1")).isEmpty();
        assertThat(daemonSets()).hasSize(3).allMatch(ds -> ds.startsWith("daemonset.apps/nvidia-device-plugin-"));
        assertThat(kubectl("get", "runtimeclass", "nvidia")).contains("nvidia");
        // the Jetsons' plugin pods run with Tegra discovery, and a node whose default runtime is runc names the class
        String jetsonEnv = kubectl("get", "daemonset", "-n", "kube-system", "nvidia-device-plugin-jetson-docker-nvidia",
                "-o", "jsonpath={.spec.template.spec.containers[0].env}");
        assertThat(jetsonEnv).contains("DEVICE_DISCOVERY_STRATEGY").contains("tegra");
        String gpuRuntime = kubectl("get", "node", "gpu1", "-o",
                "jsonpath={.metadata.labels.k3gpu\\.dev/container-runtime}");
        String gpuClass = kubectl("get", "daemonset", "-n", "kube-system", "nvidia-device-plugin-discrete-" + gpuRuntime,
                "-o", "jsonpath={.spec.template.spec.runtimeClassName}");
        assertThat(gpuClass).isEqualTo(gpuRuntime.equals("containerd-runc") ? "nvidia" : "");
    }

    @Test
    @Order(6)
    void aReRunWithTheSameSettingsChangesNothing() throws Exception {
        String before = resourceVersions();

        Cli.Result r = devicePlugin();

        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("unchanged: already installed with these settings");
        assertThat(resourceVersions()).isEqualTo(before);
    }

    @Test
    @Order(7)
    void aSecondPodAskingForTheOnlyGpuStaysPendingWithTheSchedulersMessage() throws Exception {
        gpuPod("gpu-a", "gpu1");
        assertThat(awaitPhase("gpu-a", "Running")).isEqualTo("Running");
        gpuPod("gpu-b", "gpu1");
        Thread.sleep(2000);

        assertThat(kubectl("get", "pod", "gpu-b", "-o", "jsonpath={.status.phase}")).isEqualTo("Pending");
        assertThat(kubectl("get", "pod", "gpu-b", "-o",
                "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")].message}"))
                .contains("Insufficient nvidia.com/gpu");
        kubectl("delete", "pod", "gpu-a", "gpu-b", "--wait=false");
    }

    @Test
    @Order(8)
    void withTimeSlicingFourPodsShareOneGpu() throws Exception {
        Cli.Result r = devicePlugin("--time-slicing", "4");

        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("created ConfigMap kube-system/nvidia-device-plugin-config")
                .contains("updated DaemonSet kube-system/nvidia-device-plugin-jetson-docker-nvidia");
        for (String node : GPU_NODES) {
            assertThat(allocatable(node)).as(node).isEqualTo("4");
        }
        for (int i = 1; i <= 4; i++) {
            gpuPod("shared-" + i, "jetson2");
        }
        for (int i = 1; i <= 4; i++) {
            assertThat(awaitPhase("shared-" + i, "Running")).as("shared-" + i).isEqualTo("Running");
        }

        Cli.Result again = devicePlugin("--time-slicing", "4", "-o", "json");
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(again.out()).contains("\"changes\" : [ ]");
        kubectl("delete", "pods", "-l", "app=gpu-share", "--wait=false");
    }

    @Test
    @Order(9)
    void removeDeletesWhatK3gpuInstalledAndSaysWhatWent() throws Exception {
        Cli.Result r = devicePlugin("--remove");

        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("removed ConfigMap kube-system/nvidia-device-plugin-config",
                "removed DaemonSet kube-system/nvidia-device-plugin-jetson-docker-nvidia");
        assertThat(r.out().lines().filter(l -> l.startsWith("removed DaemonSet"))).hasSize(3);
        assertThat(daemonSets()).isEmpty();

        Cli.Result again = devicePlugin("--remove");
        assertThat(again.out()).contains("nothing to remove");
    }
}
