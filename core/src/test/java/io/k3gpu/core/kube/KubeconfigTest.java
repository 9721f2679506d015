package io.k3gpu.core.kube;

import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class KubeconfigTest {
    /** The shape K3s writes to /etc/rancher/k3s/k3s.yaml (certificate data shortened). */
    static final String K3S_YAML = """
            apiVersion: v1
            clusters:
            - cluster:
                certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
                server: https://127.0.0.1:6443
              name: default
            contexts:
            - context:
                cluster: default
                user: default
              name: default
            current-context: default
            kind: Config
            preferences: {}
            users:
            - name: default
              user:
                client-certificate-data: Y2VydA==
                client-key-data: a2V5
            """;

    @TempDir
    Path tmp;

    @Test
    void pointsK3sConfigAtTheServerAndRenamesEverything() {
        assertThat(Kubeconfig.fromK3s("k3s.yaml", K3S_YAML, "https://192.168.0.12:6443", "jetson-lab")).isEqualTo("""
                apiVersion: v1
                clusters:
                - cluster:
                    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
                    server: https://192.168.0.12:6443
                  name: jetson-lab
                contexts:
                - context:
                    cluster: jetson-lab
                    user: jetson-lab
                  name: jetson-lab
                current-context: jetson-lab
                kind: Config
                preferences: {}
                users:
                - name: jetson-lab
                  user:
                    client-certificate-data: Y2VydA==
                    client-key-data: a2V5
                """);
    }

    @Test
    void renamingTouchesNamesNotValuesThatHappenToMatch() {
        String tricky = K3S_YAML.replace("client-key-data: a2V5", "client-key-data: default");
        String out = Kubeconfig.fromK3s("k3s.yaml", tricky, "https://10.0.0.1:6443", "lab");
        assertThat(out).contains("client-key-data: default").contains("name: lab");
    }

    @Test
    void mergeReplacesTheStaleEntryOfTheSameNameAndKeepsOthers() {
        String existing = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: prod
                  cluster: {server: 'https://prod:6443'}
                - name: lab
                  cluster: {server: 'https://OLD:6443'}
                contexts:
                - name: prod
                  context: {cluster: prod, user: prod}
                - name: lab
                  context: {cluster: lab, user: lab}
                users:
                - name: prod
                  user: {token: abc}
                - name: lab
                  user: {token: stale}
                current-context: prod
                """;
        String incoming = Kubeconfig.fromK3s("k3s.yaml", K3S_YAML, "https://10.0.0.1:6443", "lab");

        String kept = Kubeconfig.merge("~/.kube/config", existing, incoming, false);
        assertThat(kept).contains("current-context: prod").contains("https://prod:6443")
                .contains("https://10.0.0.1:6443").doesNotContain("OLD").doesNotContain("stale");
        assertThat(Kubeconfig.server("merged", kept, "lab")).isEqualTo("https://10.0.0.1:6443");

        String switched = Kubeconfig.merge("~/.kube/config", existing, incoming, true);
        assertThat(switched).contains("current-context: lab");
    }

    @Test
    void mergeIntoNothingIsTheNewConfig() {
        String incoming = Kubeconfig.fromK3s("k3s.yaml", K3S_YAML, "https://10.0.0.1:6443", "lab");
        assertThat(Kubeconfig.merge("x", null, incoming, false)).isEqualTo(incoming);
    }

    @Test
    void brokenExistingConfigIsRefusedNamingTheFile() {
        assertThatThrownBy(() -> Kubeconfig.merge("/root/.kube/config", "clusters: [", K3S_YAML, false))
                .isInstanceOf(K3gpuException.class).hasMessageStartingWith("/root/.kube/config is not valid YAML");
    }

    /** Our merge must agree with kubectl's own: KUBECONFIG=new:old kubectl config view --flatten. */
    @Test
    void mergeAgreesWithRealKubectl() throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/kubectl")), "kubectl is installed");
        String existing = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: prod
                  cluster: {server: 'https://prod:6443'}
                - name: lab
                  cluster: {server: 'https://OLD:6443'}
                contexts:
                - name: lab
                  context: {cluster: lab, user: lab}
                users:
                - name: lab
                  user: {token: stale}
                current-context: lab
                """;
        String incoming = Kubeconfig.fromK3s("k3s.yaml", K3S_YAML, "https://10.0.0.1:6443", "lab");
        Path a = tmp.resolve("new");
        Path b = tmp.resolve("old");
        Files.writeString(a, incoming);
        Files.writeString(b, existing);
        ProcessBuilder pb = new ProcessBuilder("kubectl", "config", "view", "--flatten", "--raw");
        pb.environment().put("KUBECONFIG", a + ":" + b);
        pb.environment().put("HOME", tmp.toString());
        Process p = pb.start();
        String kubectl = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();

        Map<String, Object> theirs = Kubeconfig.parse("kubectl", kubectl);
        Map<String, Object> ours = Kubeconfig.parse("ours", Kubeconfig.merge("old", existing, incoming, true));
        for (String key : new String[]{"clusters", "users", "contexts", "current-context"}) {
            assertThat(normalized(ours.get(key))).as(key).isEqualTo(normalized(theirs.get(key)));
        }
    }

    /** kubectl sorts entries by name and drops empty maps; compare content, not layout. */
    private static Object normalized(Object v) {
        if (v instanceof java.util.List<?> list) {
            return list.stream().map(KubeconfigTest::normalized)
                    .sorted(java.util.Comparator.comparing(Object::toString)).toList();
        }
        if (v instanceof Map<?, ?> m) {
            java.util.TreeMap<String, Object> t = new java.util.TreeMap<>();
            m.forEach((k, val) -> {
                if (!(val instanceof Map<?, ?> mm && mm.isEmpty())) {
                    t.put(k.toString(), normalized(val));
                }
            });
            return t;
        }
        return v;
    }
}
