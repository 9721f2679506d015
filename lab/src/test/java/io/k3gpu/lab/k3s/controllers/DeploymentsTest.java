package io.k3gpu.lab.k3s.controllers;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The deployment controller's arithmetic and status, against the cases of the upstream unit tests (v1.31). */
class DeploymentsTest {
    static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    static ObjectNode deployment(int replicas, String surge, String unavailable) {
        ObjectNode d = J.parseObject("""
                {"metadata":{"name":"web","namespace":"default","uid":"u1","generation":2},
                 "spec":{"replicas":%d,"progressDeadlineSeconds":600,"revisionHistoryLimit":10,
                  "selector":{"matchLabels":{"app":"web"}},
                  "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":%s,"maxUnavailable":%s}},
                  "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx",
                   "image":"nginx:1.27"}]}}}}""".formatted(replicas, surge, unavailable));
        return d;
    }

    static Deployments.Rs rs(String name, String created, int spec, int available) {
        return new Deployments.Rs(name, created, spec, spec, available);
    }

    @Test
    void fencepostsRoundSurgeUpAndUnavailableDownAndNeverBothZero() {
        assertThat(Deployments.fenceposts(J.parse("\"25%\""), J.parse("\"25%\""), 10)).containsExactly(3, 2);
        assertThat(Deployments.fenceposts(J.parse("\"25%\""), J.parse("\"25%\""), 1)).containsExactly(1, 0);
        assertThat(Deployments.fenceposts(J.parse("0"), J.parse("\"25%\""), 3)).containsExactly(0, 1);
        assertThat(Deployments.fenceposts(J.parse("2"), J.parse("\"50%\""), 5)).containsExactly(2, 2);
        assertThat(Deployments.maxUnavailable(deployment(1, "0", "5"))).isEqualTo(1); // never above the replicas
        ObjectNode recreate = deployment(3, "1", "1");
        ((ObjectNode) recreate.get("spec").get("strategy")).put("type", "Recreate");
        assertThat(Deployments.maxUnavailable(recreate)).isZero();
        assertThat(Deployments.maxSurge(recreate)).isZero();
    }

    @Test
    void theNewReplicaSetGrowsWithinReplicasPlusSurge() {
        ObjectNode d = deployment(4, "\"25%\"", "\"25%\"");
        Deployments.Rs old = rs("web-a", "1", 4, 4);
        Deployments.Rs fresh = rs("web-b", "2", 0, 0);
        assertThat(Deployments.newRsReplicas(d, List.of(old, fresh), fresh)).isEqualTo(1);
        Deployments.Rs grown = rs("web-b", "2", 1, 0);
        assertThat(Deployments.newRsReplicas(d, List.of(old, grown), grown)).isEqualTo(1); // 5 pods already
        Deployments.Rs shrunk = rs("web-a", "1", 2, 2);
        assertThat(Deployments.newRsReplicas(d, List.of(shrunk, grown), grown)).isEqualTo(3);
        Deployments.Rs none = rs("web-b", "2", 0, 0);
        assertThat(Deployments.newRsReplicas(deployment(10, "\"25%\"", "\"25%\""), List.of(none), none))
                .isEqualTo(10); // a fresh Deployment: all of it at once
    }

    @Test
    void oldReplicaSetsShrinkKeepingMinAvailableUnhealthyFirst() {
        ObjectNode d = deployment(4, "\"25%\"", "\"25%\"");
        // 4 old available, 1 new not yet available: 1 old may go (5 − 3 − 1)
        assertThat(Deployments.rollingScaleDown(d, List.of(rs("web-a", "1", 4, 4)), rs("web-b", "2", 1, 0)))
                .isEqualTo(Map.of("web-a", 3));
        // the new one's pod became available: one more
        assertThat(Deployments.rollingScaleDown(d, List.of(rs("web-a", "1", 3, 3)), rs("web-b", "2", 2, 1)))
                .isEqualTo(Map.of("web-a", 2));
        // nothing may go while only minAvailable are available
        assertThat(Deployments.rollingScaleDown(d, List.of(rs("web-a", "1", 3, 3)), rs("web-b", "2", 2, 0)))
                .isEmpty();
        // unavailable old replicas are cleaned first, oldest ReplicaSet first
        assertThat(Deployments.rollingScaleDown(deployment(4, "1", "0"), List.of(rs("web-b", "2", 2, 0),
                rs("web-a", "1", 2, 2)), rs("web-c", "3", 1, 1))).isEqualTo(Map.of("web-b", 1));
    }

