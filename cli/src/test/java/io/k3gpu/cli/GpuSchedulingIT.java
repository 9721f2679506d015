package io.k3gpu.cli;

import io.k3gpu.core.k3s.ContainerdTemplate;
import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How the rest of k3gpu uses GPU scheduling (issue 11), on a lab with a K3s v1.31.4 server and two Orin Nanos: join
 * --gpu by K3s's own --default-runtime (v1.31.4) and by the containerd template (v1.24.3), plan's route per host,
 * verify with and without a device plugin pod (made here with kubectl, as its DaemonSet would), all GPUs taken, and
 * nodes -o wide. Checked with the real kubectl.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GpuSchedulingIT {
    private static final String NODE_ARGS = "jsonpath={.metadata.annotations.k3s\\.io/node-args}";
    private static final String PLUGIN = "nvcr.io/nvidia/k8s-device-plugin:v0.17.4";
    static TestLab lab;
    static String install;
    static Path dir;
    static Path kubeconfig;

    @BeforeAll
    static void up() throws IOException {
        lab = TestLab.up("itgpusch", 253, "cpu-only", "orin-nano", "orin-nano", "orin-nano");
        install = K3sDistribution.of(lab.state).installUrl();
        dir = Files.createTempDirectory("k3gpu-gpusch-it");
        kubeconfig = dir.resolve("kubeconfig");
    }

    @AfterAll
    static void down() throws IOException {
        lab.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static Cli.Result join(String node, String... more) {
        List<String> a = new ArrayList<>(List.of("--server-ip", lab.ip("node1"), "--install-url", install,
                "--timeout", "60s"));
        a.addAll(List.of(more));
        return Cli.run(TestLab.args("join", lab.ssh(node), a.toArray(String[]::new)));
    }

    private static Cli.Result k3gpu(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--kubeconfig", kubeconfig.toString()));
        return Cli.run(a.toArray(String[]::new));
    }

    private static String kubectl(String... args) throws IOException, InterruptedException {
        Kubectl.Result r = Kubectl.run(kubeconfig, args);
        assertThat(r.exit()).as(r.out()).isZero();
        return r.out();
    }

    /** kubectl apply -f FILE with this manifest. */
    private static void apply(String name, String yaml) throws IOException, InterruptedException {
        Path f = dir.resolve(name + ".yaml");
        Files.writeString(f, yaml);
        kubectl("apply", "-f", f.toString());
    }

    /** Polls a kubectl jsonpath until it answers {@code want} (up to 60 s); returns what it answered last. */
    private static String await(String want, String... args) throws IOException, InterruptedException {
        String got = "";
        for (int i = 0; i < 120; i++) {
            got = Kubectl.run(kubeconfig, args).out().strip();
            if (got.equals(want)) {
                return got;
            }
            Thread.sleep(500);
        }
        return got;
    }

    private static String line(String table, String node) {
        return table.lines().filter(l -> l.startsWith(node + " ")).findFirst().orElse("");
    }

    private static Path clusterFile(String name, String cluster) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, """
                cluster:
                %s  installUrl: %s
                  readyTimeout: 60s
                  kubeconfig: {path: %s, context: itgpusch}
                ssh:
                  key: %s
                  knownHosts: %s
                  sshConfig: /dev/null
                  strictHostKeyChecking: yes
                  connectTimeout: 3s
                hosts:
                  - {name: cp1, address: %s, role: server, gpu: none}
                  - {name: orin1, address: %s, role: agent, gpu: k3s}
                  - {name: orin2, address: %s, role: agent, gpu: auto}
                """.formatted(cluster, install, dir.resolve("fleet-kubeconfig"), lab.state.keyFile(),
                lab.state.knownHostsFile(), lab.ip("node1"), lab.ip("jetson1"), lab.ip("jetson2")));
        return f;
    }

    @Test
    @Order(1)
    void theServerIsInstalled() throws Exception {
        Cli.Result r = Cli.run(TestLab.args("install", lab.ssh("node1"), "--install-url", install, "--local-path",
                kubeconfig.toString(), "--timeout", "60s"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(kubectl("version")).contains("v1.31.4+k3s1");
    }

    @Test
    @Order(2)
    void planShowsTheRoutePerHostByTheReleaseKnownAtPlanTime() throws Exception {
        Cli.Result now = Cli.run("plan", "-f", clusterFile("cluster.yaml", "").toString());
        assertThat(now.exit()).as(now.all()).isZero();
        assertThat(now.out()).contains("orin1 (" + lab.ip("jetson1") + "), agent:\n"
                        + "  gpu: k3s --default-runtime nvidia (K3s v1.31.4+k3s1)\n  + join agent: K3s is not installed\n")
                .contains("orin2 (" + lab.ip("jetson2") + "), agent:\n"
                        + "  gpu: k3s --default-runtime nvidia (K3s v1.31.4+k3s1)\n");
        Cli.Result old = Cli.run("plan", "-f", clusterFile("old.yaml", "  k3sVersion: v1.24.3+k3s1\n").toString());
        // the running server is newer: the plan shows each host's route and that apply would refuse the downgrade
        assertThat(old.exit()).as(old.all()).isEqualTo(1);
        assertThat(old.out()).contains("! refused: cp1: v1.31.4+k3s1 → v1.24.3+k3s1 is a downgrade");
        assertThat(old.out()).contains("orin1 (" + lab.ip("jetson1") + "), agent:\n"
                + "  gpu: k3s containerd config.toml.tmpl (K3s v1.24.3+k3s1 has no --default-runtime)\n"
                + "  + set NVIDIA runtime: k3s: write " + ContainerdTemplate.PATH
                + " (K3s v1.24.3+k3s1 has no --default-runtime)\n");
        Cli.Result json = Cli.run("plan", "-f", dir.resolve("old.yaml").toString(), "-o", "json");
        assertThat(json.out()).contains("\"gpuRoute\" : \"k3s containerd config.toml.tmpl (K3s v1.24.3+k3s1 has no "
                + "--default-runtime)\"");
        for (String node : List.of("jetson1", "jetson2")) {
            assertThat(Files.exists(lab.path(node, ContainerdTemplate.PATH))).as(node).isFalse();
            assertThat(Files.exists(lab.path(node, "/usr/local/bin/k3s"))).as(node).isFalse();
        }
    }

    @Test
    @Order(3)
    void joinGpuOnV1314UsesK3sOwnDefaultRuntimeFlagAndNoConfigEdit() throws Exception {
        Cli.Result r = join("jetson1", "--gpu");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).contains("NVIDIA default runtime: --default-runtime nvidia (K3s v1.31.4+k3s1)");
        assertThat(kubectl("get", "node", "jetson1", "-o", NODE_ARGS)).contains("\"--default-runtime\",\"nvidia\"");
        assertThat(Files.exists(lab.path("jetson1", "/etc/rancher/k3s/config.yaml"))).isFalse();
        assertThat(Files.exists(lab.path("jetson1", ContainerdTemplate.PATH))).isFalse();
        assertThat(kubectl("get", "node", "jetson1", "-o", "jsonpath={.metadata.labels.k3gpu\\.dev/container-runtime}"))
                .isEqualTo("containerd-nvidia");

        Cli.Result again = join("jetson1", "--gpu");
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(again.out()).contains("nothing changed");
        Cli.Result label = Cli.run(TestLab.args("label", lab.ssh("jetson1"), "--kubeconfig", kubeconfig.toString()));
        assertThat(label.exit()).as(label.err()).isZero();
        assertThat(label.out()).contains("labels unchanged");
    }

    @Test
    @Order(4)
    void joinGpuOnV1243WritesTheContainerdTemplateInstead() throws Exception {
        Cli.Result r = join("jetson2", "--gpu", "--k3s-version", "v1.24.3+k3s1");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote " + ContainerdTemplate.PATH);
        String template = lab.read("jetson2", ContainerdTemplate.PATH);
        assertThat(template).startsWith(ContainerdTemplate.MARKER).contains("default_runtime_name = \"nvidia\"")
                .containsPattern("BinaryName = \"/\\S+/nvidia-container-runtime\"");
        assertThat(kubectl("get", "node", "jetson2", "-o", NODE_ARGS)).doesNotContain("--default-runtime");
        assertThat(Files.exists(lab.path("jetson2", "/etc/rancher/k3s/config.yaml"))).isFalse();
        assertThat(line(kubectl("get", "nodes"), "jetson2")).contains("Ready").contains("v1.24.3+k3s1");
        assertThat(kubectl("get", "node", "jetson2", "-o", "jsonpath={.metadata.labels.k3gpu\\.dev/container-runtime}"))
                .isEqualTo("containerd-nvidia");

        Cli.Result again = join("jetson2", "--gpu", "--k3s-version", "v1.24.3+k3s1");
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(again.out()).contains("nothing changed");
    }

    @Test
    @Order(5)
    void withoutAPluginVerifyRunsTheSeedsPodAndSaysThePluginIsMissing() throws Exception {
        Cli.Result r = k3gpu("verify", "--node", "jetson1");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).startsWith("PASS: ")
                .contains("note: jetson1 advertises no nvidia.com/gpu, so pods get its GPU only through its default "
                        + "runtime, outside the scheduler's count: no NVIDIA device plugin pod runs there\n"
                        + "fix: run k3gpu device-plugin\n");
        Cli.Result json = k3gpu("verify", "--node", "jetson1", "-o", "json");
        assertThat(json.out()).contains("\"resource\" : null").contains("\"runtimeClassName\" : null");
        String wide = k3gpu("nodes", "-o", "wide").out();
        assertThat(wide.lines().findFirst().orElse("")).contains(" GPU-USE ");
        assertThat(line(wide, "jetson1")).containsPattern("1x \\S+\\s+-\\s");
    }

    @Test
    @Order(6)
    void aDevicePluginPodMakesVerifyRequestTheGpu() throws Exception {
        apply("plugin", """
                apiVersion: v1
                kind: Pod
                metadata: {name: nvidia-device-plugin-jetson1, namespace: kube-system}
                spec:
                  nodeName: jetson1
                  priorityClassName: system-node-critical
                  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
                  containers:
                  - name: nvidia-device-plugin-ctr
                    image: %s
                    env: [{name: FAIL_ON_INIT_ERROR, value: "false"}]
                    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
                    volumeMounts: [{name: device-plugin, mountPath: /var/lib/kubelet/device-plugins}]
                  volumes:
                  - name: device-plugin
                    hostPath: {path: /var/lib/kubelet/device-plugins}
                """.formatted(PLUGIN));
        assertThat(await("1", "get", "node", "jetson1", "-o",
                "jsonpath={.status.allocatable.nvidia\\.com/gpu}")).isEqualTo("1");

        Cli.Result json = k3gpu("verify", "--node", "jetson1", "-o", "json");
        assertThat(json.exit()).as(json.all()).isZero();
        assertThat(json.out()).contains("\"pass\" : true").contains("\"resource\" : \"nvidia.com/gpu\"")
                .contains("\"runtimeClassName\" : null").contains("\"notes\" : [ ]");
        assertThat(json.err()).contains("nvidia.com/gpu: 1, no RuntimeClass (NVIDIA is the node's default)");
        assertThat(line(k3gpu("nodes", "-o", "wide").out(), "jetson1")).contains(" 0/1 ");
    }

    @Test
    @Order(7)
    void whenAPodHoldsTheOnlyGpuVerifySaysAllAreTakenAndByWhom() throws Exception {
        apply("holder", """
                apiVersion: v1
                kind: Pod
                metadata: {name: gpu-holder, namespace: default}
                spec:
                  nodeSelector: {kubernetes.io/hostname: jetson1}
                  containers:
                  - name: hold
                    image: docker.io/dustynv/l4t-pytorch:r36.4.0
                    command: [sleep, "600"]
                    resources: {limits: {nvidia.com/gpu: 1}}
                """);
        assertThat(await("Running", "get", "pod", "gpu-holder", "-o", "jsonpath={.status.phase}")).isEqualTo("Running");
        assertThat(line(k3gpu("nodes", "-o", "wide").out(), "jetson1")).contains(" 1/1 ");
        assertThat(k3gpu("nodes", "-o", "json").out()).contains("\"gpuInUse\" : 1");

        Cli.Result r = k3gpu("verify", "--node", "jetson1", "--timeout", "30s");
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).startsWith("FAIL: all 1 nvidia.com/gpu of jetson1 are taken by default/gpu-holder; "
                        + "the scheduler: 0/")
                .contains("Insufficient nvidia.com/gpu")
                .contains("  default/gpu-holder holds 1 (Running)\n")
                .contains("fix: wait until one ends, or free its GPU: kubectl delete pod -n default gpu-holder");
        kubectl("delete", "pod", "gpu-holder", "--wait=false");
    }

    @Test
    @Order(8)
    void whenThePluginPodGoesTheGpuGoesAndVerifySaysThePluginIsMissingAgain() throws Exception {
        kubectl("delete", "pod", "-n", "kube-system", "nvidia-device-plugin-jetson1", "--wait=false");
        // The kubelet keeps a resource whose plugin went at 0 (until it drops it), as the lab's does.
        assertThat(await("0", "get", "node", "jetson1", "-o", "jsonpath={.status.allocatable.nvidia\\.com/gpu}"))
                .isIn("0", "");
        Cli.Result r = k3gpu("verify", "--node", "jetson1");
        assertThat(r.out()).contains("no NVIDIA device plugin pod runs there\nfix: run k3gpu device-plugin\n");
        assertThat(line(k3gpu("nodes", "-o", "wide").out(), "jetson1")).containsPattern("1x \\S+\\s+(-|0/0)\\s");
    }

    @Test
    @Order(9)
    void aPodNamingADeletedRuntimeClassIsRefusedAndVerifySaysHowToCreateIt() throws Exception {
        // jetson3 joins without --gpu: runc stays containerd's default, so GPU pods there name runtimeClassName nvidia
        Cli.Result j = join("jetson3");
        assertThat(j.exit()).as(j.err()).isZero();
        apply("plugin3", """
                apiVersion: v1
                kind: Pod
                metadata: {name: nvidia-device-plugin-jetson3, namespace: kube-system}
                spec:
                  nodeName: jetson3
                  runtimeClassName: nvidia
                  containers:
                  - name: nvidia-device-plugin-ctr
                    image: %s
                    volumeMounts: [{name: device-plugin, mountPath: /var/lib/kubelet/device-plugins}]
                  volumes:
                  - name: device-plugin
                    hostPath: {path: /var/lib/kubelet/device-plugins}
                """.formatted(PLUGIN));
        assertThat(await("1", "get", "node", "jetson3", "-o",
                "jsonpath={.status.allocatable.nvidia\\.com/gpu}")).isEqualTo("1");
        Cli.Result pass = k3gpu("verify", "--node", "jetson3", "-o", "json");
        assertThat(pass.exit()).as(pass.all()).isZero();
        assertThat(pass.out()).contains("\"resource\" : \"nvidia.com/gpu\"").contains("\"runtimeClassName\" : \"nvidia\"");

        kubectl("delete", "runtimeclass", "nvidia");
        Cli.Result r = k3gpu("verify", "--node", "jetson3");
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).startsWith("FAIL: the API refused the gpu-test pod for jetson3: there is no RuntimeClass "
                        + "\"nvidia\"")
                .contains("pod rejected: RuntimeClass \"nvidia\" not found")
                .contains("fix: create it: printf 'apiVersion: node.k8s.io/v1\\nkind: RuntimeClass\\nmetadata:\\n"
                        + "  name: nvidia\\nhandler: nvidia\\n' | kubectl apply -f -");
        // the fix, as printed, run by a shell
        Process fix = new ProcessBuilder("sh", "-c", "printf 'apiVersion: node.k8s.io/v1\\nkind: RuntimeClass\\n"
                + "metadata:\\n  name: nvidia\\nhandler: nvidia\\n' | kubectl --kubeconfig " + kubeconfig
                + " apply -f -").redirectErrorStream(true).start();
        assertThat(fix.waitFor()).isZero();
        assertThat(k3gpu("verify", "--node", "jetson3").exit()).isZero();
    }
}
