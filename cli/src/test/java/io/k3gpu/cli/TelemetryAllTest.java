package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stats --all} and {@code exporter --all} against a stand-in API server that lists Nodes: which nodes are
 * taken, by which name and address, and the errors of a wrong invocation or an empty cluster.
 */
class TelemetryAllTest {
    /** node1: a CPU-only server; gpu-cap: nvidia.com/gpu capacity, only an ExternalIP; jetson1: labelled, NotReady;
     *  lost1: labelled, no address. */
    static final String MIXED = """
            {"apiVersion": "v1", "kind": "NodeList", "items": [
              {"metadata": {"name": "node1", "labels": {"node-role.kubernetes.io/master": "true"}},
               "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.2"}],
                          "conditions": [{"type": "Ready", "status": "True"}]}},
              {"metadata": {"name": "jetson1", "labels": {"nvidia.com/gpu.present": "true"}},
               "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                                        {"type": "Hostname", "address": "jetson1"}],
                          "conditions": [{"type": "Ready", "status": "Unknown"}]}},
              {"metadata": {"name": "gpu-cap", "labels": {}},
               "status": {"addresses": [{"type": "ExternalIP", "address": "127.0.0.1"}],
                          "capacity": {"nvidia.com/gpu": "2"},
                          "conditions": [{"type": "Ready", "status": "True"}]}},
              {"metadata": {"name": "lost1", "labels": {"nvidia.com/gpu.present": "true"}},
               "status": {}}
            ]}
            """;

    static final String CPU_ONLY = """
            {"apiVersion": "v1", "kind": "NodeList", "items": [
              {"metadata": {"name": "node1", "labels": {}},
               "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.2"}],
                          "capacity": {"nvidia.com/gpu": "0"}}},
              {"metadata": {"name": "node2", "labels": {"nvidia.com/gpu.present": "false"}},
               "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.3"}]}}
            ]}
            """;

    @TempDir
    Path tmp;
    private HttpServer api;

    @AfterEach
    void stop() {
        if (api != null) {
            api.stop(0);
        }
    }

    /** Serves the node list and returns a kubeconfig (no credentials) for it. */
    private String cluster(String nodeList) throws IOException {
        api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        api.createContext("/api/v1/nodes", x -> {
            byte[] body = nodeList.getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().set("Content-Type", "application/json");
            x.sendResponseHeaders(200, body.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(body);
            }
        });
        api.start();
        return kubeconfig("http://127.0.0.1:" + api.getAddress().getPort());
    }

