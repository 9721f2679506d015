package io.k3gpu.lab.k3sdist;

import static io.k3gpu.lab.LabShell.assumeRoot;
import static io.k3gpu.lab.LabShell.await;
import static io.k3gpu.lab.LabShell.deleteWork;
import static io.k3gpu.lab.LabShell.lockLab;
import static io.k3gpu.lab.LabShell.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.k3gpu.lab.Lab;
import io.k3gpu.lab.LabConfig;
import io.k3gpu.lab.LabShell;
import io.k3gpu.lab.LabShell.Result;
import io.k3gpu.lab.LabState;
import io.k3gpu.lab.k3s.K3sServer;
import io.k3gpu.lab.k3s.K3sServerOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * K3s's local-path-provisioner (manifests/local-storage.yaml) on a lab cluster of a server and one agent, with the
 * real kubectl: the Deployment becomes available on the agent, {@code local-path} is the default StorageClass, a
 * claim without a class gets it and waits for its first consumer (Pending), a pod using it is scheduled, the claim
 * is provisioned on the pod's node and bound, and what the pod writes lands under
 * /var/lib/rancher/k3s/storage/pvc-&lt;uid&gt;_default_&lt;claim&gt; on that node; {@code --disable local-storage} takes the
 * add-on away (in-process server).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class K3sLocalStorageIT {
    static final String ID = "lssa1";
    static final int SUBNET = 218;
    static final String K3S_URL = "https://10.213.218.11:6443";
    static final JsonMapper JSON = JsonMapper.builder().build();
    static LabState lab;
    static Path kubeconfig;
    static Path work;
    static LabShell shell;
    static FileChannel lock;
    @TempDir
    static Path dir;

    @BeforeAll
    static void up() throws Exception {
        assumeRoot();
        lock = lockLab(ID);
        Lab.down(LabConfig.STATE_ROOT.resolve(ID));
        work = Files.createTempDirectory("local-storage-it");
        kubeconfig = work.resolve("kubeconfig.yaml");
        lab = Lab.up(new LabConfig(ID, SUBNET, List.of("cpu-only", "cpu-only"), null, null));
        shell = new LabShell(lab, kubeconfig, work);
        K3sDistribution k3s = K3sDistribution.of(lab);
        shell.sshOk("node1", "curl -sfL " + k3s.installUrl() + " | INSTALL_K3S_EXEC='server --disable coredns' sh -");
        Files.writeString(kubeconfig, shell.sshOk("node1", "cat /etc/rancher/k3s/k3s.yaml")
                .replace("https://127.0.0.1:6443", K3S_URL));
        String token = shell.sshOk("node1", "cat /var/lib/rancher/k3s/server/node-token").strip();
        Result agent = shell.ssh("node2", "read -r K3S_TOKEN && export K3S_TOKEN && curl -sfL "
                + k3s.installUrl() + " | K3S_URL=" + K3S_URL + " INSTALL_K3S_EXEC='agent' sh -", token + "\n");
        assertThat(agent.exit()).as(agent.out()).isZero();
        await("2 Ready nodes", 90, () -> shell.kubectl("get", "nodes").out().lines()
                .filter(l -> l.matches("(node1|node2)\\s+Ready\\s.*")).count() == 2);
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (lab != null) {
                Lab.down(lab.stateDir());
            }
        } finally {
            deleteWork(work);
            if (lock != null) {
                lock.close();
            }
        }
    }

    @Test
    @Order(1)
    void theProvisionerRunsAndLocalPathIsTheDefaultClass() throws Exception {
        shell.kubectlOk("-n", "kube-system", "rollout", "status", "deployment/local-path-provisioner",
                "--timeout=120s");
        String pod = shell.kubectlOk("-n", "kube-system", "get", "pods", "-l", "app=local-path-provisioner", "-o",
                "jsonpath={.items[0].spec.nodeName} {.items[0].status.phase}");
        // any node: the server runs pods too (its embedded agent), and K3s's manifest pins it nowhere
        assertThat(pod).matches("(node1|node2) Running");
        JsonNode sc = JSON.readTree(shell.kubectlOk("get", "storageclass", "local-path", "-o", "json"));
        assertThat(sc.path("provisioner").asString()).isEqualTo("rancher.io/local-path");
        assertThat(sc.path("volumeBindingMode").asString()).isEqualTo("WaitForFirstConsumer");
        assertThat(sc.path("reclaimPolicy").asString()).isEqualTo("Delete");
        assertThat(sc.path("metadata").path("annotations").path("storageclass.kubernetes.io/is-default-class")
                .asString()).isEqualTo("true");
        assertThat(shell.sshOk("node1", "cat /var/lib/rancher/k3s/server/manifests/local-storage.yaml"))
                .contains("\"name\":\"local-path-provisioner\"");
    }

    @Test
    @Order(2)
    void aClaimBindsWhenAPodUsesItAndThePodWritesOnItsNode() throws Exception {
        shell.apply("pvc", """
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata:
                  name: data
                spec:
                  accessModes: [ReadWriteOnce]
                  resources:
                    requests:
                      storage: 1Gi
                """);
        JsonNode pending = JSON.readTree(shell.kubectlOk("get", "pvc", "data", "-o", "json"));
        assertThat(pending.path("spec").path("storageClassName").asString()).isEqualTo("local-path");
        assertThat(pending.path("status").path("phase").asString()).isEqualTo("Pending");
        Thread.sleep(2000); // no consumer yet: nothing provisions it
        assertThat(shell.kubectlOk("get", "pvc", "data", "-o", "jsonpath={.status.phase}")).isEqualTo("Pending");
        shell.apply("writer", """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: writer
                spec:
                  restartPolicy: Never
                  nodeSelector:
                    kubernetes.io/hostname: node2
                  containers:
                  - name: w
                    image: busybox
                    command: ["sh", "-c", "echo hello from a claim > /data/hello && cat /data/hello"]
                    volumeMounts:
                    - name: data
                      mountPath: /data
                  volumes:
                  - name: data
                    persistentVolumeClaim:
                      claimName: data
                """);
        try {
            shell.awaitPhase("writer", 120, "Succeeded", "Failed");
        } finally {
            System.out.println(shell.kubectl("get", "pvc,pv,pods", "-A", "-o", "wide").out());
            System.out.println(shell.events("writer"));
            System.out.println(shell.kubectl("-n", "kube-system", "logs", "deploy/local-path-provisioner").out());
        }
        assertThat(shell.phase("writer")).isEqualTo("Succeeded");
        JsonNode pvc = JSON.readTree(shell.kubectlOk("get", "pvc", "data", "-o", "json"));
        String uid = pvc.path("metadata").path("uid").asString();
        assertThat(pvc.path("status").path("phase").asString()).isEqualTo("Bound");
        assertThat(pvc.path("spec").path("volumeName").asString()).isEqualTo("pvc-" + uid);
        assertThat(pvc.path("metadata").path("annotations").path("volume.kubernetes.io/selected-node").asString())
                .isEqualTo("node2");
        JsonNode pv = JSON.readTree(shell.kubectlOk("get", "pv", "pvc-" + uid, "-o", "json"));
        String path = "/var/lib/rancher/k3s/storage/pvc-" + uid + "_default_data";
        assertThat(pv.path("spec").path("hostPath").path("path").asString()).isEqualTo(path);
        assertThat(pv.path("spec").path("claimRef").path("name").asString()).isEqualTo("data");
        assertThat(pv.path("status").path("phase").asString()).isEqualTo("Bound");
        assertThat(shell.sshOk("node2", "cat " + path + "/hello")).isEqualTo("hello from a claim\n");
        assertThat(shell.kubectlOk("logs", "writer")).isEqualTo("hello from a claim\n");
    }

    @Test
    @Order(3)
    void disableLocalStorageTakesTheAddOnAway() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (K3sServer bare = K3sServer.start(K3sServerOptions.defaults().etcRoot(dir.resolve("bare"))
                .bindAddress("127.0.0.1").httpsListenPort(0).disableAgent(true).disable("local-storage")
                .logTo(new PrintStream(log, true, StandardCharsets.UTF_8)))) {
            Result sc = run(List.of("kubectl", "--kubeconfig", bare.kubeconfig().toString(),
                    "get", "storageclass,deploy", "-A", "-o", "name"), null);
            assertThat(sc.exit()).isZero();
            assertThat(sc.out()).doesNotContain("local-path");
        }
        try (var files = Files.walk(dir.resolve("bare"))) {
            assertThat(files.map(f -> f.getFileName().toString())).doesNotContain("local-storage.yaml")
                    .contains("coredns.yaml");
        }
    }
}
