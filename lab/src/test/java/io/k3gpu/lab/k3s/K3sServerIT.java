package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.net.ssl.SSLContext;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.databind.JsonNode;

/** One simulated K3s server for the class, driven by the real kubectl, raw HTTP and the fabric8 client. */
class K3sServerIT {
    @TempDir
    static Path root;
    static K3sServer server;
    static Kubectl kubectl;
    static final ByteArrayOutputStream LOGS = new ByteArrayOutputStream();
    static HttpClient http;
    static String password;

    @BeforeAll
    static void start() throws Exception {
        HostFacts real = HostFacts.probe(root, false);
        HostFacts host = new HostFacts("k3s-server", real.architecture(), real.kernelVersion(), real.osImage(),
                real.cpus(), real.memoryKiB(), real.ephemeralStorageKiB(), "127.0.0.1", real.bootId(),
                real.machineId(), 0, List.of("nvidia"), null, null);
        server = K3sServer.start(K3sServerOptions.defaults().etcRoot(root).bindAddress("127.0.0.1")
                .httpsListenPort(0).nodeLabel("k3gpu.dev/test=yes").tlsSan("k3s.example.test").tlsSan("192.0.2.10")
                .heartbeat(Duration.ofSeconds(1))
                .logTo(new PrintStream(LOGS, true, StandardCharsets.UTF_8)).hostFacts(host));
        kubectl = new Kubectl(server.kubeconfig(), root.resolve("kube-cache"), root);
        SSLContext ctx = SSLContext.getInstance("TLS");
        X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(server.caCertificate()));
        ctx.init(null, K3sPki.trust(ca).getTrustManagers(), null);
        http = HttpClient.newBuilder().sslContext(ctx).build();
        password = K3sToken.parse(server.token()).password();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static String logs() {
        return LOGS.toString(StandardCharsets.UTF_8);
    }

    @Test
    void writesTokenKubeconfigAndCertificatesLikeK3s() throws Exception {
        Path serverDir = root.resolve("var/lib/rancher/k3s/server");
        Path token = serverDir.resolve("token");
        String text = Files.readString(token);
        assertThat(text).matches("K10[0-9a-f]{64}::server:[0-9a-f]{32}\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(token))).isEqualTo("rw-------");
        byte[] ca = Files.readAllBytes(serverDir.resolve("tls/server-ca.crt"));
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ca));
        assertThat(text).startsWith("K10" + hash + "::");
        assertThat(Files.isSymbolicLink(serverDir.resolve("node-token"))).isTrue();
        assertThat(Files.readString(serverDir.resolve("node-token"))).isEqualTo(text);
        for (String f : List.of("server-ca.key", "client-ca.crt", "client-ca.key", "client-admin.crt",
                "serving-kube-apiserver.crt")) {
            assertThat(serverDir.resolve("tls").resolve(f)).exists();
        }

