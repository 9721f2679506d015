package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulated server's datastore across restarts, as K3s's: SQLite keeps the cluster's objects, a joining server
 * is refused by a server on SQLite, --cluster-init migrates SQLite to embedded etcd keeping every object, after which
 * servers may join, and a restart without the flag stays on etcd.
 */
class K3sDatastoreIT {
    @TempDir
    Path root;

    private final ByteArrayOutputStream firstLog = new ByteArrayOutputStream();

    private K3sServer first(boolean clusterInit) {
        return K3sServer.start(K3sServerOptions.defaults().etcRoot(root.resolve("s1")).bindAddress("127.0.0.1")
                .httpsListenPort(0).clusterInit(clusterInit).hostFacts(K3sHaIT.host("server1"))
                .logTo(new PrintStream(firstLog, true, StandardCharsets.UTF_8)).heartbeat(Duration.ofSeconds(1)));
    }

    private K3sServer second(K3sServer first) {
        return K3sServer.start(K3sServerOptions.defaults().etcRoot(root.resolve("s2")).bindAddress("127.0.0.1")
                .httpsListenPort(0).server(first.url()).token(first.token()).hostFacts(K3sHaIT.host("server2"))
                .logTo(K3sHaIT.quiet()).heartbeat(Duration.ofSeconds(1)));
    }

    private static KubernetesClient client(K3sServer s) throws Exception {
        return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(s.kubeconfig()))).build();
    }

    private Path db() {
        return root.resolve("s1/var/lib/rancher/k3s/server/db");
    }

    @Test
    void sqliteKeepsObjectsAcrossARestartAndClusterInitMigratesThemToEtcdWhereServersMayJoin() throws Exception {
        String uid;
        try (K3sServer s = first(false); KubernetesClient k = client(s)) {
            uid = k.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata()
                    .withName("kept").endMetadata().withData(Map.of("a", "b")).build()).create().getMetadata().getUid();
            // a merge patch without resourceVersion: the server's own heartbeats update this Node meanwhile
            k.nodes().withName("server1").patch(PatchContext.of(PatchType.STRATEGIC_MERGE),
                    "{\"metadata\":{\"labels\":{\"k3gpu.dev/test\":\"kept\"}}}");
            assertThatThrownBy(() -> second(s)).isInstanceOf(K3sStartException.class).hasMessage(
                    "starting kubernetes: preparing server: failed to bootstrap cluster data: " + s.url()
                            + "/v1-k3s/server-bootstrap: 400 Bad Request");
            assertThat(firstLog.toString(StandardCharsets.UTF_8))
                    .containsPattern("Received HTTP bootstrap request from 127\\.0\\.0\\.1:\\d+, but embedded etcd is not "
                            + "enabled\\.")
                    .contains("Configuring sqlite3 database connection pooling");
        }
        assertThat(db().resolve("state.db")).isRegularFile();
        assertThat(db().resolve("etcd")).doesNotExist();

        try (K3sServer s = first(false); KubernetesClient k = client(s)) {
            assertThat(k.configMaps().inNamespace("default").withName("kept").get().getMetadata().getUid()).isEqualTo(uid);
        }

        firstLog.reset();
        try (K3sServer s = first(true); KubernetesClient k = client(s)) {
            assertThat(firstLog.toString(StandardCharsets.UTF_8)).contains("Managed etcd cluster initializing")
                    .contains("Migrating content from sqlite to etcd");
            assertThat(db().resolve("state.db")).doesNotExist();
            assertThat(db().resolve("state.db.migrated")).isRegularFile();
            assertThat(db().resolve("etcd/member/wal")).isDirectory();
            ConfigMap kept = k.configMaps().inNamespace("default").withName("kept").get();
            assertThat(kept.getMetadata().getUid()).isEqualTo(uid);
            assertThat(kept.getData()).containsEntry("a", "b");
            Node node = k.nodes().withName("server1").get();
            assertThat(node.getMetadata().getLabels()).containsEntry("k3gpu.dev/test", "kept")
                    .containsEntry("node-role.kubernetes.io/etcd", "true");
            try (K3sServer joined = second(s)) {
                Node other = k.nodes().withName("server2").waitUntilCondition(n -> n != null, 30,
                        java.util.concurrent.TimeUnit.SECONDS);
                assertThat(other.getMetadata().getLabels()).containsEntry("node-role.kubernetes.io/etcd", "true");
                assertThat(joined.caCertificate()).isEqualTo(s.caCertificate());
            }
        }

        firstLog.reset();
        try (K3sServer s = first(false); KubernetesClient k = client(s)) {
            assertThat(firstLog.toString(StandardCharsets.UTF_8))
                    .contains("Managed etcd cluster bootstrap already complete and initialized")
                    .doesNotContain("sqlite3");
            assertThat(k.configMaps().inNamespace("default").withName("kept").get().getMetadata().getUid()).isEqualTo(uid);
            assertThat(k.nodes().withName("server1").get().getMetadata().getLabels())
                    .containsEntry("node-role.kubernetes.io/etcd", "true");
        }
    }

    @Test
    void runtimesYamlIsAppliedAtEveryStartOnReleasesThatShipIt() throws Exception {
        Path manifest = root.resolve("s1/var/lib/rancher/k3s/server/manifests/runtimes.yaml");
        try (K3sServer s = first(false); KubernetesClient k = client(s)) {
            assertThat(k.genericKubernetesResources("node.k8s.io/v1", "RuntimeClass").list().getItems()).hasSize(10);
            assertThat(manifest).isRegularFile();
            k.genericKubernetesResources("node.k8s.io/v1", "RuntimeClass").withName("wasmtime").delete();
            assertThat(k.genericKubernetesResources("node.k8s.io/v1", "RuntimeClass").withName("wasmtime").get()).isNull();
        }
        try (K3sServer s = first(false); KubernetesClient k = client(s)) {
            assertThat(k.genericKubernetesResources("node.k8s.io/v1", "RuntimeClass").withName("wasmtime").get().getAdditionalProperties().get("handler"))
                    .isEqualTo("wasmtime");
        }
        try (K3sServer s = K3sServer.start(K3sServerOptions.defaults().etcRoot(root.resolve("s1"))
                .bindAddress("127.0.0.1").httpsListenPort(0).disable("runtimes").hostFacts(K3sHaIT.host("server1"))
                .logTo(K3sHaIT.quiet()).heartbeat(Duration.ofSeconds(1))); KubernetesClient k = client(s)) {
            assertThat(k.genericKubernetesResources("node.k8s.io/v1", "RuntimeClass").list().getItems()).isEmpty();
            assertThat(manifest).doesNotExist();
        }
        try (K3sServer s = K3sServer.start(K3sServerOptions.defaults().etcRoot(root.resolve("old"))
                .version("v1.24.3+k3s1").bindAddress("127.0.0.1").httpsListenPort(0).hostFacts(K3sHaIT.host("old"))
                .logTo(K3sHaIT.quiet()).heartbeat(Duration.ofSeconds(1))); KubernetesClient k = client(s)) {
            assertThat(k.genericKubernetesResources("node.k8s.io/v1", "RuntimeClass").list().getItems()).isEmpty();
        }
    }
}
