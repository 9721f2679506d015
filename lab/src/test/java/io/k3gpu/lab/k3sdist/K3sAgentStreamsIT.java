package io.k3gpu.lab.k3sdist;

import static io.k3gpu.lab.LabShell.readAll;
import static io.k3gpu.lab.LabShell.runApart;
import static io.k3gpu.lab.LabShell.terminate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.k3gpu.lab.LabShell;
import io.k3gpu.lab.LabShell.Result;
import io.k3gpu.lab.k3s.HostFacts;
import io.k3gpu.lab.k3s.K3sServer;
import io.k3gpu.lab.k3s.K3sServerOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kubectl exec and port-forward, WebSocket and SPDY, from the real kubectl through the in-process simulated server
 * to one agent's kubelet on the host (no lab, no root: containers without namespaces of their own,
 * K3GPU_LAB_POD_ISOLATION=none): the protocols end to end, fast. K3sStreamsIT does it all on a lab node.
 */
class K3sAgentStreamsIT {
    static final String NODE = "streamnode";
    @TempDir
    static Path dir;
    static K3sServer server;
    static K3sAgentTest.AgentProcess agent;
    static int httpPort;
    static LabShell shell;
    static final ByteArrayOutputStream SERVER_LOG = new ByteArrayOutputStream();

    @BeforeAll
    static void setUp() throws Exception {
        assumeThat(Path.of("/usr/bin/python3")).isExecutable();
        assumeThat(Path.of("/usr/bin/kubectl")).isExecutable();
        Path shared = dir.resolve("shared");
        MirrorContent.writeNodeFiles(shared);
        K3sAgentTest.agent = shared.resolve("k3s-agent.py");
        HostFacts real = HostFacts.probe(dir, false);
        HostFacts host = new HostFacts("k3s-server", real.architecture(), real.kernelVersion(), real.osImage(), 2,
                4_000_000, 30_000_000, "127.0.0.1", "boot", "machine", 0, List.of(), null, null);
        // the agent runs on this host, not in a node: K3s's packaged components off (--disable), or their pods
        // would run here (traefik listening on the host's ports); and these tests read kubectl's stderr exactly,
        // where kubectl's discovery reports metrics.k8s.io as long as its APIService is unavailable (as on K3s)
        server = K3sServer.start(K3sServerOptions.defaults().etcRoot(dir.resolve("server")).bindAddress("127.0.0.1")
                .httpsListenPort(0).hostFacts(host).disableAgent(true).disable("traefik").disable("servicelb")
                .disable("metrics-server")
                .logTo(new PrintStream(SERVER_LOG, true, StandardCharsets.UTF_8)));
        // no lab: kubectl only, stderr apart to check what kubectl reports there
        shell = new LabShell(null, server.kubeconfig(), dir).withStderrApart();
        agent = new K3sAgentTest.AgentProcess(dir.resolve("node"), Map.of("K3S_TOKEN", server.token(), "K3S_URL",
                server.url(), "K3GPU_LAB_POD_ISOLATION", "none", "K3GPU_LAB_PULL_SECONDS", "0.05",
                "K3GPU_LAB_KUBELET_PORT", Integer.toString(K3sAgentTest.freePort()), "K3GPU_LAB_K3S_SHARED",
                shared.toString()), "--node-name", NODE);
        agent.awaitLine(l -> l.contains("\"Successfully registered node\""), 20);
        httpPort = K3sAgentTest.freePort();
        java.nio.file.Files.writeString(dir.resolve("index.html"), "hello-from-pod\n");
        shell.kubectlOk("run", "web", "--image=python:3.12-slim", "--restart=Never", "--overrides",
                "{\"apiVersion\":\"v1\",\"spec\":{\"nodeName\":\"" + NODE + "\"}}", "--command", "--",
                "/usr/bin/python3", "-u", "-m", "http.server", String.valueOf(httpPort), "--bind", "127.0.0.1",
                "--directory", dir.toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!shell.kubectl("logs", "web").out().contains("Serving HTTP")) {
            assertThat(System.nanoTime()).as("web serving; agent:\n%s", String.join("\n", agent.lines))
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void execOverWebSocketAndSpdyCarriesStdinOutputAndTheExitCode() {
        for (Map<String, String> env : List.of(Map.<String, String>of(),
                Map.of("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "false"))) {
            Result r = shell.kubectlWithInput("abc\n", env, "exec", "-i", "web", "--", "sh", "-c",
                    "tr a-z A-Z; echo err >&2; exit 3");
            assertThat(r.out()).as("%s", env).isEqualTo("ABC\n");
            assertThat(r.err()).as("%s", env).isEqualTo("err\ncommand terminated with exit code 3\n");
            assertThat(r.exit()).as("%s", env).isEqualTo(3);
            Result ok = shell.kubectlWithInput(null, env, "exec", "web", "--", "echo", "fine");
            assertThat(ok.exit()).as("%s: %s", env, ok.err()).isZero();
            assertThat(ok.out()).isEqualTo("fine\n");
        }
        Result missing = shell.kubectl("exec", "web", "-c", "nope", "--", "true");
        assertThat(missing.err()).isEqualTo("Error from server (BadRequest): container nope is not valid for pod "
                + "web\n");
    }

    @Test
    void portForwardOverWebSocketAndSpdyAnswersCurl() throws Exception {
        int local = K3sAgentTest.freePort();
        for (Map<String, String> env : List.of(Map.<String, String>of(),
                Map.of("KUBECTL_PORT_FORWARD_WEBSOCKETS", "false"))) {
            List<String> cmd = new ArrayList<>(List.of("kubectl", "--kubeconfig", server.kubeconfig().toString(),
                    "port-forward", "pod/web", local + ":" + httpPort));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().putAll(env);
            Process pf = pb.start();
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(pf.getErrorStream()));
            try {
                BufferedReader r = new BufferedReader(new InputStreamReader(pf.getInputStream(),
                        StandardCharsets.UTF_8));
                String want = "Forwarding from 127.0.0.1:" + local + " -> " + httpPort;
                CompletableFuture<Boolean> seen = CompletableFuture.supplyAsync(() -> r.lines().anyMatch(want::equals));
                assertThat(seen.get(30, TimeUnit.SECONDS)).as("%s", env).isTrue();
                for (int i = 0; i < 2; i++) {
                    Result curl = runApart(List.of("curl", "-sS", "--max-time", "10", "http://127.0.0.1:" + local
                            + "/index.html"), null, Map.of());
                    assertThat(curl.exit()).as("%s: %s", env, curl.err()).isZero();
                    assertThat(curl.out()).isEqualTo("hello-from-pod\n");
                }
            } finally {
                terminate(pf);
            }
            assertThat(err.get(10, TimeUnit.SECONDS)).as("%s", env).doesNotContain("rror");
        }
    }
}
