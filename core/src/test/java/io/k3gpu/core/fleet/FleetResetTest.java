package io.k3gpu.core.fleet;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** reset -f must not exit 0 when the Node objects of the hosts it reset may still be in the cluster. */
class FleetResetTest {
    private static final Optional<String> NO_API = Optional.of("cannot reach the cluster through s1: refused");

    @Test
    void agentsResetWithoutTheApiLeaveTheirNodesBehind() {
        ClusterSpec s = FleetApplyTest.spec(1, 2);
        FleetApplyTest.Recorder r = new FleetApplyTest.Recorder();
        FleetResult agents = FleetReset.run(s, List.of(s.host("a1"), s.host("a2")), 0, r, FleetEvents.NONE);
        assertThat(agents.ok()).isTrue();
        assertThat(FleetReset.nodesLeft(s, agents, NO_API)).contains(
                "the Node objects of a1, a2 may be left in the cluster: cannot reach the cluster through s1: refused");
        assertThat(FleetReset.nodesLeft(s, agents, Optional.empty())).isEmpty();
    }

    @Test
    void nothingIsLeftWhenTheFirstServersDatastoreGoesToo() {
        ClusterSpec s = FleetApplyTest.spec(1, 2);
        FleetResult all = FleetReset.run(s, s.hosts(), 0, new FleetApplyTest.Recorder(), FleetEvents.NONE);
        assertThat(FleetReset.nodesLeft(s, all, NO_API)).isEmpty();

        FleetApplyTest.Recorder failing = new FleetApplyTest.Recorder();
        failing.failing.add("s1");
        FleetResult firstFailed = FleetReset.run(s, s.hosts(), 0, failing, FleetEvents.NONE);
        assertThat(FleetReset.nodesLeft(s, firstFailed, NO_API)).hasValueSatisfying(
                m -> assertThat(m).startsWith("the Node objects of a1, a2 may be left"));
    }
}
