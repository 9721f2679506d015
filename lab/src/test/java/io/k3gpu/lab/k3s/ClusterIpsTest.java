package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.node.ObjectNode;

/** A Service's defaults and ClusterIP on create, in K3s's default service CIDR 10.43.0.0/16. */
class ClusterIpsTest {
    static final String USED = "{\"items\":[{\"spec\":{\"clusterIP\":\"10.43.0.10\"}}]}";

    @Test
    void headlessStaysNoneAndGetsTheServiceDefaults() {
        ObjectNode svc = Json.parseObject("{\"spec\":{\"clusterIP\":\"None\",\"ports\":[{\"port\":29500}]}}");
        assertThat(ClusterIps.allocate(svc, USED)).isNull();
        assertThat(Json.write(svc.path("spec"))).isEqualTo("{\"clusterIP\":\"None\",\"ports\":[{\"port\":29500,"
                + "\"protocol\":\"TCP\",\"targetPort\":29500}],\"type\":\"ClusterIP\",\"sessionAffinity\":\"None\","
                + "\"clusterIPs\":[\"None\"],\"ipFamilies\":[\"IPv4\"],\"ipFamilyPolicy\":\"SingleStack\","
                + "\"internalTrafficPolicy\":\"Cluster\"}");
    }

    @Test
    void aRequestedAddressMustBeFreeAndInTheRangeOthersGetAFreshOne() {
        assertThat(ClusterIps.allocate(Json.parseObject("{\"spec\":{\"clusterIP\":\"10.43.0.10\"}}"), USED))
                .isEqualTo("spec.clusterIPs: Invalid value: []string{\"10.43.0.10\"}: failed to allocate IP "
                        + "10.43.0.10: provided IP is already allocated");
        assertThat(ClusterIps.allocate(Json.parseObject("{\"spec\":{\"clusterIP\":\"10.0.0.1\"}}"), USED))
                .startsWith("spec.clusterIPs: Invalid value: []string{\"10.0.0.1\"}: failed to allocate IP 10.0.0.1: "
                        + "the provided IP (10.0.0.1) is not in the valid range.");
        ObjectNode fresh = Json.parseObject("{\"spec\":{}}");
        assertThat(ClusterIps.allocate(fresh, USED)).isNull();
        assertThat(fresh.path("spec").path("clusterIP").asString()).startsWith("10.43.").isNotIn("10.43.0.1",
                "10.43.0.10");
    }

    @Test
    void loadBalancersAndNodePortsGetFreeNodePorts() {
        ObjectNode lb = Json.parseObject("{\"spec\":{\"type\":\"LoadBalancer\",\"ports\":[{\"port\":80},"
                + "{\"port\":443,\"nodePort\":30443}]}}");
        assertThat(ClusterIps.allocate(lb, "{\"items\":[{\"spec\":{\"ports\":[{\"nodePort\":30000}]}}]}")).isNull();
        assertThat(lb.path("spec").path("ports").get(0).path("nodePort").asInt()).isBetween(30000, 32767)
                .isNotIn(30000, 30443);
        assertThat(lb.path("spec").path("ports").get(1).path("nodePort").asInt()).isEqualTo(30443);
        assertThat(lb.path("spec").path("externalTrafficPolicy").asString()).isEqualTo("Cluster");
        assertThat(lb.path("spec").path("allocateLoadBalancerNodePorts").asBoolean()).isTrue();
        ObjectNode plain = Json.parseObject("{\"spec\":{\"ports\":[{\"port\":80}]}}");
        assertThat(ClusterIps.allocate(plain, USED)).isNull();
        assertThat(plain.path("spec").path("ports").get(0).has("nodePort")).isFalse();
    }
}
