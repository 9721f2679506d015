package io.k3gpu.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3gpu.core.error.ExitCode;
import org.junit.jupiter.api.Test;

class K3sConfigEditTest {
    private static final String PATH = "/etc/rancher/k3s/config.yaml";

    @Test
    void aMissingOrEmptyFileGetsTheOneLine() {
        assertThat(K3sConfigEdit.setDefaultRuntime(PATH, null, "nvidia"))
                .isEqualTo(new ConfigEdit("", "default-runtime: nvidia\n", true));
        assertThat(K3sConfigEdit.setDefaultRuntime(PATH, "", "nvidia"))
                .isEqualTo(new ConfigEdit("", "default-runtime: nvidia\n", true));
    }

    @Test
    void appendsAfterCommentsListsAndKubeletArgsLeavingThemAsWritten() {
        String before = """
                # K3s agent settings, managed by hand
                server: https://10.0.0.10:6443
                token-file: /etc/rancher/k3s/token   # not the token itself
                node-label:
                  - "gpu=jetson"
                  - "jetpack=6.2"
                kubelet-arg:
                - "max-pods=64"
                - "eviction-hard=memory.available<200Mi"

                # end
                """;

        ConfigEdit edit = K3sConfigEdit.setDefaultRuntime(PATH, before, "nvidia");

        assertThat(edit).isEqualTo(new ConfigEdit(before, before + "default-runtime: nvidia\n", true));
    }

    @Test
    void addsTheMissingFinalNewlineBeforeAppending() {
        assertThat(K3sConfigEdit.setDefaultRuntime(PATH, "write-kubeconfig-mode: \"0644\"", "nvidia").after())
                .isEqualTo("write-kubeconfig-mode: \"0644\"\ndefault-runtime: nvidia\n");
    }

    @Test
    void replacesAnotherDefaultRuntimeInPlace() {
        String before = """
                node-name: orin-1
                default-runtime: runc   # containerd's default
                node-label:
                  - gpu=true
                """;

        ConfigEdit edit = K3sConfigEdit.setDefaultRuntime(PATH, before, "nvidia");

        assertThat(edit.after()).isEqualTo("""
                node-name: orin-1
                default-runtime: nvidia
                node-label:
                  - gpu=true
                """);
    }

    @Test
    void replacesAQuotedKeyAndAValueOnTheNextLine() {
        String before = """
                "default-runtime":
                  crun
                selinux: false
                """;

        assertThat(K3sConfigEdit.setDefaultRuntime(PATH, before, "nvidia").after()).isEqualTo("""
                default-runtime: nvidia
                selinux: false
                """);
    }

    @Test
    void keepsCrlfLineEnds() {
        assertThat(K3sConfigEdit.setDefaultRuntime(PATH, "node-name: a\r\ndefault-runtime: runc\r\n", "nvidia")
                .after()).isEqualTo("node-name: a\r\ndefault-runtime: nvidia\r\n");
        assertThat(K3sConfigEdit.setDefaultRuntime(PATH, "node-name: a\r\n", "nvidia").after())
                .isEqualTo("node-name: a\r\ndefault-runtime: nvidia\r\n");
    }

    @Test
    void anAlreadySetRuntimeIsUnchangedHoweverQuoted() {
        for (String content : new String[] {
                "default-runtime: nvidia\n",
                "# gpu\ndefault-runtime: \"nvidia\"   # set by k3gpu\n",
                "'default-runtime': 'nvidia'",
                "node-label: [a=b]\ndefault-runtime:   nvidia\n"}) {
            ConfigEdit edit = K3sConfigEdit.setDefaultRuntime(PATH, content, "nvidia");

            assertThat(edit.changed()).as(content).isFalse();
            assertThat(edit.after()).as(content).isSameAs(content);
        }
    }

