package io.k3gpu.core.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client's Config made from a kubeconfig without fabric8's scanning serializer is the one
 * {@code Config.fromKubeconfig} makes: every property Jackson sees, for K3s's kubeconfig (certificates and key as
 * data) and for one with several contexts and a token.
 */
class Fabric8ConfigTest {
    private static final String K3S = """
            apiVersion: v1
            clusters:
            - cluster:
                certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdGMyVnkKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
                server: https://10.213.210.11:6443
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
                client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrVENDQVRlZ0F3SUJBZ0lJZWZPY0F3PT0KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
                client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUFBQUFBPT0KLS0tLS1FTkQgRUMgUFJJVkFURSBLRVktLS0tLQo=
            """;
    private static final String TWO = """
            apiVersion: v1
            kind: Config
            clusters:
            - {name: a, cluster: {server: 'https://a.example:6443', insecure-skip-tls-verify: true}}
            - {name: b, cluster: {server: 'https://b.example:6443', tls-server-name: b.internal}}
            users:
            - {name: ua, user: {token: ta}}
            - {name: ub, user: {username: admin, password: secret}}
            contexts:
            - {name: lab-a, context: {cluster: a, user: ua, namespace: ml}}
            - {name: lab-b, context: {cluster: b, user: ub}}
            current-context: lab-a
            """;

    private static String properties(Config c) {
        return JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(c);
    }

    @Test
    void theConfigIsFabric8sOwnForEachKubeconfigAndContext() {
        for (String[] c : new String[][]{{K3S, null}, {K3S, "default"}, {TWO, null}, {TWO, "lab-a"}, {TWO, "lab-b"}}) {
            @SuppressWarnings("removal")
            Config fabric8 = Config.fromKubeconfig(c[1], c[0], null);
            Config ours = ClusterConnection.config(c[0], c[1]);
            assertThat(properties(ours)).isEqualTo(properties(fabric8));
        }
        Config b = ClusterConnection.config(TWO, "lab-b");
        assertThat(properties(b)).contains("\"masterUrl\" : \"https://b.example:6443/\"", "\"tlsServerName\"");
        assertThat(b.getMasterUrl()).isEqualTo("https://b.example:6443/");
        assertThat(b.getUsername()).isEqualTo("admin");
        assertThat(ClusterConnection.config(K3S, null).getClientKeyData()).startsWith("LS0tLS1CRUdJTiBFQyBQUklW");
    }

    private static final String FILES = """
            apiVersion: v1
            kind: Config
            preferences: {colors: true}
            clusters:
            - {name: c, cluster: {server: 'https://10.0.0.1:6443', certificate-authority: /etc/k/ca.crt,
               proxy-url: 'http://proxy:3128', disable-compression: true}}
            users:
            - {name: u, user: {client-certificate: /etc/k/u.crt, client-key: /etc/k/u.key, tokenFile: /var/t}}
            contexts:
            - {name: x, context: {cluster: c, user: u}}
            current-context: x
            """;

    private static String model(io.fabric8.kubernetes.api.model.Config c) {
        return JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(c);
    }

    private static io.fabric8.kubernetes.api.model.Config fabric8Model(String yaml) {
        return new KubernetesSerialization().unmarshal(yaml, io.fabric8.kubernetes.api.model.Config.class);
    }

    /** The common kubeconfig is read without Jackson into the very model fabric8's serializer makes. */
    @Test
    void theCommonKubeconfigIsReadWithoutJacksonIntoFabric8sModel() {
        for (String yaml : new String[]{K3S, TWO, FILES}) {
            assertThat(KubeconfigModel.read(yaml)).hasValueSatisfying(m -> assertThat(model(m)).isEqualTo(model(fabric8Model(yaml))));
        }
        @SuppressWarnings("removal")
        Config fabric8 = Config.fromKubeconfig(null, FILES, null);
        assertThat(properties(ClusterConnection.config(FILES, null))).isEqualTo(properties(fabric8));
    }

    /** What it does not map (exec credentials, extensions, a null, a YAML 1.1 "yes", an unknown key) is fabric8's. */
    @Test
    void anythingElseIsLeftToFabric8() {
        String exec = TWO.replace("{token: ta}", "{exec: {apiVersion: client.authentication.k8s.io/v1, command: aws,"
                + " args: [eks, get-token]}}");
        String extensions = TWO + "extensions: [{name: x, extension: {a: b}}]\n";
        String nullValue = TWO.replace("namespace: ml", "namespace: null");
        String yes = TWO.replace("insecure-skip-tls-verify: true", "insecure-skip-tls-verify: yes");
        String unknown = TWO.replace("namespace: ml", "color: blue");
        for (String yaml : new String[]{exec, extensions, nullValue, yes, unknown, "[]", "a: [", ""}) {
            assertThat(KubeconfigModel.read(yaml)).as(yaml).isEmpty();
        }
        for (String yaml : new String[]{exec, extensions, nullValue, unknown}) {
            @SuppressWarnings("removal")
            Config fabric8 = Config.fromKubeconfig(null, yaml, null);
            assertThat(properties(ClusterConnection.config(yaml, null))).isEqualTo(properties(fabric8));
        }
    }
}
