package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

class K3sFlagsTest {
    private static final Path CONFIG = Path.of("/lab/etc/rancher/k3s/config.yaml");

    private static Function<Path, String> files(Map<Path, String> contents) {
        return contents::get;
    }

    private static K3sServerOptions options(List<String> args, Map<String, String> env, Map<Path, String> files) {
        K3sFlags.Parsed p = K3sFlags.parse(args, env, files(files));
        return K3sFlags.toOptions(p);
    }

    @Test
    void unknownFlagIsRefusedLikeGoFlagPackage() {
        assertThatThrownBy(() -> options(List.of("--foo"), Map.of(), Map.of()))
                .isInstanceOf(K3sFlags.UsageException.class).hasMessage("flag provided but not defined: -foo");
        assertThatThrownBy(() -> options(List.of("-bar=1"), Map.of(), Map.of()))
                .hasMessage("flag provided but not defined: -bar");
    }

    @Test
    void realServerFlagsThatAreNotSimulatedAreAccepted() {
        K3sServerOptions o = options(List.of("--flannel-backend=none", "--disable-network-policy",
                "--kube-apiserver-arg", "a=b", "--cluster-cidr", "10.42.0.0/16"), Map.of(), Map.of());
        assertThat(o.httpsPort).isEqualTo(6443);
    }

    @Test
    void defaultsAreK3ss() {
        K3sServerOptions o = options(List.of(), Map.of(), Map.of());
        assertThat(o.resolvedDataDir()).isEqualTo(Path.of("/var/lib/rancher/k3s"));
        assertThat(o.resolvedKubeconfig()).isEqualTo(Path.of("/etc/rancher/k3s/k3s.yaml"));
        assertThat(o.resolvedKubeconfigMode()).isEqualTo("0600");
        assertThat(o.bindAddress).isEqualTo("0.0.0.0");
        assertThat(o.version).isEqualTo("v1.31.4+k3s1");
    }

    @Test
    void etcRootMovesDefaultPathsAndTheConfigFile() {
        Map<Path, String> files = Map.of(Path.of("/tmp/r/etc/rancher/k3s/config.yaml"), "node-name: from-config\n");
        K3sServerOptions o = options(List.of("--etc-root", "/tmp/r"), Map.of(), files);
        assertThat(o.resolvedDataDir()).isEqualTo(Path.of("/tmp/r/var/lib/rancher/k3s"));
        assertThat(o.resolvedKubeconfig()).isEqualTo(Path.of("/tmp/r/etc/rancher/k3s/k3s.yaml"));
        assertThat(o.nodeName).isEqualTo("from-config");
    }

    @Test
    void configFileValuesComeFirstSoCliWinsForScalarsAndListsCollectBoth() {
        Map<Path, String> files = Map.of(CONFIG, String.join("\n",
                "write-kubeconfig-mode: \"0644\"",
                "token: from-config",
                "docker: true",
                "tls-san:",
                "  - jetson.local",
                "  - 192.168.0.12",
                "node-label: [\"gpu=true\"]",
                "unknown-agent-key: ignored",
                ""));
        K3sServerOptions o = options(List.of("--etc-root", "/lab", "--token", "from-cli", "--node-label", "a=b"),
                Map.of(), files);
        assertThat(o.kubeconfigMode).isEqualTo("0644");
        assertThat(o.token).isEqualTo("from-cli");
        assertThat(o.docker).isTrue();
        assertThat(o.tlsSans).containsExactly("jetson.local", "192.168.0.12");
        assertThat(o.nodeLabels).containsExactly("gpu=true", "a=b");
    }

    @Test
    void environmentFillsOnlyWhatFlagsAndConfigLeaveUnset() {
        Map<String, String> env = new HashMap<>();
        env.put("K3S_TOKEN", "from-env");
        env.put("K3S_KUBECONFIG_MODE", "644");
        env.put("K3S_NODE_NAME", "env-node");
        K3sServerOptions o = options(List.of("--node-name=cli-node"), env, Map.of());
        assertThat(o.token).isEqualTo("from-env");
        assertThat(o.kubeconfigMode).isEqualTo("644");
        assertThat(o.nodeName).isEqualTo("cli-node");
    }

    @Test
    void boolFlagsTakeGoForms() {
        assertThat(options(List.of("--cluster-init=false"), Map.of(), Map.of()).clusterInit).isFalse();
        assertThat(options(List.of("-cluster-init"), Map.of(), Map.of()).clusterInit).isTrue();
        assertThat(options(List.of("--disable-helm-controller"), Map.of(), Map.of()).disableHelmController).isTrue();
        assertThat(options(List.of(), Map.of(), Map.of()).disableHelmController).isFalse();
        assertThatThrownBy(() -> options(List.of("--docker=maybe"), Map.of(), Map.of()))
                .hasMessageContaining("invalid boolean value \"maybe\" for -docker");
    }

    @Test
    void shortAliasesAndCommaListsWork() {
        K3sServerOptions o = options(List.of("-t", "s3cret", "-d", "/data", "-o", "/tmp/k.yaml",
                "--disable", "traefik,servicelb", "-i", "10.0.0.5"), Map.of(), Map.of());
        assertThat(o.token).isEqualTo("s3cret");
        assertThat(o.resolvedDataDir()).isEqualTo(Path.of("/data"));
        assertThat(o.resolvedKubeconfig()).isEqualTo(Path.of("/tmp/k.yaml"));
        assertThat(o.disables).containsExactly("traefik", "servicelb");
        assertThat(o.nodeIps).containsExactly("10.0.0.5");
    }

    @Test
    void explicitConfigThatDoesNotExistIsAnError() {
        assertThatThrownBy(() -> options(List.of("--config", "/nope.yaml"), Map.of(), Map.of()))
                .hasMessage("open /nope.yaml: no such file or directory");
    }

    @Test
    void missingValueIsAnError() {
        assertThatThrownBy(() -> options(List.of("--token"), Map.of(), Map.of()))
                .hasMessage("flag needs an argument: -token");
    }

    @Test
    void nodeArgsRedactTokens() {
        assertThat(K3sFlags.redacted(List.of("--token", "abc", "--agent-token=def", "--docker")))
                .containsExactly("server", "--token", "********", "--agent-token=********", "--docker");
    }
}
