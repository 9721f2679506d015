package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A second server joined with --server: same CA, one shared store, its own control-plane node. */
class K3sHaIT {
    @TempDir
    static Path root;
    static K3sServer first;
    static K3sServer second;

    static HostFacts host(String name) {
        return new HostFacts(name, "amd64", "6.1.0-k3gpu", "Debian GNU/Linux 12 (bookworm)", 2, 4_000_000,
                50_000_000, "127.0.0.1", "boot", "machine", 0, List.of(), null, null);
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }

    @BeforeAll
    static void start() {
        first = K3sServer.start(K3sServerOptions.defaults().etcRoot(root.resolve("s1")).bindAddress("127.0.0.1")
                .httpsListenPort(0).clusterInit(true).hostFacts(host("server1")).logTo(quiet())
                .heartbeat(Duration.ofSeconds(2)));
        second = K3sServer.start(K3sServerOptions.defaults().etcRoot(root.resolve("s2")).bindAddress("127.0.0.1")
                .httpsListenPort(0).server(first.url()).token(first.token()).hostFacts(host("server2"))
                .logTo(quiet()).heartbeat(Duration.ofSeconds(2)));
    }

    @AfterAll
    static void stop() {
        if (second != null) {
            second.close();
        }
        if (first != null) {
            first.close();
        }
    }

    @Test
    void theSecondServerSharesTheCaAndToken() throws Exception {
        assertThat(second.caCertificate()).isEqualTo(first.caCertificate());
        assertThat(second.token()).isEqualTo(first.token());
        assertThat(Files.readString(root.resolve("s2/var/lib/rancher/k3s/server/token")))
                .isEqualTo(first.token() + "\n");
    }

    @Test
    void kubectlOnEitherServerSeesBothControlPlaneNodes() {
        assumeTrue(Kubectl.available(), "the real kubectl is needed at /usr/bin/kubectl");
        for (K3sServer s : List.of(first, second)) {
            Kubectl k = new Kubectl(s.kubeconfig(), root.resolve("cache-" + s.port()), root);
            Kubectl.Result r = k.run("get", "nodes");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).containsPattern("server1\\s+Ready\\s+control-plane,etcd,master")
                    .containsPattern("server2\\s+Ready\\s+control-plane,etcd,master");
        }
        Kubectl viaSecond = new Kubectl(second.kubeconfig(), root.resolve("cache-2"), root);
        assertThat(viaSecond.run("create", "configmap", "shared", "--from-literal=a=b").exit()).isZero();
        Kubectl viaFirst = new Kubectl(first.kubeconfig(), root.resolve("cache-1"), root);
        assertThat(viaFirst.run("get", "configmap", "shared", "-o", "jsonpath={.data.a}").out()).isEqualTo("b");
    }

    @Test
    void aTokenForAnotherClusterIsRefused() {
        String foreign = "K10" + "ab".repeat(32) + "::server:" + K3sToken.parse(first.token()).password();
        assertThatThrownBy(() -> K3sServer.start(K3sServerOptions.defaults().etcRoot(root.resolve("s3"))
                .bindAddress("127.0.0.1").httpsListenPort(0).server(first.url()).token(foreign)
                .hostFacts(host("server3")).logTo(quiet())))
                .isInstanceOf(K3sStartException.class)
                .hasMessageStartingWith("token CA hash does not match the Cluster CA certificate hash: " + "ab".repeat(32)
                        + " != ");
    }
}
