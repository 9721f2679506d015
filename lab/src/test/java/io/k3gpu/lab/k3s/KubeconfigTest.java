package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;

import org.junit.jupiter.api.Test;

class KubeconfigTest {
    @Test
    void shapedLikeK3ssKubeconfig() {
        String b64ca = Base64.getEncoder().encodeToString("CA".getBytes());
        String b64cert = Base64.getEncoder().encodeToString("CERT".getBytes());
        String b64key = Base64.getEncoder().encodeToString("KEY".getBytes());
        assertThat(Kubeconfig.text("https://127.0.0.1:6443", "CA", "CERT", "KEY")).isEqualTo("""
                apiVersion: v1
                clusters:
                - cluster:
                    certificate-authority-data: %s
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
                    client-certificate-data: %s
                    client-key-data: %s
                """.formatted(b64ca, b64cert, b64key));
    }

    @Test
    void octalModes() {
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Kubeconfig.permissions(0600)))
                .isEqualTo("rw-------");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Kubeconfig.permissions(0644)))
                .isEqualTo("rw-r--r--");
    }
}
