package io.k3gpu.lab.k3s.controllers;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The disruption controller's arithmetic (trySync), without an API: integer minAvailable, disruptedPods, selectors. */
class DisruptionTest {
    private static final Instant NOW = Instant.parse("2026-12-05T15:00:00Z");
    private final Disruption d = new Disruption(null, null, Clock.fixed(NOW, ZoneOffset.UTC), null);

    private static ObjectNode pod(String name, boolean ready) {
        return J.parseObject("""
                {"metadata":{"name":"%s","namespace":"default","labels":{"app":"web"}},
                 "status":{"phase":"Running","conditions":[{"type":"Ready","status":"%s"}]}}
                """.formatted(name, ready ? "True" : "False"));
    }

    @Test
    void minAvailableAsManyAsThereArePodsAllowsNoDisruption() {
        ObjectNode pdb = J.parseObject("""
                {"metadata":{"name":"web","namespace":"default","generation":1},
                 "spec":{"minAvailable":3,"selector":{"matchLabels":{"app":"web"}}}}""");
        ObjectNode s = d.status(pdb, List.of(pod("a", true), pod("b", true), pod("c", true)), NOW);
        assertThat(J.write(s)).isEqualTo("{\"observedGeneration\":1,\"disruptionsAllowed\":0,\"currentHealthy\":3,"
                + "\"desiredHealthy\":3,\"expectedPods\":3,\"conditions\":[{\"type\":\"DisruptionAllowed\","
                + "\"status\":\"False\",\"reason\":\"InsufficientPods\",\"message\":\"\",\"observedGeneration\":1,"
                + "\"lastTransitionTime\":\"2026-12-05T15:00:00Z\"}]}");
    }

    @Test
    void aPodEvictedLessThanTwoMinutesAgoIsNotHealthyAndNotReadyOnesNeither() {
        ObjectNode pdb = J.parseObject("""
                {"metadata":{"name":"web","namespace":"default","generation":1},
                 "spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web"}}},
                 "status":{"disruptedPods":{"a":"2026-12-05T14:59:00Z","b":"2026-12-05T14:50:00Z"}}}""");
        ObjectNode s = d.status(pdb, List.of(pod("a", true), pod("b", true), pod("c", false)), NOW);
        assertThat(s.path("currentHealthy").asLong()).isEqualTo(1);
        assertThat(s.path("disruptionsAllowed").asLong()).isEqualTo(0);
        assertThat(J.write(s.path("disruptedPods"))).isEqualTo("{\"a\":\"2026-12-05T14:59:00Z\"}");
    }

    @Test
    void selectorsAndPercentages() {
        assertThat(Disruption.selects(J.parse("{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\","
                + "\"values\":[\"web\",\"api\"]}]}"), J.parse("{\"app\":\"web\"}"))).isTrue();
        assertThat(Disruption.selects(J.parse("{\"matchLabels\":{\"app\":\"db\"}}"), J.parse("{\"app\":\"web\"}")))
                .isFalse();
        assertThat(Disruption.selects(J.parse("{}"), J.parse("{\"app\":\"web\"}"))).isTrue();
        assertThat(Disruption.selects(J.parse("null"), J.parse("{\"app\":\"web\"}"))).isFalse();
        assertThat(Disruption.scaled(J.parse("\"50%\""), 3)).isEqualTo(2);
        assertThat(Disruption.scaled(J.parse("1"), 3)).isEqualTo(1);
    }
}
