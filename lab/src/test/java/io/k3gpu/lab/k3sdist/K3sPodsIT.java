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
import tools.jackson.databind.node.ObjectNode;

import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
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
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Pods on the lab's simulated K3s, driven with the real kubectl: the seed's gpu-test pod on a Jetson Nano before and
 * after Docker's default runtime becomes nvidia, the seed's mnist-training pod (git clone from the lab's git server
 * into an emptyDir, real NumPy training on Debian's Fashion-MNIST through a hostPath), PyTorch on an H200 with the
 * nvidia RuntimeClass on containerd, the probe from a ConfigMap, pull failures, a failing command, deletion of a
 * running pod, a Job. Needs root; one lab for the class (node1 server; jetson1 Nano, Docker; gpu1 H200,
 * containerd).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class K3sPodsIT {
    static final String ID = "itpods";
    static final int SUBNET = 241;
    static final String SERVER_IP = "10.213.241.11";
    static final String K3S_URL = "https://" + SERVER_IP + ":6443";
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final String TIMESTAMP = "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6}: ";
    static LabState lab;
    static K3sDistribution k3s;
    static Path kubeconfig;
    static Path work;
    static LabShell shell;
    static FileChannel lock;

    @BeforeAll
    static void up() throws Exception {
        assumeRoot();
        assumeThat(Path.of("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
                .as("Debian's dataset-fashion-mnist").exists();
        lock = lockLab(ID);
        Lab.down(LabConfig.STATE_ROOT.resolve(ID));
        work = Files.createTempDirectory("k3s-pods-it");
        kubeconfig = work.resolve("kubeconfig.yaml");
        long t0 = System.nanoTime();
        lab = Lab.up(new LabConfig(ID, SUBNET, List.of("cpu-only", "jetson-nano", "dgpu"), null, null));
        shell = new LabShell(lab, kubeconfig, work);
        k3s = K3sDistribution.of(lab);
        long t1 = System.nanoTime();
        // K3s's packaged components off, as its --disable allows: these tests count what runs on a node
        shell.sshOk("node1", "curl -sfL " + k3s.installUrl() + " | INSTALL_K3S_EXEC='server --disable coredns "
                + "--disable local-storage --disable traefik --disable servicelb --disable metrics-server' sh -");
        Files.writeString(kubeconfig, shell.sshOk("node1", "cat /etc/rancher/k3s/k3s.yaml")
                .replace("https://127.0.0.1:6443", K3S_URL));
        String token = shell.sshOk("node1", "cat /var/lib/rancher/k3s/server/node-token").strip();
        long t2 = System.nanoTime();
        Map<String, String> execs = new LinkedHashMap<>();
        execs.put("jetson1", "agent --docker");
        execs.put("gpu1", "agent");
        List<CompletableFuture<Result>> installs = new ArrayList<>();
        for (Map.Entry<String, String> e : execs.entrySet()) {
            installs.add(CompletableFuture.supplyAsync(() -> shell.ssh(e.getKey(),
                    "read -r K3S_TOKEN && export K3S_TOKEN "
                    + "&& curl -sfL " + k3s.installUrl() + " | K3S_URL=" + K3S_URL + " INSTALL_K3S_EXEC='"
                    + e.getValue() + "' sh -", token + "\n")));
        }
        for (CompletableFuture<Result> f : installs) {
            assertThat(f.join().exit()).as(f.join().out()).isZero();
        }
        await("3 Ready nodes", 60, () -> {
            String nodes = shell.kubectl("get", "nodes").out();
            return nodes.lines().filter(l -> l.matches("(node1|jetson1|gpu1)\\s+Ready\\s.*")).count() == 3;
        });
        long t3 = System.nanoTime();
        System.out.printf("lab up %.0f ms, server installed %.0f ms, 2 agents installed and Ready %.0f ms%n",
                (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6);
        // K3s v1.29+ deploys it from runtimes.yaml (not v1.24); applying it again leaves it as it is
        shell.apply("runtimeclass", "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: nvidia\n"
                + "handler: nvidia\n");
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (lab != null) {
                List<ProcessHandle> mirror = MirrorDaemon.processes(lab.stateDir());
                Set<String> nodes = NodeProcesses.namespaces(lab);
                Lab.down(lab.stateDir());
                assertThat(mirror).hasSize(1);
                assertThat(MirrorDaemon.alive(mirror.get(0).pid())).as("the mirror after Lab.down").isFalse();
                String ps = run(List.of("ps", "-eo", "args"), null).out();
                assertThat(ps).doesNotContain(lab.stateDir().toString());
                // pods included (other labs' pods may run meanwhile: only this lab's nodes are looked at)
                assertThat(NodeProcesses.left(nodes)).as("processes of the lab's nodes").isEmpty();
            }
        } finally {
            deleteWork(work);
            if (lock != null) {
                lock.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------- helpers

    static String statusColumn(String name) {
        String line = shell.kubectlOk("get", "pod", name).lines().skip(1).findFirst().orElse("");
        return line.split("\\s+")[2];
    }

    static void deletePod(String name) {
        shell.kubectlOk("delete", "pod", name, "--ignore-not-found");
    }

    static String seedGpuTest() {
        return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: gpu-test
                spec:
                  nodeSelector:
                    kubernetes.io/hostname: jetson1
                  restartPolicy: Never
                  containers:
                    - name: gpu-test
                      image: icetekio/jetson-nano-tensorflow
                      command: [ "/bin/bash", "-c", "echo 'import tensorflow' | python3" ]
                """;
    }

    // ---------------------------------------------------------------------------------------------------- tests

    @Test
    @Order(1)
    void seedGpuTestLogsTheDlerrorWithRuncAndLoadsCudaOnceDockerDefaultsToNvidia() throws Exception {
        assertThat(shell.kubectlOk("get", "node", "jetson1", "-o", "jsonpath={.status.capacity}"))
                .doesNotContain("nvidia.com/gpu");
        shell.apply("gpu-test", seedGpuTest());
        long ms = shell.awaitPhase("gpu-test", 60, "Succeeded", "Failed");
        System.out.printf("gpu-test (runc) applied to Succeeded: %d ms%n", ms);
        assertThat(shell.phase("gpu-test")).isEqualTo("Succeeded");
        assertThat(statusColumn("gpu-test")).isEqualTo("Completed");
        String logs = shell.kubectlOk("logs", "gpu-test");
        System.out.print(logs);
        assertThat(logs).matches(TIMESTAMP + "W tensorflow/stream_executor/platform/default/dso_loader\\.cc:60\\] "
                + "Could not load dynamic library 'libcudart\\.so\\.10\\.2'; dlerror: libcudart\\.so\\.10\\.2: cannot "
                + "open shared object file: No such file or directory; LD_LIBRARY_PATH: "
                + "/usr/local/cuda-10\\.2/targets/aarch64-linux/lib:\n"
                + TIMESTAMP + "I tensorflow/stream_executor/cuda/cudart_stub\\.cc:29\\] Ignore above cudart dlerror if "
                + "you do not have a GPU set up on your machine\\.\n");
        JsonNode c = shell.pod("gpu-test").path("status").path("containerStatuses").get(0);
        assertThat(c.path("containerID").asString()).matches("docker://[0-9a-f]{64}");
        assertThat(c.path("image").asString()).isEqualTo("icetekio/jetson-nano-tensorflow:latest");
        assertThat(c.path("imageID").asString()).matches(
                "docker-pullable://icetekio/jetson-nano-tensorflow@sha256:[0-9a-f]{64}");
        assertThat(shell.events("gpu-test"))
                .contains("Normal Pulling Pulling image \"icetekio/jetson-nano-tensorflow\"",
                "Normal Created Created container gpu-test", "Normal Started Started container gpu-test");

        // what k3gpu gpu-runtime does: Docker's default runtime becomes nvidia; the agent is not restarted
        shell.sshOk("jetson1", "python3 -c \"import json; f='/etc/docker/daemon.json'; d=json.load(open(f)); "
                + "d['default-runtime']='nvidia'; json.dump(d, open(f, 'w'), indent=4)\" && systemctl restart docker");
        await("Docker's default runtime nvidia on jetson1", 30, () -> shell.sshOk("jetson1",
                "docker info --format '{{.DefaultRuntime}}'").strip().equals("nvidia"));
        // the kubelet asks Docker at each pod start; nvidia.com/gpu still only comes from a device plugin
        assertThat(shell.kubectlOk("get", "node", "jetson1", "-o", "jsonpath={.status.capacity}"))
                .doesNotContain("nvidia.com/gpu");
        deletePod("gpu-test");
        shell.apply("gpu-test", seedGpuTest());
        shell.awaitPhase("gpu-test", 60, "Succeeded", "Failed");
        logs = shell.kubectlOk("logs", "gpu-test");
        System.out.print(logs);
        assertThat(logs).matches(TIMESTAMP + "I tensorflow/stream_executor/platform/default/dso_loader\\.cc:49\\] "
                + "Successfully opened dynamic library libcudart\\.so\\.10\\.2\n");
        deletePod("gpu-test");
    }

    @Test
    @Order(2)
    void seedMnistTrainingClonesTheLabRepositoryAndTrainsForReal() throws Exception {
        shell.apply("mnist-training", """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: mnist-training
                spec:
                  nodeSelector:
                    kubernetes.io/hostname: jetson1
                  restartPolicy: Never
                  initContainers:
                    - name: git-clone
                      image: iceci/utils
                      command: ["git", "clone", "%s", "/workspace"]
                      volumeMounts:
                        - mountPath: /workspace
                          name: workspace
                  containers:
                    - name: mnist
                      image: icetekio/jetson-nano-tensorflow
                      command: ["python3", "/workspace/mnist.py", "--data-dir", "/data", "--epochs", "1"]
                      volumeMounts:
                        - mountPath: /workspace
                          name: workspace
                        - mountPath: /data
                          name: data
                          readOnly: true
                  volumes:
                    - name: workspace
                      emptyDir: {}
                    - name: data
                      hostPath:
                        path: /usr/share/datasets/fashion-mnist
                        type: Directory
                """.formatted(k3s.gitRepoUrl()));
        long t0 = System.nanoTime();
        await("mnist-training running", 60, () -> statusColumn("mnist-training").matches("Running|Completed|Error"));
        // kubectl logs -f streams from the kubelet until the container ends
        String followed = shell.kubectlOk("logs", "-f", "mnist-training", "-c", "mnist");
        long ms = shell.awaitPhase("mnist-training", 300, "Succeeded", "Failed");
        String clone = shell.kubectlOk("logs", "mnist-training", "-c", "git-clone");
        String logs = shell.kubectlOk("logs", "mnist-training", "-c", "mnist");
        System.out.print(clone + logs);
        assertThat(followed).isEqualTo(logs);
        // the trainer's last two lines: its summary on stderr and its JSON on stdout, in either order (a runtime
        // reads the two streams apart, as Docker's and containerd's do)
        assertThat(shell.kubectlOk("logs", "mnist-training", "-c", "mnist", "--tail=2").lines().toList())
                .hasSize(2).anyMatch(l -> l.startsWith("mnist-train: done: test accuracy "))
                .anyMatch(l -> l.startsWith("{\"event\":\"done\""));
        ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(shell.phase("mnist-training")).as(logs).isEqualTo("Succeeded");
        assertThat(clone).isEqualTo("Cloning into '/workspace'...\n");
        JsonNode done = logs.lines().filter(l -> l.startsWith("{\"event\":\"done\"")).map(JSON::readTree)
                .findFirst().orElseThrow();
        System.out.printf("mnist-training applied to Succeeded: %d ms, test accuracy %.4f%n", ms,
                done.path("testAccuracy").asDouble());
        assertThat(done.path("framework").asString()).isEqualTo("numpy");
        assertThat(done.path("testAccuracy").asDouble()).isGreaterThan(0.75);
        assertThat(done.path("trainSamples").asInt()).isEqualTo(60000);
        assertThat(logs).contains("Successfully opened dynamic library libcudart.so.10.2");
        JsonNode init = shell.pod("mnist-training").path("status").path("initContainerStatuses").get(0);
        assertThat(init.path("state").path("terminated").path("reason").asString()).isEqualTo("Completed");
        deletePod("mnist-training");
        assertThat(shell.sshOk("jetson1", "ls /var/lib/kubelet/pods /var/log/pods")).as("emptyDir and logs removed")
                .isEqualTo("/var/lib/kubelet/pods:\n\n/var/log/pods:\n");
    }

    @Test
    @Order(3)
    void pytorchSeesTheH200OnlyWithTheNvidiaRuntimeClassAndTheProbeSaysItIsSimulated() throws Exception {
        String torch = "import torch; print('CUDA available:', torch.cuda.is_available(), torch.cuda.device_count(), "
                + "torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')";
        for (String rc : List.of("nvidia", "")) {
            String name = rc.isEmpty() ? "torch-runc" : "torch-nvidia";
            shell.apply(name, """
                    apiVersion: v1
                    kind: Pod
                    metadata:
                      name: %s
                    spec:
                      nodeName: gpu1
                      restartPolicy: Never
                      %s
                      containers:
                        - name: torch
                          image: nvcr.io/nvidia/pytorch:24.12-py3
                          command: ["python3", "-c", "%s"]
                    """.formatted(name, rc.isEmpty() ? "" : "runtimeClassName: " + rc, torch));
        }
        shell.awaitPhase("torch-nvidia", 60, "Succeeded", "Failed");
        shell.awaitPhase("torch-runc", 60, "Succeeded", "Failed");
        assertThat(shell.kubectlOk("logs", "torch-nvidia")).isEqualTo("CUDA available: True 1 NVIDIA H200\n");
        assertThat(shell.kubectlOk("logs", "torch-runc")).isEqualTo("CUDA available: False 0 \n");
        JsonNode c = shell.pod("torch-nvidia").path("status").path("containerStatuses").get(0);
        assertThat(c.path("image").asString()).isEqualTo("nvcr.io/nvidia/pytorch:24.12-py3");
        assertThat(c.path("containerID").asString()).matches("containerd://[0-9a-f]{64}");

        // the shipped probe, mounted from a ConfigMap, is not fooled by the simulated torch
        ObjectNode cm = JSON.createObjectNode();
        cm.put("apiVersion", "v1");
        cm.put("kind", "ConfigMap");
        cm.putObject("metadata").put("name", "k3gpu-workloads");
        try (InputStream in = K3sPodsIT.class.getResourceAsStream("/io/k3gpu/workloads/gpu_probe.py")) {
            cm.putObject("data").put("gpu_probe.py", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        shell.apply("configmap", JSON.writeValueAsString(cm));
        shell.apply("probe", """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: probe
                spec:
                  nodeName: gpu1
                  restartPolicy: Never
                  runtimeClassName: nvidia
                  containers:
                    - name: probe
                      image: nvcr.io/nvidia/pytorch:24.12-py3
                      command: ["python3", "/opt/k3gpu/gpu_probe.py"]
                      volumeMounts:
                        - name: k3gpu
                          mountPath: /opt/k3gpu
                  volumes:
                    - name: k3gpu
                      configMap:
                        name: k3gpu-workloads
                """);
        shell.awaitPhase("probe", 60, "Succeeded", "Failed");
        String line = shell.kubectlOk("logs", "probe").lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
        JsonNode probe = JSON.readTree(line);
        assertThat(probe.path("framework").isNull()).as(line).isTrue();
        assertThat(probe.path("cudaVisible").asBoolean()).isFalse();
        assertThat(probe.path("errors").get(0).asString())
                .isEqualTo("torch 2.6.0a0+k3gpu-lab is simulated (k3gpu lab): not probed");
        for (String name : List.of("torch-nvidia", "torch-runc", "probe")) {
            deletePod(name);
        }
    }

    @Test
    @Order(4)
    void unknownImageIsErrImagePullThenImagePullBackOff() throws Exception {
        shell.apply("no-such-image", """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: no-such-image
                spec:
                  nodeName: gpu1
                  restartPolicy: Never
                  containers:
                    - name: c
                      image: x/y
                """);
        await("ImagePullBackOff", 30, () -> statusColumn("no-such-image").equals("ImagePullBackOff"));
        JsonNode waiting = shell.pod("no-such-image").path("status").path("containerStatuses").get(0).path("state")
                .path("waiting");
        assertThat(waiting.path("message").asString()).isEqualTo("Back-off pulling image \"x/y\"");
        assertThat(shell.phase("no-such-image")).isEqualTo("Pending");
        String pullError = "rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/x/y:latest\": "
                + "failed to resolve reference \"docker.io/x/y:latest\": docker.io/x/y:latest: not found";
        assertThat(shell.events("no-such-image")).containsSubsequence("Normal Pulling Pulling image \"x/y\"",
                "Warning Failed Failed to pull image \"x/y\": " + pullError, "Warning Failed Error: ErrImagePull",
                "Normal BackOff Back-off pulling image \"x/y\"", "Warning Failed Error: ImagePullBackOff");
        Result logs = shell.kubectl("logs", "no-such-image");
        assertThat(logs.exit()).isNotZero();
        assertThat(logs.out()).contains("container \"c\" in pod \"no-such-image\" is waiting to start: trying and "
                + "failing to pull image");
        deletePod("no-such-image");
    }

    @Test
    @Order(5)
    void failingCommandFailsThePodWithItsExitCode() throws Exception {
        shell.apply("fails", """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: fails
                spec:
                  nodeName: jetson1
                  restartPolicy: Never
                  containers:
                    - name: c
                      image: busybox
                      command: ["sh", "-c", "echo about to fail; exit 3"]
                """);
        shell.awaitPhase("fails", 30, "Failed", "Succeeded");
        assertThat(shell.phase("fails")).isEqualTo("Failed");
        assertThat(statusColumn("fails")).isEqualTo("Error");
        JsonNode t = shell.pod("fails").path("status").path("containerStatuses").get(0).path("state")
                .path("terminated");
        assertThat(t.path("exitCode").asInt()).isEqualTo(3);
        assertThat(t.path("reason").asString()).isEqualTo("Error");
        assertThat(shell.kubectlOk("logs", "fails")).isEqualTo("about to fail\n");
        deletePod("fails");
    }

    @Test
    @Order(6)
    void deletingARunningPodRemovesItsDockerContainersAndTheirProcesses() throws Exception {
        shell.apply("sleeper", """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: sleeper
                spec:
                  nodeName: jetson1
                  restartPolicy: Never
                  # sh as the container's PID 1 ignores SIGTERM: the kubelet kills it when the grace period ends
                  # (2 s here, not the default 30)
                  terminationGracePeriodSeconds: 2
                  containers:
                    - name: c
                      image: busybox
                      command: ["sh", "-c", "echo started; sleep 3600 & wait"]
                """);
        shell.awaitPhase("sleeper", 30, "Running");
        await("the log line", 10, () -> shell.kubectlOk("logs", "sleeper").equals("started\n"));
        assertThat(shell.sshOk("jetson1", "ps -eo args").lines().filter(l -> l.equals("sleep 3600")).count())
                .isEqualTo(1);
        // jetson1's agent runs with --docker: the pod is a Docker container beside its sandbox, as with cri-dockerd
        String uid = shell.pod("sleeper").path("metadata").path("uid").asString();
        assertThat(shell.sshOk("jetson1", "docker ps --format '{{.Names}}' --filter label=io.kubernetes.pod.uid=" + uid)
                .lines().sorted().toList()).containsExactly("k8s_POD_sleeper_default_" + uid + "_0",
                "k8s_c_sleeper_default_" + uid + "_0");
        long t0 = System.nanoTime();
        shell.kubectlOk("delete", "pod", "sleeper");
        System.out.printf("kubectl delete of a running pod: %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        assertThat(shell.kubectl("get", "pod", "sleeper").exit()).isNotZero();
        assertThat(shell.sshOk("jetson1", "ps -eo args").lines().filter(l -> l.contains("sleep 3600")
                && !l.contains("ps -eo")).count()).as("processes left").isZero();
        assertThat(shell.sshOk("jetson1", "docker ps -aq --filter label=io.kubernetes.pod.uid=" + uid)).isEmpty();
    }

    @Test
    @Order(7)
    void jobRunsItsPodToComplete() throws Exception {
        shell.apply("job", """
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: hello
                spec:
                  backoffLimit: 0
                  template:
                    spec:
                      nodeSelector:
                        kubernetes.io/hostname: gpu1
                      restartPolicy: Never
                      containers:
                        - name: hello
                          image: busybox
                          command: ["sh", "-c", "echo hello from $(hostname)"]
                """);
        long t0 = System.nanoTime();
        await("Job hello complete", 60, () -> shell.kubectlOk("get", "job", "hello", "-o",
                "jsonpath={.status.conditions[?(@.type==\"Complete\")].status}").equals("True"));
        System.out.printf("Job applied to Complete: %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        String pods = shell.kubectlOk("get", "pods", "-l", "job-name=hello", "-o",
                "jsonpath={.items[*].metadata.name}");
        assertThat(pods).matches("hello-[a-z0-9]{5}");
        assertThat(shell.kubectlOk("logs", "job/hello")).isEqualTo("hello from " + pods + "\n");
        shell.kubectlOk("delete", "job", "hello");
    }
}