    @Test
    void equalIgnoreHashAndTheReplicaSetOfATemplate() {
        ObjectNode d = deployment(3, "\"25%\"", "\"25%\"");
        ObjectNode rs = Deployments.newReplicaSet(d, "abc12", 3);
        assertThat(J.name(rs)).isEqualTo("web-abc12");
        assertThat(J.write(rs.path("spec").path("selector"))).isEqualTo(
                "{\"matchLabels\":{\"app\":\"web\",\"pod-template-hash\":\"abc12\"}}");
        assertThat(J.write(rs.path("metadata").path("labels"))).isEqualTo(
                "{\"app\":\"web\",\"pod-template-hash\":\"abc12\"}");
        assertThat(Deployments.equalIgnoreHash(rs.path("spec").path("template"), d.path("spec").path("template")))
                .isTrue();
        ObjectNode changed = d.deepCopy();
        ((ObjectNode) changed.at("/spec/template/spec/containers/0")).put("image", "nginx:1.28");
        assertThat(Deployments.equalIgnoreHash(rs.path("spec").path("template"),
                changed.path("spec").path("template"))).isFalse();
        assertThat(Deployments.templateHash(d)).matches("[bcdfghjklmnpqrstvwxz2456789]+")
                .isNotEqualTo(Deployments.templateHash(changed));
    }

    @Test
    void revisionAnnotationsCopyRaiseAndKeepHistory() {
        ObjectNode d = deployment(3, "\"25%\"", "\"25%\"");
        ((ObjectNode) d.get("metadata")).putObject("annotations").put("team", "a")
                .put("kubectl.kubernetes.io/last-applied-configuration", "{}")
                .put(Deployments.REVISION, "2");
        ObjectNode rs = Deployments.newReplicaSet(d, "h", 0);
        assertThat(Deployments.setNewRsAnnotations(d, rs, 1, false)).isTrue();
        assertThat(J.write(rs.path("metadata").path("annotations"))).isEqualTo("{\"team\":\"a\","
                + "\"deployment.kubernetes.io/revision\":\"1\",\"deployment.kubernetes.io/desired-replicas\":\"3\","
                + "\"deployment.kubernetes.io/max-replicas\":\"4\"}");
        assertThat(Deployments.setNewRsAnnotations(d, rs, 1, true)).isFalse();
        // a rollback: revision 1 comes back as 3, 1 goes to the history
        assertThat(Deployments.setNewRsAnnotations(d, rs, 3, true)).isTrue();
        assertThat(rs.path("metadata").path("annotations").path(Deployments.REVISION).asString()).isEqualTo("3");
        assertThat(rs.path("metadata").path("annotations").path(Deployments.REVISION_HISTORY).asString())
                .isEqualTo("1");
        Deployments.setNewRsAnnotations(d, rs, 5, true);
        assertThat(rs.path("metadata").path("annotations").path(Deployments.REVISION_HISTORY).asString())
                .isEqualTo("1,3");
    }

    static JsonNode rsObject(int spec, int replicas, int ready, int available) {
        return J.parse("{\"spec\":{\"replicas\":%d},\"status\":{\"replicas\":%d,\"readyReplicas\":%d,\"availableReplicas\":%d}}"
                .formatted(spec, replicas, ready, available));
    }

    @Test
    void statusConditionsFollowTheRollout() {
        ObjectNode d = deployment(3, "\"25%\"", "\"25%\"");
        J.objectAt(d, "status").putArray("conditions").add(Deployments.condition("Progressing", "True",
                "NewReplicaSetCreated", "Created new replica set \"web-h\"", NOW.minusSeconds(5)));
        JsonNode newRs = rsObject(3, 3, 1, 1);
        ObjectNode s = Deployments.calculateStatus(d, List.of(newRs), newRs, NOW);
        Deployments.rolloutConditions(d, s, "web-h", NOW);
        assertThat(J.write(s).replace(J.time(NOW), "T").replace(J.time(NOW.minusSeconds(5)), "T0")).isEqualTo(
                "{\"observedGeneration\":2,\"replicas\":3,\"updatedReplicas\":3,\"readyReplicas\":1,"
                + "\"availableReplicas\":1,\"unavailableReplicas\":2,\"conditions\":["
                + "{\"type\":\"Available\",\"status\":\"False\",\"lastUpdateTime\":\"T\",\"lastTransitionTime\":\"T\","
                + "\"reason\":\"MinimumReplicasUnavailable\",\"message\":\"Deployment does not have minimum "
                + "availability.\"},"
                + "{\"type\":\"Progressing\",\"status\":\"True\",\"lastUpdateTime\":\"T\",\"lastTransitionTime\":\"T0\","
                + "\"reason\":\"ReplicaSetUpdated\",\"message\":\"ReplicaSet \\\"web-h\\\" is progressing.\"}]}");
        d.set("status", s);
        JsonNode done = rsObject(3, 3, 3, 3);
        ObjectNode s2 = Deployments.calculateStatus(d, List.of(done), done, NOW.plusSeconds(1));
        Deployments.rolloutConditions(d, s2, "web-h", NOW.plusSeconds(1));
        assertThat(Deployments.getCondition(s2, "Available").path("reason").asString())
                .isEqualTo("MinimumReplicasAvailable");
        assertThat(Deployments.getCondition(s2, "Progressing").path("reason").asString())
                .isEqualTo("NewReplicaSetAvailable");
        assertThat(Deployments.getCondition(s2, "Progressing").path("message").asString())
                .isEqualTo("ReplicaSet \"web-h\" has successfully progressed.");
        assertThat(Deployments.complete(d, s2)).isTrue();
    }