    @Test
    void aNestedDefaultRuntimeKeyIsNotTheTopLevelOne() {
        String before = """
                kubelet-arg:
                  - "feature-gates=Foo=true"
                etcd:
                  default-runtime: runc
                """;

        assertThat(K3sConfigEdit.setDefaultRuntime(PATH, before, "nvidia").after())
                .isEqualTo(before + "default-runtime: nvidia\n");
    }

    @Test
    void invalidYamlIsRefusedNamingTheFileAndWhere() {
        String broken = """
                node-label:
                  - gpu=true
                 kubelet-arg: max-pods=64
                """;

        assertThatThrownBy(() -> K3sConfigEdit.setDefaultRuntime(PATH, broken, "nvidia"))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> {
                    assertThat(e.getMessage()).isEqualTo("/etc/rancher/k3s/config.yaml is not valid YAML "
                            + "(line 3, column 2: expected <block end>, but found '<block mapping start>')");
                    assertThat(e.hint()).isEqualTo("fix or remove the file, then run again; nothing was changed");
                    assertThat(e.exitCode()).isEqualTo(ExitCode.FAILED);
                    assertThat(e.path()).isEqualTo(PATH);
                });
    }

    @Test
    void aTabIndentIsInvalid() {
        assertThatThrownBy(() -> K3sConfigEdit.setDefaultRuntime(PATH, "node-label:\n\t- a=b\n", "nvidia"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("/etc/rancher/k3s/config.yaml is not valid YAML (line 2, column 1: ");
    }

    @Test
    void aListOrScalarDocumentIsRefused() {
        assertThatThrownBy(() -> K3sConfigEdit.setDefaultRuntime(PATH, "- default-runtime: nvidia\n", "nvidia"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("/etc/rancher/k3s/config.yaml is not a YAML mapping of settings (its top level is a "
                        + "list), so K3s cannot read it");
        assertThatThrownBy(() -> K3sConfigEdit.setDefaultRuntime(PATH, "nvidia\n", "nvidia"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("/etc/rancher/k3s/config.yaml is not a YAML mapping of settings (its top level is a "
                        + "string), so K3s cannot read it");
    }

    @Test
    void aLayoutTheLineEditCannotHandleIsRefusedUntouched() {
        assertThatThrownBy(() -> K3sConfigEdit.setDefaultRuntime(PATH, "{node-name: a, selinux: true}\n", "nvidia"))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> {
                    assertThat(e.getMessage()).isEqualTo("cannot add \"default-runtime: nvidia\" to "
                            + "/etc/rancher/k3s/config.yaml safely: its layout (indented or flow-style top level, "
                            + "or document markers) does not allow a line edit");
                    assertThat(e.hint()).isEqualTo("add the line \"default-runtime: nvidia\" to the file by hand, "
                            + "then run again; nothing was changed");
                });
    }

    @Test
    void refusesARuntimeNameThatIsNotOne() {
        assertThatThrownBy(() -> K3sConfigEdit.setDefaultRuntime(PATH, "", "nvidia: x"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theShownTextMasksSecretValuesLineForLine() {
        String config = """
                server: https://10.0.0.10:6443
                token: K10abc::server:s3cr3t
                "agent-token": 'ag3nt'
                datastore-endpoint: "postgres://k3s:pw@db:5432/k3s"
                etcd-s3-secret-key:
                  sk-on-the-next-line
                vpn-auth: |\r
                  name=tailscale,joinKey=k1\r
                token-file: /etc/rancher/k3s/token
                node-label:
                  - "token=visible"
                """;

        assertThat(K3sConfigEdit.masked(config)).isEqualTo("""
                server: https://10.0.0.10:6443
                token: ********
                "agent-token": '********'
                datastore-endpoint: "postgres://k3s:********@db:5432/k3s"
                etcd-s3-secret-key:
                  ********
                vpn-auth: |\r
                  ********\r
                token-file: /etc/rancher/k3s/token
                node-label:
                  - "token=visible"
                """);
    }
}
