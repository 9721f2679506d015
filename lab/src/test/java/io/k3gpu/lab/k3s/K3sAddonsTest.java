package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** K3s v1.31's metrics-server and traefik manifests, and servicelb's DaemonSet for a LoadBalancer Service. */
class K3sAddonsTest {
    static List<String> names(List<ObjectNode> objects) {
        return objects.stream().map(o -> Json.text(o, "kind") + " " + Json.text(o, "metadata.namespace") + "/"
                + Json.text(o, "metadata.name")).toList();
    }

    @Test
    void metricsServerIsK3ssManifestsWithItsAPIService() {
        List<ObjectNode> objects = K3sAddons.metricsServer();
        assertThat(names(objects)).containsExactly("ClusterRole null/system:aggregated-metrics-reader",
                "ClusterRoleBinding null/metrics-server:system:auth-delegator",
                "RoleBinding kube-system/metrics-server-auth-reader", "ClusterRole null/system:metrics-server",
                "ClusterRoleBinding null/system:metrics-server", "ServiceAccount kube-system/metrics-server",
                "Deployment kube-system/metrics-server", "Service kube-system/metrics-server",
                "APIService null/v1beta1.metrics.k8s.io");
        JsonNode c = objects.get(6).path("spec").path("template").path("spec").path("containers").get(0);
        assertThat(c.path("image").asString()).isEqualTo("rancher/mirrored-metrics-server:v0.7.2");
        assertThat(c.path("args").get(1).asString()).isEqualTo("--secure-port=10250");
        assertThat(Json.write(objects.get(7).path("spec"))).isEqualTo("{\"selector\":{\"k8s-app\":\"metrics-server\"},"
                + "\"ports\":[{\"name\":\"https\",\"port\":443,\"protocol\":\"TCP\",\"targetPort\":\"https\"}]}");
        assertThat(Json.write(objects.get(8).path("spec"))).isEqualTo("{\"service\":{\"name\":\"metrics-server\","
                + "\"namespace\":\"kube-system\"},\"group\":\"metrics.k8s.io\",\"version\":\"v1beta1\","
                + "\"insecureSkipTLSVerify\":true,\"groupPriorityMinimum\":100,\"versionPriority\":100}");
    }

    @Test
    void traefikIsTwoHelmChartsOfThePackagedChart() {
        List<ObjectNode> charts = K3sAddons.traefik();
        assertThat(names(charts)).containsExactly("HelmChart kube-system/traefik-crd", "HelmChart kube-system/traefik");
        assertThat(Json.text(charts.get(1), "spec.chart")).isEqualTo(
                "https://%{KUBERNETES_API}%/static/charts/traefik-27.0.201+up27.0.2.tgz");
        assertThat(Json.text(charts.get(1), "spec.valuesContent")).contains("repository: \"rancher/mirrored-library-traefik\"\n"
                + "  tag: \"2.11.10\"").endsWith("ipFamilyPolicy: \"PreferDualStack\"");
    }

    @Test
    void servicelbRunsOneContainerPerPortWithTheHostPortForwardingToTheClusterIp() {
        ObjectNode svc = Json.parseObject("""
                {"metadata":{"name":"traefik","namespace":"kube-system","uid":"0f1e2d3c-aaaa-bbbb"},
                "spec":{"type":"LoadBalancer","clusterIP":"10.43.9.9","clusterIPs":["10.43.9.9"],"ipFamilies":["IPv4"],
                "externalTrafficPolicy":"Cluster",
                "ports":[{"name":"web","port":80,"protocol":"TCP","nodePort":31080},
                {"name":"websecure","port":443,"protocol":"TCP","nodePort":31443}]}}""");
        ObjectNode ds = K3sServiceLb.daemonSet(svc);
        assertThat(Json.text(ds, "metadata.name")).isEqualTo("svclb-traefik-0f1e2d3c");
        assertThat(Json.write(ds.path("spec").path("template").path("metadata").path("labels"))).isEqualTo(
                "{\"app\":\"svclb-traefik-0f1e2d3c\",\"svccontroller.k3s.cattle.io/svcname\":\"traefik\","
                        + "\"svccontroller.k3s.cattle.io/svcnamespace\":\"kube-system\"}");
        JsonNode pod = ds.path("spec").path("template").path("spec");
        assertThat(Json.text(pod, "priorityClassName")).isEqualTo("system-node-critical");
        assertThat(Json.write(pod.path("securityContext"))).isEqualTo(
                "{\"sysctls\":[{\"name\":\"net.ipv4.ip_forward\",\"value\":\"1\"}]}");
        JsonNode c = pod.path("containers");
        assertThat(c.size()).isEqualTo(2);
        // externalTrafficPolicy Cluster: to the Service's port on its ClusterIPs (servicelb.go newDaemonSet)
        assertThat(Json.write(c.get(1))).isEqualTo("{\"name\":\"lb-tcp-443\",\"image\":\"rancher/klipper-lb:v0.4.9\","
                + "\"imagePullPolicy\":\"IfNotPresent\",\"ports\":[{\"name\":\"lb-tcp-443\",\"containerPort\":443,"
                + "\"hostPort\":443,\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"SRC_PORT\",\"value\":\"443\"},"
                + "{\"name\":\"SRC_RANGES\",\"value\":\"0.0.0.0/0\"},{\"name\":\"DEST_PROTO\",\"value\":\"TCP\"},"
                + "{\"name\":\"DEST_PORT\",\"value\":\"443\"},{\"name\":\"DEST_IPS\",\"value\":\"10.43.9.9\"}],"
                + "\"securityContext\":{\"capabilities\":{\"add\":[\"NET_ADMIN\"]}}}");
    }

