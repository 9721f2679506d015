package io.k3gpu.lab.k3sdist;

import io.k3gpu.lab.Lab;
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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.k3gpu.lab.LabShell.assumeRoot;
import static io.k3gpu.lab.LabShell.deleteWork;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pods of a K3s agent started with --docker as real Docker containers on its node (cri-dockerd's way), checked with
 * the real kubectl and the node's real docker: the seed's gpu-test pod (an init container filling an emptyDir, the
 * probe from a ConfigMap) as containers named and labelled as cri-dockerd does beside a pause sandbox, its exit code,
 * its logs without the CUDA runtime until Docker's default runtime is nvidia and with it after (the file brought in
 * by the NVIDIA runtime wrapper), a restart after `docker kill`, and deletion removing the containers. Needs root; one
 * lab (node1 server, jetson1 Jetson Nano agent --docker).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class K3sDockerPodsIT {
    static final String ID = "ldock2";
    static final int SUBNET = 213;
    static final String SERVER_IP = "10.213.213.11";
    static final String NVIDIA_DEFAULT = "{\"default-runtime\": \"nvidia\", \"runtimes\": {\"nvidia\": "
            + "{\"path\": \"nvidia-container-runtime\", \"runtimeArgs\": []}}}";
    static final String CUDART = "/usr/local/cuda-10.2/targets/aarch64-linux/lib";
    static LabState lab;
    static Path kubeconfig;
    static Path work;
    static LabShell shell;

    @BeforeAll
    static void up() throws Exception {
        assumeRoot();
        Lab.down(LabConfig.STATE_ROOT.resolve(ID));
        work = Files.createTempDirectory("k3s-docker-pods-it");
        kubeconfig = work.resolve("kubeconfig.yaml");
        lab = Lab.up(new LabConfig(ID, SUBNET, List.of("cpu-only", "jetson-nano"), null, null));
        shell = new LabShell(lab, kubeconfig, work);
        K3sDistribution k3s = K3sDistribution.of(lab);
        // K3s's packaged components off, as --disable allows: these tests read the Docker containers of jetson1 and
        // restart its Docker, and parse kubectl's output (with its stderr, where kubectl's discovery reports
        // metrics.k8s.io as long as its APIService is unavailable, as on K3s)
        shell.sshOk("node1", "curl -sfL " + k3s.installUrl() + " | INSTALL_K3S_EXEC='server --disable coredns "
                + "--disable traefik --disable servicelb --disable metrics-server' sh -");
        Files.writeString(kubeconfig, shell.sshOk("node1", "cat /etc/rancher/k3s/k3s.yaml")
                .replace("https://127.0.0.1:6443", "https://" + SERVER_IP + ":6443"));
        String token = shell.sshOk("node1", "cat /var/lib/rancher/k3s/server/node-token").strip();
        Result r = shell.ssh("jetson1", "read -r K3S_TOKEN && export K3S_TOKEN && curl -sfL " + k3s.installUrl()
                + " | K3S_URL=https://" + SERVER_IP + ":6443 INSTALL_K3S_EXEC='agent --docker' sh -", token + "\n");
        assertThat(r.exit()).as(r.out()).isZero();
        await("jetson1 Ready", 90, () -> shell.kubectl("get", "nodes").out().lines()
                .anyMatch(l -> l.matches("jetson1\\s+Ready\\s.*")));
    }

    @AfterAll
    static void down() throws Exception {
        if (lab != null) {
            Lab.down(lab.stateDir());
        }
        deleteWork(work);
    }

    static String gpuTest(String tail) {
        return """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: probe}
                data: {probe.py: "import tensorflow\\nprint('probe ran')\\n"}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: gpu-test}
                spec:
                  restartPolicy: Never
                  nodeName: jetson1
                  initContainers:
                  - name: prepare
                    image: busybox
                    command: ["sh", "-c", "echo prepared > /work/ready"]
                    volumeMounts: [{name: work, mountPath: /work}]
                  containers:
                  - name: gpu-test
                    image: icetekio/jetson-nano-tensorflow
                    command: ["/bin/bash", "-c"]
                    args: ["cat /work/ready; python3 /probe/probe.py; echo $GREETING from $(hostname); %s"]
                    env: [{name: GREETING, value: hello}]
                    volumeMounts: [{name: work, mountPath: /work}, {name: probe, mountPath: /probe}]
                  volumes:
                  - {name: work, emptyDir: {}}
                  - {name: probe, configMap: {name: probe}}
                """.formatted(tail);
    }

    @Test
    @Order(1)
    void theGpuTestPodRunsAsDockerContainersAndFindsNoCudaRuntimeWithoutTheNvidiaRuntime() throws Exception {
        shell.apply("gpu-test", gpuTest("exit 3"));
        await("gpu-test Failed", 120, () -> "Failed".equals(shell.pod("gpu-test").path("status").path("phase")
                .asString("")));
        JsonNode pod = shell.pod("gpu-test");
        String uid = pod.path("metadata").path("uid").asString();
        JsonNode main = pod.path("status").path("containerStatuses").get(0);
        JsonNode term = main.path("state").path("terminated");
        assertThat(term.path("exitCode").asInt()).isEqualTo(3);
        assertThat(term.path("reason").asString()).isEqualTo("Error");
        String id = main.path("containerID").asString();
        assertThat(id).matches("docker://[0-9a-f]{64}");
        assertThat(pod.path("status").path("initContainerStatuses").get(0).path("state").path("terminated")
                .path("reason").asString()).isEqualTo("Completed");

        // the node's Docker has the pod: its sandbox (stopped once the pod is done) and both containers, named and
        // labelled as cri-dockerd does
        String suffix = "_gpu-test_default_" + uid + "_0";
        String ps = shell.sshOk("jetson1",
                "docker ps -a --no-trunc --format '{{.ID}} {{.Names}} {{.Image}} {{.Status}}'");
        assertThat(ps).contains(id.substring("docker://".length()) + " k8s_gpu-test" + suffix
                        + " icetekio/jetson-nano-tensorflow:latest Exited (3)",
                " k8s_prepare" + suffix + " busybox:latest Exited (0)",
                " k8s_POD" + suffix + " rancher/mirrored-pause:3.6 Exited (0)");
        assertThat(shell.sshOk("jetson1",
                "docker inspect --format '{{json .Config.Labels}} {{.HostConfig.NetworkMode}} "
                + "{{.HostConfig.IpcMode}}' k8s_gpu-test" + suffix))
                .contains("\"io.kubernetes.container.name\":\"gpu-test\"", "\"io.kubernetes.pod.name\":\"gpu-test\"",
                        "\"io.kubernetes.pod.namespace\":\"default\"", "\"io.kubernetes.pod.uid\":\"" + uid + "\"")
                .contains(" container:" + shell.sshOk("jetson1", "docker inspect --format '{{.Id}}' k8s_POD" + suffix)
                        .strip());

        String logs = shell.kubectlOk("logs", "gpu-test");
        assertThat(logs).contains("prepared\n", "probe ran\n", "hello from gpu-test\n",
                "Could not load dynamic library 'libcudart.so.10.2'; dlerror")
                .doesNotContain("Successfully opened");
        deletePodAndCheckItsContainersGo("gpu-test", uid);
    }

    @Test
    @Order(2)
    void afterDockersDefaultRuntimeBecomesNvidiaTheNvidiaRuntimeBringsTheCudaRuntimeIn() throws Exception {
        try {
            // what `k3gpu gpu-runtime` does on a Docker node: nvidia as the default runtime, then a restart
            shell.sshOk("jetson1", "cp /etc/docker/daemon.json /tmp/daemon.json.orig 2>/dev/null; echo '"
                    + NVIDIA_DEFAULT + "' > /etc/docker/daemon.json && systemctl restart docker");
            shell.apply("gpu-test", gpuTest("ls " + CUDART));
            await("gpu-test Succeeded", 120, () -> "Succeeded".equals(shell.pod("gpu-test").path("status")
                    .path("phase").asString("")));
            assertThat(shell.kubectlOk("logs", "gpu-test")).contains("probe ran\n",
                    "Successfully opened dynamic library "
                    + "libcudart.so.10.2", "libcudart.so.10.2\n").doesNotContain("dlerror");
            assertThat(shell.sshOk("jetson1",
                    "docker inspect --format '{{.HostConfig.Runtime}}' $(docker ps -aq --filter "
                    + "label=io.kubernetes.container.name=gpu-test)")).isEqualTo("nvidia\n");
            deletePodAndCheckItsContainersGo("gpu-test", shell.pod("gpu-test").path("metadata").path("uid").asString());
        } finally {
            shell.sshOk("jetson1",
                    "if [ -f /tmp/daemon.json.orig ]; then mv /tmp/daemon.json.orig /etc/docker/daemon.json; "
                    + "else rm -f /etc/docker/daemon.json; fi; systemctl restart docker");
        }
    }

    @Test
    @Order(3)
    void aContainerKilledWithDockerIsRestartedByItsPolicyAndItsPreviousLogKept() throws Exception {
        shell.apply("sleeper", """
                apiVersion: v1
                kind: Pod
                metadata: {name: sleeper}
                spec:
                  nodeName: jetson1
                  terminationGracePeriodSeconds: 2
                  containers:
                  - {name: main, image: busybox, command: ["sh", "-c", "echo started; sleep 3600"]}
                """);
        await("sleeper Running", 120, () -> "Running".equals(shell.pod("sleeper").path("status").path("phase")
                .asString("")) && shell.pod("sleeper").path("status").path("containerStatuses").get(0).path("ready")
                .asBoolean(false));
        String uid = shell.pod("sleeper").path("metadata").path("uid").asString();
        shell.sshOk("jetson1", "docker kill k8s_main_sleeper_default_" + uid + "_0");
        await("a restart", 60, () -> shell.pod("sleeper").path("status").path("containerStatuses").get(0)
                .path("restartCount").asInt() == 1 && shell.pod("sleeper").path("status").path("containerStatuses")
                .get(0).path("state").has("running"));
        JsonNode last = shell.pod("sleeper").path("status").path("containerStatuses").get(0).path("lastState")
                .path("terminated");
        assertThat(last.path("exitCode").asInt()).isEqualTo(137);
        assertThat(last.path("reason").asString()).isEqualTo("Error");
        assertThat(shell.kubectlOk("logs", "sleeper", "-p")).isEqualTo("started\n");
        assertThat(shell.sshOk("jetson1", "docker ps --format '{{.Names}}' --filter label=io.kubernetes.pod.uid="
                + uid)).contains("k8s_main_sleeper_default_" + uid + "_1");
        deletePodAndCheckItsContainersGo("sleeper", uid);
    }

    void deletePodAndCheckItsContainersGo(String name, String uid) throws Exception {
        shell.kubectlOk("delete", "pod", name, "--timeout=60s");
        assertThat(shell.sshOk("jetson1", "docker ps -aq --filter label=io.kubernetes.pod.uid=" + uid)).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------- helpers

    /** Waits as {@link LabShell#await}; a timeout shows the pods, events, the agent's log and Docker's containers. */
    static void await(String what, long seconds, LabShell.Check check) throws Exception {
        LabShell.await(what, seconds, check, () -> "; pods: " + shell.kubectl("get", "pods", "-o", "wide").out()
                + shell.kubectl("get", "events").out() + "; agent: "
                + shell.ssh("jetson1", "tail -20 /var/log/k3gpu-lab/k3s-agent.log; docker ps -a", null).out());
    }
}
