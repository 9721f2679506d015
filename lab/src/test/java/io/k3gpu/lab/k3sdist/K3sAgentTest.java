package io.k3gpu.lab.k3sdist;

import io.k3gpu.lab.k3s.HostFacts;
import io.k3gpu.lab.k3s.K3sNodeObject;
import io.k3gpu.lab.k3s.K3sServer;
import io.k3gpu.lab.k3s.K3sServerOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The Python agent on the host, without a lab or root: its pure parts through a small harness, and whole runs
 * against an in-process simulated server (paths under a scratch K3GPU_LAB_FSROOT, the kubelet on a free port).
 */
class K3sAgentTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    @TempDir
    static Path dir;
    static Path agent;
    static K3sServer server;

    @BeforeAll
    static void setUp() throws Exception {
        assumeThat(Path.of("/usr/bin/python3")).isExecutable();
        MirrorContent.writeNodeFiles(dir.resolve("shared"));
        agent = dir.resolve("shared/k3s-agent.py");
        HostFacts real = HostFacts.probe(dir, false);
        HostFacts host = new HostFacts("k3s-server", real.architecture(), real.kernelVersion(), real.osImage(), 2,
                4_000_000, 30_000_000, "127.0.0.1", "boot", "machine", 0, List.of(), null, null);
        // the agent runs on this host, not in a node: K3s's packaged components off (--disable), or their pods
        // would run here (traefik listening on the host's ports)
        server = K3sServer.start(K3sServerOptions.defaults().etcRoot(dir.resolve("server")).bindAddress("127.0.0.1")
                .httpsListenPort(0).hostFacts(host).disable("traefik").disable("servicelb").disable("metrics-server")
                .logTo(new PrintStream(OutputStream.nullOutputStream())));
    }

    @AfterAll
    static void tearDown() {
        if (server != null) {
            server.close();
        }
    }

    /** Runs {@code code} with the agent's modules imported (agent, options, ...) and {@code args} as sys.argv[2:]. */
    static String harness(String code, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", "-S", "-c",
                "import json, sys\nsys.path.insert(0, sys.argv[1])\n"
                + "from k3sagent import agent, common, deviceplugins, images, node, options\n" + code,
                agent.getParent().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    /** A running agent; its stderr collected line by line. */
    static final class AgentProcess implements AutoCloseable {
        final Process process;
        final List<String> lines = new ArrayList<>();

        AgentProcess(Path root, Map<String, String> env, String... args) throws Exception {
            this(agentCommand(args), withDefaults(root, env));
        }

        /** Any program (the simulated device plugin) with exactly {@code env} added. */
        AgentProcess(List<String> cmd, Map<String, String> env) throws Exception {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().putAll(env);
            pb.redirectErrorStream(true);
            process = pb.start();
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String l = r.readLine(); l != null; l = r.readLine()) {
                        synchronized (lines) {
                            lines.add(l);
                        }
                    }
                } catch (java.io.IOException e) {
                    // the agent ended
                }
            });
            t.setDaemon(true);
            t.start();
        }

        String awaitLine(Predicate<String> p, int seconds) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                synchronized (lines) {
                    for (String l : lines) {
                        if (p.test(l)) {
                            return l;
                        }
                    }
                }
                Thread.sleep(50);
            }
            synchronized (lines) {
                throw new AssertionError("no such line in " + seconds + " s; the agent wrote:\n"
                        + String.join("\n", lines));
            }
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    static List<String> agentCommand(String... args) {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", "-S", agent.toString(), "agent"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static Map<String, String> withDefaults(Path root, Map<String, String> env) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(Map.of("K3GPU_LAB_FSROOT", root.toString(),
                "K3GPU_LAB_KUBELET_PORT", Integer.toString(freePort()), "K3GPU_LAB_HEARTBEAT_SECONDS", "1"));
        all.putAll(env);
        return all;
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static JsonNode api(String path) throws Exception {
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
        String password = server.token().substring(server.token().lastIndexOf(':') + 1);
        HttpResponse<String> r = HttpClient.newBuilder().sslContext(trustAll).build().send(HttpRequest.newBuilder(
                URI.create(server.url() + path)).header("Authorization", "Basic " + Base64.getEncoder()
                .encodeToString(("node:" + password).getBytes(StandardCharsets.UTF_8))).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    }

    // ------------------------------------------------------------------------------------------------------ pure

    @Test
    void configFileEnvironmentAndCommandLineCombineAsInK3s() throws Exception {
        Path root = dir.resolve("cfg");
        Files.createDirectories(root.resolve("etc/rancher/k3s/config.yaml.d"));
        Files.writeString(root.resolve("etc/rancher/k3s/config.yaml"), "# shared by server and agent\n"
                + "node-name: from-config\nnode-label:\n  - a=1   # first\n  - \"q=x y\"\ndocker: yes\n"
                + "default-runtime: 'nvidia'\nwrite-kubeconfig-mode: \"0644\"\nnode-ip: [10.0.0.1, 10.0.0.2]\n"
                + "kubelet-arg:\n- max-pods=50\n");
        Files.writeString(root.resolve("etc/rancher/k3s/config.yaml.d/10-extra.yaml"), "node-label+: [c=3]\n");
        JsonNode v = JSON.readTree(harness("o = options.parse_options(sys.argv[2:], {'K3S_URL': 'https://env:6443', "
                + "'K3S_NODE_NAME': 'from-env', 'K3S_TOKEN': 'secret'})\n"
                + "print(json.dumps([o.string('node-name'), o.list('node-label'), o.bool('docker'), "
                + "o.string('default-runtime'), o.string('server'), o.string('token'), o.list('node-ip'), "
                + "o.list('kubelet-arg'), o.node_args]))", Map.of("K3GPU_LAB_FSROOT", root.toString()),
                "--node-name", "from-cli", "--node-label=b=2", "-t", "cli-token"));
        assertThat(v.get(0).asString()).isEqualTo("from-cli");
        assertThat(JSON.convertValue(v.get(1), List.class)).containsExactly("a=1", "q=x y", "c=3", "b=2");
        assertThat(v.get(2).asBoolean()).isTrue();
        assertThat(v.get(3).asString()).isEqualTo("nvidia");
        assertThat(v.get(4).asString()).as("a variable fills what neither sets").isEqualTo("https://env:6443");
        assertThat(v.get(5).asString()).isEqualTo("cli-token");
        assertThat(JSON.convertValue(v.get(6), List.class)).containsExactly("10.0.0.1", "10.0.0.2");
        assertThat(JSON.convertValue(v.get(7), List.class)).containsExactly("max-pods=50");
        assertThat(JSON.convertValue(v.get(8), List.class)).as("node-args, secrets redacted").containsExactly("agent",
                "--node-name=from-config", "--node-label=a=1", "--node-label=q=x y", "--node-label=c=3",
                "--docker=true", "--default-runtime=nvidia", "--node-ip=10.0.0.1", "--node-ip=10.0.0.2",
                "--kubelet-arg=max-pods=50", "--node-name", "from-cli", "--node-label=b=2", "-t", "********");
    }

    @Test
    void tokensParseAsK3sParsesThem() throws Exception {
        String hash = "ab".repeat(32);
        String out = harness("def t(x):\n    try:\n        return list(options.parse_token(x))\n"
                + "    except ValueError as e:\n        return str(e)\n"
                + "print(json.dumps([t('K10" + hash + "::server:pw'), t('K10" + hash + "::node:p:w'), t('plain'), "
                + "t('abcdef.0123456789abcdef'), t('K10abc::server:pw'), t('K10::server:')]))", Map.of());
        JsonNode v = JSON.readTree(out);
        assertThat(v.get(0).get(0).asString()).isEqualTo(hash);
        assertThat(v.get(0).get(1).asString()).isEqualTo("pw");
        assertThat(v.get(1).get(1).asString()).isEqualTo("p:w");
        assertThat(v.get(2).get(0).isNull()).isTrue();
        assertThat(v.get(2).get(1).asString()).isEqualTo("plain");
        assertThat(v.get(3).asString()).startsWith("failed to normalize server token");
        assertThat(v.get(4).asString()).isEqualTo("invalid token CA hash length");
        assertThat(v.get(5).asString()).startsWith("failed to normalize server token");
    }

    @Test
    void nodeObjectIsTheOneK3sNodeObjectBuilds() throws Exception {
        String out = harness("agent.utc_now = lambda: '2026-11-28T18:00:00Z'\n"
                + "class F: pass\nf = F()\n"
                + "f.hostname, f.architecture, f.kernel, f.os_image = 'jetson1', 'arm64', '4.9.253-tegra', "
                + "'Ubuntu 18.04.6 LTS'\n"
                + "f.cpus, f.memory_kib, f.storage_kib, f.internal_ip = 4, 4059136, 30435312, '192.168.0.40'\n"
                + "f.boot_id, f.machine_id, f.gpus, f.runtimes = 'boot', 'machine', 1, [('nvidia', '/x')]\n"
                + "f.docker_version, f.docker_runtime = '20.10.21', 'nvidia'\n"
                + "o = options.parse_options(['--docker', '--node-label', 'k3gpu.dev/l4t=32.7.1', '--node-taint', "
                + "'nvidia.com/gpu=true:NoSchedule', '--token', 'x'], {})\n"
                + "ag = agent.Agent(o)\nag.facts, ag.docker, ag.default_runtime, ag.node_ips = f, True, None, []\n"
                + "ag.max_pods, ag.node_name = 110, 'jetson1'\n"
                + "print(json.dumps(ag.node_object([], '10.42.1.0/24')))",
                Map.of("K3GPU_LAB_K3S_VERSION", "v1.31.4+k3s1"));
        ObjectNode python = (ObjectNode) JSON.readTree(out);
        HostFacts facts = new HostFacts("jetson1", "arm64", "4.9.253-tegra", "Ubuntu 18.04.6 LTS", 4, 4059136,
                30435312, "192.168.0.40", "boot", "machine", 1, List.of("nvidia"), "20.10.21", "nvidia");
        ObjectNode java = K3sNodeObject.build(new K3sNodeObject.Spec("jetson1", "v1.31.4+k3s1", false, false, true,
                null, List.of("k3gpu.dev/l4t=32.7.1"), List.of("nvidia.com/gpu=true:NoSchedule"), List.of(),
                List.of(), List.of("agent", "--docker", "--node-label", "k3gpu.dev/l4t=32.7.1", "--node-taint",
                "nvidia.com/gpu=true:NoSchedule", "--token", "********"), "10.42.1.0/24"), facts,
                Instant.parse("2026-11-28T18:00:00Z"));
        // the agent adds what real K3s agents add and the server's own node does not: the K3S_* environment
        assertThat(((ObjectNode) python.path("metadata").path("annotations")).remove("k3s.io/node-env")).isNotNull();
        // and no nvidia.com/gpu of its own, even with a GPU and Docker defaulting to nvidia: only a device plugin
        // registered with the kubelet brings it (DevicePlugin tests below)
        assertThat(python.path("status").path("capacity").has("nvidia.com/gpu")).isFalse();
        assertThat(python.path("status").path("allocatable").has("nvidia.com/gpu")).isFalse();
        ((ObjectNode) java.path("status").path("capacity")).remove("nvidia.com/gpu");
        ((ObjectNode) java.path("status").path("allocatable")).remove("nvidia.com/gpu");
        assertThat(python).isEqualTo(java);
    }

    @Test
    void theEmbeddedAgentRegistersTheServersNodeAsTheServerDid() throws Exception {
        String out = harness("agent.utc_now = lambda: '2026-11-28T18:00:00Z'\n"
                + "class F: pass\nf = F()\n"
                + "f.hostname, f.architecture, f.kernel = 'node1', 'amd64', '6.1.0'\n"
                + "f.os_image = 'Debian GNU/Linux 12'\n"
                + "f.cpus, f.memory_kib, f.storage_kib, f.internal_ip = 2, 4059136, 30435312, '10.213.200.11'\n"
                + "f.boot_id, f.machine_id, f.gpus, f.runtimes = 'boot', 'machine', 0, []\n"
                + "f.docker_version, f.docker_runtime = None, None\n"
                + "env = {'K3GPU_LAB_EMBEDDED_AGENT': sys.argv[2]}\n"
                + "e = options.embedded(env)\nassert 'K3GPU_LAB_EMBEDDED_AGENT' not in env\n"
                + "o = options.parse_options(['--config', '/dev/null', '--node-label=k3gpu.dev/x=y', "
                + "'--node-label=node-role.kubernetes.io/master=false'], {})\n"
                + "ag = agent.Agent(o, e)\nag.facts, ag.docker, ag.default_runtime, ag.node_ips = f, False, None, []\n"
                + "ag.max_pods, ag.node_name = 110, 'node1'\n"
                + "print(json.dumps(ag.node_object([], e['podCIDR'])))",
                Map.of("K3GPU_LAB_K3S_VERSION", "v1.31.4+k3s1"),
                "{\"nodeArgs\":[\"server\",\"--cluster-init\",\"--token\",\"********\"],\"etcd\":true,"
                + "\"podCIDR\":\"10.42.0.0/24\"}");
        ObjectNode python = (ObjectNode) JSON.readTree(out);
        HostFacts facts = new HostFacts("node1", "amd64", "6.1.0", "Debian GNU/Linux 12", 2, 4059136, 30435312,
                "10.213.200.11", "boot", "machine", 0, List.of(), null, null);
        ObjectNode java = K3sNodeObject.build(new K3sNodeObject.Spec("node1", "v1.31.4+k3s1", true, true, false,
                null, List.of("k3gpu.dev/x=y", "node-role.kubernetes.io/master=false"), List.of(), List.of(),
                List.of(), List.of("server", "--cluster-init", "--token", "********"), "10.42.0.0/24"), facts,
                Instant.parse("2026-11-28T18:00:00Z"));
        assertThat(((ObjectNode) python.path("metadata").path("annotations")).remove("k3s.io/node-env")).isNotNull();
        assertThat(python).isEqualTo(java);
        assertThat(python.path("metadata").path("labels").path("node-role.kubernetes.io/etcd").asString())
                .isEqualTo("true");
        assertThat(python.path("metadata").path("labels").path("node-role.kubernetes.io/master").asString())
                .as("--node-label wins").isEqualTo("false");
    }

    // ------------------------------------------------------------------------------------------------------ runs

    @Test
    void commandLineMistakesFailAsK3sDoes() throws Exception {
        try (AgentProcess p = new AgentProcess(dir.resolve("usage"), Map.of(), "--frobnicate")) {
            p.awaitLine(l -> l.equals("Incorrect Usage: flag provided but not defined: -frobnicate"), 10);
            p.awaitLine(l -> l.endsWith("level=fatal msg=\"flag provided but not defined: -frobnicate\""), 10);
            assertThat(p.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.process.exitValue()).isEqualTo(1);
        }
        try (AgentProcess p = new AgentProcess(dir.resolve("usage"), Map.of("K3S_TOKEN", "x"))) {
            p.awaitLine(l -> l.endsWith("level=fatal msg=\"--server is required\""), 10);
            assertThat(p.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.process.exitValue()).isEqualTo(1);
        }
        try (AgentProcess p = new AgentProcess(dir.resolve("usage"), Map.of("K3S_TOKEN", "x",
                "K3GPU_LAB_K3S_VERSION", "v1.24.3+k3s1"), "--server", "https://127.0.0.1:1", "--docker")) {
            p.awaitLine(l -> l.endsWith("level=fatal msg=\"--docker is no longer supported; to continue using docker, "
                    + "install cri-dockerd and set --container-runtime-endpoint\""), 10);
            assertThat(p.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.process.exitValue()).isEqualTo(1);
        }
    }

    @Test
    void unreachableServerIsRetriedWithK3sWords() throws Exception {
        int port = freePort();
        try (AgentProcess p = new AgentProcess(dir.resolve("unreachable"), Map.of("K3S_TOKEN", "x"),
                "-s", "https://127.0.0.1:" + port)) {
            String err = "level=error msg=\"failed to get CA certs: Get \\\"https://127.0.0.1:" + port + "/cacerts\\\": "
                    + "dial tcp 127.0.0.1:" + port + ": connect: connection refused\"";
            p.awaitLine(l -> l.endsWith(err), 10);
            assertThat(p.process.isAlive()).as("retrying, not exiting").isTrue();
        }
    }

    @Test
    void agentRegistersItsNodeKeepsItReadyAndServesTheKubelet() throws Exception {
        Path root = dir.resolve("run");
        Files.createDirectories(root.resolve("var/lib/rancher/k3s/agent/images"));
        Files.write(root.resolve("var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar"),
                MirrorContent.airgapImages(K3sReleases.STABLE, "amd64"));
        try (AgentProcess p = new AgentProcess(root, Map.of("K3S_TOKEN", server.token(), "K3S_URL", server.url()),
                "--node-name", "agent1", "--node-label", "k3gpu.dev/x=y", "--node-taint", "gpu=true:NoSchedule",
                "--with-node-id")) {
            String registered = p.awaitLine(l -> l.contains("\"Successfully registered node\""), 20);
            String name = registered.replaceAll(".*node=\"([^\"]+)\".*", "$1");
            assertThat(name).matches("agent1-[0-9a-f]{8}");
            assertThat(Files.readString(root.resolve("etc/rancher/node/id")).strip()).isEqualTo(name.substring(7));
            JsonNode node = api("/api/v1/nodes/" + name);
            assertThat(node.path("metadata").path("labels").path("k3gpu.dev/x").asString()).isEqualTo("y");
            assertThat(node.path("spec").path("taints").get(0).path("key").asString()).isEqualTo("gpu");
            assertThat(node.path("spec").path("podCIDR").asString()).matches("10\\.42\\.\\d+\\.0/24");
            assertThat(node.path("status").path("images")).hasSize(K3sReleases.IMAGES.size());
            assertThat(node.path("status").path("nodeInfo").path("containerRuntimeVersion").asString())
                    .isEqualTo("containerd://1.7.23-k3s2");
            assertThat(api("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" + name)).isNotNull();
            assertThat(api("/api/v1/namespaces/kube-system/secrets/" + name + ".node-password.k3s")).isNotNull();
            String first = heartbeat(node);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (heartbeat(api("/api/v1/nodes/" + name)).equals(first)) {
                assertThat(System.nanoTime()).as("a newer heartbeat").isLessThan(deadline);
                Thread.sleep(200);
            }
            assertThat(Files.readString(root.resolve("var/lib/rancher/k3s/agent/etc/containerd/config.toml")))
                    .contains("version = 2");
            assertThat(root.resolve("var/lib/rancher/k3s/agent/server-ca.crt")).isRegularFile();
        }
    }

    @Test
    void wrongPasswordWaitsForTheAgentConfigurationWith401() throws Exception {
        String hash = server.token().substring(0, server.token().indexOf("::"));
        try (AgentProcess p = new AgentProcess(dir.resolve("wrong"), Map.of("K3S_TOKEN", hash + "::server:nope",
                "K3S_URL", server.url()), "--node-name", "intruder")) {
            p.awaitLine(l -> l.endsWith("level=info msg=\"Waiting to retrieve agent configuration; server is not ready: "
                    + "failed to retrieve configuration from server: " + server.url() + "/v1-k3s/config: "
                    + "401 Unauthorized\""), 15);
            assertThat(api("/api/v1/nodes/intruder")).isNull();
        }
    }

    // ------------------------------------------------------------------------------------------------ runtimes

    @Test
    void nvidiaRuntimesAreFoundWhereK3sLooksForThem() throws Exception {
        Path root = dir.resolve("runtimes");
        for (String f : List.of("usr/local/nvidia/toolkit/nvidia-container-runtime", "usr/bin/nvidia-container-runtime",
                "usr/bin/nvidia-container-runtime-experimental", "usr/bin/nvidia-container-runtime.cdi",
                "usr/local/bin/nvidia-container-runtime-experimental")) {
            Files.createDirectories(root.resolve(f).getParent());
            Files.writeString(root.resolve(f), "#!/bin/sh\n");
        }
        String code = "print(json.dumps(node.nvidia_runtimes()))";
        // K3s v1.31's order: the GPU Operator's toolkit directory, then /usr/bin; nothing from elsewhere on PATH
        assertThat(harness(code, Map.of("K3GPU_LAB_FSROOT", root.toString(), "K3GPU_LAB_K3S_VERSION",
                "v1.31.4+k3s1", "PATH", root.resolve("usr/local/bin") + ":/usr/bin:/bin")).strip()).isEqualTo(
                "[[\"nvidia\", \"/usr/local/nvidia/toolkit/nvidia-container-runtime\"], [\"nvidia-experimental\", "
                + "\"/usr/bin/nvidia-container-runtime-experimental\"], [\"nvidia-cdi\", "
                + "\"/usr/bin/nvidia-container-runtime.cdi\"]]");
        // nvidia-cdi came with k3s-io/k3s#11065 (v1.31.2 and backports): not in v1.24.3
        Files.delete(root.resolve("usr/local/nvidia/toolkit/nvidia-container-runtime"));
        assertThat(harness(code, Map.of("K3GPU_LAB_FSROOT", root.toString(), "K3GPU_LAB_K3S_VERSION",
                "v1.24.3+k3s1")).strip()).isEqualTo("[[\"nvidia\", \"/usr/bin/nvidia-container-runtime\"], "
                + "[\"nvidia-experimental\", \"/usr/bin/nvidia-container-runtime-experimental\"]]");
        // K3s's ContainerdConfigTemplate (pkg/agent/templates, version 2) rendered: ExtraRuntimes sorted by name,
        // each with its BinaryName; the lines of {{ if }}s that render nothing stay blank
        String config = harness("from k3sagent import ctrdrt\n"
                + "sys.stdout.write(ctrdrt.config_toml('/d/agent', '/d', node.nvidia_runtimes(), 'nvidia'))",
                Map.of("K3GPU_LAB_FSROOT", root.toString()));
        assertThat(config).isEqualTo("""

                # File generated by k3s. DO NOT EDIT. Use config.toml.tmpl instead.
                version = 2

                [plugins."io.containerd.internal.v1.opt"]
                  path = "/d/agent/containerd"
                [plugins."io.containerd.grpc.v1.cri"]
                  stream_server_address = "127.0.0.1"
                  stream_server_port = "10010"
                  enable_selinux = false
                  enable_unprivileged_ports = true
                  enable_unprivileged_icmp = true
                  sandbox_image = "rancher/mirrored-pause:3.6"

                [plugins."io.containerd.grpc.v1.cri".containerd]
                  snapshotter = "overlayfs"
                  disable_snapshot_annotations = true
                  default_runtime_name = "nvidia"


                [plugins."io.containerd.grpc.v1.cri".cni]
                  bin_dir = "/d/data/current/bin"
                  conf_dir = "/d/agent/etc/cni/net.d"


                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                  runtime_type = "io.containerd.runc.v2"

                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
                  SystemdCgroup = false

                [plugins."io.containerd.grpc.v1.cri".registry]
                  config_path = "/d/agent/etc/containerd/certs.d"



                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia"]
                  runtime_type = "io.containerd.runc.v2"
                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia".options]
                  BinaryName = "/usr/bin/nvidia-container-runtime"
                  SystemdCgroup = false

                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia-cdi"]
                  runtime_type = "io.containerd.runc.v2"
                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia-cdi".options]
                  BinaryName = "/usr/bin/nvidia-container-runtime.cdi"
                  SystemdCgroup = false

                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia-experimental"]
                  runtime_type = "io.containerd.runc.v2"
                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia-experimental".options]
                  BinaryName = "/usr/bin/nvidia-container-runtime-experimental"
                  SystemdCgroup = false
                """);
        // what the CRI plugin takes from it: the runtime handlers and the default one
        assertThat(harness("from k3sagent import ctrdrt\nt = ctrdrt.config_toml('/d/agent', '/d', "
                + "node.nvidia_runtimes(), 'nvidia')\nprint(json.dumps([ctrdrt.runtime_handlers(t), "
                + "ctrdrt.default_runtime_name(t)], sort_keys=True))", Map.of("K3GPU_LAB_FSROOT", root.toString()))
                .strip()).isEqualTo("[{\"nvidia\": \"/usr/bin/nvidia-container-runtime\", \"nvidia-cdi\": "
                + "\"/usr/bin/nvidia-container-runtime.cdi\", \"nvidia-experimental\": "
                + "\"/usr/bin/nvidia-container-runtime-experimental\", \"runc\": null}, \"nvidia\"]");
    }

    @Test
    void aConfigTomlTmplIsRenderedAsK3sRendersItsGoTemplate() throws Exception {
        // k3gpu's template for releases without --default-runtime, rendered as K3s v1.24's agent would
        String tmpl = io.k3gpu.core.k3s.ContainerdTemplate.content("/usr/bin/nvidia-container-runtime");
        String code = "from k3sagent import ctrdrt\nrt = [('nvidia', '/usr/bin/nvidia-container-runtime')]\n"
                + "base = ctrdrt.config_toml('/a', '/d', rt, None)\ndata = ctrdrt.template_data('/a', '/d', rt, None)\n"
                + "data['PrivateRegistryConfig']['Mirrors'] = {'docker.io': {'Endpoints': ['https://m1', 'https://m2']}}\n"
                + "out = ctrdrt.render_template(sys.argv[2], data, base)\nsys.stdout.write(out)\n"
                + "print(json.dumps([ctrdrt.runtime_handlers(out), ctrdrt.default_runtime_name(out)], sort_keys=True))\n"
                + "sys.stdout.write(ctrdrt.render_template('{{- /* c */ -}}\\n{{ template \"base\" . }}[x]\\n{{ if eq "
                + ".NodeConfig.AgentConfig.Snapshotter \"stargz\" }}s{{ else if .SystemdCgroup }}y{{ else }}n{{ end }} "
                + "{{ printf \"%q\" .Program }} {{ with .NodeConfig.DefaultRuntime }}{{ . }}{{ else }}none{{ end }}"
                + "{{ range $k, $v := .ExtraRuntimes }} {{ $k }}={{ $v.BinaryName }}{{ end }}\\n', data, 'BASE\\n'))\n"
                + "try:\n    ctrdrt.render_template('{{ .Nope }}', data)\nexcept ctrdrt.TemplateError as e:\n    print(e)\n";
        assertThat(harness(code, Map.of(), tmpl)).isEqualTo(tmpl.lines().limit(3).map(l -> l + "\n")
                .reduce("", String::concat) + """
                version = 2

                [plugins."io.containerd.internal.v1.opt"]
                  path = "/a/containerd"

                [plugins."io.containerd.grpc.v1.cri"]
                  stream_server_address = "127.0.0.1"
                  stream_server_port = "10010"
                  sandbox_image = "rancher/mirrored-pause:3.6"

                [plugins."io.containerd.grpc.v1.cri".containerd]
                  snapshotter = "overlayfs"
                  disable_snapshot_annotations = true
                  default_runtime_name = "nvidia"

                [plugins."io.containerd.grpc.v1.cri".cni]
                  bin_dir = "/d/data/current/bin"
                  conf_dir = "/a/etc/cni/net.d"

                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                  runtime_type = "io.containerd.runc.v2"

                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
                  runtime_type = "io.containerd.runc.v2"

                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
                  BinaryName = "/usr/bin/nvidia-container-runtime"

                [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
                  endpoint = ["https://m1", "https://m2"]
                [{"nvidia": "/usr/bin/nvidia-container-runtime", "runc": null}, "nvidia"]
                BASE
                [x]
                n "k3s" none nvidia=/usr/bin/nvidia-container-runtime
                can't evaluate field Nope
                """);
    }

    // ------------------------------------------------------------------------------------------ device plugins

    static Path plugin() throws Exception {
        Path p = dir.resolve("nvidia-device-plugin");
        if (!Files.exists(p)) {
            Files.write(p, MirrorContent.resource("images/bin/nvidia-device-plugin"));
            p.toFile().setExecutable(true);
        }
        return p;
    }

    /** The plugin as its container would run it: the view under {@code root}, {@code tag} of the image. */
    static Map<String, String> pluginEnv(Path root, String tag, String... kv) {
        Map<String, String> env = new java.util.HashMap<>(Map.of("K3GPU_LAB_FSROOT", root.toString(),
                "K3GPU_LAB_IMAGE", "{\"image\":\"nvcr.io/nvidia/k8s-device-plugin:" + tag + "\"}",
                "PATH", root.resolve("usr/bin") + ":/usr/bin:/bin"));
        for (int i = 0; i < kv.length; i += 2) {
            env.put(kv[i], kv[i + 1]);
        }
        return env;
    }

    /** Devices the plugin registers with a kubelet's device manager (the agent's, in a harness): "cap alloc". */
    static String registered(Path root, Map<String, String> pluginEnv) throws Exception {
        StringBuilder code = new StringBuilder("import os, subprocess, time\n"
                + "dm = deviceplugins.DeviceManager(); dm.start()\nenv = json.loads(sys.argv[2])\n"
                + "p = subprocess.Popen([sys.argv[3]], env=env, stderr=subprocess.PIPE)\n"
                + "t = time.time()\n"
                + "while p.poll() is None and time.time() - t < 5:\n"
                + "    if dm.node_resources().get('nvidia.com/gpu', (0, 0))[1]: break\n"
                + "    time.sleep(0.05)\n"
                + "r = dm.node_resources().get('nvidia.com/gpu')\n"
                + "r = r if r and r[0] else None\n"
                + "alive = p.poll() is None\n"
                + "p.terminate(); err = p.communicate()[1].decode()\n"
                + "print('%s %s' % r if r else 'none %s rc=%s' % ('running' if alive else 'exited', p.returncode))\n"
                + "sys.stderr.write(err)\n");
        String out = harness(code.toString(), Map.of("K3GPU_LAB_FSROOT", root.toString()),
                JSON.writeValueAsString(pluginEnv), plugin().toString());
        return out.lines().filter(l -> l.matches("\\d+ \\d+|none .*")).findFirst().orElse(out);
    }

    static Path view(String name, String tegraRelease, String nvidiaSmiL) throws Exception {
        Path root = dir.resolve("view-" + name);
        Files.createDirectories(root.resolve("etc"));
        Files.createDirectories(root.resolve("usr/bin"));
        if (tegraRelease != null) {
            Files.writeString(root.resolve("etc/nv_tegra_release"), tegraRelease);
        }
        if (nvidiaSmiL != null) {
            Path smi = root.resolve("usr/bin/nvidia-smi");
            Files.writeString(smi, "#!/bin/sh\nprintf '" + nvidiaSmiL + "'\n");
            smi.toFile().setExecutable(true);
        }
        return root;
    }

    @Test
    void thePluginFindsItsDevicesAsGoNvlibResolvesThePlatformAtItsTag() throws Exception {
        String h200s = "GPU 0: NVIDIA H200 (UUID: GPU-1)\\nGPU 1: NVIDIA H200 (UUID: GPU-2)\\n";
        String thor = "GPU 0: NVIDIA Thor (UUID: GPU-54d0709b-558d-5a59-9c65-0c5fc14a21a4)\\n";
        // a dGPU under the NVIDIA runtime: NVML's devices
        assertThat(registered(view("dgpu", null, h200s), pluginEnv(view("dgpu", null, h200s), "v0.17.4")))
                .isEqualTo("2 2");
        // a Jetson under the NVIDIA runtime in CSV mode: the tegra release file, no NVML -> one "tegra" device
        Path nano = view("nano", "# R32 (release), REVISION: 7.1\n", null);
        assertThat(registered(nano, pluginEnv(nano, "v0.17.4"))).isEqualTo("1 1");
        // time-slicing: devices x replicas
        Files.createDirectories(nano.resolve("config"));
        Files.writeString(nano.resolve("config/config.yaml"), "version: v1\nsharing:\n  timeSlicing:\n"
                + "    resources:\n    - name: nvidia.com/gpu\n      replicas: 4\n");
        assertThat(registered(nano, pluginEnv(nano, "v0.17.4", "CONFIG_FILE", "/config/config.yaml")))
                .isEqualTo("4 4");
        // NVML naming only "NVIDIA Thor": an integrated GPU for go-nvlib since the copy in v0.17.3 (tegra), an NVML
        // GPU before (v0.17.2): one device either way
        Path thorNvml = view("thor-nvml", "# R38 (release), REVISION: 2.0\n", thor);
        assertThat(registered(thorNvml, pluginEnv(thorNvml, "v0.17.4"))).isEqualTo("1 1");
        assertThat(registered(thorNvml, pluginEnv(thorNvml, "v0.17.2"))).isEqualTo("1 1");
        // nothing of either (Thor's containers, any runtime; any node without the NVIDIA runtime): auto fails,
        // FAIL_ON_INIT_ERROR=false waits without devices, the tegra strategy serves the one device
        Path none = view("none", null, null);
        assertThat(registered(none, pluginEnv(none, "v0.17.4"))).isEqualTo("none exited rc=1");
        assertThat(registered(none, pluginEnv(none, "v0.17.4", "DEVICE_DISCOVERY_STRATEGY", "tegra")))
                .isEqualTo("1 1");
        assertThat(registered(none, pluginEnv(none, "v0.17.4", "FAIL_ON_INIT_ERROR", "false")))
                .isEqualTo("none running rc=0");
    }

    @Test
    void thePluginFailsWithTheRealMessagesOfItsTag() throws Exception {
        Path none = view("none-msg", null, null);
        try (AgentProcess p = new AgentProcess(List.of(plugin().toString()), pluginEnv(none, "v0.17.4"))) {
            assertThat(p.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(p.process.exitValue()).isEqualTo(1);
            p.awaitLine(l -> l.matches("E\\d{4} [\\d:.]+ +\\d+ factory\\.go:112\\] Incompatible strategy detected auto"), 5);
            p.awaitLine(l -> l.endsWith(" main.go:173] error starting plugins: error getting plugins: unable to create "
                    + "plugins: failed to construct resource managers: invalid device discovery strategy"), 5);
        }
        // v0.20.0 resolves an unknown platform to nvml (issue NVIDIA/k8s-device-plugin#1963's log on a Thor)
        try (AgentProcess p = new AgentProcess(List.of(plugin().toString()), pluginEnv(none, "v0.20.0"))) {
            assertThat(p.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(p.process.exitValue()).isEqualTo(1);
            p.awaitLine(l -> l.endsWith(" plugin-manager.go:101] Detected platform: unknown"), 5);
            p.awaitLine(l -> l.endsWith(" plugin-manager.go:108] Unsupported platform detected; defaulting to nvml"), 5);
            p.awaitLine(l -> l.endsWith(" factory.go:99] Failed to initialize NVML: ERROR_LIBRARY_NOT_FOUND."), 5);
            p.awaitLine(l -> l.endsWith("failed to construct resource managers: nvml init failed: "
                    + "ERROR_LIBRARY_NOT_FOUND"), 5);
        }
        // before v0.16.0 there is no discovery strategy: platform detection itself fails
        try (AgentProcess p = new AgentProcess(List.of(plugin().toString()), pluginEnv(none, "v0.15.0",
                "DEVICE_DISCOVERY_STRATEGY", "tegra"))) {
            assertThat(p.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(p.process.exitValue()).isEqualTo(1);
            p.awaitLine(l -> l.endsWith("] Detected non-Tegra platform: /sys/devices/soc0/family file not found"), 5);
            p.awaitLine(l -> l.endsWith("] Incompatible platform detected"), 5);
        }
    }

    @Test
    void aRegisteredPluginPutsNvidiaGpuOnTheNodeUntilItGoesAndAKubeletRestartMakesItRegisterAgain()
            throws Exception {
        Path root = view("dp-run", "# R36 (release), REVISION: 4.3\n", null);
        Files.createDirectories(root.resolve("config"));
        Files.writeString(root.resolve("config/config.yaml"), "version: v1\nsharing:\n  timeSlicing:\n"
                + "    resources:\n    - name: nvidia.com/gpu\n      replicas: 4\n");
        Map<String, String> agentEnv = Map.of("K3S_TOKEN", server.token(), "K3S_URL", server.url(),
                "K3GPU_LAB_DEVICE_PLUGIN_GRACE_SECONDS", "4");
        AgentProcess kubelet = new AgentProcess(root, agentEnv, "--node-name", "dp1");
        try {
            kubelet.awaitLine(l -> l.contains("\"Successfully registered node\""), 20);
            assertThat(api("/api/v1/nodes/dp1").path("status").path("capacity").has("nvidia.com/gpu")).isFalse();
            try (AgentProcess plugin = new AgentProcess(List.of(plugin().toString()), pluginEnv(root, "v0.17.4",
                    "CONFIG_FILE", "/config/config.yaml"))) {
                plugin.awaitLine(l -> l.endsWith("] Registered device plugin for 'nvidia.com/gpu' with Kubelet"), 10);
                kubelet.awaitLine(l -> l.endsWith("\"Got registration request from device plugin with resource\" "
                        + "resourceName=\"nvidia.com/gpu\""), 10);
                awaitGpus("dp1", "4", "4");
                // a kubelet restart empties the directory; the plugin sees kubelet.sock created and registers again
                kubelet.close();
                kubelet = new AgentProcess(root, agentEnv, "--node-name", "dp1");
                plugin.awaitLine(l -> l.endsWith("] inotify: /var/lib/kubelet/device-plugins/kubelet.sock created, "
                        + "restarting."), 30);
                kubelet.awaitLine(l -> l.endsWith("\"Device plugin connected\" resourceName=\"nvidia.com/gpu\""), 20);
                awaitGpus("dp1", "4", "4");
            }
            // the plugin gone: its devices unhealthy at once, the capacity kept for the grace period, then 0
            kubelet.awaitLine(l -> l.contains("\"ListAndWatch ended unexpectedly for device plugin\""), 10);
            awaitGpus("dp1", "4", "0");
            awaitGpus("dp1", "0", "0");
        } finally {
            kubelet.close();
        }
    }

    static void awaitGpus(String node, String capacity, String allocatable) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        JsonNode status = null;
        while (System.nanoTime() < deadline) {
            status = api("/api/v1/nodes/" + node).path("status");
            if (capacity.equals(status.path("capacity").path("nvidia.com/gpu").asString())
                    && allocatable.equals(status.path("allocatable").path("nvidia.com/gpu").asString())) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("nvidia.com/gpu not " + capacity + "/" + allocatable + ": " + status);
    }

    static String heartbeat(JsonNode node) {
        for (JsonNode c : node.path("status").path("conditions")) {
            if ("Ready".equals(c.path("type").asString())) {
                return c.path("lastHeartbeatTime").asString();
            }
        }
        return "";
    }
}