    @Test
    void servicelbWithLocalTrafficGoesToTheNodePortOnTheHostIpsAndHonoursTheAnnotationAndIpv6() {
        ObjectNode svc = Json.parseObject("""
                {"metadata":{"name":"%s","namespace":"apps","uid":"12345678-9abc",
                "annotations":{"svccontroller.k3s.cattle.io/priorityclassname":"high"}},
                "spec":{"type":"LoadBalancer","clusterIPs":["fd00::9","10.43.0.9"],"ipFamilies":["IPv6","IPv4"],
                "externalTrafficPolicy":"Local","ports":[{"port":53,"protocol":"UDP","nodePort":30053}]}}"""
                .formatted("a".repeat(47) + "-" + "b".repeat(10)));
        ObjectNode ds = K3sServiceLb.daemonSet(svc);
        // generateName: 48 characters at most, not ending at the hyphen
        assertThat(Json.text(ds, "metadata.name")).isEqualTo("svclb-" + "a".repeat(47) + "-12345678");
        JsonNode pod = ds.path("spec").path("template").path("spec");
        assertThat(Json.text(pod, "priorityClassName")).isEqualTo("high");
        assertThat(Json.write(pod.path("securityContext"))).isEqualTo("{\"sysctls\":[{\"name\":"
                + "\"net.ipv6.conf.all.forwarding\",\"value\":\"1\"},{\"name\":\"net.ipv4.ip_forward\",\"value\":\"1\"}]}");
        assertThat(Json.write(pod.path("containers").get(0).path("env"))).isEqualTo("[{\"name\":\"SRC_PORT\","
                + "\"value\":\"53\"},{\"name\":\"SRC_RANGES\",\"value\":\"0.0.0.0/0,::/0\"},{\"name\":\"DEST_PROTO\","
                + "\"value\":\"UDP\"},{\"name\":\"DEST_PORT\",\"value\":\"30053\"},{\"name\":\"DEST_IPS\","
                + "\"valueFrom\":{\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"status.hostIPs\"}}}]");
        assertThat(Json.text(pod.path("containers").get(0), "name")).isEqualTo("lb-udp-53");
    }

    @Test
    void helmControllerEscapesCommasOfSetStringsAsItsCommaRegexDoes() {
        assertThat(K3sHelmController.escapeCommas("a,b")).isEqualTo("a\\,b");
        assertThat(K3sHelmController.escapeCommas("a\\,b")).isEqualTo("a\\,b"); // already escaped
        assertThat(K3sHelmController.escapeCommas("a\\\\,b")).isEqualTo("a\\\\\\,b");
        assertThat(K3sHelmController.escapeCommas("")).isEmpty();
    }

    @Test
    void theAddonControllersAreDueOnTheirObjectsNotOnHeartbeats() {
        ObjectNode node = Json.parseObject("{\"metadata\":{\"name\":\"n\"},\"status\":{\"addresses\":"
                + "[{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"}],\"conditions\":[]}}");
        ObjectNode beat = node.deepCopy();
        Json.objectAt(beat, "status").putArray("conditions").addObject().put("type", "Ready");
        ObjectNode moved = node.deepCopy();
        ((ObjectNode) moved.path("status").path("addresses").get(0)).put("address", "10.0.0.2");
        assertThat(K3sAddons.concerns("Node", beat, node)).isFalse();
        assertThat(K3sAddons.concerns("Node", moved, node)).isTrue();
        assertThat(K3sAddons.concerns("Node", node, null)).isTrue();
        ObjectNode svclbPod = Json.parseObject("{\"metadata\":{\"labels\":{\"svccontroller.k3s.cattle.io/svcname\":"
                + "\"traefik\"}}}");
        ObjectNode pod = Json.parseObject("{\"metadata\":{\"labels\":{\"app\":\"web\"}}}");
        assertThat(K3sAddons.concerns("Pod", svclbPod, null)).isTrue();
        assertThat(K3sAddons.concerns("Pod", pod, null)).isFalse();
        assertThat(K3sAddons.concerns("Job", pod, null)).isFalse();
        assertThat(K3sAddons.concerns("Job", Json.parseObject("{\"metadata\":{\"labels\":"
                + "{\"helmcharts.helm.cattle.io/chart\":\"traefik\"}}}"), null)).isTrue();
        assertThat(K3sAddons.concerns("Endpoints", pod, pod)).isTrue();
        assertThat(K3sAddons.concerns("Lease", pod, pod)).isFalse();
        assertThat(K3sAddons.concerns("Event", pod, null)).isFalse();
    }
}
