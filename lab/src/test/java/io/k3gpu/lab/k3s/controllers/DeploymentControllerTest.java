package io.k3gpu.lab.k3s.controllers;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import io.k3gpu.lab.k3s.K3sLog;
import org.junit.jupiter.api.Test;

import tools.jackson.databind.node.ObjectNode;

/** The Deployment controller against an API of plain objects: what it writes for a paused Deployment. */
class DeploymentControllerTest {
    /** Objects by path; lists by collection prefix; every write recorded. */
    static final class FakeApi implements KubeApi {
        final Map<String, ObjectNode> objects = new LinkedHashMap<>();
        final List<String> writes = new ArrayList<>();

        @Override
        public Result call(String method, String path, String contentType, String body) {
            String p = path.endsWith("/status") ? path.substring(0, path.length() - "/status".length()) : path;
            switch (method) {
                case "GET" -> {
                    if (objects.containsKey(p)) {
                        return new Result(200, J.write(objects.get(p)));
                    }
                    ObjectNode list = J.obj();
                    var items = list.putArray("items");
                    objects.forEach((k, v) -> {
                        if (k.startsWith(p + "/") && k.indexOf('/', p.length() + 1) < 0) {
                            items.add(v);
                        }
                    });
                    return new Result(200, J.write(list));
                }
                case "PUT", "POST" -> {
                    writes.add(method + " " + path);
                    ObjectNode o = J.parseObject(body);
                    if (!path.contains("/events")) {
                        objects.put(method.equals("POST") ? p + "/" + J.name(o) : p, o);
                    }
                    return new Result(method.equals("POST") ? 201 : 200, J.write(o));
                }
                default -> {
                    return new Result(200, "{}");
                }
            }
        }

        @Override
        public Result store(String method, String path, String contentType, String body) {
            return call(method, path, contentType, body);
        }

        @Override
        public AutoCloseable watch(Consumer<Change> listener) {
            return () -> { };
        }
    }

    @Test
    void aPausedDeploymentGetsThePausedConditionAndNoNewReplicaSet() {
        FakeApi api = new FakeApi();
        Clock clock = Clock.fixed(Instant.parse("2026-12-05T12:00:00Z"), ZoneOffset.UTC);
        ObjectNode d = DeploymentsTest.deployment(2, "\"25%\"", "\"25%\"");
        ((ObjectNode) d.get("spec")).put("paused", true);
        ((ObjectNode) d.get("metadata")).put("uid", "u1");
        String path = DeploymentController.path("default", "web");
        api.objects.put(path, d);
        ObjectNode old = Deployments.newReplicaSet(DeploymentsTest.deployment(2, "\"25%\"", "\"25%\""), "old", 2);
        ((ObjectNode) old.get("metadata")).put("uid", "rs1").put("creationTimestamp", "2026-12-05T11:00:00Z");
        ((ObjectNode) old.at("/spec/template/spec/containers/0")).put("image", "nginx:1.26");
        old.putObject("status").put("replicas", 2).put("readyReplicas", 2).put("availableReplicas", 2);
        api.objects.put(ReplicaSetController.path("default", J.name(old)), old);

        new DeploymentController(api, new Events(api, clock, "k3s"), clock, new K3sLog(System.out, clock, true)).sync("default", "web");

        ObjectNode written = api.objects.get(path);
        assertThat(J.write(written.path("status").path("conditions"))).contains("\"type\":\"Progressing\","
                + "\"status\":\"Unknown\"", "\"reason\":\"DeploymentPaused\",\"message\":\"Deployment is paused\"");
        assertThat(written.path("status").path("updatedReplicas").isMissingNode()).isTrue();
        assertThat(api.writes).noneMatch(w -> w.startsWith("POST /apis/apps/v1/namespaces/default/replicasets"));
    }
}
