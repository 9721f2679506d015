package io.k3gpu.core.kube;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeListBuilder;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Writes of a Node that its agent changed in between (409 Conflict) are read and written again. */
class Fabric8ClusterApiTest {
    private static final String PATH = "/api/v1/nodes/jetson1";
    private static final Node NODE = new NodeBuilder().withNewMetadata().withName("jetson1").withResourceVersion("7")
            .addToLabels("kubernetes.io/hostname", "jetson1").endMetadata().build();
    private static final Status CONFLICT = new StatusBuilder().withCode(409).withReason("Conflict")
            .withMessage("Operation cannot be fulfilled on nodes \"jetson1\": the object has been modified; please "
                    + "apply your changes to the latest version and try again").build();

    private KubernetesMockServer server;
    private Fabric8ClusterApi api;

    @BeforeEach
    void start() {
        server = new KubernetesMockServer(false);
        server.init();
        server.expect().get().withPath(PATH).andReturn(200, NODE).always();
        api = Fabric8ClusterApi.fromKubeconfig("""
                apiVersion: v1
                kind: Config
                clusters: [{name: c, cluster: {server: 'http://%s:%d'}}]
                users: [{name: u, user: {token: t}}]
                contexts: [{name: lab, context: {cluster: c, user: u}}]
                current-context: lab
                """.formatted(server.getHostName(), server.getPort()), "lab");
    }

    @AfterEach
    void stop() {
        api.close();
        server.destroy();
    }

    private long patches() throws InterruptedException {
        long n = 0;
        for (int i = server.getRequestCount(); i > 0; i--) {
            if ("PATCH".equals(server.takeRequest().getMethod())) {
                n++;
            }
        }
        return n;
    }

    @Test
    void aLabelRefusedAsConflictingIsWrittenAgain() throws InterruptedException {
        server.expect().patch().withPath(PATH).andReturn(409, CONFLICT).once();
        server.expect().patch().withPath(PATH).andReturn(200, NODE).once();

        assertThat(api.label("jetson1", Map.of("nvidia.com/gpu.present", "true")))
                .isEqualTo(Map.of("nvidia.com/gpu.present", "true"));
        assertThat(patches()).isEqualTo(2);
    }

    @Test
    void anUpdateRefusedAsConflictingIsWrittenAgain() throws InterruptedException {
        server.expect().patch().withPath(PATH).andReturn(409, CONFLICT).times(2);
        server.expect().patch().withPath(PATH).andReturn(200, NODE).once();

        api.update("jetson1", Map.of("shelf", "b"), Map.of(), null);
        assertThat(patches()).isEqualTo(3);
    }

    @Test
    void aNodeThatKeepsConflictingIsAnApiErrorInTheEnd() throws InterruptedException {
        server.expect().patch().withPath(PATH).andReturn(409, CONFLICT).always();

        assertThatThrownBy(() -> api.label("jetson1", Map.of("shelf", "b")))
                .isInstanceOfSatisfying(K3gpuException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.KUBERNETES))
                .hasMessageContaining("labelling node jetson1 failed").hasMessageContaining("the object has been modified");
        assertThat(patches()).isEqualTo(5);
    }

    /** followLogs over fabric8's JDK HTTP client: the lines of a streamed (follow=true) log response, in order. */
    @Test
    void followedLogLinesArriveInOrder() throws Exception {
        server.expect().get()
                .withPath("/api/v1/namespaces/k3gpu/pods/train-1/log?pretty=false&container=trainer&follow=true")
                .andReturn(200, "epoch 1/2\nepoch 2/2\ndone\n").once();
        List<String> lines = new CopyOnWriteArrayList<>();
        try (AutoCloseable follow = api.followLogs("k3gpu", "train-1", "trainer", lines::add)) {
            for (int i = 0; i < 100 && lines.size() < 3; i++) {
                Thread.sleep(50);
            }
        }
        assertThat(lines).containsExactly("epoch 1/2", "epoch 2/2", "done");
    }

    /** nodes() is one GET of /api/v1/nodes through fabric8's HTTP client, read without fabric8's model. */
    @Test
    void nodesAreOneListRequest() throws InterruptedException {
        server.expect().get().withPath("/api/v1/nodes").andReturn(200, new NodeListBuilder().withItems(NODE).build()).once();
        int before = server.getRequestCount();

        assertThat(api.nodes()).containsExactly(Fabric8Models.status(NODE));
        assertThat(server.getRequestCount() - before).isEqualTo(1);
        assertThat(server.getLastRequest().getPath()).isEqualTo("/api/v1/nodes");
    }

    @Test
    void aRefusedNodeListIsAnApiErrorWithTheServersMessage() {
        server.expect().get().withPath("/api/v1/nodes").andReturn(403, new StatusBuilder().withCode(403)
                .withReason("Forbidden").withMessage("nodes is forbidden: User \"k3gpu\" cannot list resource \"nodes\"")
                .build()).once();

        assertThatThrownBy(() -> api.nodes())
                .isInstanceOfSatisfying(K3gpuException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(ExitCode.KUBERNETES);
                    assertThat(e.hint()).contains("credentials were refused");
                })
                .hasMessageStartingWith("listing nodes failed at http://")
                .hasMessageEndingWith(": nodes is forbidden: User \"k3gpu\" cannot list resource \"nodes\"");
    }

    @Test
    void aNodeListThatIsNotJsonIsAnApiError() {
        server.expect().get().withPath("/api/v1/nodes").andReturn(200, "<html>proxy login</html>").once();

        assertThatThrownBy(() -> api.nodes())
                .isInstanceOfSatisfying(K3gpuException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.KUBERNETES))
                .hasMessageStartingWith("listing nodes failed at http://");
    }
}
