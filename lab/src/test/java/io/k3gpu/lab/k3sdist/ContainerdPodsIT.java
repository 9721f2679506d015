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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static io.k3gpu.lab.LabShell.assumeRoot;
import static io.k3gpu.lab.LabShell.await;
import static io.k3gpu.lab.LabShell.deleteWork;
import static io.k3gpu.lab.LabShell.lockLab;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Pods on containerd agents (no --docker) run as tasks of a real containerd (Debian's, with runc) that the agent
 * starts with the config.toml K3s generates: seen with `k3s ctr` in namespace k8s.io; the nvidia RuntimeClass (and
 * --default-runtime nvidia) runs the node's nvidia-container-runtime, which brings the CSV files, runc does not;
 * init container, emptyDir and configMap; logs and exit codes; a killed task restarts; a command that is not there
 * is runc's StartError; deletion removes task and container. Needs root; one lab (node1 server; jetson1 and jetson2
 * Orin Nanos, JetPack 6 CSV mode, containerd; jetson2 with --default-runtime nvidia).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerdPodsIT {
    static final String ID = "lctrd1";
    static final int SUBNET = 214;
    static final String SERVER_IP = "10.213.214.11";
    static final String K3S_URL = "https://" + SERVER_IP + ":6443";
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final String AGENT_DIR = "/var/lib/rancher/k3s/agent";
    static LabState lab;
    static K3sDistribution k3s;
    static Path kubeconfig;
    static Path work;
    static LabShell shell;
    static FileChannel lock;

    @BeforeAll
    static void up() throws Exception {
        assumeRoot();
        assumeThat(Path.of("/usr/bin/containerd")).as("Debian's containerd").exists();
        lock = lockLab(ID);
        Lab.down(LabConfig.STATE_ROOT.resolve(ID));
        work = Files.createTempDirectory("ctrd-pods-it");
        kubeconfig = work.resolve("kubeconfig.yaml");
        lab = Lab.up(new LabConfig(ID, SUBNET, List.of("cpu-only", "orin-nano", "orin-nano"), null, null));
        shell = new LabShell(lab, kubeconfig, work);
        k3s = K3sDistribution.of(lab);
        // K3s's packaged components off, as --disable allows: these tests count the tasks and containers of a node
        shell.sshOk("node1", "curl -sfL " + k3s.installUrl() + " | INSTALL_K3S_EXEC='server --disable coredns "
                + "--disable local-storage --disable traefik --disable servicelb --disable metrics-server' sh -");
        Files.writeString(kubeconfig, shell.sshOk("node1", "cat /etc/rancher/k3s/k3s.yaml")
                .replace("https://127.0.0.1:6443", K3S_URL));
        String token = shell.sshOk("node1", "cat /var/lib/rancher/k3s/server/node-token").strip();
        List<CompletableFuture<Result>> installs = new ArrayList<>();
        for (String[] a : List.of(new String[] {"jetson1", "agent"},
                new String[] {"jetson2", "agent --default-runtime nvidia"})) {
            installs.add(CompletableFuture.supplyAsync(() -> shell.ssh(a[0], "read -r K3S_TOKEN && export K3S_TOKEN "
                    + "&& curl -sfL " + k3s.installUrl() + " | K3S_URL=" + K3S_URL + " INSTALL_K3S_EXEC='" + a[1]
                    + "' sh -", token + "\n")));
        }
        for (CompletableFuture<Result> f : installs) {
            assertThat(f.join().exit()).as(f.join().out()).isZero();
        }
        await("3 Ready nodes", 90, () -> shell.kubectl("get", "nodes").out().lines()
                .filter(l -> l.matches("(node1|jetson1|jetson2)\\s+Ready\\s.*")).count() == 3);
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (lab != null) {
                Set<String> nodes = NodeProcesses.namespaces(lab);
                Lab.down(lab.stateDir());
                assertThat(NodeProcesses.left(nodes)).as("processes of the lab's nodes after lab down").isEmpty();
            }
        } finally {
            deleteWork(work);
            if (lock != null) {
                lock.close();
            }
        }
    }

    @Test
    @Order(1)
    void theAgentRunsContainerdWithTheConfigK3sGenerates() {
        String found = "\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.\"nvidia\"]\n"
                + "  runtime_type = \"io.containerd.runc.v2\"\n"
                + "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.\"nvidia\".options]\n"
                + "  BinaryName = \"/usr/bin/nvidia-container-runtime\"\n  SystemdCgroup = false\n";
        assertThat(shell.sshOk("jetson1", "cat " + AGENT_DIR + "/etc/containerd/config.toml"))
                .isEqualTo(configToml("  ") + found);
        assertThat(shell.sshOk("jetson2", "cat " + AGENT_DIR + "/etc/containerd/config.toml")).isEqualTo(
                configToml("  default_runtime_name = \"nvidia\"") + found);
        // Debian's containerd, as K3s runs its embedded one, from K3s's data dir, answering on K3s's socket
        String ps = shell.sshOk("jetson1", "ps -eo args");
        assertThat(ps).contains("/var/lib/rancher/k3s/data/current/bin/containerd -c " + AGENT_DIR
                + "/etc/containerd/config.toml -a /run/k3s/containerd/containerd.sock --state /run/k3s/containerd "
                + "--root " + AGENT_DIR + "/containerd");
        assertThat(shell.sshOk("jetson1", "k3s ctr version")).contains("Server:", "Version:  1.6.");
        assertThat(shell.sshOk("jetson1", "/var/lib/rancher/k3s/data/current/bin/runc --version"))
                .startsWith("runc version");
    }

    /** K3s's ContainerdConfigTemplate rendered for a default agent (pkg/agent/templates), before ExtraRuntimes. */
    static String configToml(String defaultRuntimeLine) {
        return "\n# File generated by k3s. DO NOT EDIT. Use config.toml.tmpl instead.\nversion = 2\n\n"
                + "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"" + AGENT_DIR + "/containerd\"\n"
                + "[plugins.\"io.containerd.grpc.v1.cri\"]\n  stream_server_address = \"127.0.0.1\"\n"
                + "  stream_server_port = \"10010\"\n  enable_selinux = false\n  enable_unprivileged_ports = true\n"
                + "  enable_unprivileged_icmp = true\n  sandbox_image = \"rancher/mirrored-pause:3.6\"\n\n"
                + "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  snapshotter = \"overlayfs\"\n"
                + "  disable_snapshot_annotations = true\n" + defaultRuntimeLine + "\n\n\n"
                + "[plugins.\"io.containerd.grpc.v1.cri\".cni]\n"
                + "  bin_dir = \"/var/lib/rancher/k3s/data/current/bin\"\n"
                + "  conf_dir = \"" + AGENT_DIR + "/etc/cni/net.d\"\n\n\n"
                + "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
                + "  runtime_type = \"io.containerd.runc.v2\"\n\n"
                + "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
                + "  SystemdCgroup = false\n\n"
                + "[plugins.\"io.containerd.grpc.v1.cri\".registry]\n"
                + "  config_path = \"" + AGENT_DIR + "/etc/containerd/certs.d\"\n\n\n";
    }

    @Test
    @Order(2)
    void theNvidiaRuntimeBringsTheCsvFilesAndRuncDoesNot() throws Exception {
        shell.apply("runtimes", pod("tegra-nvidia", "jetson1", "nvidia") + "---\n" + pod("tegra-runc", "jetson1", null)
                + "---\n" + pod("tegra-default", "jetson2", null));
        shell.awaitPhase("tegra-nvidia", 60, "Succeeded");
        shell.awaitPhase("tegra-runc", 60, "Failed");
        shell.awaitPhase("tegra-default", 60, "Succeeded");
        String release = "# R36 (release), REVISION: 4.3";
        assertThat(shell.kubectlOk("logs", "tegra-nvidia")).startsWith(release);
        assertThat(shell.kubectlOk("logs", "tegra-default")).startsWith(release);
        // the lab's containerd shim copies a task's stderr into its log a moment after the exit is seen
        await("tegra-runc's error in its log", 30, () -> shell.kubectlOk("logs", "tegra-runc")
                .contains("cat: /etc/nv_tegra_release: No such file or directory"));
        JsonNode runc = shell.pod("tegra-runc").path("status").path("containerStatuses").get(0);
        assertThat(runc.path("state").path("terminated").path("exitCode").asInt()).isEqualTo(1);
        String cid = runc.path("containerID").asString("");
        assertThat(cid).matches("containerd://[0-9a-f]{64}");
        // the exited containers stay (crictl ps -a), each with the runtime it ran with
        JsonNode nvidia = JSON.readTree(shell.sshOk("jetson1", "k3s ctr containers info "
                + containerId("tegra-nvidia")));
        assertThat(nvidia.path("Labels").path("io.kubernetes.pod.name").asString()).isEqualTo("tegra-nvidia");
        assertThat(nvidia.path("Labels").path("io.cri-containerd.runtime-handler").asString()).isEqualTo("nvidia");
        assertThat(binaryName(nvidia)).contains("/usr/bin/nvidia-container-runtime");
        JsonNode plain = JSON.readTree(shell.sshOk("jetson1", "k3s ctr containers info "
                + cid.substring("containerd://".length())));
        assertThat(plain.path("Labels").path("io.cri-containerd.runtime-handler").asString()).isEqualTo("runc");
        assertThat(binaryName(plain)).doesNotContain("nvidia");
        assertThat(binaryName(JSON.readTree(shell.sshOk("jetson2", "k3s ctr -n k8s.io containers info "
                + containerId("tegra-default"))))).contains("/usr/bin/nvidia-container-runtime");
        // the catalog's image, imported into containerd
        assertThat(shell.sshOk("jetson1", "k3s ctr images ls -q")).contains("nvcr.io/nvidia/k8s-device-plugin:v0.17.4");
        for (String p : List.of("tegra-nvidia", "tegra-runc", "tegra-default")) {
            shell.kubectlOk("delete", "pod", p, "--wait=true");
        }
        assertThat(shell.sshOk("jetson1", "k3s ctr containers ls -q").strip()).isEmpty();
    }

    @Test
    @Order(3)
    void initContainerVolumesLogsRestartAndDeletion() throws Exception {
        shell.apply("cm", """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: greeting
                data:
                  message: hello from a configMap
                """);
        shell.apply("web", """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: web
                spec:
                  nodeName: jetson1
                  initContainers:
                  - name: prepare
                    image: busybox
                    command: ["sh", "-c", "cp /config/message /work/message && echo init done"]
                    volumeMounts:
                    - {name: config, mountPath: /config}
                    - {name: work, mountPath: /work}
                  containers:
                  - name: main
                    image: busybox
                    command: ["sh", "-c", "echo \\"$(cat /work/message) on $(hostname)\\"; exec sleep 3600"]
                    volumeMounts:
                    - {name: work, mountPath: /work}
                  volumes:
                  - name: config
                    configMap: {name: greeting}
                  - name: work
                    emptyDir: {}
                """);
        shell.awaitPhase("web", 60, "Running");
        await("main's output", 20, () -> shell.kubectlOk("logs", "web", "-c", "main").contains("hello"));
        assertThat(shell.kubectlOk("logs", "web", "-c", "prepare")).isEqualTo("init done\n");
        assertThat(shell.kubectlOk("logs", "web", "-c", "main")).isEqualTo("hello from a configMap on web\n");
        String id = containerId("web");
        // a running task of namespace k8s.io, its process the pod's
        String tasks = shell.sshOk("jetson1", "k3s ctr tasks ls");
        assertThat(tasks).containsPattern(id + "\\s+\\d+\\s+RUNNING");
        String pid = tasks.lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow().split("\\s+")[1];
        assertThat(shell.sshOk("jetson1", "tr '\\0' ' ' < /proc/" + pid + "/cmdline")).isEqualTo("sleep 3600 ");
        assertThat(shell.sshOk("jetson1", "cat /proc/" + pid + "/cgroup")).contains(":/kubepods/besteffort/pod"
                + shell.pod("web").path("metadata").path("uid").asString() + "/" + id);
        // killed on the node: exit 137, restarted (restartPolicy Always), the previous run's log kept
        shell.sshOk("jetson1", "k3s ctr tasks kill -s SIGKILL " + id);
        await("a restart", 30, () -> shell.pod("web").path("status").path("containerStatuses").get(0)
                .path("restartCount").asInt() == 1 && "Running".equals(shell.phase("web")));
        JsonNode main = shell.pod("web").path("status").path("containerStatuses").get(0);
        assertThat(main.path("lastState").path("terminated").path("exitCode").asInt()).isEqualTo(137);
        assertThat(main.path("lastState").path("terminated").path("containerID").asString())
                .isEqualTo("containerd://" + id);
        assertThat(shell.kubectlOk("logs", "web", "-c", "main", "-p")).isEqualTo("hello from a configMap on web\n");
        String second = containerId("web");
        assertThat(second).isNotEqualTo(id);
        assertThat(shell.sshOk("jetson1", "k3s ctr containers ls -q")).contains(second).doesNotContain(id);
        shell.kubectlOk("delete", "pod", "web", "--wait=true");
        // the pod's tasks and containers, both runs, are gone
        assertThat(shell.sshOk("jetson1", "k3s ctr tasks ls -q")).doesNotContain(id).doesNotContain(second);
        assertThat(shell.sshOk("jetson1", "k3s ctr containers ls -q")).doesNotContain(id).doesNotContain(second);
        assertThat(shell.sshOk("jetson1", "grep -c /run/k3s/containers/ /proc/self/mountinfo || true").strip())
                .isEqualTo("0");
    }

    @Test
    @Order(4)
    void aMissingCommandIsRuncsStartError() throws Exception {
        shell.apply("nope", """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: nope
                spec:
                  nodeName: jetson1
                  restartPolicy: Never
                  containers:
                  - name: main
                    image: busybox
                    command: ["no-such-command"]
                """);
        shell.awaitPhase("nope", 60, "Failed");
        JsonNode t = shell.pod("nope").path("status").path("containerStatuses").get(0).path("state").path("terminated");
        assertThat(t.path("exitCode").asInt()).isEqualTo(128);
        assertThat(t.path("reason").asString()).isEqualTo("StartError");
        assertThat(t.path("message").asString()).isEqualTo("failed to create containerd task: failed to create shim "
                + "task: OCI runtime create failed: runc create failed: unable to start container process: exec: "
                + "\"no-such-command\": executable file not found in $PATH: unknown");
        shell.kubectlOk("delete", "pod", "nope", "--wait=true");
    }

    @Test
    @Order(5)
    void containerdMemoryWithPods() throws Exception {
        StringBuilder pods = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            pods.append(i > 0 ? "---\n" : "").append("apiVersion: v1\nkind: Pod\nmetadata:\n  name: idle").append(i)
                    .append("\nspec:\n  nodeName: jetson1\n  containers:\n  - name: main\n    image: busybox\n"
                            + "    command: [sleep, \"3600\"]\n");
        }
        shell.apply("idle", pods.toString());
        for (int i = 0; i < 4; i++) {
            shell.awaitPhase("idle" + i, 60, "Running");
        }
        // what docs/benchmarks.md records: containerd's and its shims' RSS on a node running 4 pods
        System.out.println("containerd with 4 pods (RSS kB, command):\n" + shell.sshOk("jetson1",
                "ps -eo rss,args | grep -E '[c]ontainerd( |-shim)'"));
        assertThat(shell.sshOk("jetson1", "k3s ctr tasks ls -q").strip().lines().count()).isEqualTo(4);
        shell.kubectlOk("delete", "pod", "idle0", "idle1", "idle2", "idle3", "--wait=true");
    }

    // ---------------------------------------------------------------------------------------------------- helpers

    static String pod(String name, String node, String runtimeClass) {
        return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\nspec:\n  nodeName: " + node
                + "\n  restartPolicy: Never\n" + (runtimeClass == null ? "" : "  runtimeClassName: " + runtimeClass
                + "\n") + "  containers:\n  - name: main\n    image: nvcr.io/nvidia/k8s-device-plugin:v0.17.4\n"
                + "    command: [cat, /etc/nv_tegra_release]\n";
    }

    /** The runc shim's options of a container (`ctr containers info`: Runtime.Options, a protobuf Any). */
    static String binaryName(JsonNode info) {
        String value = info.path("Runtime").path("Options").path("value").asString("");
        return new String(java.util.Base64.getDecoder().decode(value), StandardCharsets.ISO_8859_1);
    }

    static String containerId(String pod) {
        return shell.pod(pod).path("status").path("containerStatuses").get(0).path("containerID").asString("")
                .replace("containerd://", "");
    }
}
