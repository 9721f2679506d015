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
    void aTokenUserAsTheIssueAllowsIsAccepted() {
        String token = K3S_YAML.replace("""
                    client-certificate-data: Y2VydA==
                    client-key-data: a2V5
                """, """
                    token: K10abc::server:s3cr3t
                """);
        assertThat(Kubeconfig.fromK3s("k3s.yaml", token, "https://10.0.0.1:6443", "lab"))
                .contains("token: K10abc::server:s3cr3t").contains("server: https://10.0.0.1:6443");
    }

    @Test
    void anExecUserIsRefusedNamingTheNodeAndTheKey() {
        String exec = K3S_YAML.replace("""
                    client-certificate-data: Y2VydA==
                    client-key-data: a2V5
                """, """
                    exec:
                      apiVersion: client.authentication.k8s.io/v1
                      command: /bin/sh
                      args: [-c, 'touch /tmp/pwned']
                """);
        assertThatThrownBy(() -> Kubeconfig.fromK3s("10.0.0.1:/etc/rancher/k3s/k3s.yaml", exec, "https://10.0.0.1:6443", "lab"))
                .isInstanceOf(K3gpuException.class)
                .hasMessage("refusing the server's kubeconfig: 10.0.0.1:/etc/rancher/k3s/k3s.yaml has users[0].user.exec, "
                        + "which K3s never writes (k3gpu accepts only what K3s writes: certificate data or a token, "
                        + "never a command or a local file)")
                .extracting(e -> ((K3gpuException) e).exitCode()).isEqualTo(io.k3gpu.core.error.ExitCode.FAILED);
    }

    /** Every way a kubeconfig can run a command, read a local file, or send the client elsewhere: each refused by name. */
    @Test
    void everythingK3sNeverWritesIsRefusedByItsKey() {
        String user = """
                    client-certificate-data: Y2VydA==
                    client-key-data: a2V5
                """;
        String cluster = """
                    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
                """;
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("users[0].user.auth-provider", K3S_YAML.replace(user, user + "    auth-provider: {name: oidc, config: {cmd-path: /bin/sh}}\n"));
        cases.put("users[0].user.client-certificate", K3S_YAML.replace(user, "    client-certificate: /root/.ssh/id_ed25519\n    client-key-data: a2V5\n"));
        cases.put("users[0].user.client-key", K3S_YAML.replace(user, "    client-certificate-data: Y2VydA==\n    client-key: /etc/shadow\n"));
        cases.put("users[0].user.tokenFile", K3S_YAML.replace(user, "    tokenFile: /root/.aws/credentials\n"));
        cases.put("users[0].user.username", K3S_YAML.replace(user, "    username: admin\n    password: admin\n"));
        cases.put("users[0].user.as", K3S_YAML.replace(user, user + "    as: system:admin\n"));
        cases.put("clusters[0].cluster.certificate-authority", K3S_YAML.replace(cluster, "    certificate-authority: /etc/ssl/ca.pem\n"));
        cases.put("clusters[0].cluster.proxy-url", K3S_YAML.replace(cluster, cluster + "    proxy-url: http://evil:3128\n"));
        cases.put("clusters[0].cluster.tls-server-name", K3S_YAML.replace(cluster, cluster + "    tls-server-name: other\n"));
        cases.put("clusters[0].cluster.extensions", K3S_YAML.replace(cluster, cluster + "    extensions: []\n"));
        cases.put("contexts[0].context.namespace", K3S_YAML.replace("    user: default\n  name: default",
                "    user: default\n    namespace: kube-system\n  name: default"));
        cases.put("extensions", K3S_YAML + "extensions: []\n");
        cases.forEach((key, yaml) -> {
            assertThat(yaml).as(key).isNotEqualTo(K3S_YAML);
            assertThatThrownBy(() -> Kubeconfig.fromK3s("node1:k3s.yaml", yaml, "https://10.0.0.1:6443", "lab"))
                    .as(key).isInstanceOf(K3gpuException.class)
                    .hasMessageStartingWith("refusing the server's kubeconfig: node1:k3s.yaml has " + key + ",");
        });
    }

    @Test
    void shapesK3sNeverWritesAreRefused() {
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("has clusters[0].cluster.insecure-skip-tls-verify: true", K3S_YAML.replace(
                "    server: https://127.0.0.1:6443\n", "    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: true\n"));
        cases.put("does not have exactly one entry in users", K3S_YAML + """
                - name: other
                  user:
                    token: abc
                """);
        cases.put("does not have exactly one entry in clusters", K3S_YAML.replace("contexts:\n",
                "- cluster: {server: 'https://other:6443', certificate-authority-data: eA==}\n  name: other\ncontexts:\n"));
        cases.put("has users[0].name 'admin' where K3s writes 'default'", K3S_YAML.replace("- name: default\n  user:", "- name: admin\n  user:"));
        cases.put("has current-context 'prod' where K3s writes 'default'", K3S_YAML.replace("current-context: default", "current-context: prod"));
        cases.put("lacks clusters[0].cluster.certificate-authority-data", K3S_YAML.replace(
                "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n", ""));
        cases.put("lacks users[0].user.client-key-data", K3S_YAML.replace("    client-key-data: a2V5\n", ""));
        cases.put("has a non-text users[0].user.client-key-data", K3S_YAML.replace("client-key-data: a2V5", "client-key-data: {a: b}"));
        cases.put("has preferences that K3s never writes", K3S_YAML.replace("preferences: {}", "preferences: {colors: true}"));
        cases.put("is over 64 KiB", K3S_YAML + "#" + "x".repeat(Kubeconfig.MAX_K3S_YAML) + "\n");
        cases.forEach((what, yaml) -> {
            assertThat(yaml).as(what).isNotEqualTo(K3S_YAML);
            assertThatThrownBy(() -> Kubeconfig.fromK3s("node1:k3s.yaml", yaml, "https://10.0.0.1:6443", "lab"))
                    .as(what).isInstanceOf(K3gpuException.class)
                    .hasMessageStartingWith("refusing the server's kubeconfig: node1:k3s.yaml " + what);
        });
    }

    /** A "billion laughs" of aliases, duplicate keys and deep nesting fail in the parser, before anything is built. */
    @Test
    void yamlBombsAreRefusedByTheParser() {
        StringBuilder bomb = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (char c = 'b'; c <= 'j'; c++) {
            bomb.append(c).append(": &").append(c).append(" [");
            for (int i = 0; i < 10; i++) {
                bomb.append(i == 0 ? "" : ", ").append('*').append((char) (c - 1));
            }
            bomb.append("]\n");
        }
        String duplicate = K3S_YAML + "users: []\n";
        String deep = K3S_YAML.replace("preferences: {}", "preferences: " + "[".repeat(50) + "]".repeat(50));
        for (String yaml : java.util.List.of(bomb.toString(), duplicate, deep)) {
            assertThatThrownBy(() -> Kubeconfig.fromK3s("node1:k3s.yaml", yaml, "https://10.0.0.1:6443", "lab"))
                    .isInstanceOf(K3gpuException.class).hasMessageStartingWith("node1:k3s.yaml is not valid YAML: ");
        }
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
