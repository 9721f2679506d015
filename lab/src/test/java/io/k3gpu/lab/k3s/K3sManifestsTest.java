package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.node.ObjectNode;

class K3sManifestsTest {
    @Test
    void releasesWithRuntimesYaml() {
        assertThat(K3sManifests.shipsRuntimes("v1.24.3+k3s1")).isFalse();
        assertThat(K3sManifests.shipsRuntimes("v1.26.11+k3s2")).isFalse();
        assertThat(K3sManifests.shipsRuntimes("v1.26.12+k3s1")).isTrue();
        assertThat(K3sManifests.shipsRuntimes("v1.27.8+k3s2")).isFalse();
        assertThat(K3sManifests.shipsRuntimes("v1.27.9+k3s1")).isTrue();
        assertThat(K3sManifests.shipsRuntimes("v1.28.4+k3s2")).isFalse();
        assertThat(K3sManifests.shipsRuntimes("v1.28.5+k3s1")).isTrue();
        assertThat(K3sManifests.shipsRuntimes("v1.29.0+k3s1")).isTrue();
        assertThat(K3sManifests.shipsRuntimes("v1.30.8+k3s1")).isTrue();
        assertThat(K3sManifests.shipsRuntimes("v1.32.0+k3s1")).isTrue();
    }

    @Test
    void theManifestAsPackaged() {
        assertThat(K3sManifests.runtimesYaml()).startsWith("apiVersion: node.k8s.io/v1\nkind: RuntimeClass\n"
                + "metadata:\n  name: nvidia\nhandler: nvidia\n---\napiVersion: node.k8s.io/v1\nkind: RuntimeClass\n"
                + "metadata:\n  name: nvidia-experimental\nhandler: nvidia-experimental\n---\n")
                .endsWith("  name: wasmtime\nhandler: wasmtime\n");
        assertThat(K3sManifests.runtimesYaml().split("---\n")).hasSize(10);
    }

    @Test
    void objectsCarryTheAddonsObjectSet() throws Exception {
        List<ObjectNode> rcs = K3sManifests.runtimeClasses();
        assertThat(rcs).extracting(o -> Json.text(o, "metadata.name") + "=" + Json.text(o, "handler"))
                .containsExactly("nvidia=nvidia", "nvidia-experimental=nvidia-experimental", "crun=crun",
                        "lunatic=lunatic", "slight=slight", "spin=spin", "wws=wws", "wasmedge=wasmedge",
                        "wasmer=wasmer", "wasmtime=wasmtime");
        ObjectNode nvidia = rcs.get(0);
        // sha1("" + "k3s.cattle.io/v1, Kind=Addon" + "runtimes" + "kube-system")
        assertThat(nvidia.path("metadata").path("labels").path("objectset.rio.cattle.io/hash").asString())
                .isEqualTo(K3sManifests.objectSetHash("", "k3s.cattle.io/v1, Kind=Addon", "runtimes", "kube-system"))
                .hasSize(40);
        ObjectNode annotations = (ObjectNode) nvidia.path("metadata").path("annotations");
        assertThat(annotations.propertyNames()).containsExactly("objectset.rio.cattle.io/applied",
                "objectset.rio.cattle.io/id", "objectset.rio.cattle.io/owner-gvk",
                "objectset.rio.cattle.io/owner-name", "objectset.rio.cattle.io/owner-namespace");
        assertThat(annotations.path("objectset.rio.cattle.io/owner-gvk").asString())
                .isEqualTo("k3s.cattle.io/v1, Kind=Addon");
        byte[] gz = Base64.getDecoder().decode(annotations.path("objectset.rio.cattle.io/applied").asString());
        String applied = new String(new GZIPInputStream(new ByteArrayInputStream(gz)).readAllBytes(),
                StandardCharsets.UTF_8);
        assertThat(Json.parseObject(applied).path("handler").asString()).isEqualTo("nvidia");
    }
}
