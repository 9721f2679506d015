package io.k3gpu.lab.k3s.controllers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.k3gpu.lab.k3s.HostFacts;
import io.k3gpu.lab.k3s.K3sServer;
import io.k3gpu.lab.k3s.K3sServerOptions;
import io.k3gpu.lab.k3s.K3sToken;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.databind.JsonNode;

/**
 * The controllers in an in-process simulated K3s server, with two agent-like nodes registered over HTTP Basic
 * (jetson1 with one GPU, cpu1 without) next to the server's own node, driven by fabric8, raw HTTP as the agent
 * would, and the real kubectl.
 */
class ControllersIT {
    @TempDir
    static Path root;
    static K3sServer server;
    static KubernetesClient client;
    static HttpClient http;
    static String password;
    static ScheduledExecutorService heartbeats;
    static final ByteArrayOutputStream LOGS = new ByteArrayOutputStream();

    static final String ALL_MISS = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. "
            + "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";

    @BeforeAll
    static void start() throws Exception {
        server = K3sServer.start(K3sServerOptions.defaults().etcRoot(root).bindAddress("127.0.0.1")
                .httpsListenPort(0).heartbeat(Duration.ofSeconds(1)).hostFacts(facts("k3s-server"))
                .logTo(new PrintStream(LOGS, true, StandardCharsets.UTF_8)));
        client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(server.kubeconfig())))
                .build();
        http = httpFor(server);
        password = K3sToken.parse(server.token()).password();
        registerNode("jetson1", "1");
        registerNode("cpu1", null);
        heartbeats = Executors.newSingleThreadScheduledExecutor();
        heartbeats.scheduleAtFixedRate(() -> {
            for (String n : List.of("jetson1", "cpu1")) {
                heartbeat(n);
            }
        }, 5, 5, TimeUnit.SECONDS);
        await("three Ready nodes", () -> client.nodes().list().getItems().size() == 3);
    }

    @AfterAll
    static void stop() {
        if (heartbeats != null) {
            heartbeats.shutdownNow();
        }
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    static HttpClient httpFor(K3sServer s) {
        try {
            X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new java.io.ByteArrayInputStream(s.caCertificate()));
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return HttpClient.newBuilder().sslContext(ctx).build();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static HostFacts facts(String name) {
        return new HostFacts(name, "arm64", "5.15.148-tegra", "Ubuntu 22.04.4 LTS", 4, 4045564, 30_000_000,
                "127.0.0.1", "boot", "machine", 0, List.of("nvidia"), null, null);
    }

    // ---- the agent's side, over HTTP Basic node:<password>

    static void registerNode(String name, String gpus) throws Exception {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String node = """
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s",
                "kubernetes.io/arch":"arm64","kubernetes.io/os":"linux"}},"spec":{"providerID":"k3s://%s"},
                "status":{"allocatable":{"cpu":"4","memory":"3963Mi","pods":"110"%s},
                "capacity":{"cpu":"4","memory":"4063Mi","pods":"110"%s},
                "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady",
                "message":"kubelet is posting ready status","lastHeartbeatTime":"%s","lastTransitionTime":"%s"}]}}"""
                .formatted(name, name, name, gpus == null ? "" : ",\"nvidia.com/gpu\":\"" + gpus + "\"",
                        gpus == null ? "" : ",\"nvidia.com/gpu\":\"" + gpus + "\"", now, now);
        assertThat(agent("POST", "/api/v1/nodes", node, "application/json").statusCode()).isEqualTo(201);
    }

    static void heartbeat(String name) {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        try {
            agent("PATCH", "/api/v1/nodes/" + name + "/status", """
                    {"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady",
                    "message":"kubelet is posting ready status","lastHeartbeatTime":"%s",
                    "lastTransitionTime":"%s"}]}}""".formatted(now, now), "application/merge-patch+json");
        } catch (Exception e) {
            // the next beat
        }
    }

    static HttpResponse<String> agent(String method, String path, String body, String contentType)
            throws IOException, InterruptedException {
        return agent(server, method, path, body, contentType);
    }

    static HttpResponse<String> agent(K3sServer s, String method, String path, String body, String contentType)
            throws IOException, InterruptedException {
        String pw = K3sToken.parse(s.token()).password();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.url() + path))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(("node:" + pw)
                        .getBytes(StandardCharsets.UTF_8)))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return (s == server ? http : httpFor(s)).send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** What the agent writes when a pod's containers have exited. */
    static void finish(String name, int exitCode) throws Exception {
        String phase = exitCode == 0 ? "Succeeded" : "Failed";
        String reason = exitCode == 0 ? "Completed" : "Error";
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        HttpResponse<String> r = agent("PATCH", "/api/v1/namespaces/default/pods/" + name + "/status", """
                {"status":{"phase":"%s","containerStatuses":[{"name":"c","image":"busybox","imageID":"",
                "ready":false,"restartCount":0,"started":false,"state":{"terminated":{"exitCode":%d,
                "reason":"%s","startedAt":"%s","finishedAt":"%s"}}}]}}"""
                .formatted(phase, exitCode, reason, now, now), "application/merge-patch+json");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    /** The agent's final delete after killing a pod's processes. */
    static void confirmKill(String name) throws Exception {
        HttpResponse<String> r = agent("DELETE", "/api/v1/namespaces/default/pods/" + name,
                "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":0}", "application/json");
        assertThat(r.statusCode()).as(r.body()).isIn(200, 404);
    }

    // ---- helpers

    static void await(String what, Supplier<Boolean> condition) {
        Instant deadline = Instant.now().plusSeconds(20);
        while (Instant.now().isBefore(deadline)) {
            try {
                if (Boolean.TRUE.equals(condition.get())) {
                    return;
                }
            } catch (RuntimeException e) {
                // not yet
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("timed out waiting for " + what);
    }

    static Pod pod(String name) {
        return client.pods().inNamespace("default").withName(name).get();
    }

    static JsonNode json(Object fabric8Object) {
        return J.parse(io.fabric8.kubernetes.client.utils.Serialization.asJson(fabric8Object));
    }

    static JsonNode scheduled(String name) {
        return J.condition(json(pod(name)), "PodScheduled");
    }

    static void create(String yaml) {
        client.load(new java.io.ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).inNamespace("default")
                .create();
    }

    static String podYaml(String name, String extraSpec) {
        return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                spec:
                %s
                  containers:
                  - name: c
                    image: icetekio/jetson-nano-tensorflow
                """.formatted(name, extraSpec.indent(2).stripTrailing());
    }

    static final String GPU = """
            containers:
            - name: c
              image: icetekio/jetson-nano-tensorflow
              resources:
                limits:
                  nvidia.com/gpu: 1
            """;

    static String gpuPodYaml(String name, String selectorHost) {
        return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                spec:
                  nodeSelector:
                    kubernetes.io/hostname: %s
                %s""".formatted(name, selectorHost, GPU.indent(2));
    }

    static List<JsonNode> eventsFor(String kind, String name) {
        List<JsonNode> out = new ArrayList<>();
        for (var e : client.v1().events().inNamespace("default").withField("involvedObject.name", name).list()
                .getItems()) {
            if (kind.equals(e.getInvolvedObject().getKind())) {
                out.add(json(e));
            }
        }
        return out;
    }

    static void forceDelete(String name) {
        client.pods().inNamespace("default").withName(name).withGracePeriod(0).delete();
        await(name + " gone", () -> pod(name) == null);
    }

    record Run(int exit, String out, String err) {
    }

    static Run kubectl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/kubectl", "--kubeconfig", server.kubeconfig().toString(),
                "--cache-dir", root.resolve("kube-cache").toString(), "--request-timeout=30s"));
        cmd.addAll(List.of(args));
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().put("HOME", root.toString());
            pb.environment().remove("KUBECONFIG");
            Process p = pb.start();
            p.getOutputStream().close();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kubectl " + String.join(" ", args) + " did not finish");
            }
            return new Run(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static Run kubectlWithInput(String stdin, String... args) throws Exception {
        Path f = Files.createTempFile(root, "manifest", ".yaml");
        Files.writeString(f, stdin);
        List<String> all = new ArrayList<>(List.of(args));
        all.add("-f");
        all.add(f.toString());
        return kubectl(all.toArray(String[]::new));
    }

    static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    static boolean kubectlAvailable() {
        return Files.isExecutable(Path.of("/usr/bin/kubectl"));
    }

    // ---- scheduling

    @Test
    void aNodeSelectorForAMissingNodeLeavesThePodPendingWithTheSchedulersMessageAndEvent() {
        create(podYaml("gpu-test", "nodeSelector:\n  kubernetes.io/hostname: jetson"));
        await("PodScheduled=False", () -> "False".equals(scheduled("gpu-test").path("status").asString()));
        JsonNode c = scheduled("gpu-test");
        assertThat(c.path("reason").asString()).isEqualTo("Unschedulable");
        assertThat(c.path("message").asString()).isEqualTo(ALL_MISS);
        assertThat(pod("gpu-test").getStatus().getPhase()).isEqualTo("Pending");
        await("FailedScheduling event", () -> !eventsFor("Pod", "gpu-test").isEmpty());
        JsonNode e = eventsFor("Pod", "gpu-test").get(0);
        assertThat(e.path("type").asString()).isEqualTo("Warning");
        assertThat(e.path("reason").asString()).isEqualTo("FailedScheduling");
        assertThat(e.path("message").asString()).isEqualTo(ALL_MISS);
        assertThat(e.path("reportingComponent").asString()).isEqualTo("default-scheduler");
        assertThat(e.path("involvedObject").path("uid").asString()).isEqualTo(pod("gpu-test").getMetadata().getUid());

        if (kubectlAvailable()) {
            Run d = kubectl("describe", "pod", "gpu-test");
            assertThat(d.exit()).as(d.err()).isZero();
            assertThat(d.out()).containsPattern("Warning\\s+FailedScheduling\\s+\\S+\\s+default-scheduler\\s+"
                    + java.util.regex.Pattern.quote(ALL_MISS));
            assertThat(d.out()).containsPattern("Tolerations:\\s+node.kubernetes.io/not-ready:NoExecute op=Exists "
                    + "for 300s");
            Run ev = kubectl("get", "events", "--field-selector", "involvedObject.name=gpu-test");
            assertThat(ev.out()).containsPattern("Warning\\s+FailedScheduling\\s+pod/gpu-test\\s+0/3 nodes are "
                    + "available");
            Run wide = kubectl("get", "pod", "gpu-test", "-o", "wide");
            assertThat(wide.out()).containsPattern("gpu-test\\s+0/1\\s+Pending\\s+0\\s+\\S+\\s+<none>\\s+<none>");
        }
        forceDelete("gpu-test");
    }

    @Test
    void aGpuRequestOnANodeWithoutGpusIsInsufficient() {
        create(gpuPodYaml("needs-gpu", "cpu1"));
        await("Unschedulable", () -> "Unschedulable".equals(scheduled("needs-gpu").path("reason").asString()));
        assertThat(scheduled("needs-gpu").path("message").asString()).isEqualTo("0/3 nodes are available: "
                + "1 Insufficient nvidia.com/gpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: "
                + "0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not "
                + "helpful for scheduling.");
        forceDelete("needs-gpu");
    }

    @Test
    void aPodThatFitsIsBoundAndTheNextGpuPodWaitsForTheGpu() throws Exception {
        create(gpuPodYaml("gpu-a", "jetson1"));
        await("bound", () -> "jetson1".equals(pod("gpu-a").getSpec().getNodeName()));
        JsonNode c = scheduled("gpu-a");
        assertThat(c.path("status").asString()).isEqualTo("True");
        assertThat(c.has("reason")).isFalse();
        Pod a = pod("gpu-a");
        assertThat(a.getStatus().getPhase()).isEqualTo("Pending");
        assertThat(a.getSpec().getContainers().get(0).getResources().getRequests().get("nvidia.com/gpu").toString())
                .isEqualTo("1");
        await("Scheduled event", () -> eventsFor("Pod", "gpu-a").stream()
                .anyMatch(e -> e.path("reason").asString().equals("Scheduled")));
        assertThat(eventsFor("Pod", "gpu-a").get(0).path("message").asString())
                .isEqualTo("Successfully assigned default/gpu-a to jetson1");

        create(gpuPodYaml("gpu-b", "jetson1"));
        await("gpu-b waits", () -> "Unschedulable".equals(scheduled("gpu-b").path("reason").asString()));
        assertThat(scheduled("gpu-b").path("message").asString()).isEqualTo("0/3 nodes are available: "
                + "1 Insufficient nvidia.com/gpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: "
                + "0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not "
                + "helpful for scheduling.");
        finish("gpu-a", 0);
        await("gpu-b bound once gpu-a finished", () -> "jetson1".equals(pod("gpu-b").getSpec().getNodeName()));
        assertThat(scheduled("gpu-b").path("status").asString()).isEqualTo("True");
        forceDelete("gpu-a");
        forceDelete("gpu-b");
    }

    @Test
    void aNodeNameSkipsTheScheduler() {
        create(podYaml("pinned", "nodeName: cpu1"));
        await("exists", () -> pod("pinned") != null);
        assertThat(J.condition(json(pod("pinned")), "PodScheduled").isMissingNode()).isTrue();
        assertThat(eventsFor("Pod", "pinned")).isEmpty();
        forceDelete("pinned");
    }

    @Test
    void anUnknownRuntimeClassIsRejectedAtCreation() throws Exception {
        // runtimes.yaml has nvidia and nvidia-experimental, not nvidia-cdi
        assertThatThrownBy(() -> create(podYaml("rc-missing", "runtimeClassName: nvidia-cdi")))
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(403);
                    assertThat(e.getStatus().getMessage()).isEqualTo("pods \"rc-missing\" is forbidden: pod rejected: "
                            + "RuntimeClass \"nvidia-cdi\" not found");
                });
        assertThat(pod("rc-missing")).isNull();
        create(podYaml("rc-nvidia", "runtimeClassName: nvidia\nnodeSelector:\n  kubernetes.io/hostname: jetson1"));
        await("bound", () -> "jetson1".equals(pod("rc-nvidia").getSpec().getNodeName()));
        if (kubectlAvailable()) {
            Run r = kubectlWithInput(podYaml("rc-kubectl", "runtimeClassName: nvidia-cdi"), "apply");
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.err()).contains("Error from server (Forbidden): error when creating",
                    "pods \"rc-kubectl\" is forbidden: pod rejected: RuntimeClass \"nvidia-cdi\" not found");
        }
        forceDelete("rc-nvidia");
    }

    // ---- jobs

    static String jobYaml(String name, String extraSpec) {
        return """
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: %s
                spec:
                  backoffLimit: 0
                %s
                  template:
                    spec:
                      restartPolicy: Never
                      nodeSelector:
                        kubernetes.io/hostname: cpu1
                      containers:
                      - name: c
                        image: python:3
                        command: ["python3", "/workspace/mnist.py"]
                """.formatted(name, extraSpec.indent(2).stripTrailing());
    }

    static List<Pod> jobPods(String job) {
        return client.pods().inNamespace("default").withLabel("job-name", job).list().getItems();
    }

    static Job job(String name) {
        return client.batch().v1().jobs().inNamespace("default").withName(name).get();
    }

    static boolean jobCondition(String name, String type) {
        Job j = job(name);
        return j != null && j.getStatus() != null && j.getStatus().getConditions() != null
                && j.getStatus().getConditions().stream().anyMatch(c -> c.getType().equals(type)
                && c.getStatus().equals("True"));
    }

    @Test
    void aJobRunsOnePodAndCompletesWhenItSucceeds() throws Exception {
        create(jobYaml("train", ""));
        await("one pod", () -> jobPods("train").size() == 1);
        Pod p = jobPods("train").get(0);
        Job j = job("train");
        String uid = j.getMetadata().getUid();
        assertThat(p.getMetadata().getName()).matches("train-[bcdfghjklmnpqrstvwxz2456789]{5}");
        assertThat(p.getMetadata().getLabels()).containsEntry("batch.kubernetes.io/job-name", "train")
                .containsEntry("job-name", "train").containsEntry("controller-uid", uid)
                .containsEntry("batch.kubernetes.io/controller-uid", uid);
        assertThat(p.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
            assertThat(o.getKind()).isEqualTo("Job");
            assertThat(o.getApiVersion()).isEqualTo("batch/v1");
            assertThat(o.getName()).isEqualTo("train");
            assertThat(o.getUid()).isEqualTo(uid);
            assertThat(o.getController()).isTrue();
            assertThat(o.getBlockOwnerDeletion()).isTrue();
        });
        await("bound to cpu1", () -> "cpu1".equals(pod(p.getMetadata().getName()).getSpec().getNodeName()));
        await("active 1", () -> Integer.valueOf(1).equals(job("train").getStatus().getActive()));
        assertThat(job("train").getStatus().getStartTime()).isNotNull();
        assertThat(job("train").getStatus().getReady()).isZero();
        if (kubectlAvailable()) {
            assertThat(kubectl("get", "jobs", "train").out()).containsPattern("train\\s+Running\\s+0/1\\s+\\S+\\s+");
        }

        finish(p.getMetadata().getName(), 0);
        await("Complete", () -> jobCondition("train", "Complete"));
        Job done = job("train");
        assertThat(done.getStatus().getSucceeded()).isEqualTo(1);
        assertThat(done.getStatus().getActive()).isNull();
        assertThat(done.getStatus().getCompletionTime()).isNotNull();
        assertThat(done.getStatus().getConditions()).extracting(c -> c.getType() + "/" + c.getReason())
                .containsExactly("SuccessCriteriaMet/CompletionsReached", "Complete/CompletionsReached");
        assertThat(done.getStatus().getConditions().get(1).getMessage())
                .isEqualTo("Reached expected number of succeeded pods");
        assertThat(jobPods("train")).hasSize(1);
        await("events", () -> eventsFor("Job", "train").size() >= 2);
        assertThat(eventsFor("Job", "train")).extracting(e -> e.path("reason").asString() + ": "
                + e.path("message").asString()).contains("SuccessfulCreate: Created pod: " + p.getMetadata().getName(),
                "Completed: Job completed");
        if (kubectlAvailable()) {
            Run r = kubectl("get", "jobs", "train");
            assertThat(r.out().lines().findFirst().orElseThrow().split("\\s+")).containsExactly("NAME", "STATUS",
                    "COMPLETIONS", "DURATION", "AGE");
            assertThat(r.out()).containsPattern("train\\s+Complete\\s+1/1\\s+\\d+s\\s+");
            assertThat(kubectl("get", "pods", "-l", "job-name=train").out()).containsPattern(
                    "train-\\w{5}\\s+0/1\\s+Completed\\s+0\\s+");
            Run d = kubectl("describe", "job", "train");
            assertThat(d.out()).containsPattern("Normal\\s+SuccessfulCreate\\s+\\S+\\s+job-controller\\s+Created pod: "
                    + p.getMetadata().getName()).containsPattern("Normal\\s+Completed\\s+\\S+\\s+job-controller\\s+Job "
                    + "completed");
        }
        client.batch().v1().jobs().inNamespace("default").withName("train").delete();
    }

    @Test
    void aFailedPodWithBackoffLimitZeroFailsTheJob() throws Exception {
        create(jobYaml("fails", ""));
        await("one pod", () -> jobPods("fails").size() == 1);
        String name = jobPods("fails").get(0).getMetadata().getName();
        finish(name, 1);
        await("Failed", () -> jobCondition("fails", "Failed"));
        Job j = job("fails");
        assertThat(j.getStatus().getFailed()).isEqualTo(1);
        assertThat(j.getStatus().getCompletionTime()).isNull();
        assertThat(j.getStatus().getConditions()).extracting(c -> c.getType() + "/" + c.getReason() + "/"
                + c.getMessage()).containsExactly(
                "FailureTarget/BackoffLimitExceeded/Job has reached the specified backoff limit",
                "Failed/BackoffLimitExceeded/Job has reached the specified backoff limit");
        Thread.sleep(1500);
        assertThat(jobPods("fails")).hasSize(1);
        await("warning event", () -> eventsFor("Job", "fails").stream().anyMatch(e -> e.path("reason").asString()
                .equals("BackoffLimitExceeded") && e.path("type").asString().equals("Warning")));
        if (kubectlAvailable()) {
            assertThat(kubectl("get", "jobs", "fails").out()).containsPattern("fails\\s+Failed\\s+0/1\\s+");
            assertThat(kubectl("get", "pods", name).out()).containsPattern(name + "\\s+0/1\\s+Error\\s+0\\s+");
        }
        client.batch().v1().jobs().inNamespace("default").withName("fails").delete();
    }

    @Test
    void aRetriedJobReplacesItsFailedPodWithinBackoffLimit() throws Exception {
        create(jobYaml("retries", "").replace("backoffLimit: 0", "backoffLimit: 1"));
        await("one pod", () -> jobPods("retries").size() == 1);
        finish(jobPods("retries").get(0).getMetadata().getName(), 2);
        await("failed 1", () -> Integer.valueOf(1).equals(job("retries").getStatus().getFailed()));
        assertThat(jobCondition("retries", "Failed")).isFalse();
        client.batch().v1().jobs().inNamespace("default").withName("retries").delete();
    }

    @Test
    void anActiveDeadlineFailsTheJobOnceItsPodIsKilled() throws Exception {
        create(jobYaml("deadline", "activeDeadlineSeconds: 2").replace("kubernetes.io/hostname: cpu1",
                "kubernetes.io/hostname: jetson1"));
        await("bound pod", () -> jobPods("deadline").size() == 1
                && "jetson1".equals(jobPods("deadline").get(0).getSpec().getNodeName()));
        String name = jobPods("deadline").get(0).getMetadata().getName();
        await("FailureTarget", () -> jobCondition("deadline", "FailureTarget"));
        await("pod terminating", () -> pod(name).getMetadata().getDeletionTimestamp() != null);
        Thread.sleep(500);
        assertThat(jobCondition("deadline", "Failed")).as("Failed waits for the pod to be gone").isFalse();
        assertThat(job("deadline").getStatus().getTerminating()).isEqualTo(1);
        confirmKill(name);
        await("Failed", () -> jobCondition("deadline", "Failed"));
        assertThat(job("deadline").getStatus().getConditions()).extracting(c -> c.getType() + "/" + c.getReason())
                .containsExactly("FailureTarget/DeadlineExceeded", "Failed/DeadlineExceeded");
        assertThat(eventsFor("Job", "deadline")).extracting(e -> e.path("reason").asString() + ": "
                + e.path("message").asString()).contains("SuccessfulDelete: Deleted pod: " + name,
                "DeadlineExceeded: Job was active longer than specified deadline");
        client.batch().v1().jobs().inNamespace("default").withName("deadline").delete();
    }

    @Test
    void aJobWhosePodsAreRefusedReportsFailedCreate() {
        create(jobYaml("no-runtime", "").replace("restartPolicy: Never", "restartPolicy: Never\n      "
                + "runtimeClassName: nvidia-missing"));
        await("FailedCreate", () -> eventsFor("Job", "no-runtime").stream().anyMatch(e -> e.path("reason")
                .asString().equals("FailedCreate")));
        assertThat(eventsFor("Job", "no-runtime")).extracting(e -> e.path("message").asString()).contains(
                "Error creating: pods \"no-runtime-\" is forbidden: pod rejected: RuntimeClass \"nvidia-missing\" "
                        + "not found");
        assertThat(jobPods("no-runtime")).isEmpty();
        client.batch().v1().jobs().inNamespace("default").withName("no-runtime").delete();
    }

    @Test
    void aFinishedJobWithTtlIsDeletedWithItsPods() throws Exception {
        create(jobYaml("short-lived", "ttlSecondsAfterFinished: 1"));
        await("one pod", () -> jobPods("short-lived").size() == 1);
        finish(jobPods("short-lived").get(0).getMetadata().getName(), 0);
        await("Complete", () -> jobCondition("short-lived", "Complete"));
        await("job gone", () -> job("short-lived") == null);
        await("pods gone", () -> jobPods("short-lived").isEmpty());
    }

    @Test
    void deletingAJobDeletesItsPodsGracefullyAndTheAgentConfirms() throws Exception {
        create(jobYaml("doomed", "").replace("kubernetes.io/hostname: cpu1", "kubernetes.io/hostname: jetson1"));
        await("bound pod", () -> jobPods("doomed").size() == 1
                && "jetson1".equals(jobPods("doomed").get(0).getSpec().getNodeName()));
        String name = jobPods("doomed").get(0).getMetadata().getName();
        if (kubectlAvailable()) {
            Run r = kubectl("delete", "job", "doomed");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).contains("job.batch \"doomed\" deleted");
        } else {
            client.batch().v1().jobs().inNamespace("default").withName("doomed")
                    .withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
        }
        assertThat(job("doomed")).isNull();
        await("pod terminating", () -> pod(name).getMetadata().getDeletionTimestamp() != null);
        Pod terminating = pod(name);
        assertThat(terminating.getMetadata().getDeletionGracePeriodSeconds()).isEqualTo(30);
        assertThat(terminating.getMetadata().getFinalizers()).isEmpty();
        if (kubectlAvailable()) {
            assertThat(kubectl("get", "pod", name).out()).containsPattern(name + "\\s+0/1\\s+Terminating\\s+");
        }
        confirmKill(name);
        await("pod gone", () -> pod(name) == null);
    }

    @Test
    void kubectlDeletePodWaitsForTheKubeletAndUnboundPodsGoAtOnce() throws Exception {
        assumeTrue(kubectlAvailable(), "the real kubectl is needed at /usr/bin/kubectl");
        create(podYaml("graceful", "nodeSelector:\n  kubernetes.io/hostname: jetson1"));
        await("bound", () -> "jetson1".equals(pod("graceful").getSpec().getNodeName()));
        CompletableFuture<Run> deleting = CompletableFuture.supplyAsync(() -> kubectl("delete", "pod", "graceful"));
        await("terminating", () -> pod("graceful").getMetadata().getDeletionTimestamp() != null);
        Thread.sleep(500);
        assertThat(deleting).isNotDone();
        confirmKill("graceful");
        Run r = deleting.get(30, TimeUnit.SECONDS);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("pod \"graceful\" deleted");

        create(podYaml("unbound", "nodeSelector:\n  kubernetes.io/hostname: nowhere"));
        Run u = kubectl("delete", "pod", "unbound");
        assertThat(u.exit()).as(u.err()).isZero();
        assertThat(pod("unbound")).isNull();
    }

    @Test
    void orphaningAJobKeepsItsPodsWithoutOwner() {
        create(jobYaml("orphaner", ""));
        await("one pod", () -> jobPods("orphaner").size() == 1);
        String name = jobPods("orphaner").get(0).getMetadata().getName();
        client.batch().v1().jobs().inNamespace("default").withName("orphaner")
                .withPropagationPolicy(DeletionPropagation.ORPHAN).delete();
        await("job gone", () -> job("orphaner") == null);
        Pod p = pod(name);
        assertThat(p).isNotNull();
        assertThat(p.getMetadata().getOwnerReferences()).isEmpty();
        assertThat(p.getMetadata().getDeletionTimestamp()).isNull();
        forceDelete(name);
    }

    // ---- kubectl's STATUS column from what the agent writes

    @Test
    void kubectlShowsThePodStatusTheAgentReports() throws Exception {
        assumeTrue(kubectlAvailable(), "the real kubectl is needed at /usr/bin/kubectl");
        create(podYaml("shown", "nodeName: cpu1\ninitContainers:\n- name: clone\n  image: iceci/utils"));
        String[][] cases = {
            {"{\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":\"clone\",\"ready\":false,"
                + "\"restartCount\":0,\"image\":\"iceci/utils\",\"imageID\":\"\",\"state\":{\"running\":{}}}],"
                + "\"containerStatuses\":[{\"name\":\"c\",\"ready\":false,\"restartCount\":0,\"image\":\"x\","
                + "\"imageID\":\"\",\"state\":{\"waiting\":{\"reason\":\"PodInitializing\"}}}]}}", "Init:0/1"},
            {"{\"status\":{\"initContainerStatuses\":[{\"name\":\"clone\",\"ready\":false,\"restartCount\":0,"
                + "\"image\":\"iceci/utils\",\"imageID\":\"\",\"state\":{\"waiting\":{\"reason\":\"ErrImagePull\"}}}]}}",
                "Init:ErrImagePull"},
            {"{\"status\":{\"initContainerStatuses\":[{\"name\":\"clone\",\"ready\":false,\"restartCount\":0,"
                + "\"image\":\"iceci/utils\",\"imageID\":\"\",\"state\":{\"terminated\":{\"exitCode\":0,"
                + "\"reason\":\"Completed\"}}}],\"containerStatuses\":[{\"name\":\"c\",\"ready\":false,"
                + "\"restartCount\":0,\"image\":\"x\",\"imageID\":\"\",\"state\":{\"waiting\":{\"reason\":"
                + "\"ContainerCreating\"}}}]}}", "ContainerCreating"},
            {"{\"status\":{\"containerStatuses\":[{\"name\":\"c\",\"ready\":false,\"restartCount\":0,\"image\":\"x\","
                + "\"imageID\":\"\",\"state\":{\"waiting\":{\"reason\":\"ImagePullBackOff\",\"message\":\"Back-off "
                + "pulling image\"}}}]}}", "ImagePullBackOff"},
            {"{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
                + "\"containerStatuses\":[{\"name\":\"c\",\"ready\":true,\"started\":true,\"restartCount\":0,"
                + "\"image\":\"x\",\"imageID\":\"\",\"state\":{\"running\":{\"startedAt\":\"2026-01-01T00:00:00Z\"}}}]}}",
                "Running"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = agent("PATCH", "/api/v1/namespaces/default/pods/shown/status", c[0],
                    "application/merge-patch+json");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            Run get = kubectl("get", "pod", "shown");
            assertThat(get.out()).as(c[1]).containsPattern("shown\\s+\\d/1\\s+" + java.util.regex.Pattern.quote(c[1])
                    + "\\s+");
        }
        assertThat(kubectl("get", "pod", "shown").out()).containsPattern("shown\\s+1/1\\s+Running\\s+0\\s+");
        client.pods().inNamespace("default").withName("shown").delete();
        await("terminating", () -> pod("shown").getMetadata().getDeletionTimestamp() != null);
        assertThat(kubectl("get", "pod", "shown").out()).containsPattern("shown\\s+1/1\\s+Terminating\\s+");
        confirmKill("shown");
        await("gone", () -> pod("shown") == null);
    }

    // ---- node lifecycle, on a server of its own

    @Test
    void aNodeThatStopsPostingBecomesUnknownTaintedUnschedulableAndRecovers(@TempDir Path other) throws Exception {
        try (K3sServer s = K3sServer.start(K3sServerOptions.defaults().etcRoot(other).bindAddress("127.0.0.1")
                .httpsListenPort(0).disableAgent(true).hostFacts(facts("lone-server"))
                .logTo(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
             KubernetesClient c = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(
                     Files.readString(s.kubeconfig()))).build()) {
            String stale = Instant.now().minusSeconds(120).truncatedTo(ChronoUnit.SECONDS).toString();
            String node = """
                    {"apiVersion":"v1","kind":"Node","metadata":{"name":"dead1","labels":{"kubernetes.io/hostname":
                    "dead1"}},"status":{"allocatable":{"cpu":"4","memory":"3963Mi","pods":"110"},
                    "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting
                     ready status","lastHeartbeatTime":"%s","lastTransitionTime":"%s"},{"type":"MemoryPressure",
                    "status":"False","reason":"KubeletHasSufficientMemory","lastHeartbeatTime":"%s",
                    "lastTransitionTime":"%s"}]}}""".formatted(stale, stale, stale, stale).replace("\n", "");
            assertThat(agent(s, "POST", "/api/v1/nodes", node, "application/json").statusCode()).isEqualTo(201);
            c.pods().inNamespace("default").resource(new io.fabric8.kubernetes.api.model.PodBuilder()
                    .withNewMetadata().withName("on-dead").endMetadata().withNewSpec().withNodeName("dead1")
                    .addNewContainer().withName("c").withImage("busybox").endContainer().endSpec().build()).create();

            Supplier<JsonNode> dead = () -> json(c.nodes().withName("dead1").get());
            await("Ready=Unknown", () -> "Unknown".equals(J.condition(dead.get(), "Ready").path("status").asString()));
            JsonNode ready = J.condition(dead.get(), "Ready");
            assertThat(ready.path("reason").asString()).isEqualTo("NodeStatusUnknown");
            assertThat(ready.path("message").asString()).isEqualTo("Kubelet stopped posting node status.");
            assertThat(J.condition(dead.get(), "DiskPressure").path("reason").asString())
                    .isEqualTo("NodeStatusNeverUpdated");
            await("tainted", () -> dead.get().path("spec").path("taints").size() == 2);
            assertThat(dead.get().path("spec").path("taints")).extracting(t -> t.path("key").asString() + ":"
                    + t.path("effect").asString()).containsExactlyInAnyOrder("node.kubernetes.io/unreachable:NoSchedule",
                    "node.kubernetes.io/unreachable:NoExecute");

            c.pods().inNamespace("default").resource(new io.fabric8.kubernetes.api.model.PodBuilder()
                    .withNewMetadata().withName("wants-dead").endMetadata().withNewSpec().addToNodeSelector(
                            "kubernetes.io/hostname", "dead1").addNewContainer().withName("c").withImage("busybox")
                    .endContainer().endSpec().build()).create();
            Supplier<JsonNode> wants = () -> J.condition(json(c.pods().inNamespace("default").withName("wants-dead")
                    .get()), "PodScheduled");
            await("unschedulable", () -> "Unschedulable".equals(wants.get().path("reason").asString()));
            assertThat(wants.get().path("message").asString()).isEqualTo("0/1 nodes are available: 1 node(s) had "
                    + "untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/1 nodes are available: 1 "
                    + "Preemption is not helpful for scheduling.");

            // the pod on the dead node tolerates unreachable for 300 s; deleting it does not wait for a kubelet
            assertThat(c.pods().inNamespace("default").withName("on-dead").get().getMetadata().getDeletionTimestamp())
                    .isNull();
            c.pods().inNamespace("default").withName("on-dead").delete();
            await("gone at once", () -> c.pods().inNamespace("default").withName("on-dead").get() == null);

            String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
            agent(s, "PATCH", "/api/v1/nodes/dead1/status", """
                    {"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady",
                    "message":"kubelet is posting ready status","lastHeartbeatTime":"%s",
                    "lastTransitionTime":"%s"}]}}""".formatted(now, now), "application/merge-patch+json");
            await("untainted", () -> dead.get().path("spec").path("taints").isEmpty());
            await("scheduled after recovery", () -> "dead1".equals(c.pods().inNamespace("default")
                    .withName("wants-dead").get().getSpec().getNodeName()));
        }
    }
}
