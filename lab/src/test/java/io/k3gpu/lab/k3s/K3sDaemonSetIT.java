package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.databind.JsonNode;

/**
 * A DaemonSet on the simulated K3s server (in-process, --disable-agent) with three agent-like nodes registered over
 * HTTP Basic — gpu1 and gpu2 labelled {@code nvidia.com/gpu.present=true}, cpu1 not — whose fake kubelets mark their
 * pods Running and Ready and confirm deletions, driven by the real kubectl: rollout status, the get columns, one pod
 * per matching node, a node gaining and losing the label, a template change rolling, a deleted pod replaced, the
 * DaemonSet's deletion taking its pods and revisions; and the ten RuntimeClasses of runtimes.yaml.
 */
class K3sDaemonSetIT {
    @TempDir
    static Path root;
    static K3sServer server;
    static Kubectl kubectl;
    static HttpClient http;
    static String auth;
    static ScheduledExecutorService kubelets;
    static final Set<String> NODES = Set.of("gpu1", "gpu2", "cpu1");
    static final Set<String> CONFIRMED = ConcurrentHashMap.newKeySet();
    static final ByteArrayOutputStream LOGS = new ByteArrayOutputStream();

    static final String DS = """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: nvidia-device-plugin-daemonset
              namespace: kube-system
            spec:
              selector:
                matchLabels:
                  name: nvidia-device-plugin-ds
              template:
                metadata:
                  labels:
                    name: nvidia-device-plugin-ds
                spec:
                  nodeSelector:
                    nvidia.com/gpu.present: "true"
                  tolerations:
                  - key: nvidia.com/gpu
                    operator: Exists
                    effect: NoSchedule
                  priorityClassName: system-node-critical
                  containers:
                  - name: nvidia-device-plugin-ctr
                    image: nvcr.io/nvidia/k8s-device-plugin:v0.17.4
            """;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Kubectl.available(), "the real kubectl is needed at /usr/bin/kubectl");
        server = K3sServer.start(K3sServerOptions.defaults().etcRoot(root).bindAddress("127.0.0.1")
                .httpsListenPort(0).disableAgent(true).heartbeat(Duration.ofSeconds(1))
                .logTo(new PrintStream(LOGS, true, StandardCharsets.UTF_8)));
        kubectl = new Kubectl(server.kubeconfig(), root.resolve("kube-cache"), root);
        SSLContext ctx = SSLContext.getInstance("TLS");
        X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(server.caCertificate()));
        ctx.init(null, K3sPki.trust(ca).getTrustManagers(), null);
        http = HttpClient.newBuilder().sslContext(ctx).build();
        auth = "Basic " + Base64.getEncoder().encodeToString(("node:" + K3sToken.parse(server.token()).password())
                .getBytes(StandardCharsets.UTF_8));
        for (String n : List.of("gpu1", "gpu2", "cpu1")) {
            register(n, n.startsWith("gpu"));
        }
        kubelets = Executors.newSingleThreadScheduledExecutor();
        kubelets.scheduleWithFixedDelay(K3sDaemonSetIT::kubeletPass, 200, 300, TimeUnit.MILLISECONDS);
        kubelets.scheduleWithFixedDelay(() -> NODES.forEach(K3sDaemonSetIT::heartbeat), 5, 5, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() {
        if (kubelets != null) {
            kubelets.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
    }

    // ---- the agents' side

    static void register(String name, boolean gpu) throws Exception {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String node = """
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s",
                "kubernetes.io/os":"linux"%s}},"status":{"allocatable":{"cpu":"4","memory":"3963Mi","pods":"110"},
                "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady",
                "message":"kubelet is posting ready status","lastHeartbeatTime":"%s","lastTransitionTime":"%s"}]}}"""
                .formatted(name, name, gpu ? ",\"nvidia.com/gpu.present\":\"true\"" : "", now, now);
        assertThat(send("POST", "/api/v1/nodes", node, "application/json").statusCode()).isEqualTo(201);
    }

    static void heartbeat(String name) {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        try {
            send("PATCH", "/api/v1/nodes/" + name + "/status", """
                    {"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady",
                    "message":"kubelet is posting ready status","lastHeartbeatTime":"%s",
                    "lastTransitionTime":"%s"}]}}""".formatted(now, now), "application/merge-patch+json");
        } catch (Exception e) {
            // the next beat
        }
    }

    /** What each node's kubelet does with its pods: run them (Ready at once), confirm their deletion. */
    static void kubeletPass() {
        try {
            for (String node : NODES) {
                String q = URLEncoder.encode("spec.nodeName=" + node, StandardCharsets.UTF_8);
                JsonNode pods = Json.parse(send("GET", "/api/v1/pods?fieldSelector=" + q, null, null).body());
                for (JsonNode pod : pods.path("items")) {
                    String path = "/api/v1/namespaces/" + Json.text(pod, "metadata.namespace") + "/pods/"
                            + Json.text(pod, "metadata.name");
                    if (pod.path("metadata").has("deletionTimestamp")) {
                        send("DELETE", path, "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
                                + "\"gracePeriodSeconds\":0}", "application/json");
                        CONFIRMED.add(Json.text(pod, "metadata.name"));
                    } else if ("Pending".equals(Json.text(pod, "status.phase"))) {
                        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
                        send("PATCH", path + "/status", """
                                {"status":{"phase":"Running","hostIP":"127.0.0.1","podIP":"127.0.0.1",
                                "podIPs":[{"ip":"127.0.0.1"}],"startTime":"%s","conditions":[
                                {"type":"PodReadyToStartContainers","status":"True","lastTransitionTime":"%s"},
                                {"type":"Initialized","status":"True","lastTransitionTime":"%s"},
                                {"type":"Ready","status":"True","lastTransitionTime":"%s"},
                                {"type":"ContainersReady","status":"True","lastTransitionTime":"%s"},
                                {"type":"PodScheduled","status":"True","lastTransitionTime":"%s"}],
                                "containerStatuses":[{"name":"nvidia-device-plugin-ctr","ready":true,"started":true,
                                "restartCount":0,"image":"x","imageID":"","state":{"running":{"startedAt":"%s"}}}]}}"""
                                .formatted(now, now, now, now, now, now, now), "application/merge-patch+json");
                    }
                }
            }
        } catch (Exception e) {
            // the next pass
        }
    }

    static HttpResponse<String> send(String method, String path, String body, String contentType)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path)).header("Authorization", auth)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    // ---- helpers

    static void await(String what, Supplier<Boolean> condition) {
        Instant deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline)) {
            if (Boolean.TRUE.equals(condition.get())) {
                return;
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(what, e);
            }
        }
        throw new AssertionError("timed out waiting for " + what + "\n" + kubectl.run("get", "pods", "-A", "-o",
                "wide").out() + kubectl.run("get", "events", "-A").out());
    }

    /** The DaemonSet's pods: name, node (or none), revision hash. */
    static List<String[]> pods() {
        Kubectl.Result r = kubectl.run("get", "pods", "-n", "kube-system", "-l", "name=nvidia-device-plugin-ds",
                "-o", "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} "
                        + "{.metadata.labels.controller-revision-hash} {.metadata.deletionTimestamp}{\"\\n\"}{end}");
        assertThat(r.exit()).as(r.err()).isZero();
        return r.out().lines().filter(l -> !l.isBlank()).map(l -> l.split(" ", -1)).toList();
    }

    static List<String> nodesOfLivePods() {
        return pods().stream().filter(p -> p[3].isEmpty()).map(p -> p[1]).sorted().toList();
    }

    static void rolledOut(String expectedDesired) {
        Kubectl.Result r = kubectl.run("rollout", "status", "ds/nvidia-device-plugin-daemonset", "-n", "kube-system",
                "--timeout=60s");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).endsWith("daemon set \"nvidia-device-plugin-daemonset\" successfully rolled out\n");
        Kubectl.Result get = kubectl.run("get", "ds", "-n", "kube-system");
        assertThat(get.exit()).as(get.err()).isZero();
        List<String> lines = get.out().lines().toList();
        assertThat(Kubectl.words(lines.get(0))).containsExactly("NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE",
                "AVAILABLE", "NODE SELECTOR", "AGE");
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1).split("\\s+")).startsWith("nvidia-device-plugin-daemonset", expectedDesired,
                expectedDesired, expectedDesired, expectedDesired, expectedDesired, "nvidia.com/gpu.present=true");
    }

    // ---- the tests

    @Test
    void aDaemonSetRunsOnePodPerMatchingNodeRollsAndGoesWithItsPods() throws Exception {
        Kubectl.Result applied = kubectl.runWithInput(DS, "apply", "-f", "-");
        assertThat(applied.exit()).as(applied.err()).isZero();
        assertThat(applied.out()).contains("daemonset.apps/nvidia-device-plugin-daemonset created");
        rolledOut("2");
        List<String[]> first = pods();
        assertThat(first).extracting(p -> p[1]).containsExactlyInAnyOrder("gpu1", "gpu2");
        assertThat(first).extracting(p -> p[0]).allMatch(n -> n.matches("nvidia-device-plugin-daemonset-[a-z0-9]{5}"));
        String hash1 = first.get(0)[2];
        assertThat(hash1).isNotEmpty();

        // what the API defaulted and the controller wrote
        JsonNode ds = Json.parse(kubectl.run("get", "ds", "nvidia-device-plugin-daemonset", "-n", "kube-system",
                "-o", "json").out());
        assertThat(Json.text(ds, "spec.updateStrategy.type")).isEqualTo("RollingUpdate");
        assertThat(ds.path("spec").path("revisionHistoryLimit").asInt()).isEqualTo(10);
        assertThat(ds.path("metadata").path("generation").asInt()).isEqualTo(1);
        assertThat(ds.path("status").path("observedGeneration").asInt()).isEqualTo(1);
        JsonNode pod = Json.parse(kubectl.run("get", "pod", first.get(0)[0], "-n", "kube-system", "-o", "json").out());
        assertThat(pod.path("metadata").path("ownerReferences").get(0).path("kind").asString()).isEqualTo("DaemonSet");
        assertThat(pod.path("metadata").path("labels").path("pod-template-generation").asString()).isEqualTo("1");
        assertThat(pod.path("spec").path("priority").asLong()).isEqualTo(2000001000L);
        assertThat(Json.write(pod.path("spec").path("affinity"))).contains("\"matchFields\":[{\"key\":\"metadata.name\","
                + "\"operator\":\"In\",\"values\":[\"" + first.get(0)[1] + "\"]}]");
        Kubectl.Result events = kubectl.run("get", "events", "-n", "kube-system", "--field-selector",
                "involvedObject.kind=DaemonSet", "-o", "jsonpath={range .items[*]}{.reason}: {.message} "
                        + "({.source.component}){\"\\n\"}{end}");
        assertThat(events.out()).contains("SuccessfulCreate: Created pod: " + first.get(0)[0]
                + " (daemonset-controller)");

        // a node gains the label: it gains a pod; loses it: loses the pod
        assertThat(kubectl.run("label", "node", "cpu1", "nvidia.com/gpu.present=true").exit()).isZero();
        await("a pod on cpu1", () -> nodesOfLivePods().equals(List.of("cpu1", "gpu1", "gpu2")));
        rolledOut("3");
        assertThat(kubectl.run("label", "node", "cpu1", "nvidia.com/gpu.present-").exit()).isZero();
        await("cpu1's pod gone", () -> pods().stream().noneMatch(p -> p[1].equals("cpu1")));
        rolledOut("2");

        // a deleted pod is replaced
        String victim = pods().get(0)[0];
        assertThat(kubectl.run("delete", "pod", victim, "-n", "kube-system", "--wait=false").exit()).isZero();
        await("a replacement", () -> pods().stream().noneMatch(p -> p[0].equals(victim))
                && nodesOfLivePods().equals(List.of("gpu1", "gpu2")));
        rolledOut("2");

        // a pod whose containers failed is deleted and replaced
        String failed = pods().get(0)[0];
        HttpResponse<String> r = send("PATCH", "/api/v1/namespaces/kube-system/pods/" + failed + "/status",
                "{\"status\":{\"phase\":\"Failed\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}",
                "application/merge-patch+json");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        await("the failed pod replaced", () -> pods().stream().noneMatch(p -> p[0].equals(failed))
                && nodesOfLivePods().equals(List.of("gpu1", "gpu2")));
        assertThat(kubectl.run("get", "events", "-n", "kube-system", "--field-selector", "reason=FailedDaemonPod",
                "-o", "jsonpath={.items[*].message}").out()).startsWith("Found failed daemon pod kube-system/" + failed
                + " on node gpu");
        rolledOut("2");

        // a template change rolls: every pod replaced by one of the new revision
        Kubectl.Result set = kubectl.run("set", "image", "ds/nvidia-device-plugin-daemonset", "-n", "kube-system",
                "nvidia-device-plugin-ctr=nvcr.io/nvidia/k8s-device-plugin:v0.17.5");
        assertThat(set.exit()).as(set.err()).isZero();
        rolledOut("2");
        List<String[]> rolled = pods();
        assertThat(rolled).extracting(p -> p[1]).containsExactlyInAnyOrder("gpu1", "gpu2");
        assertThat(rolled).extracting(p -> p[2]).doesNotContain(hash1).hasSize(2).containsOnly(rolled.get(0)[2]);
        ds = Json.parse(kubectl.run("get", "ds", "nvidia-device-plugin-daemonset", "-n", "kube-system", "-o", "json")
                .out());
        assertThat(ds.path("metadata").path("generation").asInt()).isEqualTo(2);
        assertThat(ds.path("metadata").path("annotations").path("deprecated.daemonset.template.generation")
                .asString()).isEqualTo("2");
        Kubectl.Result revisions = kubectl.run("get", "controllerrevisions", "-n", "kube-system");
        assertThat(Kubectl.words(revisions.out().lines().findFirst().orElseThrow()))
                .containsExactly("NAME", "CONTROLLER", "REVISION", "AGE");
        assertThat(revisions.out().lines().skip(1).map(l -> l.split("\\s+")[1] + " " + l.split("\\s+")[2]))
                .containsExactlyInAnyOrder("daemonset.apps/nvidia-device-plugin-daemonset 1",
                        "daemonset.apps/nvidia-device-plugin-daemonset 2");
        assertThat(revisions.out()).contains("nvidia-device-plugin-daemonset-" + rolled.get(0)[2]);
        events = kubectl.run("get", "events", "-n", "kube-system", "--field-selector",
                "involvedObject.kind=DaemonSet", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}");
        for (String[] old : first) {
            if (!old[0].equals(victim) && !old[0].equals(failed)) {
                assertThat(events.out()).contains("SuccessfulDelete: Deleted pod: " + old[0]);
            }
        }

        // deleting the DaemonSet deletes its pods and revisions
        Kubectl.Result deleted = kubectl.run("delete", "ds", "nvidia-device-plugin-daemonset", "-n", "kube-system");
        assertThat(deleted.exit()).as(deleted.err()).isZero();
        await("no pods left", () -> pods().isEmpty());
        await("no revisions left", () -> kubectl.run("get", "controllerrevisions", "-n", "kube-system", "-o", "name")
                .out().isBlank());
    }

    @Test
    void theTenRuntimeClassesOfRuntimesYaml() {
        Kubectl.Result r = kubectl.run("get", "runtimeclass");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out().lines().skip(1).map(l -> l.split("\\s+")[0] + "=" + l.split("\\s+")[1]))
                .containsExactlyInAnyOrder("nvidia=nvidia", "nvidia-experimental=nvidia-experimental", "crun=crun",
                        "lunatic=lunatic", "slight=slight", "spin=spin", "wws=wws", "wasmedge=wasmedge",
                        "wasmer=wasmer", "wasmtime=wasmtime");
        assertThat(kubectl.run("get", "runtimeclass", "nvidia", "-o", "jsonpath={.handler}").out())
                .isEqualTo("nvidia");
        assertThat(kubectl.run("get", "priorityclass", "system-node-critical", "-o", "jsonpath={.value}").out())
                .isEqualTo("2000001000");
    }

    @Test
    void aGpuPodWaitsForAllocatableGpusAndIsScheduledWhenTheNodeAdvertisesThem() throws Exception {
        String pod = """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: gpu-wait
                spec:
                  restartPolicy: Never
                  nodeSelector:
                    kubernetes.io/hostname: gpu2
                  containers:
                  - name: c
                    image: nvcr.io/nvidia/k8s-device-plugin:v0.17.4
                    resources:
                      limits:
                        nvidia.com/gpu: 1
                """;
        Kubectl.Result applied = kubectl.runWithInput(pod, "apply", "-f", "-");
        assertThat(applied.exit()).as(applied.err()).isZero();
        String message = "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn't match Pod's node "
                + "affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming "
                + "pod, 2 Preemption is not helpful for scheduling.";
        await("FailedScheduling", () -> kubectl.run("get", "events", "--field-selector",
                "involvedObject.name=gpu-wait,reason=FailedScheduling", "-o", "jsonpath={.items[*].message}").out()
                .contains(message));
        assertThat(kubectl.run("get", "pod", "gpu-wait", "-o", "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")]"
                + ".reason} {.spec.containers[0].resources.requests.nvidia\\.com/gpu}").out())
                .isEqualTo("Unschedulable 1");
        // the device plugin registered with gpu2's kubelet: the Node advertises the GPU, the pod is bound
        HttpResponse<String> r = send("PATCH", "/api/v1/nodes/gpu2/status", "{\"status\":{\"capacity\":"
                + "{\"nvidia.com/gpu\":\"1\"},\"allocatable\":{\"nvidia.com/gpu\":\"1\"}}}",
                "application/merge-patch+json");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        await("bound to gpu2", () -> "gpu2".equals(kubectl.run("get", "pod", "gpu-wait", "-o",
                "jsonpath={.spec.nodeName}").out()));
        assertThat(kubectl.run("delete", "pod", "gpu-wait", "--wait=false").exit()).isZero();
    }

    @Test
    void aPodTheAdmissionRefusesIsAFailedCreateUntilTheTemplateIsFixed() {
        String ds = DS.replace("nvidia-device-plugin-daemonset", "rc-check").replace("nvidia-device-plugin-ds",
                "rc-check").replace("      priorityClassName:", "      runtimeClassName: nvidia-cdi\n      priorityClassName:");
        Kubectl.Result applied = kubectl.runWithInput(ds, "apply", "-f", "-");
        assertThat(applied.exit()).as(applied.err()).isZero();
        await("FailedCreate", () -> kubectl.run("get", "events", "-n", "kube-system", "--field-selector",
                "involvedObject.name=rc-check,reason=FailedCreate", "-o", "jsonpath={.items[*].message}").out()
                .equals("Error creating: pods \"rc-check-\" is forbidden: pod rejected: RuntimeClass \"nvidia-cdi\" "
                        + "not found"));
        assertThat(kubectl.run("get", "pods", "-n", "kube-system", "-l", "name=rc-check", "-o", "name").out())
                .isBlank();
        // runtimes.yaml's nvidia exists: the fixed template's pods are created and roll out
        applied = kubectl.runWithInput(ds.replace("runtimeClassName: nvidia-cdi", "runtimeClassName: nvidia"),
                "apply", "-f", "-");
        assertThat(applied.exit()).as(applied.err()).isZero();
        Kubectl.Result r = kubectl.run("rollout", "status", "ds/rc-check", "-n", "kube-system", "--timeout=60s");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(kubectl.run("get", "pods", "-n", "kube-system", "-l", "name=rc-check", "-o",
                "jsonpath={.items[*].spec.runtimeClassName}").out()).isEqualTo("nvidia nvidia");
        assertThat(kubectl.run("delete", "ds", "rc-check", "-n", "kube-system").exit()).isZero();
        await("rc-check's pods gone", () -> kubectl.run("get", "pods", "-n", "kube-system", "-l", "name=rc-check",
                "-o", "name").out().isBlank());
    }
}
