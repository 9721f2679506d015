package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.node.ObjectNode;

/** K3s's coredns.yaml as the lab's server creates it (v1.31: kube-dns at --cluster-dns 10.43.0.10). */
class K3sCoreDnsTest {
    @Test
    void theManifestHasK3sObjectsWithTheClusterDnsAddressAndTheLabsServerAffinity() {
        List<ObjectNode> objects = K3sCoreDns.objects();
        assertThat(objects).extracting(o -> Json.text(o, "kind") + " " + Json.text(o, "metadata.namespace") + "/"
                + Json.text(o, "metadata.name")).containsExactly("ServiceAccount kube-system/coredns",
                "ConfigMap kube-system/coredns", "Deployment kube-system/coredns", "Service kube-system/kube-dns");
        ObjectNode deploy = objects.get(2);
        assertThat(Json.text(deploy, "metadata.labels.k8s-app")).isEqualTo("kube-dns");
        assertThat(deploy.path("spec").path("template").path("spec").path("containers").get(0).path("image")
                .asString()).isEqualTo("rancher/mirrored-coredns-coredns:1.11.3");
        // as K3s's manifest: no node affinity (the server's node runs pods too), linux nodes, the control-plane
        // tolerations
        assertThat(deploy.path("spec").path("template").path("spec").has("affinity")).isFalse();
        assertThat(Json.write(deploy.path("spec").path("template").path("spec").path("nodeSelector")))
                .isEqualTo("{\"kubernetes.io/os\":\"linux\"}");
        ObjectNode svc = objects.get(3);
        assertThat(Json.write(svc.path("spec").path("clusterIPs"))).isEqualTo("[\"10.43.0.10\"]");
        assertThat(Json.write(svc.path("spec").path("ports"))).isEqualTo("[{\"name\":\"dns\",\"port\":53,\"protocol\":"
                + "\"UDP\"},{\"name\":\"dns-tcp\",\"port\":53,\"protocol\":\"TCP\"},{\"name\":\"metrics\",\"port\":"
                + "9153,\"protocol\":\"TCP\"}]");
        assertThat(objects.get(1).path("data").path("Corefile").asString()).contains(
                "kubernetes cluster.local in-addr.arpa ip6.arpa {", "forward . /etc/resolv.conf");
    }
}
