package io.k3gpu.lab.k3s.controllers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

/** The Endpoints the controller writes for a Service (golden JSON, pkg/controller/endpoint v1.31's shape). */
class EndpointsControllerTest {
    static JsonNode pod(String name, String ip, boolean ready, String extra) {
        return J.parse("""
                {"metadata":{"name":"%s","namespace":"default","uid":"u-%s","labels":{"job-name":"t"}},
                "spec":{"nodeName":"n-%s","hostname":"%s","subdomain":"workers",
                "containers":[{"name":"c","ports":[{"name":"rdzv","containerPort":29400}]}]},
                "status":{"phase":"Running","podIP":"%s","conditions":[{"type":"Ready","status":"%s"}]}%s}"""
                .formatted(name, name, name, name.substring(0, 3), ip, ready ? "True" : "False", extra));
    }

    static final String HEADLESS = """
            {"metadata":{"name":"workers","namespace":"default","labels":{"app":"t"}},
            "spec":{"clusterIP":"None","selector":{"job-name":"t"},%s
            "ports":[{"name":"rdzv","port":29400,"protocol":"TCP","targetPort":"rdzv"}]}}""";

    @Test
    void readyPodsAreAddressesWithTheirHostnameOthersNotReadyAddresses() {
        JsonNode svc = J.parse(HEADLESS.formatted(""));
        JsonNode ep = EndpointsController.desired(svc, List.of((tools.jackson.databind.node.ObjectNode)
                pod("t-1-bbbbb", "10.0.0.13", false, ""), (tools.jackson.databind.node.ObjectNode)
                pod("t-0-aaaaa", "10.0.0.12", true, "")));
        assertThat(J.write(ep)).isEqualTo("{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":"
                + "\"workers\",\"namespace\":\"default\",\"labels\":{\"app\":\"t\",\"service.kubernetes.io/headless\":"
                + "\"\"}},\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.12\",\"hostname\":\"t-0\",\"nodeName\":"
                + "\"n-t-0-aaaaa\",\"targetRef\":{\"kind\":\"Pod\",\"namespace\":\"default\",\"name\":\"t-0-aaaaa\","
                + "\"uid\":\"u-t-0-aaaaa\"}}],\"notReadyAddresses\":[{\"ip\":\"10.0.0.13\",\"hostname\":\"t-1\","
                + "\"nodeName\":\"n-t-1-bbbbb\",\"targetRef\":{\"kind\":\"Pod\",\"namespace\":\"default\",\"name\":"
                + "\"t-1-bbbbb\",\"uid\":\"u-t-1-bbbbb\"}}],\"ports\":[{\"name\":\"rdzv\",\"port\":29400,"
                + "\"protocol\":\"TCP\"}]}]}");
    }

    @Test
    void publishNotReadyAddressesPutsEveryPodInAddressesAndFinishedOrIpLessPodsAreLeftOut() {
        JsonNode svc = J.parse(HEADLESS.formatted("\"publishNotReadyAddresses\":true,"));
        JsonNode done = J.parse(J.write(pod("t-2-ccccc", "10.0.0.14", false, "")).replace("Running", "Succeeded"));
        JsonNode noIp = J.parse(J.write(pod("t-3-ddddd", "", false, "")));
        JsonNode ep = EndpointsController.desired(svc, List.of((tools.jackson.databind.node.ObjectNode)
                pod("t-1-bbbbb", "10.0.0.13", false, ""), (tools.jackson.databind.node.ObjectNode) done,
                (tools.jackson.databind.node.ObjectNode) noIp));
        assertThat(ep.path("subsets").get(0).path("addresses")).hasSize(1);
        assertThat(ep.path("subsets").get(0).has("notReadyAddresses")).isFalse();
        JsonNode none = EndpointsController.desired(J.parse(HEADLESS.formatted("")), List.of());
        assertThat(none.has("subsets")).isFalse();
    }
}
