package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.databind.JsonNode;

/**
 * Deployments and ReplicaSets on the simulated K3s server (in-process, --disable-agent) with two agent-like nodes
 * whose fake kubelets report a pod Running and Ready about a second after it is bound and confirm deletions, driven
 * by the real kubectl as a K3s user does every day: create deployment, rollout status, get deploy,rs (the columns),
 * scale through the scale subresource, set image (a rolling update that never exceeds replicas + maxSurge pods nor
 * drops below replicas − maxUnavailable Ready ones), rollout history and undo (revisions), a Recreate rollout, wait
 * for conditions, jsonpath and deletion, get -w, and the Deployment's deletion taking its ReplicaSets and pods; and
 * auth can-i / whoami for the admin kubeconfig; kubectl top from what the nodes' kubelets serve at /metrics/resource.
 */
class K3sDeploymentIT {
    @TempDir
    static Path root;
    static K3sServer server;
    static Kubectl kubectl;
    static HttpClient http;
    static String auth;
    static ScheduledExecutorService kubelets;
    static final List<String> NODES = List.of("node1", "node2");
    static final ByteArrayOutputStream LOGS = new ByteArrayOutputStream();
    static final List<HttpsServer> KUBELETS = new ArrayList<>();
    static final long BOOT = System.currentTimeMillis();

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Kubectl.available(), "the real kubectl is needed at /usr/bin/kubectl");
        server = K3sServer.start(K3sServerOptions.defaults().etcRoot(root).bindAddress("127.0.0.1")
                .httpsListenPort(0).disableAgent(true).heartbeat(Duration.ofSeconds(1))
                .metricResolution(Duration.ofSeconds(1)).logTo(new PrintStream(LOGS, true, StandardCharsets.UTF_8)));
        kubectl = new Kubectl(server.kubeconfig(), root.resolve("kube-cache"), root);
        SSLContext ctx = SSLContext.getInstance("TLS");
        X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(server.caCertificate()));
        ctx.init(null, K3sPki.trust(ca).getTrustManagers(), null);
        http = HttpClient.newBuilder().sslContext(ctx).build();
        auth = "Basic " + Base64.getEncoder().encodeToString(("node:" + K3sToken.parse(server.token()).password())
                .getBytes(StandardCharsets.UTF_8));
        K3sPki kubeletPki = K3sPki.loadOrCreate(root.resolve("fake-kubelet"), Set.of("localhost"), Set.of(),
                Clock.systemUTC());
        for (String n : NODES) {
            HttpsServer kubelet = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(kubeletPki.servingKeyManager().getKeyManagers(), null, null);
            kubelet.setHttpsConfigurator(new HttpsConfigurator(tls));
            kubelet.createContext("/metrics/resource", ex -> {
                byte[] body = resourceMetrics(n).getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            });
            kubelet.start();
            KUBELETS.add(kubelet);
            register(n, kubelet.getAddress().getPort());
        }
        kubelets = Executors.newSingleThreadScheduledExecutor();
        kubelets.scheduleWithFixedDelay(K3sDeploymentIT::kubeletPass, 200, 250, TimeUnit.MILLISECONDS);
        kubelets.scheduleWithFixedDelay(() -> NODES.forEach(K3sDeploymentIT::heartbeat), 5, 5, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() {
        if (kubelets != null) {
            kubelets.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
        KUBELETS.forEach(k -> k.stop(0));
    }

    // ---- the agents' side

    static void register(String name, int kubeletPort) throws Exception {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String node = """
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s",
                "kubernetes.io/os":"linux"}},"status":{"allocatable":{"cpu":"4","memory":"4Gi","pods":"110"},
                "addresses":[{"type":"InternalIP","address":"127.0.0.1"},{"type":"Hostname","address":"%s"}],
                "daemonEndpoints":{"kubeletEndpoint":{"Port":%d}},
                "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady",
                "message":"kubelet is posting ready status","lastHeartbeatTime":"%s","lastTransitionTime":"%s"}]}}"""
                .formatted(name, name, name, kubeletPort, now, now);
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

    /** Each node's kubelet: a bound pod runs and is Ready once it is a second old; a deletion is confirmed. */
    static void kubeletPass() {
        try {
            for (String node : NODES) {
                String q = URLEncoder.encode("spec.nodeName=" + node, StandardCharsets.UTF_8);
                JsonNode pods = Json.parse(send("GET", "/api/v1/pods?fieldSelector=" + q, null, null).body());
                for (JsonNode pod : pods.path("items")) {
                    String path = "/api/v1/namespaces/" + Json.text(pod, "metadata.namespace") + "/pods/"
                            + Json.text(pod, "metadata.name");
                    Instant created = Instant.parse(Json.text(pod, "metadata.creationTimestamp"));
                    if (pod.path("metadata").has("deletionTimestamp")) {
                        send("DELETE", path, "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
                                + "\"gracePeriodSeconds\":0}", "application/json");
                    } else if ("Pending".equals(Json.text(pod, "status.phase"))
                            && created.plusSeconds(1).isBefore(Instant.now())) {
                        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
                        StringBuilder containers = new StringBuilder();
                        for (JsonNode c : pod.path("spec").path("containers")) {
                            containers.append(containers.isEmpty() ? "" : ",").append("""
                                    {"name":"%s","ready":true,"started":true,"restartCount":0,"image":"%s",
                                    "imageID":"","state":{"running":{"startedAt":"%s"}}}""".formatted(
                                    Json.text(c, "name"), Json.text(c, "image"), now));
                        }
                        send("PATCH", path + "/status", """
                                {"status":{"phase":"Running","hostIP":"127.0.0.1","podIP":"127.0.0.1",
                                "podIPs":[{"ip":"127.0.0.1"}],"startTime":"%s","conditions":[
                                {"type":"PodReadyToStartContainers","status":"True","lastTransitionTime":"%s"},
                                {"type":"Initialized","status":"True","lastTransitionTime":"%s"},
                                {"type":"Ready","status":"True","lastTransitionTime":"%s"},
                                {"type":"ContainersReady","status":"True","lastTransitionTime":"%s"},
                                {"type":"PodScheduled","status":"True","lastTransitionTime":"%s"}],
                                "containerStatuses":[%s]}}"""
                                .formatted(now, now, now, now, now, now, containers), "application/merge-patch+json");
                    }
                }
            }
        } catch (Exception e) {
            // the next pass
        }
    }

    /**
     * The kubelet's /metrics/resource: the node uses a quarter core and 1 GiB, each running container 10 millicores
     * and 10 MiB, as cumulative CPU seconds and working sets stamped with the scrape's time.
     */
    static String resourceMetrics(String node) {
        long ms = System.currentTimeMillis();
        double seconds = (ms - BOOT) / 1000.0; // small counters: a rate exact to the nanocore
        StringBuilder b = new StringBuilder();
        b.append("# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in "
                + "core-seconds\n# TYPE container_cpu_usage_seconds_total counter\n");
        StringBuilder memory = new StringBuilder("# HELP container_memory_working_set_bytes [STABLE] Current working "
                + "set of the container in bytes\n# TYPE container_memory_working_set_bytes gauge\n");
        try {
            String q = URLEncoder.encode("spec.nodeName=" + node, StandardCharsets.UTF_8);
            for (JsonNode pod : Json.parse(send("GET", "/api/v1/pods?fieldSelector=" + q, null, null).body())
                    .path("items")) {
                if (!"Running".equals(Json.text(pod, "status.phase"))) {
                    continue;
                }
                for (JsonNode c : pod.path("spec").path("containers")) {
                    String labels = "{container=\"%s\",namespace=\"%s\",pod=\"%s\"}".formatted(Json.text(c, "name"),
                            Json.text(pod, "metadata.namespace"), Json.text(pod, "metadata.name"));
                    b.append("container_cpu_usage_seconds_total").append(labels).append(' ').append(0.01 * seconds)
                            .append(' ').append(ms).append('\n');
                    memory.append("container_memory_working_set_bytes").append(labels).append(" 1.048576e+07 ")
                            .append(ms).append('\n');
                }
            }
        } catch (Exception e) {
            // no containers this time
        }
        return b.append(memory).append("""
                # HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
                # TYPE node_cpu_usage_seconds_total counter
                node_cpu_usage_seconds_total %s %d
                # HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes
                # TYPE node_memory_working_set_bytes gauge
                node_memory_working_set_bytes 1.073741824e+09 %d
                # HELP scrape_error [ALPHA] 1 if there was an error while getting container metrics, 0 otherwise
                # TYPE scrape_error gauge
                scrape_error 0
                """.formatted(0.25 * seconds, ms, ms)).toString();
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
        Instant deadline = Instant.now().plusSeconds(40);
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
        throw new AssertionError("timed out waiting for " + what + "\n" + kubectl.run("get", "deploy,rs,pods", "-o",
                "wide").out() + kubectl.run("get", "events").out());
    }

    static Kubectl.Result ok(String... args) {
        Kubectl.Result r = kubectl.run(args);
        assertThat(r.exit()).as(String.join(" ", args) + "\n" + r.out() + r.err()).isZero();
        return r;
    }

    static void rolledOut(String deployment) {
        Kubectl.Result r = ok("rollout", "status", "deploy/" + deployment, "--timeout=60s");
        assertThat(r.out()).endsWith("deployment \"" + deployment + "\" successfully rolled out\n");
    }

    /** The live (not terminating) pods with a label: name, pod-template-hash, first image. */
    static List<String[]> pods(String selector) {
        Kubectl.Result r = ok("get", "pods", "-l", selector, "-o", "jsonpath={range .items[*]}{.metadata.name} "
                + "{.metadata.labels.pod-template-hash} {.spec.containers[0].image} {.metadata.deletionTimestamp}"
                + "{\"\\n\"}{end}");
        return r.out().lines().filter(l -> !l.isBlank()).map(l -> l.split(" ", -1)).filter(p -> p[3].isEmpty())
                .toList();
    }

    /** The real kubectl left running (a watch, a wait); its stderr goes with its stdout. */
    static Process kubectlInBackground(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Kubectl.BINARY.toString(), "--kubeconfig",
                server.kubeconfig().toString(), "--cache-dir", root.resolve("kube-cache").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("HOME", root.toString());
        pb.environment().remove("KUBECONFIG");
        pb.redirectErrorStream(true);
        return pb.start();
    }

    static JsonNode json(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-o", "json"));
        return Json.parse(ok(all.toArray(String[]::new)).out());
    }

    /** The ReplicaSets of a Deployment: name → [spec.replicas, revision, revision-history]. */
    static List<String[]> replicaSets(String selector) {
        Kubectl.Result r = ok("get", "rs", "-l", selector, "-o", "jsonpath={range .items[*]}{.metadata.name} "
                + "{.spec.replicas} {.metadata.annotations.deployment\\.kubernetes\\.io/revision} "
                + "{.metadata.annotations.deployment\\.kubernetes\\.io/revision-history}{\"\\n\"}{end}");
        return r.out().lines().filter(l -> !l.isBlank()).map(l -> l.split(" ", -1)).toList();
    }

    static String events(String deployment) {
        return ok("get", "events", "--field-selector", "involvedObject.kind=Deployment,involvedObject.name="
                + deployment, "--sort-by=.firstTimestamp", "-o", "jsonpath={range .items[*]}{.reason}: {.message} "
                + "({.source.component}){\"\\n\"}{end}").out();
    }

    // ---- the tests

    @Test
    void createRolloutScaleSetImageHistoryUndoAndDelete() throws Exception {
        Kubectl.Result created = ok("create", "deployment", "web", "--image=nginx:1.27", "--replicas=3");
        assertThat(created.out()).isEqualTo("deployment.apps/web created\n");
        rolledOut("web");

        // what the API defaulted, the controller wrote, and get shows
        JsonNode d = json("get", "deploy", "web");
        assertThat(Json.text(d, "spec.strategy.type")).isEqualTo("RollingUpdate");
        assertThat(Json.text(d, "spec.strategy.rollingUpdate.maxSurge")).isEqualTo("25%");
        assertThat(d.path("spec").path("progressDeadlineSeconds").asInt()).isEqualTo(600);
        assertThat(d.path("metadata").path("annotations").path("deployment.kubernetes.io/revision").asString())
                .isEqualTo("1");
        JsonNode status = d.path("status");
        assertThat(status.path("replicas").asInt()).isEqualTo(3);
        assertThat(status.path("updatedReplicas").asInt()).isEqualTo(3);
        assertThat(status.path("readyReplicas").asInt()).isEqualTo(3);
        assertThat(status.path("availableReplicas").asInt()).isEqualTo(3);
        assertThat(status.has("unavailableReplicas")).isFalse();
        assertThat(status.path("observedGeneration").asInt()).isEqualTo(1);
        List<String> conditions = new ArrayList<>();
        status.path("conditions").forEach(c -> conditions.add(Json.text(c, "type") + "=" + Json.text(c, "status")
                + " " + Json.text(c, "reason") + ": " + Json.text(c, "message")));
        List<String[]> rss = replicaSets("app=web");
        assertThat(rss).hasSize(1);
        String rs1 = rss.get(0)[0];
        assertThat(rs1).matches("web-[bcdfghjklmnpqrstvwxz2456789]+");
        assertThat(conditions).containsExactly(
                "Available=True MinimumReplicasAvailable: Deployment has minimum availability.",
                "Progressing=True NewReplicaSetAvailable: ReplicaSet \"" + rs1 + "\" has successfully progressed.");
        assertThat(rss.get(0)).containsExactly(rs1, "3", "1", "");
        List<String[]> pods = pods("app=web");
        assertThat(pods).hasSize(3).allMatch(p -> p[0].matches(rs1 + "-[a-z0-9]{5}") && rs1.endsWith("-" + p[1]));
        JsonNode rs = json("get", "rs", rs1);
        assertThat(rs.path("metadata").path("ownerReferences").get(0).path("kind").asString())
                .isEqualTo("Deployment");
        assertThat(rs.path("metadata").path("annotations").path("deployment.kubernetes.io/desired-replicas")
                .asString()).isEqualTo("3");
        assertThat(rs.path("metadata").path("annotations").path("deployment.kubernetes.io/max-replicas").asString())
                .isEqualTo("4");
        assertThat(Json.write(rs.path("spec").path("selector"))).contains("\"pod-template-hash\":\"" + pods.get(0)[1]);

        List<String> table = ok("get", "deploy,rs", "-l", "app=web").out().lines().filter(l -> !l.isBlank())
                .toList();
        assertThat(Kubectl.words(table.get(0))).containsExactly("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE");
        assertThat(table.get(1).split("\\s+")).startsWith("deployment.apps/web", "3/3", "3", "3");
        assertThat(Kubectl.words(table.get(2))).containsExactly("NAME", "DESIRED", "CURRENT", "READY", "AGE");
        assertThat(table.get(3).split("\\s+")).startsWith("replicaset.apps/" + rs1, "3", "3", "3");
        List<String> wide = ok("get", "deploy", "web", "-o", "wide").out().lines().toList();
        assertThat(Kubectl.words(wide.get(0))).containsExactly("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE",
                "CONTAINERS", "IMAGES", "SELECTOR");
        assertThat(wide.get(1).split("\\s+")).endsWith("nginx", "nginx:1.27", "app=web");

        // scale through deployments/scale, both ways
        assertThat(ok("scale", "deploy/web", "--replicas=5").out()).isEqualTo("deployment.apps/web scaled\n");
        rolledOut("web");
        assertThat(pods("app=web")).hasSize(5);
        JsonNode scale = Json.parse(send("GET", "/apis/apps/v1/namespaces/default/deployments/web/scale", null, null)
                .body());
        assertThat(Json.text(scale, "kind")).isEqualTo("Scale");
        assertThat(Json.text(scale, "apiVersion")).isEqualTo("autoscaling/v1");
        assertThat(scale.path("spec").path("replicas").asInt()).isEqualTo(5);
        assertThat(Json.text(scale, "status.selector")).isEqualTo("app=web");
        ok("scale", "deploy/web", "--replicas=4");
        await("4 pods", () -> pods("app=web").size() == 4);
        rolledOut("web");
        assertThat(events("web")).contains(
                "ScalingReplicaSet: Scaled up replica set " + rs1 + " from 0 to 3 (deployment-controller)",
                "ScalingReplicaSet: Scaled up replica set " + rs1 + " from 3 to 5 (deployment-controller)",
                "ScalingReplicaSet: Scaled down replica set " + rs1 + " from 5 to 4 (deployment-controller)");

        // a rolling update: 4 replicas, maxSurge 1, maxUnavailable 1 — never more than 5 pods, never fewer than 3 Ready
        AtomicInteger most = new AtomicInteger();
        AtomicInteger fewestReady = new AtomicInteger(Integer.MAX_VALUE);
        ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor();
        watch.scheduleWithFixedDelay(() -> {
            try {
                JsonNode all = Json.parse(send("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb",
                        null, null).body());
                int live = 0;
                int ready = 0;
                for (JsonNode p : all.path("items")) {
                    if (!p.path("metadata").has("deletionTimestamp")) {
                        live++;
                        for (JsonNode c : p.path("status").path("conditions")) {
                            if ("Ready".equals(Json.text(c, "type")) && "True".equals(Json.text(c, "status"))) {
                                ready++;
                            }
                        }
                    }
                }
                most.accumulateAndGet(live, Math::max);
                fewestReady.accumulateAndGet(ready, Math::min);
            } catch (Exception e) {
                // the next sample
            }
        }, 0, 50, TimeUnit.MILLISECONDS);
        try {
            Kubectl.Result set = ok("set", "image", "deploy/web", "nginx=nginx:1.28");
            assertThat(set.out()).isEqualTo("deployment.apps/web image updated\n");
            rolledOut("web");
        } finally {
            watch.shutdownNow();
        }
        assertThat(most.get()).isBetween(4, 5);
        assertThat(fewestReady.get()).isGreaterThanOrEqualTo(3);
        List<String[]> after = replicaSets("app=web");
        assertThat(after).hasSize(2);
        String rs2 = after.stream().map(r -> r[0]).filter(n -> !n.equals(rs1)).findFirst().orElseThrow();
        assertThat(after).anySatisfy(r -> assertThat(r).containsExactly(rs1, "0", "1", ""))
                .anySatisfy(r -> assertThat(r).containsExactly(rs2, "4", "2", ""));
        assertThat(pods("app=web")).hasSize(4).allMatch(p -> p[2].equals("nginx:1.28") && rs2.endsWith("-" + p[1]));
        assertThat(json("get", "deploy", "web").path("metadata").path("annotations")
                .path("deployment.kubernetes.io/revision").asString()).isEqualTo("2");
        assertThat(events("web")).contains("Scaled up replica set " + rs2 + " from 0 to 1",
                "Scaled down replica set " + rs1 + " from 4 to 3");

        // history and undo: the first ReplicaSet comes back as revision 3
        Kubectl.Result history = ok("rollout", "history", "deploy/web");
        assertThat(history.out()).startsWith("deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n"
                + "2         <none>\n");
        assertThat(ok("rollout", "history", "deploy/web", "--revision=1").out()).contains("nginx:1.27");
        assertThat(ok("rollout", "undo", "deploy/web").out()).isEqualTo("deployment.apps/web rolled back\n");
        rolledOut("web");
        assertThat(replicaSets("app=web")).anySatisfy(r -> assertThat(r).containsExactly(rs1, "4", "3", "1"))
                .anySatisfy(r -> assertThat(r).containsExactly(rs2, "0", "2", ""));
        assertThat(pods("app=web")).hasSize(4).allMatch(p -> p[2].equals("nginx:1.27"));
        assertThat(ok("rollout", "history", "deploy/web").out()).contains("2         <none>\n3         <none>\n")
                .doesNotContain("\n1 ");
        Kubectl.Result describe = ok("describe", "deploy", "web");
        assertThat(describe.out()).contains("StrategyType:           RollingUpdate\n",
                "RollingUpdateStrategy:  25% max unavailable, 25% max surge\n",
                "Replicas:               4 desired | 4 updated | 4 total | 4 available | 0 unavailable\n",
                "NewReplicaSet:   " + rs1 + " (4/4 replicas created)\n",
                "Available      True    MinimumReplicasAvailable");

        // wait: a condition, a jsonpath, a pod's Ready condition, a deletion
        assertThat(ok("wait", "--for=condition=Available", "deploy/web", "--timeout=30s").out())
                .isEqualTo("deployment.apps/web condition met\n");
        assertThat(ok("wait", "--for=jsonpath={.status.readyReplicas}=4", "deploy/web", "--timeout=30s").out())
                .isEqualTo("deployment.apps/web condition met\n");
        String pod = pods("app=web").get(0)[0];
        assertThat(ok("wait", "--for=condition=Ready", "pod/" + pod, "--timeout=30s").out())
                .isEqualTo("pod/" + pod + " condition met\n");
        Kubectl.Result notYet = kubectl.run("wait", "--for=jsonpath={.status.readyReplicas}=7", "deploy/web",
                "--timeout=2s");
        assertThat(notYet.exit()).isEqualTo(1);
        assertThat(notYet.err()).contains("timed out waiting for the condition on deployments/web");

        // the Deployment's deletion takes its ReplicaSets and their pods; a wait started before sees the pod go
        Process waitForDelete = kubectlInBackground("wait", "--for=delete", "pod/" + pod, "--timeout=30s");
        Thread.sleep(1500); // kubectl has read the pod and watches it
        assertThat(ok("delete", "deploy", "web").out()).isEqualTo("deployment.apps \"web\" deleted\n");
        assertThat(waitForDelete.waitFor(40, TimeUnit.SECONDS)).isTrue();
        assertThat(waitForDelete.exitValue()).isZero();
        assertThat(new String(waitForDelete.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isEqualTo("pod/" + pod + " condition met\n");
        await("the ReplicaSets and pods gone", () -> replicaSets("app=web").isEmpty() && pods("app=web").isEmpty());
        Kubectl.Result missing = kubectl.run("get", "deploy", "web");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("Error from server (NotFound): deployments.apps \"web\" not found\n");
    }

    @Test
    void recreateScalesTheOldReplicaSetToZeroBeforeTheNewOne() {
        String yaml = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: batch
                spec:
                  replicas: 2
                  strategy:
                    type: Recreate
                  selector:
                    matchLabels:
                      app: batch
                  template:
                    metadata:
                      labels:
                        app: batch
                    spec:
                      containers:
                      - name: worker
                        image: busybox:1.36
                """;
        Kubectl.Result applied = kubectl.runWithInput(yaml, "apply", "-f", "-");
        assertThat(applied.exit()).as(applied.err()).isZero();
        rolledOut("batch");
        String rs1 = replicaSets("app=batch").get(0)[0];
        JsonNode d = json("get", "deploy", "batch");
        assertThat(d.path("spec").path("strategy").has("rollingUpdate")).isFalse();
        ok("set", "image", "deploy/batch", "worker=busybox:1.37");
        rolledOut("batch");
        String rs2 = replicaSets("app=batch").stream().map(r -> r[0]).filter(n -> !n.equals(rs1)).findFirst()
                .orElseThrow();
        String events = events("batch");
        int down = events.indexOf("Scaled down replica set " + rs1 + " from 2 to 0");
        int up = events.indexOf("Scaled up replica set " + rs2 + " from 0 to 2");
        assertThat(down).as(events).isNotNegative();
        assertThat(up).as(events).isGreaterThan(down);
        assertThat(pods("app=batch")).hasSize(2).allMatch(p -> p[2].equals("busybox:1.37"));

        // pause: a template change waits; resume: it rolls; restart: a new ReplicaSet of the same image
        assertThat(ok("rollout", "pause", "deploy/batch").out()).isEqualTo("deployment.apps/batch paused\n");
        ok("set", "image", "deploy/batch", "worker=busybox:1.38");
        await("the paused condition", () -> ok("get", "deploy", "batch", "-o", "jsonpath={range .status.conditions[?(@.type"
                + "==\"Progressing\")]}{.status} {.reason} {.message}{end}").out()
                .equals("Unknown DeploymentPaused Deployment is paused"));
        assertThat(replicaSets("app=batch")).hasSize(2);
        assertThat(pods("app=batch")).allMatch(p -> p[2].equals("busybox:1.37"));
        assertThat(ok("rollout", "resume", "deploy/batch").out()).isEqualTo("deployment.apps/batch resumed\n");
        rolledOut("batch");
        assertThat(replicaSets("app=batch")).hasSize(3);
        assertThat(pods("app=batch")).hasSize(2).allMatch(p -> p[2].equals("busybox:1.38"));
        assertThat(ok("rollout", "restart", "deploy/batch").out()).isEqualTo("deployment.apps/batch restarted\n");
        rolledOut("batch");
        assertThat(replicaSets("app=batch")).hasSize(4);
        assertThat(json("get", "deploy", "batch").path("spec").path("template").path("metadata").path("annotations")
                .has("kubectl.kubernetes.io/restartedAt")).isTrue();
        ok("delete", "deploy", "batch");
    }

    @Test
    void getWatchAndAWatchFromAListsResourceVersionSeeWhatCameAfter() throws Exception {
        ok("create", "configmap", "watched", "--from-literal=a=1");
        String rv = json("get", "configmap", "watched").path("metadata").path("resourceVersion").asString();
        ok("create", "configmap", "later", "--from-literal=b=2");
        // get -w: the table of what exists, then the changes as they come
        Process watch = kubectlInBackground("get", "configmaps", "-w", "--output-watch-events");
        try {
            StringBuilder seen = new StringBuilder();
            Thread reader = new Thread(() -> {
                try (var in = watch.getInputStream()) {
                    int c;
                    while ((c = in.read()) >= 0) {
                        synchronized (seen) {
                            seen.append((char) c);
                        }
                    }
                } catch (IOException e) {
                    // ended
                }
            });
            reader.start();
            await("the initial list", () -> {
                synchronized (seen) {
                    return seen.toString().contains("later");
                }
            });
            ok("delete", "configmap", "watched");
            await("the deletion", () -> {
                synchronized (seen) {
                    return seen.toString().lines().anyMatch(l -> l.startsWith("DELETED") && l.contains("watched"));
                }
            });
            synchronized (seen) {
                assertThat(seen.toString()).contains("EVENT", "ADDED");
            }
        } finally {
            watch.destroy();
            watch.waitFor(5, TimeUnit.SECONDS);
        }
        // the API: a watch from rv replays what came after it; a bookmark 2 s before its timeout when asked
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.url() + "/api/v1/namespaces/default/configmaps"
                + "?watch=1&resourceVersion=" + rv + "&timeoutSeconds=3&allowWatchBookmarks=true"))
                .header("Authorization", auth).build();
        String body = http.send(req, HttpResponse.BodyHandlers.ofString()).body();
        List<JsonNode> events = body.lines().map(Json::parse).toList();
        assertThat(events).extracting(e -> Json.text(e, "type") + " " + Json.text(e, "object.kind") + " "
                + Json.text(e, "object.metadata.name")).containsExactly("ADDED ConfigMap later",
                "DELETED ConfigMap watched", "BOOKMARK ConfigMap null");
        long bookmarked = Long.parseLong(Json.text(events.get(2), "object.metadata.resourceVersion"));
        assertThat(bookmarked).isGreaterThanOrEqualTo(Long.parseLong(Json.text(events.get(1),
                "object.metadata.resourceVersion")));
        HttpRequest plain = HttpRequest.newBuilder(URI.create(server.url() + "/api/v1/namespaces/default/configmaps"
                + "?watch=1&resourceVersion=" + rv + "&timeoutSeconds=3")).header("Authorization", auth).build();
        assertThat(http.send(plain, HttpResponse.BodyHandlers.ofString()).body()).doesNotContain("BOOKMARK");
        ok("delete", "configmap", "later");
    }

    @Test
    void authCanIAndWhoamiAnswerForTheAdminKubeconfig() {
        assertThat(ok("auth", "can-i", "create", "deployments").out()).isEqualTo("yes\n");
        assertThat(ok("auth", "can-i", "*", "*", "--all-namespaces").out()).isEqualTo("yes\n");
        assertThat(ok("auth", "can-i", "--list").out()).contains("*.*").contains("[*]");
        assertThat(ok("auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}").out())
                .isEqualTo("system:admin [\"system:masters\",\"system:authenticated\"]");
    }

    @Test
    void topShowsWhatTheKubeletsReport() {
        ok("create", "deployment", "metrics", "--image=busybox:1.36");
        rolledOut("metrics");
        String pod = pods("app=metrics").get(0)[0];
        await("node metrics", () -> kubectl.run("top", "nodes").exit() == 0);
        List<String> nodes = ok("top", "nodes").out().lines().toList();
        assertThat(nodes.get(0).split("\\s+")).startsWith("NAME", "CPU(cores)");
        assertThat(nodes).anySatisfy(l -> assertThat(l.split("\\s+")).containsExactly("node1", "250m", "6%",
                "1024Mi", "25%"));
        JsonNode nm = Json.parse(send0("/apis/metrics.k8s.io/v1beta1/nodes/node1"));
        assertThat(Json.text(nm, "kind")).isEqualTo("NodeMetrics");
        assertThat(Json.text(nm, "usage.memory")).isEqualTo("1Gi");
        assertThat(Json.text(nm, "window")).matches("[0-9.]+m?s");
        await("pod metrics", () -> kubectl.run("top", "pod", pod).out().contains(pod));
        assertThat(ok("top", "pod", pod).out().lines().toList().get(1).split("\\s+")).containsExactly(pod, "10m",
                "10Mi");
        assertThat(ok("top", "pod", pod, "--containers").out()).contains("busybox");
        ok("delete", "deploy", "metrics");
    }

    @Test
    void withMetricsServerDisabledThereIsNoMetricsApi() {
        try (K3sServer bare = K3sServer.start(K3sServerOptions.defaults().etcRoot(root.resolve("bare"))
                .bindAddress("127.0.0.1").httpsListenPort(0).disableAgent(true).disable("metrics-server")
                .logTo(new PrintStream(LOGS, true, StandardCharsets.UTF_8)))) {
            Kubectl k = new Kubectl(bare.kubeconfig(), root.resolve("bare-cache"), root);
            Kubectl.Result top = k.run("top", "nodes");
            assertThat(top.exit()).isEqualTo(1);
            assertThat(top.err()).isEqualTo("error: Metrics API not available\n");
            assertThat(k.run("api-versions").out()).doesNotContain("metrics.k8s.io");
        }
        assertThat(ok("api-versions").out()).contains("metrics.k8s.io/v1beta1\n");
    }

    static String send0(String path) {
        try {
            return send("GET", path, null, null).body();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
