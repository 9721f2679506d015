package io.k3gpu.lab.k3sdist;

import io.k3gpu.lab.Lab;
import io.k3gpu.lab.NodeProcesses;
import io.k3gpu.lab.LabConfig;
import io.k3gpu.lab.LabShell;
import io.k3gpu.lab.LabShell.Result;
import io.k3gpu.lab.LabState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static io.k3gpu.lab.LabShell.assumeRoot;
import static io.k3gpu.lab.LabShell.await;
import static io.k3gpu.lab.LabShell.deleteWork;
import static io.k3gpu.lab.LabShell.lockLab;
import static io.k3gpu.lab.LabShell.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * NVIDIA's device plugin (the lab's image nvcr.io/nvidia/k8s-device-plugin:v0.17.4) as plain pods on the lab's GPU
 * nodes, checked with the real kubectl: a Jetson Nano whose Docker defaults to nvidia (K3s --docker), an Orin Nano,
 * a dGPU and a Jetson AGX Thor on containerd (runtimeClassName nvidia). The plugin registers nvidia.com/gpu with the
 * node's kubelet: 1, or 4 with a time-slicing config; allocatable 0 once its pod is deleted; on the Thor the auto
 * strategy finds no platform and crash-loops with the plugin's message, the tegra strategy works; without the NVIDIA
 * runtime the dGPU's plugin fails likewise; a RuntimeClass on the --docker node is FailedCreatePodSandBox. Needs
 * root; one lab for the class (node1 server; jetson1 Nano, jetson2 Orin, jetson3 Thor, gpu1 H200).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class K3sDevicePluginIT {
    static final String ID = "itdplug";
    static final int SUBNET = 249;
    static final String K3S_URL = "https://10.213.249.11:6443";
    static final String IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.4";
    static final JsonMapper JSON = JsonMapper.builder().build();
    static LabState lab;
    static K3sDistribution k3s;
    static Path kubeconfig;
    static Path work;
    static LabShell shell;
    static FileChannel lock;

    @BeforeAll
    static void up() throws Exception {
        assumeRoot();
        lock = lockLab(ID);
        Lab.down(LabConfig.STATE_ROOT.resolve(ID));
        work = Files.createTempDirectory("device-plugin-it");
        kubeconfig = work.resolve("kubeconfig.yaml");
        lab = Lab.up(new LabConfig(ID, SUBNET, List.of("cpu-only", "jetson-nano", "orin-nano", "thor", "dgpu"), null,
                null));
        shell = new LabShell(lab, kubeconfig, work);
        k3s = K3sDistribution.of(lab);
        // what k3gpu gpu-runtime does on the Nano: Docker's default runtime nvidia
        shell.sshOk("jetson1", "python3 -c \"import json; f='/etc/docker/daemon.json'; d=json.load(open(f)); "
                + "d['default-runtime']='nvidia'; json.dump(d, open(f, 'w'), indent=4)\" && systemctl restart docker");
        shell.sshOk("node1", "curl -sfL " + k3s.installUrl() + " | INSTALL_K3S_EXEC='server' sh -");
        Files.writeString(kubeconfig, shell.sshOk("node1", "cat /etc/rancher/k3s/k3s.yaml")
                .replace("https://127.0.0.1:6443", K3S_URL));
        String token = shell.sshOk("node1", "cat /var/lib/rancher/k3s/server/node-token").strip();
        Map<String, String> execs = new LinkedHashMap<>();
        execs.put("jetson1", "agent --docker");
        execs.put("jetson2", "agent");
        execs.put("jetson3", "agent");
        execs.put("gpu1", "agent");
        List<CompletableFuture<Result>> installs = new ArrayList<>();
        for (Map.Entry<String, String> e : execs.entrySet()) {
            installs.add(CompletableFuture.supplyAsync(() -> shell.ssh(e.getKey(), "read -r K3S_TOKEN && export "
                    + "K3S_TOKEN && curl -sfL " + k3s.installUrl() + " | K3S_URL=" + K3S_URL + " INSTALL_K3S_EXEC='"
                    + e.getValue() + "' sh -", token + "\n")));
        }
        for (CompletableFuture<Result> f : installs) {
            assertThat(f.join().exit()).as(f.join().out()).isZero();
        }
        await("5 Ready nodes", 90, () -> shell.kubectl("get", "nodes").out().lines()
                .filter(l -> l.matches("(node1|jetson[123]|gpu1)\\s+Ready\\s.*")).count() == 5);
        // K3s creates it where the server has the NVIDIA runtime (this one has none); apply is idempotent
        shell.apply("runtimeclass", "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: nvidia\n"
                + "handler: nvidia\n");
        shell.apply("time-slicing", """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: time-slicing
                  namespace: kube-system
                data:
                  config.yaml: |
                    version: v1
                    sharing:
                      timeSlicing:
                        resources:
                        - name: nvidia.com/gpu
                          replicas: 4
                """);
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (lab != null) {
                Set<String> nodes = NodeProcesses.namespaces(lab);
                Lab.down(lab.stateDir());
                String ps = run(List.of("ps", "-eo", "args"), null).out();
                assertThat(ps).doesNotContain(lab.stateDir().toString());
                assertThat(NodeProcesses.left(nodes)).as("processes of the lab's nodes").isEmpty();
            }
        } finally {
            deleteWork(work);
            if (lock != null) {
                lock.close();
            }
        }
    }

    /** A plugin pod as NVIDIA's DaemonSet runs it, but bound to {@code node} (spec.nodeName). */
    static String pluginPod(String name, String node, String runtimeClass, String env, boolean timeSlicing) {
        return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                  namespace: kube-system
                spec:
                  nodeName: %s
                %s  containers:
                  - name: nvidia-device-plugin-ctr
                    image: %s
                    env:
                    - name: FAIL_ON_INIT_ERROR
                      value: "true"
                %s%s    volumeMounts:
                    - name: device-plugin
                      mountPath: /var/lib/kubelet/device-plugins
                %s  volumes:
                  - name: device-plugin
                    hostPath:
                      path: /var/lib/kubelet/device-plugins
                %s""".formatted(name, node, runtimeClass == null ? "" : "  runtimeClassName: " + runtimeClass + "\n",
                IMAGE, env == null ? "" : "    - name: DEVICE_DISCOVERY_STRATEGY\n      value: " + env + "\n",
                timeSlicing ? "    - name: CONFIG_FILE\n      value: /config/config.yaml\n" : "",
                timeSlicing ? "    - name: config\n      mountPath: /config\n" : "",
                timeSlicing ? "  - name: config\n    configMap:\n      name: time-slicing\n" : "");
    }

    static String gpus(String node, String field) {
        return shell.kubectlOk("get", "node", node, "-o",
                "jsonpath={.status." + field + ".nvidia\\.com/gpu}").strip();
    }

    static JsonNode pod(String name) {
        Result r = shell.kubectl("-n", "kube-system", "get", "pod", name, "-o", "json");
        return r.exit() == 0 ? JSON.readTree(r.out()) : null;
    }

    static String waiting(String name) {
        JsonNode p = pod(name);
        JsonNode cs = p == null ? null : p.path("status").path("containerStatuses").get(0);
        return cs == null ? "" : cs.path("state").path("waiting").path("reason").asString("");
    }

    @Test
    @Order(1)
    void withoutAPluginNoNodeHasNvidiaGpu() {
        for (String n : List.of("jetson1", "jetson2", "jetson3", "gpu1", "node1")) {
            assertThat(shell.kubectlOk("get", "node", n, "-o", "jsonpath={.status.allocatable}"))
                    .as(n).doesNotContain("nvidia.com/gpu");
        }
    }

    @Test
    @Order(2)
    void thePluginRegistersNvidiaGpuOnEachGpuNodeItsRuntimeAllows() throws Exception {
        shell.apply("dp-nano", pluginPod("dp-nano", "jetson1", null, null, false));
        shell.apply("dp-orin", pluginPod("dp-orin", "jetson2", "nvidia", null, true));
        shell.apply("dp-thor", pluginPod("dp-thor", "jetson3", "nvidia", "tegra", false));
        shell.apply("dp-gpu", pluginPod("dp-gpu", "gpu1", "nvidia", null, false));
        long t0 = System.nanoTime();
        try {
            await("nvidia.com/gpu allocatable on 4 nodes", 60, () -> gpus("jetson1", "allocatable")
                    .equals("1") && gpus("jetson2", "allocatable").equals("4") && gpus("jetson3", "allocatable")
                    .equals("1") && gpus("gpu1", "allocatable").equals("1"));
        } catch (AssertionError e) {
            System.out.println(shell.kubectl("-n", "kube-system", "get", "pods", "-o", "wide").out());
            for (String p : List.of("dp-nano", "dp-orin", "dp-thor", "dp-gpu")) {
                System.out.println(p + ": " + shell.kubectl("-n", "kube-system", "logs", p).out()
                        + shell.kubectl("-n", "kube-system", "get", "events", "--field-selector",
                        "involvedObject.name=" + p).out());
            }
            for (String n : List.of("jetson1", "jetson2", "jetson3", "gpu1")) {
                System.out.println(n + ": " + gpus(n, "capacity") + "/" + gpus(n, "allocatable"));
            }
            throw e;
        }
        System.out.printf("4 plugin pods applied to nvidia.com/gpu allocatable: %.0f ms%n",
                (System.nanoTime() - t0) / 1e6);
        assertThat(gpus("jetson2", "capacity")).isEqualTo("4");
        assertThat(shell.kubectlOk("get", "node", "node1", "-o", "jsonpath={.status.allocatable}"))
                .doesNotContain("nvidia.com/gpu");
        String logs = shell.kubectlOk("-n", "kube-system", "logs", "dp-gpu");
        System.out.print(logs);
        assertThat(logs).contains("] Starting FS watcher for /var/lib/kubelet/device-plugins\n",
                "] \nRunning with config:\n{\n  \"version\": \"v1\",\n",
                "] Starting GRPC server for 'nvidia.com/gpu'\n",
                "] Starting to serve 'nvidia.com/gpu' on /var/lib/kubelet/device-plugins/nvidia-gpu.sock\n",
                "] Registered device plugin for 'nvidia.com/gpu' with Kubelet\n");
        assertThat(shell.sshOk("jetson2", "journalctl -u k3s-agent")).contains(
                "\"Got registration request from device plugin with resource\" resourceName=\"nvidia.com/gpu\"");
    }

    @Test
    @Order(3)
    void thorsAutoStrategyFindsNoPlatformAndCrashLoopsAsThePluginDoes() throws Exception {
        shell.apply("dp-thor-auto", pluginPod("dp-thor-auto", "jetson3", "nvidia", null, false));
        await("dp-thor-auto in CrashLoopBackOff", 90, () -> waiting("dp-thor-auto").equals("CrashLoopBackOff"));
        // the lab's containerd shim copies a task's stderr into its log file a moment after the exit is seen
        await("dp-thor-auto's log with its error", 30, () -> shell.kubectlOk("-n", "kube-system", "logs",
                "dp-thor-auto").contains("error starting plugins"));
        String logs = shell.kubectlOk("-n", "kube-system", "logs", "dp-thor-auto");
        System.out.print(logs);
        assertThat(logs).containsPattern("(?m)^E\\d{4} [\\d:.]+ +\\d+ factory\\.go:112\\] Incompatible strategy detected "
                + "auto$").containsPattern("(?m)^E\\d{4} [\\d:.]+ +\\d+ main\\.go:173\\] error starting plugins: error "
                + "getting plugins: unable to create plugins: failed to construct resource managers: invalid device "
                + "discovery strategy$");
        JsonNode last = pod("dp-thor-auto").path("status").path("containerStatuses").get(0).path("lastState")
                .path("terminated");
        assertThat(last.path("exitCode").asInt()).isEqualTo(1);
        // the tegra strategy's plugin on the same node still serves its one device
        assertThat(gpus("jetson3", "allocatable")).isEqualTo("1");
        // the dGPU without the NVIDIA runtime: no NVML in the container, the same failure
        shell.apply("dp-gpu-runc", pluginPod("dp-gpu-runc", "gpu1", null, null, false));
        await("dp-gpu-runc in CrashLoopBackOff", 90, () -> waiting("dp-gpu-runc").equals("CrashLoopBackOff"));
        await("dp-gpu-runc's log with its error", 30, () -> shell.kubectlOk("-n", "kube-system", "logs",
                "dp-gpu-runc").contains("Incompatible strategy detected auto"));
        assertThat(shell.kubectlOk("-n", "kube-system", "logs", "dp-gpu-runc"))
                .contains("Incompatible strategy detected auto");
        shell.kubectlOk("-n", "kube-system", "delete", "pod", "dp-thor-auto", "dp-gpu-runc");
    }

    @Test
    @Order(4)
    void deletingThePluginPodTakesTheGpusOffTheNodeAtOnce() throws Exception {
        shell.kubectlOk("-n", "kube-system", "delete", "pod", "dp-gpu");
        long t0 = System.nanoTime();
        await("allocatable 0 on gpu1", 30, () -> gpus("gpu1", "allocatable").equals("0"));
        System.out.printf("plugin pod deleted to allocatable 0: %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        // kubelet keeps the capacity for endpointStopGracePeriod (5 min) before it becomes 0
        assertThat(gpus("gpu1", "capacity")).isEqualTo("1");
        assertThat(shell.sshOk("gpu1", "journalctl -u k3s-agent")).contains(
                "\"ListAndWatch ended unexpectedly for device plugin\"");
    }

    @Test
    @Order(5)
    void aRuntimeClassOnTheDockerNodeCannotCreateItsSandbox() throws Exception {
        shell.apply("rc-docker", pluginPod("rc-docker", "jetson1", "nvidia", null, false));
        await("FailedCreatePodSandBox", 30, () -> shell.kubectlOk("-n", "kube-system", "get", "events",
                "--field-selector", "involvedObject.name=rc-docker", "-o", "jsonpath={.items[*].reason}")
                .contains("FailedCreatePodSandBox"));
        String events = shell.kubectlOk("-n", "kube-system", "get", "events", "--field-selector",
                "involvedObject.name=rc-docker", "-o", "jsonpath={.items[*].message}");
        assertThat(events).contains("Failed to create pod sandbox: rpc error: code = Unknown desc = RuntimeHandler "
                + "\"nvidia\" not supported");
        String line = shell.kubectlOk("-n", "kube-system", "get", "pod", "rc-docker").lines().skip(1)
                .findFirst().orElse("");
        assertThat(line.split("\\s+")[2]).isEqualTo("ContainerCreating");
        // the Nano's own plugin (Docker's default runtime) is untouched
        assertThat(gpus("jetson1", "allocatable")).isEqualTo("1");
    }

    @Test
    @Order(6)
    void afterAnAgentRestartThePluginRunsAgainWithItsVolumes() throws Exception {
        int before = pod("dp-orin").path("status").path("containerStatuses").get(0).path("restartCount").asInt();
        shell.sshOk("jetson2", "systemctl restart k3s-agent");
        // the restarted kubelet reports the killed container ContainerStatusUnknown and restarts it (Always) with
        // its hostPath and configMap volumes mounted again
        try {
            await("dp-orin running again", 90, () -> {
                JsonNode cs = pod("dp-orin").path("status").path("containerStatuses").get(0);
                return cs.path("restartCount").asInt() > before && cs.path("state").has("running");
            });
        } catch (AssertionError e) {
            System.out.println(shell.kubectl("-n", "kube-system", "get", "pod", "dp-orin", "-o", "yaml").out());
            throw e;
        }
        assertThat(waiting("dp-orin")).isNotEqualTo("CreateContainerConfigError");
        await("nvidia.com/gpu allocatable 4 on jetson2 again", 60,
                () -> gpus("jetson2", "allocatable").equals("4"));
        assertThat(shell.kubectlOk("-n", "kube-system", "logs", "dp-orin"))
                .contains("Registered device plugin for 'nvidia.com/gpu' with Kubelet");
    }
}
