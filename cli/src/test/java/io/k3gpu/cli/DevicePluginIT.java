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
 * (NVIDIA made Docker's default by gpu-runtime), an Orin with {@code gpu: k3s}, a discrete-GPU server whose default
 * runtime stays runc (its pods reach NVIDIA through the RuntimeClass) and a CPU-only agent, set up by apply; the
 * device plugin refused on the Nano's stock toolkit, then installed, GPUs scheduled as nvidia.com/gpu, shared by
 * time-slicing, installed again by apply from {@code cluster.devicePlugin}, and removed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DevicePluginIT {
    private static final String DS_SELECTOR = "app.kubernetes.io/name=nvidia-device-plugin,app.kubernetes.io/managed-by=k3gpu";
    private static final List<String> GPU_NODES = List.of("jetson1", "jetson2", "gpu1");
    static TestLab lab;
    @TempDir
    static Path tmp;
    static Path kubeconfig;

    @BeforeAll
    static void up() {
        lab = TestLab.up("itdevpl", 251, "cpu-only", "cpu-only", "jetson-nano", "orin-nano", "dgpu");
        kubeconfig = tmp.resolve("kubeconfig");
    }

    @AfterAll
    static void down() {
        lab.close();
    }

    private static Cli.Result k3gpu(String command, String node, String... more) {
        return Cli.run(TestLab.args(command, lab.ssh(node), more));
    }

    /** The lab as a cluster file, with more lines of {@code cluster:} (indented). */
    private static Path clusterFile(String name, String cluster) throws IOException {
        Path f = tmp.resolve(name);
        Files.writeString(f, """
                cluster:
                %s  installUrl: %s
                  readyTimeout: 60s
                  kubeconfig: {path: %s, context: itdevpl}
                ssh:
                  key: %s
                  knownHosts: %s
                  sshConfig: /dev/null
                  strictHostKeyChecking: yes
                  connectTimeout: 3s
                hosts:
                  - {name: cp1, address: %s, role: server, gpu: none}
                  - {name: nano, address: %s, role: agent, gpu: docker}
                  - {name: orin, address: %s, role: agent, gpu: k3s}
                  # K3s's way without touching the default runtime: GPU pods name the RuntimeClass nvidia
                  - {name: dgpu, address: %s, role: agent, gpu: none}
                  - {name: cpu, address: %s, role: agent, gpu: none}
                """.formatted(cluster, K3sDistribution.of(lab.state).installUrl(), kubeconfig,
                lab.state.keyFile(), lab.state.knownHostsFile(), lab.ip("node1"), lab.ip("jetson1"),
                lab.ip("jetson2"), lab.ip("gpu1"), lab.ip("node2")));
        return f;
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

    /**
     * What a change by k3gpu would alter: each object's uid (a re-created one has another), the generation of its
     * spec (not its status, which the DaemonSet controller keeps writing) and its rendered hash.
     */
    private static String specs() throws IOException, InterruptedException {
        return kubectl("get", "daemonsets,configmaps", "-n", "kube-system", "-l", DS_SELECTOR, "-o",
                "jsonpath={range .items[*]}{.metadata.name}={.metadata.uid}/{.metadata.generation}/"
                        + "{.metadata.annotations.k3gpu\\.dev/rendered-hash} {end}");
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
    void aServerANanoOnDockerAnOrinAGpuServerAndACpuNodeAreApplied() throws Exception {
        Cli.Result runtime = k3gpu("gpu-runtime", "jetson1");
        assertThat(runtime.exit()).as(runtime.err()).isZero();

        Cli.Result apply = Cli.run("apply", "-f", clusterFile("cluster.yaml", "").toString());

        assertThat(apply.exit()).as(apply.all()).isZero();
        assertThat(apply.out()).doesNotContain("device plugin");
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
                + "sed -i 's/1\\.7\\.0/1.16.2/g' \"$(command -v nvidia-container-runtime)\" /etc/k3gpu-lab/node.json");
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
        String before = specs();

        Cli.Result r = devicePlugin();

        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("unchanged: already installed with these settings");
        assertThat(specs()).isEqualTo(before).contains("nvidia-device-plugin-jetson-docker-nvidia=");
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
    void aClusterFileWithDevicePluginIsPlannedAppliedOnceTheNodesAreReadyAndReappliedUnchanged() throws Exception {
        kubectl("delete", "daemonsets,configmaps", "-n", "kube-system", "-l", DS_SELECTOR);
        Path file = clusterFile("with-plugin.yaml", "  devicePlugin: {enabled: true, version: v0.17.4, timeSlicing: 2}\n");

        Cli.Result plan = Cli.run("plan", "-f", file.toString());
        assertThat(plan.exit()).as(plan.all()).isZero();
        assertThat(plan.out()).contains("device plugin nvcr.io/nvidia/k8s-device-plugin:v0.17.4, time-slicing 2, "
                + "after the nodes are Ready:\n")
                .contains("  + create ConfigMap kube-system/nvidia-device-plugin-config\n")
                .contains("  + create DaemonSet kube-system/nvidia-device-plugin-jetson-docker-nvidia\n");

        Cli.Result apply = Cli.run("apply", "-f", file.toString());
        assertThat(apply.exit()).as(apply.all()).isZero();
        assertThat(apply.out()).contains("created ConfigMap kube-system/nvidia-device-plugin-config");
        for (String node : GPU_NODES) {
            assertThat(allocatable(node)).as(node).isEqualTo("2");
        }

        String before = specs();
        Cli.Result again = Cli.run("apply", "-f", file.toString());
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(again.out()).contains("(0 changed, 5 unchanged, 0 failed)")
                .contains("unchanged: already installed with these settings");
        assertThat(specs()).isEqualTo(before);
        assertThat(Cli.run("plan", "-f", file.toString()).out()).contains(", after the nodes are Ready: nothing to do\n");
    }

    @Test
    @Order(10)
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
