package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.node.ObjectNode;

/** K3s's local-storage.yaml as the lab's server creates it (v1.31: local-path-provisioner v0.0.30). */
class K3sLocalStorageTest {
    @Test
    void theManifestHasTheDefaultWaitForFirstConsumerClassAndTheProvisioner() {
        List<ObjectNode> objects = K3sLocalStorage.objects();
        assertThat(objects).extracting(o -> Json.text(o, "kind") + " " + Json.text(o, "metadata.namespace") + "/"
                + Json.text(o, "metadata.name")).containsExactly(
                "ServiceAccount kube-system/local-path-provisioner-service-account",
                "Deployment kube-system/local-path-provisioner", "StorageClass null/local-path",
                "ConfigMap kube-system/local-path-config");
        ObjectNode container = (ObjectNode) objects.get(1).path("spec").path("template").path("spec")
                .path("containers").get(0);
        assertThat(container.path("image").asString()).isEqualTo("rancher/local-path-provisioner:v0.0.30");
        assertThat(Json.write(container.path("command"))).isEqualTo(
                "[\"local-path-provisioner\",\"start\",\"--config\",\"/etc/config/config.json\"]");
        assertThat(Json.write(objects.get(2))).isEqualTo("{\"apiVersion\":\"storage.k8s.io/v1\",\"kind\":"
                + "\"StorageClass\",\"metadata\":{\"name\":\"local-path\",\"annotations\":{"
                + "\"storageclass.kubernetes.io/is-default-class\":\"true\"}},\"provisioner\":\"rancher.io/local-path\","
                + "\"volumeBindingMode\":\"WaitForFirstConsumer\",\"reclaimPolicy\":\"Delete\"}");
        assertThat(Json.parse(objects.get(3).path("data").path("config.json").asString()).path("nodePathMap").get(0)
                .path("paths").get(0).asString()).isEqualTo("/var/lib/rancher/k3s/storage");
    }
}
