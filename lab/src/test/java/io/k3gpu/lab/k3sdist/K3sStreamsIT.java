package io.k3gpu.lab.k3sdist;

import static io.k3gpu.lab.LabShell.assumeRoot;
import static io.k3gpu.lab.LabShell.await;
import static io.k3gpu.lab.LabShell.deleteWork;
import static io.k3gpu.lab.LabShell.readAll;
import static io.k3gpu.lab.LabShell.runApart;
import static io.k3gpu.lab.LabShell.terminate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

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

/**
 * kubectl exec, attach and port-forward on the lab's simulated K3s with the real kubectl (v1.32: WebSocket
 * remotecommand v5 for exec/attach; port-forward over WebSocket-tunnelled SPDY, and over plain SPDY with
 * KUBECTL_PORT_FORWARD_WEBSOCKETS=false), through the server to the node's kubelet: output, stdin, a terminal, exit
 * codes, the refusals' messages, attach to a pod reading stdin, and an HTTP server listening on 127.0.0.1 in the pod
 * answering curl through port-forward. Needs root; one lab (node1: server with --disable-agent; node2: agent, where the pods run).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class K3sStreamsIT {
    static final String ID = "lstrm1";
    static final int SUBNET = 216;
    static final String SERVER_IP = "10.213.216.11";
    static final String K3S_URL = "https://" + SERVER_IP + ":6443";
    static LabState lab;
    static Path kubeconfig;
    static Path work;
    static LabShell shell;

    @BeforeAll
    static void up() throws Exception {
        assumeRoot();
        assumeThat(Path.of("/usr/bin/kubectl")).as("the real kubectl").isExecutable();
        Lab.down(LabConfig.STATE_ROOT.resolve(ID));
        work = Files.createTempDirectory("k3s-streams-it");
        kubeconfig = work.resolve("kubeconfig.yaml");
        lab = Lab.up(new LabConfig(ID, SUBNET, List.of("cpu-only", "cpu-only"), null, null));
        shell = new LabShell(lab, kubeconfig, work).withStderrApart();
        K3sDistribution k3s = K3sDistribution.of(lab);
        // the server runs with --disable-agent (no kubelet of its own): the pods go to node2's agent. metrics-server
        // off: these tests read kubectl's stderr exactly, where kubectl's discovery reports metrics.k8s.io as long as
        // its APIService is unavailable (as on K3s); the other packaged components would only load node2
        shell.sshOk("node1", "curl -sfL " + k3s.installUrl() + " | INSTALL_K3S_EXEC='server --disable-agent "
                + "--disable coredns --disable metrics-server --disable traefik --disable servicelb' sh -");
        Files.writeString(kubeconfig, shell.sshOk("node1", "cat /etc/rancher/k3s/k3s.yaml")
                .replace("https://127.0.0.1:6443", K3S_URL));
        String token = shell.sshOk("node1", "cat /var/lib/rancher/k3s/server/node-token").strip();
        Result agent = shell.ssh("node2", "read -r K3S_TOKEN && export K3S_TOKEN && curl -sfL "
                + k3s.installUrl() + " | K3S_URL=" + K3S_URL + " INSTALL_K3S_EXEC='agent' sh -", token + "\n");
        assertThat(agent.exit()).as(agent.out() + agent.err()).isZero();
        await("node2 Ready", 90, () -> shell.kubectl("get", "nodes").out().lines()
                .anyMatch(l -> l.matches("node2\\s+Ready\\s.*")));
        Files.writeString(work.resolve("pods.yaml"), """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: web
                spec:
                  containers:
                  - name: web
                    image: python:3.12-slim
                    command: [sh, -c, 'echo hello-from-pod > /tmp/index.html && cd /tmp && exec python3 -u -m http.server 8080 --bind 127.0.0.1']
                ---
                apiVersion: v1
                kind: Pod
                metadata:
                  name: reader
                spec:
                  restartPolicy: Never
                  containers:
                  - name: reader
                    image: busybox:1.36
                    stdin: true
                    stdinOnce: true
                    command: [sh, -c, 'echo ready; while read line; do echo "got: $line"; done; echo bye']
                ---
                apiVersion: v1
                kind: Pod
                metadata:
                  name: stuck
                spec:
                  containers:
                  - name: stuck
                    image: registry.invalid/none:1
                """);
        shell.kubectlOk("apply", "-f", work.resolve("pods.yaml").toString());
        try {
            await("web and reader Running", 120, () -> shell.kubectl("get", "pods", "web", "reader").out().lines()
                    .filter(l -> l.contains("Running")).count() == 2);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + shell.kubectl("describe", "pods").out() + "\n"
                    + shell.ssh("node2", "tail -50 /var/log/k3gpu-lab/k3s-agent.log", null).out(), e);
        }
        await("web's server listening", 30, () -> shell.kubectl("logs", "web").out().contains("Serving HTTP"));
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (lab != null) {
                Lab.down(lab.stateDir());
            }
        } finally {
            deleteWork(work);
        }
    }

    @Test
    @Order(1)
    void execRunsInTheContainersViewWithItsOutputStderrAndStdin() {
        Result r = shell.kubectl("exec", "web", "--", "sh", "-c",
                "echo out; echo err >&2; hostname; cat /tmp/index.html; echo \"$PYTHON_VERSION\"");
        assertThat(r.exit()).as(r.err()).isZero();
        // its own /tmp (mount namespace), hostname (UTS namespace) and environment: the container's, not the node's
        assertThat(r.out()).isEqualTo("out\nweb\nhello-from-pod\n3.11.2\n");
        assertThat(r.err()).isEqualTo("err\n");
        assertThat(shell.sshOk("node2", "cat /tmp/index.html 2>&1 || true")).doesNotContain("hello-from-pod");

        Result in = shell.kubectlWithInput("abc\nxyz\n", Map.of(), "exec", "-i", "web", "--", "tr", "a-z", "A-Z");
        assertThat(in.exit()).as(in.err()).isZero();
        assertThat(in.out()).isEqualTo("ABC\nXYZ\n");
    }

    @Test
    @Order(2)
    void anExitCodeReachesKubectlsExitStatus() {
        Result r = shell.kubectl("exec", "web", "--", "sh", "-c", "echo before; exit 3");
        assertThat(r.out()).isEqualTo("before\n");
        assertThat(r.err()).isEqualTo("command terminated with exit code 3\n");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(shell.kubectl("exec", "web", "--", "false").exit()).isEqualTo(1);
    }

    @Test
    @Order(2)
    void execOverSpdyAsKubectlsFallbackDoesTheSame() {
        Map<String, String> spdy = Map.of("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "false");
        Result r = shell.kubectlWithInput("from stdin\n", spdy, "exec", "-i", "web", "--", "sh", "-c",
                "cat; echo err >&2; exit 5");
        assertThat(r.out()).isEqualTo("from stdin\n");
        assertThat(r.err()).isEqualTo("err\ncommand terminated with exit code 5\n");
        assertThat(r.exit()).isEqualTo(5);
        Result ok = shell.kubectlWithInput(null, spdy, "exec", "web", "--", "cat", "/tmp/index.html");
        assertThat(ok.exit()).as(ok.err()).isZero();
        assertThat(ok.out()).isEqualTo("hello-from-pod\n");
    }

    @Test
    @Order(3)
    void aTerminalHasItsSizeAndCarriesStdin() {
        // script(1) gives kubectl a terminal, so -it asks for one (tty=true) and sends its size (channel 4)
        Result r = runApart(List.of("script", "-qec", "stty cols 91 rows 33; kubectl --kubeconfig " + kubeconfig
                + " exec -it web -- sh -c 'test -t 0 && echo is-a-tty; stty size; read x; echo \"read:$x\"'",
                "/dev/null"), "hello\n", Map.of());
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("is-a-tty").contains("33 91").contains("read:hello");
    }

    @Test
    @Order(4)
    void refusalsCarryTheApiServersAndKubeletsMessages() {
        Result missing = shell.kubectl("exec", "web", "-c", "nope", "--", "true");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("Error from server (BadRequest): container nope is not valid for pod "
                + "web\n");
        Result noPod = shell.kubectl("exec", "ghost", "--", "true");
        assertThat(noPod.exit()).isEqualTo(1);
        assertThat(noPod.err()).isEqualTo("Error from server (NotFound): pods \"ghost\" not found\n");
        // a container that does not run: the kubelet refuses, the server reports it on the error channel
        Result stuck = shell.kubectl("exec", "stuck", "--", "true");
        assertThat(stuck.exit()).isEqualTo(1);
        assertThat(stuck.err()).isEqualTo("error: Internal error occurred: unable to upgrade connection: container "
                + "not found (\"stuck\")\n");
    }

    @Test
    @Order(5)
    void attachFeedsAPodThatReadsStdinAndShowsWhatItWrites() throws Exception {
        Result r = shell.kubectlWithInput("one\ntwo\n", Map.of(), "attach", "-i", "reader");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("got: one\ngot: two\nbye\n");
        await("reader Succeeded (stdinOnce closed its stdin)", 30, () -> shell.kubectl("get", "pod", "reader", "-o",
                "jsonpath={.status.phase}").out().equals("Succeeded"));
        assertThat(shell.kubectlOk("logs", "reader")).isEqualTo("ready\ngot: one\ngot: two\nbye\n");
    }

    @Test
    @Order(6)
    void portForwardOverWebSocketsAnswersCurl() throws Exception {
        portForward(21680, Map.of());
    }

    @Test
    @Order(7)
    void portForwardOverSpdyAnswersCurl() throws Exception {
        portForward(21681, Map.of("KUBECTL_PORT_FORWARD_WEBSOCKETS", "false"));
    }

    @Test
    @Order(8)
    void portForwardToAClosedPortReportsTheKubeletsError() throws Exception {
        Process pf = start(Map.of(), "port-forward", "pod/web", "21682:9");
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> readAll(pf.getErrorStream()));
        try {
            awaitLine(pf, "Forwarding from 127.0.0.1:21682 -> 9");
            Result curl = runApart(List.of("curl", "-s", "--max-time", "10", "http://127.0.0.1:21682/"), null,
                    Map.of());
            assertThat(curl.exit()).isNotZero();
        } finally {
            terminate(pf);
        }
        assertThat(stderr.get(10, TimeUnit.SECONDS)).contains("error forwarding port 9 to pod").contains("connect: connection refused");
    }

    static void portForward(int local, Map<String, String> env) throws Exception {
        Process pf = start(env, "port-forward", "pod/web", local + ":8080");
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> readAll(pf.getErrorStream()));
        try {
            try {
                awaitLine(pf, "Forwarding from 127.0.0.1:" + local + " -> 8080");
            } catch (java.util.concurrent.TimeoutException e) {
                terminate(pf);
                throw new AssertionError("kubectl port-forward did not start: " + stderr.get(10, TimeUnit.SECONDS));
            }
            for (int i = 0; i < 2; i++) {
                Result curl = runApart(List.of("curl", "-sS", "--max-time", "10", "http://127.0.0.1:" + local
                        + "/index.html"), null, Map.of());
                assertThat(curl.exit()).as(curl.err()).isZero();
                assertThat(curl.out()).isEqualTo("hello-from-pod\n");
            }
        } finally {
            terminate(pf);
        }
        // the pod's server saw the requests (its log, through kubectl logs)
        assertThat(shell.kubectlOk("logs", "web")).contains("\"GET /index.html HTTP/1.1\" 200");
    }

    // ---------------------------------------------------------------------------------------------------- helpers

    static Process start(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("kubectl", "--kubeconfig", kubeconfig.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        return pb.start();
    }

    static void awaitLine(Process p, String line) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Boolean> seen = CompletableFuture.supplyAsync(() -> r.lines().anyMatch(line::equals));
        assertThat(seen.get(30, TimeUnit.SECONDS)).as("kubectl printed %s", line).isTrue();
    }
}