    private String kubeconfig(String server) throws IOException {
        Path f = tmp.resolve("kubeconfig");
        Files.writeString(f, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: test
                  cluster:
                    server: %s
                contexts:
                - name: test
                  context:
                    cluster: test
                    user: test
                current-context: test
                users:
                - name: test
                  user: {}
                """.formatted(server));
        return f.toString();
    }

    /** SSH flags that reach nothing: every node refuses at {@code port}. */
    private String[] args(String command, String kubeconfig, int port, String... more) {
        List<String> a = new ArrayList<>(List.of(command, "--all", "--kubeconfig", kubeconfig,
                "--ssh-port", String.valueOf(port), "--ssh-config", "/dev/null",
                "--known-hosts", tmp.resolve("known_hosts").toString(), "--connect-timeout", "3s"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void allWithIpOrHostIsAUsageErrorOfPicocliBeforeAnythingConnects() {
        // an argument group: picocli refuses the pair while parsing (nothing is asked of the kubeconfig or a node)
        Cli.Result stats = Cli.run("stats", "--all", "--ip", "10.0.0.2,10.0.0.3");
        assertThat(stats.exit()).isEqualTo(2);
        // (picocli names them in the group's order)
        assertThat(stats.err()).isEqualTo("error: --ip and --all cannot be used together; pass only one of them; see "
                + "'k3gpu stats --help'\n");
        Cli.Result exporter = Cli.run("exporter", "--host", "jetson.local", "--all");
        assertThat(exporter.exit()).isEqualTo(2);
        assertThat(exporter.err()).isEqualTo("error: --host and --all cannot be used together; pass only one of "
                + "them; see 'k3gpu exporter --help'\n");
        Cli.Result both = Cli.run("stats", "--ip", "10.0.0.2", "--host", "jetson.local");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).isEqualTo("error: --ip and --host cannot be used together; pass only one of them; see "
                + "'k3gpu stats --help'\n");
        Cli.Result twice = Cli.run("stats", "--ip", "10.0.0.2", "--ip", "10.0.0.3");
        assertThat(twice.exit()).isEqualTo(2);
        assertThat(twice.err()).isEqualTo("error: only one of --ip, --host, --all can be given, once; see "
                + "'k3gpu stats --help'\n");
    }

    @Test
    void neitherIpNorAllNamesBoth() {
        Cli.Result r = Cli.run("stats", "--duration", "1s");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("error: no node given; pass --ip ADDRESS[,ADDRESS...], or --all for every "
                + "GPU node of the cluster\n");
    }

    @Test
    void aKubeconfigWithoutAllIsAUsageErrorNotSilentlyIgnored() {
        Cli.Result r = Cli.run("exporter", "--ip", "10.0.0.2", "--kubeconfig", "/etc/rancher/k3s/k3s.yaml");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: --kubeconfig and --context only choose the cluster of --all; add --all");
    }

    @Test
    void allWithoutAKubeconfigSaysHowToGetOne() {
        Cli.Result r = Cli.run("stats", "--all", "--kubeconfig", tmp.resolve("none").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("error: no kubeconfig at " + tmp.resolve("none")
                + "; fetch one with: k3gpu get-config --ip SERVER (or pass --kubeconfig FILE)\n");
    }

    @Test
    void anApiServerThatDoesNotAnswerIsAKubernetesErrorAsKubectlReportsIt() throws IOException {
        int apiPort = closedPort();
        String kubeconfig = kubeconfig("http://127.0.0.1:" + apiPort);
        Cli.Result r = Cli.run(args("stats", kubeconfig, closedPort(), "--duration", "1s"));
        assertThat(r.exit()).as(r.err()).isEqualTo(5);
        assertThat(r.err()).startsWith("error: listing nodes failed at http://127.0.0.1:" + apiPort + "/: ")
                .endsWith("; check that the K3s server at http://127.0.0.1:" + apiPort + "/ is running (k3gpu ready)\n");
        Cli.Result nodes = Cli.run("nodes", "--kubeconfig", kubeconfig);
        assertThat(nodes.exit()).as(nodes.err()).isEqualTo(5);
    }

    @Test
    void aClusterWithoutGpuNodesIsAnErrorThatSaysHowToGetOne() throws IOException {
        String kubeconfig = cluster(CPU_ONLY);
        for (String command : List.of("stats", "exporter")) {
            Cli.Result r = Cli.run(args(command, kubeconfig, closedPort(), "--duration", "1s"));
            assertThat(r.exit()).as(r.err()).isEqualTo(1);
            assertThat(r.err()).isEqualTo("error: no GPU node in the cluster (2 nodes, none labelled "
                    + "nvidia.com/gpu.present=true or with nvidia.com/gpu capacity); join GPU nodes with k3gpu join "
                    + "--gpu (or label one with k3gpu label --ip ADDRESS), or pass --ip\n");
        }
    }

    @Test
    void statsTakesTheLabelledAndTheCapacityNodesByNameNotReadyIncludedAndNamesANodeWithoutAddress()
            throws IOException {
        String kubeconfig = cluster(MIXED);
        int port = closedPort();
        Cli.Result r = Cli.run(args("stats", kubeconfig, port, "--view", "plain", "--duration", "2s"));
        assertThat(r.exit()).as(r.err()).isEqualTo(3);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo("3 GPU nodes of the cluster: gpu-cap (127.0.0.1), jetson1 (127.0.0.1), "
                + "lost1 (no address)\n"
                + "error: telemetry could not start on 3 of 3 nodes: gpu-cap: connection refused by 127.0.0.1:"
                + port + "; jetson1: connection refused by 127.0.0.1:" + port + "; lost1: node lost1 has no "
                + "InternalIP or ExternalIP in the cluster; is sshd running on the node and listening on port " + port
                + "?\n");
    }

    @Test
    void theExporterServesTheGpuNodesByNameAndReportsTheUnreachableOnesDown() throws IOException {
        String kubeconfig = cluster(MIXED);
        int port = closedPort();
        Cli.Result r = Cli.run(args("exporter", kubeconfig, port, "--listen", "127.0.0.1:0", "--duration", "2s"));
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> lines = r.err().lines().map(l -> l.substring("HH:mm:ss ".length())).toList();
        assertThat(lines.get(0)).isEqualTo("3 GPU nodes of the cluster: gpu-cap (127.0.0.1), jetson1 (127.0.0.1), "
                + "lost1 (no address)");
        assertThat(lines.get(1)).startsWith("serving metrics of 3 nodes at http://127.0.0.1:");
        assertThat(lines).contains("lost1: down: node lost1 has no InternalIP or ExternalIP in the cluster; retrying in 1s")
                .anyMatch(l -> l.startsWith("jetson1: down: connection refused by 127.0.0.1:" + port))
                .anyMatch(l -> l.startsWith("gpu-cap: down: connection refused by 127.0.0.1:" + port))
                .noneMatch(l -> l.contains("node1"));
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