        X509Certificate serving = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                Files.newInputStream(serverDir.resolve("tls/serving-kube-apiserver.crt")));
        List<String> sans = serving.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList();
        assertThat(sans).contains("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local", "localhost", "k3s-server", "k3s.example.test", "127.0.0.1",
                "192.0.2.10");

        Path kubeconfig = root.resolve("etc/rancher/k3s/k3s.yaml");
        assertThat(server.kubeconfig()).isEqualTo(kubeconfig);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(kubeconfig))).isEqualTo("rw-------");
        String kc = Files.readString(kubeconfig);
        assertThat(kc).startsWith("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: "
                + Base64.getEncoder().encodeToString(ca) + "\n    server: https://127.0.0.1:" + server.port()
                + "\n  name: default\n");
        assertThat(kc).contains("current-context: default\n", "    client-certificate-data: ",
                "    client-key-data: ");
        String adminCert = new String(Base64.getDecoder().decode(kc.replaceAll("(?s).*client-certificate-data: "
                + "(\\S+).*", "$1")), StandardCharsets.US_ASCII);
        assertThat(adminCert).startsWith("-----BEGIN CERTIFICATE-----");

        HttpResponse<byte[]> cacerts = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/cacerts"))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(cacerts.statusCode()).isEqualTo(200);
        assertThat(cacerts.body()).isEqualTo(ca);
        assertThat(logs()).contains("level=info msg=\"Starting k3s v1.31.4+k3s1",
                "msg=\"Node token is available at " + token + "\"", "msg=\"Wrote kubeconfig " + kubeconfig + "\"");
    }

    @Test
    void kubectlGetNodesWideShowsTheServerReady() {
        assumeTrue(Kubectl.available(), "the real kubectl is needed at /usr/bin/kubectl");
        Kubectl.Result r = kubectl.run("get", "nodes", "-o", "wide");
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(List.of(lines.get(0).split("\\s+"))).containsExactly("NAME", "STATUS", "ROLES", "AGE", "VERSION",
                "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME");
        String row = lines.stream().filter(l -> l.startsWith("k3s-server ")).findFirst().orElseThrow();
        List<String> cells = Kubectl.words(row);
        assertThat(cells.get(1)).isEqualTo("Ready");
        assertThat(cells.get(2)).isEqualTo("control-plane,master");
        assertThat(cells.get(4)).isEqualTo("v1.31.4+k3s1");
        assertThat(cells.get(5)).isEqualTo("127.0.0.1");
        assertThat(cells.get(6)).isEqualTo("<none>");
        assertThat(cells.get(cells.size() - 1)).isEqualTo("containerd://1.7.23-k3s2");
    }

    @Test
    void kubectlAppliesListsAndDeletesPodsAndJobs() throws InterruptedException {
        assumeTrue(Kubectl.available(), "the real kubectl is needed at /usr/bin/kubectl");
        String manifest = """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: gpu-test
                spec:
                  nodeSelector:
                    kubernetes.io/hostname: jetson
                  containers:
                  - name: gpu-test
                    image: icetekio/jetson-nano-tensorflow
                    command: ["sh", "-c", "echo 'import tensorflow' | python3"]
                ---
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: mnist-training
                spec:
                  backoffLimit: 0
                  template:
                    spec:
                      restartPolicy: Never
                      containers:
                      - name: train
                        image: python:3
                        command: ["python3", "/workspace/mnist.py"]
                """;
        Kubectl.Result applied = kubectl.runWithInput(manifest, "apply", "-f", "-");
        assertThat(applied.exit()).as(applied.err()).isZero();
        assertThat(applied.out()).contains("pod/gpu-test created", "job.batch/mnist-training created");
        Kubectl.Result again = kubectl.runWithInput(manifest, "apply", "-f", "-");
        assertThat(again.out()).contains("pod/gpu-test unchanged", "job.batch/mnist-training unchanged");

        Kubectl.Result changed = kubectl.runWithInput(manifest.replace("kubernetes.io/hostname: jetson",
                "kubernetes.io/hostname: jetson1"), "apply", "-f", "-");
        assertThat(changed.out()).contains("pod/gpu-test configured", "job.batch/mnist-training unchanged");
        assertThat(kubectl.run("get", "pod", "gpu-test", "-o", "jsonpath={.spec.nodeSelector}").out())
                .isEqualTo("{\"kubernetes.io/hostname\":\"jetson1\"}");

        Kubectl.Result pods = kubectl.run("get", "pods", "-o", "wide");
        assertThat(pods.exit()).as(pods.err()).isZero();
        List<String> lines = pods.out().lines().toList();
        assertThat(Kubectl.words(lines.get(0))).containsExactly("NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP",
                "NODE", "NOMINATED NODE", "READINESS GATES");
        String row = lines.stream().filter(l -> l.startsWith("gpu-test ")).findFirst().orElseThrow();
        assertThat(Kubectl.words(row).subList(0, 4)).containsExactly("gpu-test", "0/1", "Pending", "0");

        // The Job controller fills in the selector shortly after the Job is created: wait for it, as a user would.
        Kubectl.Result jobs = kubectl.run("get", "jobs", "-o", "wide");
        for (int i = 0; i < 50 && !jobs.out().contains("batch.kubernetes.io/controller-uid="); i++) {
            Thread.sleep(100);
            jobs = kubectl.run("get", "jobs", "-o", "wide");
        }
        assertThat(jobs.out().lines().findFirst().orElseThrow().split("\\s+")).containsExactly("NAME", "STATUS",
                "COMPLETIONS", "DURATION", "AGE", "CONTAINERS", "IMAGES", "SELECTOR");
        assertThat(jobs.out()).containsPattern("mnist-training\\s+Running\\s+0/1\\s+")
                .contains("batch.kubernetes.io/controller-uid=");

        Kubectl.Result deleted = kubectl.run("delete", "pod", "gpu-test");
        assertThat(deleted.exit()).as(deleted.err()).isZero();
        assertThat(deleted.out()).contains("pod \"gpu-test\" deleted");
        Kubectl.Result gone = kubectl.run("get", "pod", "gpu-test");
        assertThat(gone.exit()).isEqualTo(1);
        assertThat(gone.err()).contains("Error from server (NotFound): pods \"gpu-test\" not found");
        assertThat(kubectl.run("delete", "job", "mnist-training").exit()).isZero();
    }

    @Test
    void kubectlDescribesAndLabelsTheNode() {
        assumeTrue(Kubectl.available(), "the real kubectl is needed at /usr/bin/kubectl");
        Kubectl.Result labeled = kubectl.run("label", "node", "k3s-server", "a=b", "--overwrite");
        assertThat(labeled.exit()).as(labeled.err()).isZero();
        assertThat(labeled.out()).contains("node/k3s-server labeled");
        Kubectl.Result labels = kubectl.run("get", "node", "k3s-server", "-o",
                "jsonpath={.metadata.labels.a} {.metadata.labels.k3gpu\\.dev/test} {.status.conditions[*].type}");
        assertThat(labels.out()).isEqualTo("b yes MemoryPressure DiskPressure PIDPressure Ready");

        Kubectl.Result d = kubectl.run("describe", "node", "k3s-server");
        assertThat(d.exit()).as(d.err()).isZero();
        assertThat(d.out()).containsPattern("Roles:\\s+control-plane,master")
                .containsPattern("Ready\\s+True\\s+.*KubeletReady\\s+kubelet is posting ready status")
                .containsPattern("InternalIP:\\s+127.0.0.1")
                .containsPattern("HolderIdentity:\\s+k3s-server")
                .contains("Non-terminated Pods:");
    }

    @Test
    void heartbeatsRenewTheReadyCondition() throws Exception {
        Instant first = readyHeartbeat();
        Instant later = first;
        for (int i = 0; i < 40 && !later.isAfter(first); i++) {
            Thread.sleep(250);
            later = readyHeartbeat();
        }
        assertThat(later).isAfter(first);
    }

    private static Instant readyHeartbeat() throws Exception {
        JsonNode node = Json.parse(get("/api/v1/nodes/k3s-server", basic("node", password)).body());
        for (JsonNode c : node.path("status").path("conditions")) {
            if (c.path("type").asString().equals("Ready")) {
                return Instant.parse(c.path("lastHeartbeatTime").asString());
            }
        }
        throw new AssertionError("no Ready condition");
    }

    @Test
    void theRuntimesManifestsRuntimeClassesAtStart() {
        assumeTrue(Kubectl.available(), "the real kubectl is needed at /usr/bin/kubectl");
        Kubectl.Result r = kubectl.run("get", "runtimeclass");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out().lines().findFirst().orElseThrow().split("\\s+")).containsExactly("NAME", "HANDLER", "AGE");
        assertThat(r.out().lines().skip(1).map(l -> l.split("\\s+")[0] + "=" + l.split("\\s+")[1]))
                .containsExactlyInAnyOrder("nvidia=nvidia", "nvidia-experimental=nvidia-experimental", "crun=crun",
                        "lunatic=lunatic", "slight=slight", "spin=spin", "wws=wws", "wasmedge=wasmedge",
                        "wasmer=wasmer", "wasmtime=wasmtime");
        Kubectl.Result labels = kubectl.run("get", "runtimeclass", "nvidia", "-o",
                "jsonpath={.metadata.labels.objectset\\.rio\\.cattle\\.io/hash} "
                        + "{.metadata.annotations.objectset\\.rio\\.cattle\\.io/owner-name}");
        assertThat(labels.out()).matches("[0-9a-f]{40} runtimes");
    }

    @Test
    void kubectlLogsAreProxiedToThePodsKubelet() throws Exception {
        assumeTrue(Kubectl.available(), "the real kubectl is needed at /usr/bin/kubectl");
        List<String> seen = new CopyOnWriteArrayList<>();
        K3sPki kubeletPki = K3sPki.loadOrCreate(root.resolve("fake-kubelet"), Set.of("localhost"), Set.of(),
                Clock.systemUTC());
        HttpsServer kubelet = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kubeletPki.servingKeyManager().getKeyManagers(), null, null);
        kubelet.setHttpsConfigurator(new HttpsConfigurator(ctx));
        kubelet.createContext("/containerLogs/", ex -> {
            seen.add(ex.getRequestURI().toString());
            byte[] body = "2026-11-28 Successfully opened dynamic library libcudart.so.10.2\n"
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "text/plain");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        kubelet.start();
        try {
            String node = """
                    {"apiVersion":"v1","kind":"Node","metadata":{"name":"jetson1","labels":{"kubernetes.io/hostname":
                    "jetson1"}},"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}],
                    "daemonEndpoints":{"kubeletEndpoint":{"Port":%d}}}}""".formatted(kubelet.getAddress().getPort());
            assertThat(send("POST", "/api/v1/nodes", node, "application/json", basic("node", password))
                    .statusCode()).isEqualTo(201);
            String pod = """
                    {"apiVersion":"v1","kind":"Pod","metadata":{"name":"logs-test"},"spec":{"nodeName":"jetson1",
                    "containers":[{"name":"gpu-test","image":"icetekio/jetson-nano-tensorflow"}]}}""";
            assertThat(send("POST", "/api/v1/namespaces/default/pods", pod, "application/json",
                    basic("node", password)).statusCode()).isEqualTo(201);

            Kubectl.Result r = kubectl.run("logs", "logs-test", "--tail=5");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).isEqualTo("2026-11-28 Successfully opened dynamic library libcudart.so.10.2\n");
            assertThat(seen).containsExactly("/containerLogs/default/logs-test/gpu-test?tailLines=5");

            Kubectl.Result badContainer = kubectl.run("logs", "logs-test", "-c", "nope");
            assertThat(badContainer.err()).contains("container nope is not valid for pod logs-test");
        } finally {
            kubelet.stop(0);
        }
    }

    @Test
    void aWrongCredentialIsUnauthorized() throws Exception {
        assumeTrue(Kubectl.available(), "the real kubectl is needed at /usr/bin/kubectl");
        String good = Files.readString(server.kubeconfig());
        Path bad = root.resolve("bad.yaml");
        Files.writeString(bad, good.replaceAll("    client-certificate-data: \\S+\n", "")
                .replaceAll("client-key-data: \\S+", "token: wrong"));
        Kubectl warmCache = new Kubectl(bad, root.resolve("kube-cache"), root);
        assertThat(kubectl.run("get", "nodes").exit()).isZero();
        Kubectl.Result r = warmCache.run("get", "nodes");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("error: You must be logged in to the server (Unauthorized)");
        Kubectl.Result cold = new Kubectl(bad, root.resolve("cold-cache"), root).run("get", "nodes");
        assertThat(cold.exit()).isEqualTo(1);
        assertThat(cold.err()).contains("error: You must be logged in to the server (");

        HttpResponse<String> none = get("/api/v1/nodes", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(Json.parse(none.body()).path("reason").asString()).isEqualTo("Unauthorized");
        assertThat(get("/version", null).statusCode()).isEqualTo(401);
        assertThat(get("/api/v1/nodes", basic("node", "wrong")).statusCode()).isEqualTo(401);
        HttpResponse<String> ping = get("/ping", null);
        assertThat(ping.statusCode()).isEqualTo(200);
        assertThat(ping.body()).isEqualTo("pong");
        assertThat(Json.parse(get("/version", basic("node", password)).body()).path("gitVersion").asString())
                .isEqualTo("v1.31.4+k3s1");
    }

    @Test
    void anAgentWithTheNodePasswordRegistersANodeAndPatchesItsStatus() throws Exception {
        String auth = basic("node", password);
        String node = """
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"orin1","labels":{"kubernetes.io/arch":"arm64"}}}""";
        assertThat(send("POST", "/api/v1/nodes", node, "application/json", auth).statusCode()).isEqualTo(201);
        String status = """
                {"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}],
                "nodeInfo":{"containerRuntimeVersion":"containerd://1.7.23-k3s2"}}}""";
        HttpResponse<String> patched = send("PATCH", "/api/v1/nodes/orin1/status", status,
                "application/merge-patch+json", auth);
        assertThat(patched.statusCode()).isEqualTo(200);
        patched = send("PATCH", "/api/v1/nodes/orin1/status", status, "application/merge-patch+json", auth);
        JsonNode got = Json.parse(get("/api/v1/nodes/orin1", auth).body());
        assertThat(got.path("status").path("conditions")).hasSize(1);
        assertThat(got.path("status").path("conditions").get(0).path("status").asString()).isEqualTo("True");
        assertThat(got.path("metadata").has("namespace")).isFalse();
        assertThat(send("POST", "/api/v1/nodes", node.replace("orin1", "orin2"), "application/json",
                basic("node", "not-the-password")).statusCode()).isEqualTo(401);
        JsonNode pods = Json.parse(get("/api/v1/pods?fieldSelector=spec.nodeName%3Dorin1", auth).body());
        assertThat(pods.path("kind").asString()).isEqualTo("PodList");
        assertThat(send("POST", "/api/v1/nodes", "\u0000k8s", "application/vnd.kubernetes.protobuf", auth)
                .statusCode()).isEqualTo(415);
    }

    @Test
    void httpWatchResumesFromAListsResourceVersionWithFieldSelector() throws Exception {
        String auth = basic("node", password);
        JsonNode list = Json.parse(get("/api/v1/pods?fieldSelector=spec.nodeName%3Dwatch-node", auth).body());
        String rv = list.path("metadata").path("resourceVersion").asString();
        String pod = """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"nodeName":"%s",
                "containers":[{"name":"c","image":"busybox"}]}}""";
        send("POST", "/api/v1/namespaces/default/pods", pod.formatted("other-pod", "elsewhere"), "application/json",
                auth);
        send("POST", "/api/v1/namespaces/default/pods", pod.formatted("mine", "watch-node"), "application/json",
                auth);
        HttpRequest watch = HttpRequest.newBuilder(URI.create(server.url()
                + "/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dwatch-node&resourceVersion=" + rv
                + "&timeoutSeconds=5")).header("Authorization", auth).build();
        HttpResponse<Stream<String>> r = http.send(watch, HttpResponse.BodyHandlers.ofLines());
        assertThat(r.statusCode()).isEqualTo(200);
        String first = r.body().findFirst().orElseThrow();
        JsonNode ev = Json.parse(first);
        assertThat(ev.path("type").asString()).isEqualTo("ADDED");
        assertThat(ev.path("object").path("metadata").path("name").asString()).isEqualTo("mine");
    }

    @Test
    void fabric8ClientWatchSeesPodsBoundToItsNode() throws Exception {
        Config config = Config.fromKubeconfig(Files.readString(server.kubeconfig()));
        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
            LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
            try (Watch w = client.pods().inAnyNamespace().withField("spec.nodeName", "f8-node")
                    .watch(new Watcher<Pod>() {
                        @Override
                        public void eventReceived(Action action, Pod pod) {
                            events.add(action + " " + pod.getMetadata().getName());
                        }

                        @Override
                        public void onClose(WatcherException cause) {
                        }
                    })) {
                client.pods().inNamespace("default").resource(new PodBuilder().withNewMetadata()
                        .withName("elsewhere").endMetadata().withNewSpec().withNodeName("other")
                        .addNewContainer().withName("c").withImage("busybox").endContainer().endSpec().build())
                        .create();
                client.pods().inNamespace("default").resource(new PodBuilder().withNewMetadata()
                        .withName("f8-pod").endMetadata().withNewSpec().withNodeName("f8-node")
                        .addNewContainer().withName("c").withImage("busybox").endContainer().endSpec().build())
                        .create();
                assertThat(events.poll(15, TimeUnit.SECONDS)).isEqualTo("ADDED f8-pod");
                client.pods().inNamespace("default").withName("f8-pod").delete();
                assertThat(events.poll(15, TimeUnit.SECONDS)).isEqualTo("DELETED f8-pod");
            }
            assertThat(client.nodes().withName("k3s-server").get().getStatus().getNodeInfo().getKubeletVersion())
                    .isEqualTo("v1.31.4+k3s1");
        }
    }

    static String basic(String user, String pw) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + pw).getBytes(StandardCharsets.UTF_8));
    }

    static HttpResponse<String> get(String path, String auth) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path));
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> send(String method, String path, String body, String contentType, String auth)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(server.url() + path)).header("Authorization", auth)
                .header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
