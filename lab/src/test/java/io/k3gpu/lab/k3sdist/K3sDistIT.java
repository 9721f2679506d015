package io.k3gpu.lab.k3sdist;

import io.k3gpu.lab.Lab;
import io.k3gpu.lab.LabConfig;
import io.k3gpu.lab.LabState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The simulated K3s installed on lab nodes the way k3sup and K3s's docs install the real one, through the real
 * OpenSSH client: the install script from the lab's mirror, a server, agents in Docker and containerd mode, the real
 * kubectl, wrong tokens, a stopped Docker, an air-gap install, failed downloads, re-installs and uninstalls.
 * Needs root; one lab for the class (node1 server; jetson1 Nano, Docker; jetson2 Orin Nano, containerd with the
 * NVIDIA default runtime from config.yaml; gpu1 H200, Docker with nvidia as default runtime; node2 for failures
 * and the air-gap install).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class K3sDistIT {
    static final String ID = "itk3sd";
    static final int SUBNET = 238;
    static final String SERVER_IP = "10.213.238.11";
    static final String K3S_URL = "https://" + SERVER_IP + ":6443";
    static final JsonMapper JSON = JsonMapper.builder().build();
    static LabState lab;
    static K3sDistribution k3s;
    static Path kubeconfig;
    static String token;

    record Ssh(int exit, String out, String err) {
    }

    /** Held while this class runs: a second run of it (another build on this machine) waits instead of
     * tearing this lab down as the leftovers of an interrupted run. The kernel drops it when the JVM ends. */
    static FileChannel lock;

    @BeforeAll
    static void up() throws Exception {
        assumeThat(Files.readString(Path.of("/proc/self/status"))).as("the lab needs root").containsPattern(
                "(?m)^Uid:\\s+\\d+\\s+0\\s");
        lock = FileChannel.open(Path.of(System.getProperty("java.io.tmpdir"), "k3gpu-" + ID + ".it-lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        lock.lock();
        Lab.down(LabConfig.STATE_ROOT.resolve(ID));
        long t0 = System.nanoTime();
        lab = Lab.up(new LabConfig(ID, SUBNET, List.of("cpu-only", "jetson-nano", "orin-nano", "dgpu", "cpu-only"),
                null, null));
        System.out.printf("lab up (5 nodes, K3s distribution included): %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        k3s = K3sDistribution.of(lab);
        kubeconfig = Files.createTempFile("k3sdist-it", ".yaml");
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (lab != null) {
                List<ProcessHandle> mirror = MirrorDaemon.processes(lab.stateDir());
                Lab.down(lab.stateDir());
                assertThat(mirror).hasSize(1);
                assertThat(MirrorDaemon.alive(mirror.get(0).pid())).as("the mirror after Lab.down").isFalse();
                assertThat(run("ps", "-eo", "args")).doesNotContain(lab.stateDir().toString());
            }
        } finally {
            if (kubeconfig != null) {
                Files.deleteIfExists(kubeconfig);
            }
            if (lock != null) {
                lock.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------- helpers

    static Ssh ssh(String node, String command, String stdin) throws Exception {
        return ssh(node, "root", command, stdin);
    }

    static Ssh ssh(String node, String user, String command, String stdin) throws Exception {
        Process p = new ProcessBuilder(lab.sshCommand(node, user, command)).start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s on %s finished", command, node).isTrue();
        return new Ssh(p.exitValue(), out.join(), err.join());
    }

    static String ok(String node, String command) throws Exception {
        Ssh r = ssh(node, command, null);
        assertThat(r.exit()).as("%s on %s: %s %s", command, node, r.out(), r.err()).isZero();
        return r.out();
    }

    static String drain(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = drain(p.getInputStream());
        p.waitFor(60, TimeUnit.SECONDS);
        return out;
    }

    static String kubectl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("kubectl", "--kubeconfig", kubeconfig.toString()));
        cmd.addAll(List.of(args));
        return run(cmd.toArray(String[]::new));
    }

    static JsonNode nodes() throws Exception {
        return JSON.readTree(kubectl("get", "nodes", "-o", "json"));
    }

    static JsonNode node(String name) throws Exception {
        for (JsonNode n : nodes().path("items")) {
            if (name.equals(n.path("metadata").path("name").asString())) {
                return n;
            }
        }
        return null;
    }

    static boolean ready(JsonNode node) {
        if (node == null) {
            return false;
        }
        for (JsonNode c : node.path("status").path("conditions")) {
            if ("Ready".equals(c.path("type").asString())) {
                return "True".equals(c.path("status").asString());
            }
        }
        return false;
    }

    static void await(String what, long seconds, Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!check.done()) {
            assertThat(System.nanoTime()).as("waited %d s for %s", seconds, what).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    interface Check {
        boolean done() throws Exception;
    }

    /** Waits until the service log on {@code node} has a line matching {@code line}; returns the log. */
    static String awaitLog(String node, String service, Predicate<String> line, long seconds) throws Exception {
        Path log = lab.nodePath(node, "/var/log/k3gpu-lab/" + service + ".log");
        String[] text = {""};
        await(service + " log line on " + node, seconds, () -> {
            text[0] = Files.exists(log) ? Files.readString(log) : "";
            return text[0].lines().anyMatch(line);
        });
        return text[0];
    }

    /** The install command as k3sup runs it, the token read from stdin so that it is on no command line. */
    static String agentInstall(String exec, String extraEnv) {
        return "read -r K3S_TOKEN && export K3S_TOKEN && curl -sfL " + k3s.installUrl() + " | K3S_URL=" + K3S_URL
                + " INSTALL_K3S_EXEC='" + exec + "' " + extraEnv + " sh -";
    }

    static String wideColumn(String wide, String node, String column) {
        List<String> lines = wide.lines().toList();
        String header = lines.get(0);
        int start = header.indexOf(column);
        for (String l : lines) {
            if (l.startsWith(node + " ")) {
                String rest = l.substring(start);
                return rest.split("\\s+")[0];
            }
        }
        return null;
    }

    static final List<String> K3S_FILES = List.of("/etc/rancher/k3s", "/var/lib/rancher/k3s", "/var/lib/kubelet",
            "/usr/local/bin/k3s", "/usr/local/bin/crictl", "/usr/local/bin/ctr", "/usr/local/bin/k3s-killall.sh",
            "/usr/local/bin/k3s-uninstall.sh", "/usr/local/bin/k3s-agent-uninstall.sh",
            "/etc/systemd/system/k3s.service", "/etc/systemd/system/k3s.service.env",
            "/etc/systemd/system/k3s-agent.service", "/etc/systemd/system/k3s-agent.service.env",
            "/etc/k3gpu-lab/services/k3s.service-sh", "/etc/k3gpu-lab/services/k3s-agent.service-sh",
            "/etc/k3gpu-lab/services/enabled/k3s", "/etc/k3gpu-lab/services/enabled/k3s-agent",
            "/run/k3gpu-lab/services/k3s", "/run/k3gpu-lab/services/k3s-agent");

    static void assertNoK3s(String node) throws Exception {
        String present = ok(node, "for f in " + String.join(" ", K3S_FILES)
                + "; do [ -e $f ] || [ -L $f ] && echo $f; done; true");
        assertThat(present).as("K3s files left on %s", node).isEmpty();
        String procs = ok(node, "ps -eo args");
        assertThat(procs).as("processes on %s", node).doesNotContain("K3sServerMain", "k3s-agent", "k3s-service.sh");
    }

    // ---------------------------------------------------------------------------------------------------- tests

    @Test
    @Order(1)
    void mirrorServesReleasesChannelsAndTheAirgapBundle() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> stable = http.send(HttpRequest.newBuilder(URI.create(k3s.channelUrl() + "/stable"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(stable.statusCode()).isEqualTo(302);
        assertThat(stable.headers().firstValue("Location")).contains(
                k3s.githubUrl() + "/tag/v1.31.4+k3s1");
        assertThat(http.send(HttpRequest.newBuilder(URI.create(k3s.channelUrl() + "/latest")).build(),
                HttpResponse.BodyHandlers.ofString()).headers().firstValue("Location")).get().asString()
                .endsWith("/v1.32.0+k3s1");
        assertThat(http.send(HttpRequest.newBuilder(URI.create(k3s.channelUrl() + "/nope")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);

        // from a node: the script, and an arm64 binary that matches its checksum file
        String sums = ok("jetson1", "curl -sfL " + k3s.githubUrl() + "/download/v1.30.8+k3s1/sha256sum-arm64.txt");
        String got = ok("jetson1", "curl -sfL " + k3s.binaryUrl("v1.30.8+k3s1", "arm64") + " | sha256sum");
        assertThat(sums).contains(got.split("\\s+")[0] + "  k3s-arm64");
        assertThat(ok("jetson1", "curl -sfL " + k3s.installUrl() + " | head -1")).isEqualTo("#!/bin/sh\n");
        assertThat(ok("node1", "curl -w '%{url_effective}' -L -s -S " + k3s.channelUrl() + "/v1.30 -o /dev/null"))
                .endsWith("/releases/tag/v1.30.8+k3s1");

        assertThat(k3s.airgapDir().resolve("k3s")).isExecutable();
        assertThat(k3s.airgapDir().resolve("k3s-arm64")).isExecutable();
        assertThat(k3s.airgapDir().resolve("install.sh")).isExecutable();
        assertThat(run("tar", "-tf", k3s.airgapDir().resolve("k3s-airgap-images-arm64.tar").toString()))
                .isEqualTo("manifest.json\nREADME\n");
    }

    @Test
    @Order(2)
    void serverInstallsFromTheMirror() throws Exception {
        long t0 = System.nanoTime();
        Ssh r = ssh("node1", "curl -sfL " + k3s.installUrl() + " | INSTALL_K3S_EXEC='server' sh -", null);
        System.out.printf("server install to active: %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("[INFO]  Finding release for channel stable",
                "[INFO]  Using v1.31.4+k3s1 as release",
                "[INFO]  Downloading hash " + K3sDistribution.PUBLIC_GITHUB_URL + "/download/v1.31.4+k3s1/sha256sum-amd64.txt",
                "[INFO]  Verifying binary download", "[INFO]  Installing k3s to /usr/local/bin/k3s",
                "[INFO]  Skipping /usr/local/bin/kubectl symlink to k3s, command exists in PATH at /usr/bin/kubectl",
                "[INFO]  Creating /usr/local/bin/crictl symlink to k3s",
                // node1 has Docker (Debian's docker.io brings containerd's ctr): install.sh leaves that one alone
                "[INFO]  Skipping /usr/local/bin/ctr symlink to k3s, command exists in PATH at /usr/bin/ctr",
                "[INFO]  systemd: Creating service file /etc/systemd/system/k3s.service",
                "[INFO]  systemd: Starting k3s");
        assertThat(ok("node1", "stat -c '%a %U' /usr/local/bin/k3s /etc/systemd/system/k3s.service.env"))
                .isEqualTo("755 root\n600 root\n");
        assertThat(ok("node1", "readlink /usr/local/bin/crictl")).isEqualTo("k3s\n");
        assertThat(ok("node1", "cat /etc/systemd/system/k3s.service")).contains("Type=notify\n",
                "EnvironmentFile=-/etc/systemd/system/k3s.service.env\n", "Restart=always\n",
                "ExecStart=/usr/local/bin/k3s \\\n    server \\\n\n");
        assertThat(ok("node1", "k3s --version")).isEqualTo("k3s version v1.31.4+k3s1 ("
                + K3sReleases.commit("v1.31.4+k3s1") + ")\ngo version go1.22.9\n");
        assertThat(ok("node1", "systemctl is-active k3s; systemctl is-enabled k3s")).isEqualTo("active\nenabled\n");
        token = ok("node1", "cat /var/lib/rancher/k3s/server/node-token").strip();
        assertThat(token).matches("K10[0-9a-f]{64}::server:[0-9a-f]+");
        assertThat(ok("node1", "k3s kubectl get nodes")).contains("node1 ").contains("Ready");
        Files.writeString(kubeconfig, ok("node1", "cat /etc/rancher/k3s/k3s.yaml")
                .replace("https://127.0.0.1:6443", K3S_URL));
    }

    @Test
    @Order(3)
    void agentsJoinInDockerAndContainerdMode() throws Exception {
        // gpu1: Docker with nvidia as its default runtime; jetson2: containerd, the NVIDIA runtime by config.yaml
        ok("gpu1", "printf '{\"default-runtime\": \"nvidia\", \"runtimes\": {\"nvidia\": {\"path\": "
                + "\"nvidia-container-runtime\", \"args\": []}}}\\n' > /etc/docker/daemon.json && systemctl restart docker");
        ok("jetson2", "mkdir -p /etc/rancher/k3s && printf 'default-runtime: nvidia\\nnode-label:\\n  - "
                + "k3gpu.dev/from-config=yes\\nwrite-kubeconfig-mode: \"0644\"\\n' > /etc/rancher/k3s/config.yaml");
        Map<String, String> execs = new LinkedHashMap<>();
        execs.put("jetson1", "agent --docker");
        execs.put("jetson2", "agent");
        execs.put("gpu1", "agent --docker");
        long t0 = System.nanoTime();
        Map<String, CompletableFuture<Ssh>> installs = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : execs.entrySet()) {
            // gpu1: as a sudo user (the script's own sudo), and an older release
            boolean gpu1 = e.getKey().equals("gpu1");
            installs.put(e.getKey(), CompletableFuture.supplyAsync(() -> {
                try {
                    return ssh(e.getKey(), gpu1 ? "k3gpu" : "root", agentInstall(e.getValue(),
                            gpu1 ? "INSTALL_K3S_VERSION=v1.30.8+k3s1" : ""), token + "\n");
                } catch (Exception ex) {
                    throw new IllegalStateException(ex);
                }
            }));
        }
        for (Map.Entry<String, CompletableFuture<Ssh>> e : installs.entrySet()) {
            Ssh r = e.getValue().join();
            assertThat(r.exit()).as(e.getKey() + ": " + r.out() + r.err()).isZero();
            assertThat(r.out()).contains("[INFO]  systemd: Starting k3s-agent");
        }
        System.out.printf("3 agent installs (parallel): %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        await("4 Ready nodes", 60, () -> {
            for (String n : List.of("node1", "jetson1", "jetson2", "gpu1")) {
                if (!ready(node(n))) {
                    return false;
                }
            }
            return true;
        });
        System.out.printf("install start to 3 agents Ready: %.0f ms%n", (System.nanoTime() - t0) / 1e6);

        String wide = kubectl("get", "nodes", "-o", "wide");
        System.out.println(wide);
        assertThat(wideColumn(wide, "node1", "CONTAINER-RUNTIME")).isEqualTo("containerd://1.7.23-k3s2");
        // the lab's Docker nodes run Debian's real dockerd, which reports its own version
        assertThat(wideColumn(wide, "jetson1", "CONTAINER-RUNTIME")).isEqualTo("docker://20.10.24+dfsg1");
        assertThat(wideColumn(wide, "jetson2", "CONTAINER-RUNTIME")).isEqualTo("containerd://1.7.23-k3s2");
        assertThat(wideColumn(wide, "gpu1", "CONTAINER-RUNTIME")).isEqualTo("docker://20.10.24+dfsg1");
        assertThat(wideColumn(wide, "jetson1", "STATUS")).isEqualTo("Ready");
        assertThat(wideColumn(wide, "jetson1", "INTERNAL-IP")).isEqualTo("10.213.238.12");
        assertThat(wideColumn(wide, "jetson1", "KERNEL-VERSION")).isEqualTo("4.9.253-tegra");
        assertThat(wideColumn(wide, "jetson1", "VERSION")).isEqualTo("v1.31.4+k3s1");
        assertThat(wideColumn(wide, "gpu1", "VERSION")).isEqualTo("v1.30.8+k3s1");
        assertThat(ok("gpu1", "k3s --version")).startsWith("k3s version v1.30.8+k3s1 (");

        JsonNode nano = node("jetson1");
        JsonNode orin = node("jetson2");
        JsonNode h200 = node("gpu1");
        assertThat(nano.path("metadata").path("labels").path("kubernetes.io/arch").asString()).isEqualTo("arm64");
        assertThat(orin.path("metadata").path("labels").path("kubernetes.io/arch").asString()).isEqualTo("arm64");
        assertThat(h200.path("metadata").path("labels").path("kubernetes.io/arch").asString()).isEqualTo("amd64");
        assertThat(orin.path("metadata").path("labels").path("k3gpu.dev/from-config").asString()).isEqualTo("yes");
        // nvidia.com/gpu only from a registered device plugin (none runs here), whatever the default runtime
        for (JsonNode n : List.of(nano, orin, h200)) {
            assertThat(n.path("status").path("capacity").has("nvidia.com/gpu")).isFalse();
            assertThat(n.path("status").path("allocatable").has("nvidia.com/gpu")).isFalse();
        }
        assertThat(nano.path("status").path("nodeInfo").path("osImage").asString()).isEqualTo("Ubuntu 18.04.6 LTS");
        assertThat(nano.path("metadata").path("annotations").path("k3s.io/node-args").asString())
                .isEqualTo("[\"agent\",\"--docker\"]");
        assertThat(nano.path("metadata").path("annotations").path("k3s.io/node-env").asString())
                .contains("\"K3S_TOKEN\":\"********\"").doesNotContain(token);
        assertThat(ok("jetson2", "grep -c default_runtime_name /var/lib/rancher/k3s/agent/etc/containerd/config.toml"))
                .isEqualTo("1\n");

        // the token: in the service's environment file (0600), on no command line
        for (String n : execs.keySet()) {
            assertThat(ok(n, "stat -c %a /etc/systemd/system/k3s-agent.service.env")).isEqualTo("600\n");
            assertThat(ok(n, "ps -eo args")).doesNotContain(token.substring(token.lastIndexOf(':') + 1));
        }
        String pid = ok("jetson1", "pgrep -f k3s-agent[.]pyc").strip();
        String status = ok("jetson1", "grep -E 'VmRSS|RssAnon' /proc/" + pid + "/status; grep -E '^Pss:' /proc/"
                + pid + "/smaps_rollup");
        System.out.println("agent memory (jetson1): " + status.replaceAll("\\s+", " "));
        long rssKb = Long.parseLong(status.lines().filter(l -> l.startsWith("VmRSS")).findFirst().orElseThrow()
                .replaceAll("\\D", ""));
        assertThat(rssKb).as("agent RSS in KiB").isLessThan(24 * 1024);
    }

    @Test
    @Order(4)
    void podLogsAreProxiedToTheAgentsKubelet() throws Exception {
        SSLContext trustAll = SSLContext.getInstance("TLS");
        trustAll.init(null, new TrustManager[] {new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] c, String a) {
            }

            public void checkServerTrusted(X509Certificate[] c, String a) {
            }

            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        HttpResponse<String> r = HttpClient.newBuilder().sslContext(trustAll).build().send(HttpRequest.newBuilder(
                URI.create("https://10.213.238.12:10250/containerLogs/default/nope/c")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.body()).contains("pod \\\"nope\\\" does not exist");

        Path pod = Files.createTempFile("pod", ".yaml");
        Files.writeString(pod, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: gpu-test\n  namespace: default\nspec:\n"
                + "  nodeName: jetson1\n  restartPolicy: Never\n  containers:\n  - name: gpu-test\n"
                + "    image: icetekio/jetson-nano-tensorflow\n    command: [echo, served by the kubelet]\n");
        try {
            assertThat(kubectl("apply", "-f", pod.toString())).contains("gpu-test created");
            await("the pod's log from jetson1's kubelet", 30, () -> kubectl("logs", "gpu-test")
                    .equals("served by the kubelet\n"));
        } finally {
            kubectl("delete", "pod", "gpu-test", "--wait=false");
            Files.deleteIfExists(pod);
        }
    }

    @Test
    @Order(5)
    void wrongTokensAreRefusedAndTheNodeNeverAppears() throws Exception {
        String hash = token.substring(0, token.indexOf("::"));
        Ssh r = ssh("node2", agentInstall("agent", ""), hash + "::server:wrong-password\n");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        awaitLog("node2", "k3s-agent", l -> l.contains("level=info msg=\"Waiting to retrieve agent configuration; "
                + "server is not ready: failed to retrieve configuration from server: " + K3S_URL
                + "/v1-k3s/config: 401 Unauthorized\""), 20);

        String otherCa = "K10" + "0".repeat(64) + "::server:" + token.substring(token.lastIndexOf(':') + 1);
        r = ssh("node2", agentInstall("agent", ""), otherCa + "\n");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        String log = awaitLog("node2", "k3s-agent", l -> l.contains("level=error msg=\"token CA hash does not match "
                + "the Cluster CA certificate hash: " + "0".repeat(64) + " != " + hash.substring(3) + "\""), 20);
        assertThat(log).doesNotContain(token.substring(token.lastIndexOf(':') + 1));
        assertThat(node("node2")).isNull();
    }

    @Test
    @Order(6)
    void agentWithDockerStoppedFailsAsCriDockerdAndIsRestarted() throws Exception {
        ok("node2", "systemctl stop docker");
        try {
            Ssh r = ssh("node2", agentInstall("agent --docker", ""), token + "\n");
            assertThat(r.exit()).as(r.out() + r.err()).isZero();
            String log = awaitLog("node2", "k3s-agent", l -> l.contains("k3s-agent.service: Scheduled restart job, "
                    + "restart counter is at 1."), 30);
            assertThat(log).contains("level=error msg=\"cri-dockerd exited: failed to get docker version from "
                    + "dockerd: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker "
                    + "daemon running?\"", "k3s-agent.service: Main process exited, code=exited, status=1/FAILURE");
            assertThat(node("node2")).isNull();
        } finally {
            ok("node2", "systemctl start docker");
        }
    }

    @Test
    @Order(7)
    void uninstallLeavesNoK3sFilesNorProcesses() throws Exception {
        Ssh r = ssh("node2", "/usr/local/bin/k3s-agent-uninstall.sh", null);
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertNoK3s("node2");
        kubectl("delete", "node", "node2", "--ignore-not-found"); // as `k3gpu reset` does after the uninstall
    }

    @Test
    @Order(8)
    void airgapInstallUsesNoMirror() throws Exception {
        for (String f : List.of("install.sh", "k3s", "k3s-airgap-images-amd64.tar")) {
            Path target = lab.nodePath("node2", "/root/airgap/" + f);
            Files.createDirectories(target.getParent());
            Files.copy(k3s.airgapDir().resolve(f), target);
        }
        long mirrorLog = Files.size(k3s.mirrorLog());
        Ssh r = ssh("node2", "mkdir -p /var/lib/rancher/k3s/agent/images && cp /root/airgap/k3s-airgap-images-amd64.tar"
                + " /var/lib/rancher/k3s/agent/images/ && install -m 0755 /root/airgap/k3s /usr/local/bin/k3s && "
                + "read -r K3S_TOKEN && export K3S_TOKEN && INSTALL_K3S_SKIP_DOWNLOAD=true K3S_URL=" + K3S_URL
                + " sh /root/airgap/install.sh", token + "\n");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("[INFO]  Skipping k3s download and verify");
        await("node2 Ready", 30, () -> ready(node("node2")));
        assertThat(Files.readString(k3s.mirrorLog()).substring((int) mirrorLog)).doesNotContain("10.213.238.15");
        JsonNode images = node("node2").path("status").path("images");
        assertThat(images).hasSize(K3sReleases.IMAGES.size());
        assertThat(images.get(images.size() - 1).path("names").get(0).asString())
                .isEqualTo("docker.io/rancher/mirrored-pause:3.6");
        assertThat(Files.readString(lab.nodePath("node2", "/var/log/k3gpu-lab/k3s-agent.log"))).contains(
                "msg=\"Imported images from /var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar in ");
    }

    @Test
    @Order(9)
    void failedDownloadsFailTheInstall() throws Exception {
        Ssh r = ssh("node2", "curl -sfL " + k3s.installUrl() + " | INSTALL_K3S_VERSION=v9.9.9+k3s1 K3S_URL="
                + K3S_URL + " K3S_TOKEN=x sh -", null);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("[ERROR]  Download failed");

        ok("node2", "mkdir -p /tmp/fake/download/v1.31.4+k3s1 && echo fake > /tmp/fake/download/v1.31.4+k3s1/k3s && "
                + "echo '" + "0".repeat(64) + "  k3s' > /tmp/fake/download/v1.31.4+k3s1/sha256sum-amd64.txt && "
                + "rm -f /usr/local/bin/k3s.keep && cp /usr/local/bin/k3s /usr/local/bin/k3s.keep");
        r = ssh("node2", "curl -sfL " + k3s.installUrl() + " | GITHUB_URL=file:///tmp/fake INSTALL_K3S_VERSION="
                + "v1.31.4+k3s1 K3S_URL=" + K3S_URL + " K3S_TOKEN=x sh -", null);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).containsPattern("\\[ERROR\\]  Download sha256 does not match 0{64}, got [0-9a-f]{64}");
        assertThat(ok("node2", "cmp /usr/local/bin/k3s /usr/local/bin/k3s.keep && rm /usr/local/bin/k3s.keep && "
                + "systemctl is-active k3s-agent")).isEqualTo("active\n");
    }

    @Test
    @Order(10)
    void reinstallingRewritesAndRestartsOnlyWhatChanged() throws Exception {
        String before = ok("jetson1", "pgrep -f k3s-agent[.]pyc").strip();
        Ssh r = ssh("jetson1", agentInstall("agent --docker --node-label k3gpu.dev/rejoined=yes", ""), token + "\n");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("[INFO]  Skipping binary downloaded, installed k3s matches hash",
                "[INFO]  systemd: Starting k3s-agent");
        assertThat(ok("jetson1", "pgrep -f k3s-agent[.]pyc").strip()).isNotEqualTo(before);
        await("the new label", 30, () -> "yes".equals(node("jetson1").path("metadata").path("labels")
                .path("k3gpu.dev/rejoined").asString()));

        r = ssh("jetson2", agentInstall("agent", ""), token + "\n");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("[INFO]  No change detected so skipping service start");
    }

    @Test
    @Order(11)
    void uninstallingTheClusterLeavesNothing() throws Exception {
        for (String n : List.of("jetson1", "jetson2", "gpu1", "node2")) {
            Ssh r = ssh(n, "k3s-agent-uninstall.sh", null);
            assertThat(r.exit()).as(n + ": " + r.out() + r.err()).isZero();
            assertNoK3s(n);
        }
        Ssh r = ssh("node1", "k3s-uninstall.sh", null);
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertNoK3s("node1");
    }
}