    @Test
    void aRolloutWithoutProgressPastItsDeadlineTimesOut() {
        ObjectNode d = deployment(3, "\"25%\"", "\"25%\"");
        J.objectAt(d, "status").put("replicas", 3).put("updatedReplicas", 1).put("readyReplicas", 2)
                .put("availableReplicas", 2).putArray("conditions")
                .add(Deployments.condition("Progressing", "True", "ReplicaSetUpdated",
                        "ReplicaSet \"web-h\" is progressing.", NOW.minusSeconds(601)));
        JsonNode newRs = rsObject(1, 1, 0, 0);
        ObjectNode s = Deployments.calculateStatus(d, List.of(rsObject(3, 2, 2, 2), newRs), newRs, NOW);
        Deployments.rolloutConditions(d, s, "web-h", NOW);
        JsonNode c = Deployments.getCondition(s, "Progressing");
        assertThat(c.path("status").asString()).isEqualTo("False");
        assertThat(c.path("reason").asString()).isEqualTo("ProgressDeadlineExceeded");
        assertThat(c.path("message").asString()).isEqualTo("ReplicaSet \"web-h\" has timed out progressing.");
    }

    @Test
    void replicaSetStatusAndWhichPodsGoFirst() {
        ObjectNode rs = J.parseObject("""
                {"metadata":{"name":"web-h","generation":3},"spec":{"replicas":2,
                 "template":{"metadata":{"labels":{"app":"web"}}}}}""");
        JsonNode running = J.parse("""
                {"metadata":{"name":"a","creationTimestamp":"2026-12-05T11:00:00Z","labels":{"app":"web"}},
                 "spec":{"nodeName":"n1"},"status":{"phase":"Running","conditions":[{"type":"Ready",
                 "status":"True","lastTransitionTime":"2026-12-05T11:00:05Z"}]}}""");
        JsonNode newer = J.parse("""
                {"metadata":{"name":"b","creationTimestamp":"2026-12-05T11:30:00Z","labels":{"app":"web"}},
                 "spec":{"nodeName":"n2"},"status":{"phase":"Running","conditions":[{"type":"Ready",
                 "status":"True","lastTransitionTime":"2026-12-05T11:30:05Z"}]}}""");
        JsonNode pending = J.parse("""
                {"metadata":{"name":"c","creationTimestamp":"2026-12-05T10:00:00Z","labels":{}},
                 "spec":{"nodeName":"n1"},"status":{"phase":"Pending"}}""");
        JsonNode unbound = J.parse("""
                {"metadata":{"name":"d","creationTimestamp":"2026-12-05T09:00:00Z","labels":{"app":"web"}},
                 "spec":{},"status":{"phase":"Pending"}}""");
        JsonNode finished = J.parse("""
                {"metadata":{"name":"e","labels":{"app":"web"}},"spec":{"nodeName":"n1"},
                 "status":{"phase":"Succeeded"}}""");
        List<JsonNode> active = List.of(running, newer, pending, unbound);
        assertThat(ReplicaSetController.podsToDelete(active, active, 4)).extracting(J::name)
                .containsExactly("d", "c", "a", "b"); // a shares n1 with c: doubled up goes first
        assertThat(J.write(ReplicaSetController.status(rs, List.of(running, newer, pending, finished), NOW)))
                .isEqualTo("{\"replicas\":3,\"fullyLabeledReplicas\":2,\"readyReplicas\":2,\"availableReplicas\":2,"
                        + "\"observedGeneration\":3}");
        ObjectNode pod = ReplicaSetController.newPod(J.parseObject("""
                {"metadata":{"name":"web-h","namespace":"default","uid":"u2"},"spec":{"template":{"metadata":
                 {"labels":{"app":"web","pod-template-hash":"h"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}"""));
        assertThat(J.write(pod.path("metadata"))).isEqualTo("{\"generateName\":\"web-h-\",\"namespace\":\"default\","
                + "\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"h\"},\"ownerReferences\":[{\"apiVersion\":"
                + "\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-h\",\"uid\":\"u2\",\"controller\":true,"
                + "\"blockOwnerDeletion\":true}]}");
    }
}
