package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.databind.JsonNode;

/**
 * Server-side apply on the simulated K3s server (in-process, no agent), driven by the real kubectl as in the
 * "Server-Side Apply" docs: {@code apply --server-side} creates, a re-apply of the same file writes nothing (same
 * resourceVersion), a field left out of the next apply is removed, {@code --dry-run=server} changes nothing, a field
 * another manager owns with another value is a conflict (kubectl's error, exit 1) until {@code --force-conflicts},
 * {@code --show-managed-fields} shows the managers; client-side apply then server-side apply migrates ownership as
 * kubectl does (no conflict).
 */
class K3sServerSideApplyIT {
    @TempDir
    static Path root;
    static K3sServer server;
    static Kubectl kubectl;
    static final ByteArrayOutputStream LOGS = new ByteArrayOutputStream();

    @BeforeAll
    static void start() {
        assumeTrue(Kubectl.available(), "the real kubectl is needed at /usr/bin/kubectl");
        server = K3sServer.start(K3sServerOptions.defaults().etcRoot(root).bindAddress("127.0.0.1")
                .httpsListenPort(0).disableAgent(true).heartbeat(Duration.ofSeconds(1))
                .logTo(new PrintStream(LOGS, true, StandardCharsets.UTF_8)));
        kubectl = new Kubectl(server.kubeconfig(), root.resolve("kube-cache"), root);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static Kubectl.Result ok(String stdin, String... args) {
        Kubectl.Result r = kubectl.runWithInput(stdin, args);
        assertThat(r.exit()).as("kubectl %s: %s", String.join(" ", args), r.err()).isZero();
        return r;
    }

    static JsonNode json(String... args) {
        return Json.parse(ok(null, args).out());
    }

    static String configMap(String data) {
        return """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: settings
                  labels:
                    app: demo
                data:
                %s""".formatted(data.indent(2));
    }

    static String deployment(String name, int replicas) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: %s
                spec:
                  replicas: %d
                  selector:
                    matchLabels: {app: web}
                  template:
                    metadata:
                      labels: {app: web}
                    spec:
                      containers:
                      - name: nginx
                        image: nginx:1.27
                        ports:
                        - containerPort: 80
                """.formatted(name, replicas);
    }

    /** The managedFields entry of a manager (entries of the same second sort by manager name). */
    static JsonNode entry(JsonNode object, String manager) {
        for (JsonNode e : object.path("metadata").path("managedFields")) {
            if (e.path("manager").asString().equals(manager)) {
                return e;
            }
        }
        throw new AssertionError("no managedFields entry of " + manager + " in " + object.path("metadata"));
    }

    @Test
    void applyCreatesReApplyWritesNothingAndALeftOutFieldGoes() {
        Kubectl.Result created = ok(configMap("a: \"1\"\nb: \"2\""), "apply", "--server-side", "-f", "-");
        assertThat(created.out().strip()).isEqualTo("configmap/settings serverside-applied");
        JsonNode cm = json("get", "configmap", "settings", "-o", "json", "--show-managed-fields");
        JsonNode entry = cm.path("metadata").path("managedFields").get(0);
        assertThat(cm.path("metadata").path("managedFields")).hasSize(1);
        assertThat(entry.path("manager").asString()).isEqualTo("kubectl");
        assertThat(entry.path("operation").asString()).isEqualTo("Apply");
        assertThat(entry.path("apiVersion").asString()).isEqualTo("v1");
        assertThat(entry.path("fieldsType").asString()).isEqualTo("FieldsV1");
        assertThat(Json.write(entry.path("fieldsV1"))).isEqualTo("{\"f:data\":{\"f:a\":{},\"f:b\":{}},"
                + "\"f:metadata\":{\"f:labels\":{\"f:app\":{}}}}");
        assertThat(entry.path("time").asString()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
        String rv = cm.path("metadata").path("resourceVersion").asString();

        ok(configMap("a: \"1\"\nb: \"2\""), "apply", "--server-side", "-f", "-");
        JsonNode again = json("get", "configmap", "settings", "-o", "json", "--show-managed-fields");
        assertThat(again.path("metadata").path("resourceVersion").asString()).isEqualTo(rv);
        assertThat(again.path("metadata").path("managedFields")).isEqualTo(cm.path("metadata").path("managedFields"));

        Kubectl.Result dry = ok(configMap("a: \"9\""), "apply", "--server-side", "--dry-run=server", "-f", "-");
        assertThat(dry.out().strip()).isEqualTo("configmap/settings serverside-applied (server dry run)");
        assertThat(json("get", "configmap", "settings", "-o", "json").path("data").toString())
                .isEqualTo("{\"a\":\"1\",\"b\":\"2\"}");

        ok(configMap("a: \"1\""), "apply", "--server-side", "-f", "-");
        JsonNode pruned = json("get", "configmap", "settings", "-o", "json");
        assertThat(pruned.path("data").toString()).isEqualTo("{\"a\":\"1\"}");
        assertThat(pruned.path("metadata").has("managedFields")).as("hidden without --show-managed-fields").isFalse();

        String yaml = ok(null, "get", "configmap", "settings", "-o", "yaml", "--show-managed-fields").out();
        assertThat(yaml).contains("  managedFields:\n  - apiVersion: v1\n    fieldsType: FieldsV1\n    fieldsV1:\n"
                + "      f:data:\n        f:a: {}\n      f:metadata:\n        f:labels:\n          f:app: {}\n"
                + "    manager: kubectl\n    operation: Apply\n    time: ");
    }

    @Test
    void aFieldAnotherManagerSetIsAConflictUntilForced() {
        ok(deployment("web", 2), "create", "-f", "-");
        JsonNode created = json("get", "deploy", "web", "-o", "json", "--show-managed-fields");
        assertThat(entry(created, "kubectl-create").path("operation").asString()).isEqualTo("Update");
        assertThat(entry(created, "kubectl-create").path("fieldsV1").path("f:spec").has("f:replicas")).isTrue();

        Kubectl.Result refused = kubectl.runWithInput(deployment("web", 3), "apply", "--server-side",
                "-f", "-");
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("Apply failed with 1 conflict: conflict with \"kubectl-create\" using "
                + "apps/v1: .spec.replicas");
        assertThat(refused.err()).contains("--force-conflicts");
        assertThat(json("get", "deploy", "web", "-o", "json").path("spec").path("replicas").asInt()).isEqualTo(2);

        ok(deployment("web", 3), "apply", "--server-side", "--force-conflicts", "-f", "-");
        JsonNode forced = json("get", "deploy", "web", "-o", "json", "--show-managed-fields");
        assertThat(forced.path("spec").path("replicas").asInt()).isEqualTo(3);
        JsonNode applied = entry(forced, "kubectl");
        JsonNode create = entry(forced, "kubectl-create");
        assertThat(applied.path("operation").asString()).isEqualTo("Apply");
        assertThat(applied.path("fieldsV1").path("f:spec").has("f:replicas")).isTrue();
        assertThat(applied.path("fieldsV1").path("f:spec").path("f:template").path("f:spec").path("f:containers")
                .path("k:{\"name\":\"nginx\"}").path("f:ports").has("k:{\"containerPort\":80,\"protocol\":\"TCP\"}"))
                .isTrue();
        assertThat(create.path("fieldsV1").path("f:spec").has("f:replicas")).as("taken over").isFalse();

        // another applier with another value meets the Apply owner: no "using" for appliers
        Kubectl.Result other = kubectl.runWithInput(deployment("web", 5), "apply", "--server-side",
                "--field-manager=ci", "-f", "-");
        assertThat(other.exit()).isEqualTo(1);
        assertThat(other.err()).contains("Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas");
    }

    @Test
    void clientSideThenServerSideApplyMigratesOwnershipWithoutConflict() {
        ok(deployment("api", 1), "apply", "-f", "-");
        JsonNode csa = json("get", "deploy", "api", "-o", "json", "--show-managed-fields");
        assertThat(entry(csa, "kubectl-client-side-apply").path("operation").asString()).isEqualTo("Update");
        Kubectl.Result ssa = ok(deployment("api", 4), "apply", "--server-side", "-f", "-");
        assertThat(ssa.out().strip()).isEqualTo("deployment.apps/api serverside-applied");
        JsonNode after = json("get", "deploy", "api", "-o", "json", "--show-managed-fields");
        assertThat(after.path("spec").path("replicas").asInt()).isEqualTo(4);
        assertThat(entry(after, "kubectl").path("operation").asString()).isEqualTo("Apply");
        assertThat(entry(after, "kubectl").path("fieldsV1").path("f:spec").has("f:replicas")).isTrue();
        // the annotation follows the server-side apply, so a later client-side apply diffs against it
        assertThat(Json.parse(after.path("metadata").path("annotations")
                .path("kubectl.kubernetes.io/last-applied-configuration").asString()).path("spec").path("replicas")
                .asInt()).isEqualTo(4);
    }
}
