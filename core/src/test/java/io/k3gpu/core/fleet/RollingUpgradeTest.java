package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The rollout's order, batches and version rules (golden strings), and its runner's stop at the first failure. */
class RollingUpgradeTest {
    private static final String OLD = "v1.30.8+k3s1";
    private static final String NEW = "v1.31.4+k3s1";

    /** Agents listed before the servers, and the first server in the middle: the order must not follow the file. */
    private static final ClusterSpec SPEC = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
            hosts:
              - {name: a1, address: 10.0.1.1, role: agent}
              - {name: s2, address: 10.0.0.2, role: server}
              - {name: a2, address: 10.0.1.2, role: agent}
              - {name: s1, address: 10.0.0.1, role: server}
              - {name: a3, address: 10.0.1.3, role: agent}
              - {name: a4, address: 10.0.1.4, role: agent}
              - {name: new, address: 10.0.1.5, role: agent}
            """);

    private static List<RollingUpgrade.Seen> seen(String version) {
        List<RollingUpgrade.Seen> out = new ArrayList<>();
        for (HostSpec h : SPEC.hosts()) {
            out.add(new RollingUpgrade.Seen(h, h.name().equals("new") ? null : version));
        }
        return out;
    }

    @Test
    void serversOneAtATimeFirstServerFirstThenAgentsInBatchesOfTheDisruptionPercentAtLeastOne() {
        RollingUpgrade.Plan p = RollingUpgrade.plan(SPEC, seen(OLD), NEW, 10, 0, false);
        assertThat(RollingUpgrade.text(p)).isEqualTo("""
                rolling upgrade to v1.31.4+k3s1: 2 servers one at a time, then 4 agents in batches of 1 (cordon, drain, upgrade, Ready, GPU gate, uncordon)
                  1. s2: upgrade v1.30.8+k3s1 → v1.31.4+k3s1
                  2. s1: upgrade v1.30.8+k3s1 → v1.31.4+k3s1
                  3. agents batch 1: a1 (upgrade v1.30.8+k3s1 → v1.31.4+k3s1)
                  4. agents batch 2: a2 (upgrade v1.30.8+k3s1 → v1.31.4+k3s1)
                  5. agents batch 3: a3 (upgrade v1.30.8+k3s1 → v1.31.4+k3s1)
                  6. agents batch 4: a4 (upgrade v1.30.8+k3s1 → v1.31.4+k3s1)
                """);
        assertThat(SPEC.firstServer().name()).isEqualTo("s2");
        assertThat(p.refused()).isFalse();
    }

    @Test
    void fiftyPercentMakesBatchesOfTwoAndParallelCapsThem() {
        RollingUpgrade.Plan p = RollingUpgrade.plan(SPEC, seen(OLD), NEW, 50, 0, false);
        assertThat(p.agentBatches()).extracting(b -> b.stream().map(m -> m.host().name()).toList())
                .containsExactly(List.of("a1", "a2"), List.of("a3", "a4"));
        assertThat(RollingUpgrade.batchSize(4, 50, 1)).isEqualTo(1);
        assertThat(RollingUpgrade.batchSize(3, 10, 0)).isEqualTo(1);
        assertThat(RollingUpgrade.batchSize(25, 10, 0)).isEqualTo(2);
        assertThat(RollingUpgrade.batchSize(100, 100, 8)).isEqualTo(8);
    }

    @Test
    void nothingToDoWhenEveryHostRunsTheReleaseOrNoneIsAskedFor() {
        assertThat(RollingUpgrade.plan(SPEC, seen(NEW), NEW, 10, 0, false).empty()).isTrue();
        assertThat(RollingUpgrade.plan(SPEC, seen(OLD), null, 10, 0, false).empty()).isTrue();
        assertThat(RollingUpgrade.text(RollingUpgrade.plan(SPEC, seen(NEW), NEW, 10, 0, false))).isEmpty();
    }

    @Test
    void aNodeLeftCordonedByAStoppedRolloutIsFinishedEvenAtTheRelease() {
        List<RollingUpgrade.Seen> s = new ArrayList<>(seen(NEW));
        s.set(2, new RollingUpgrade.Seen(SPEC.host("a2"), NEW, true));
        RollingUpgrade.Plan p = RollingUpgrade.plan(SPEC, s, NEW, 10, 0, false);
        assertThat(RollingUpgrade.text(p)).isEqualTo("""
                rolling upgrade to v1.31.4+k3s1: 0 servers one at a time, then 1 agent in batches of 1 (cordon, drain, upgrade, Ready, GPU gate, uncordon)
                  1. agents batch 1: a2 (finish the upgrade to v1.31.4+k3s1 (cordoned by the rollout that stopped there))
                """);
    }

    @Test
    void aDowngradeIsRefusedUnlessAllowed() {
        RollingUpgrade.Plan p = RollingUpgrade.plan(SPEC, seen(NEW), OLD, 10, 0, false);
        assertThat(p.refusals()).hasSize(6).first().isEqualTo("s2: v1.31.4+k3s1 → v1.30.8+k3s1 is a downgrade, which "
                + "K3s does not support (the datastore of the newer release may not be read back); --allow-downgrade "
                + "does it anyway");
        RollingUpgrade.Plan allowed = RollingUpgrade.plan(SPEC, seen(NEW), OLD, 10, 0, true);
        assertThat(allowed.refused()).isFalse();
        assertThat(allowed.servers().get(0).describe()).isEqualTo("downgrade v1.31.4+k3s1 → v1.30.8+k3s1");
    }

    @Test
    void aJumpOfMoreThanOneMinorIsRefusedWithTheReleasesToGoThrough() {
        assertThat(RollingUpgrade.refusal(SPEC.host("s1"), "v1.28.15+k3s1", NEW, false)).contains("s1: v1.28.15+k3s1 "
                + "→ v1.31.4+k3s1 skips v1.29, v1.30: Kubernetes upgrades one minor release at a time (version skew "
                + "policy); go through k3sChannel: v1.29, then k3sChannel: v1.30 (apply each), then v1.31.4+k3s1");
        assertThat(RollingUpgrade.refusal(SPEC.host("s1"), OLD, NEW, false)).isEmpty();
        assertThat(RollingUpgrade.refusal(SPEC.host("s1"), "v1.31.2+k3s1", "v1.31.4+k3s1", false)).isEmpty();
        assertThat(RollingUpgrade.refusal(SPEC.host("s1"), NEW, "v1.31.4+k3s2", false)).isEmpty();
        assertThat(RollingUpgrade.refusal(SPEC.host("s1"), "v1.31.4+k3s2", NEW, false)).isPresent();
    }

    @Test
    void theRunnerStopsAtTheFirstFailureAndLeavesTheHostsAfterItUntouched() {
        RollingUpgrade.Plan p = RollingUpgrade.plan(SPEC, seen(OLD), NEW, 50, 0, false);
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        FleetResult r = FleetUpgrade.run(p, new FleetUpgrade.HostWork() {
            @Override
            public List<String> upgradeServer(RollingUpgrade.Move move, Events events) {
                log.add("server " + move.host().name());
                return List.of(move.describe());
            }

            @Override
            public List<String> upgradeAgent(RollingUpgrade.Move move, Events events) {
                log.add("agent " + move.host().name());
                if (move.host().name().equals("a2")) {
                    throw new K3gpuException(ExitCode.TIMEOUT, "drain timed out", null);
                }
                return List.of(move.describe());
            }
        }, FleetEvents.NONE);
        assertThat(log.subList(0, 2)).containsExactly("server s2", "server s1");
        assertThat(log.subList(2, 4)).containsExactlyInAnyOrder("agent a1", "agent a2");
        assertThat(log).hasSize(4);
        assertThat(r.hosts()).extracting(h -> h.host().name() + " " + h.status().label() + (h.error() == null ? ""
                        : ": " + h.error()))
                .containsExactly("s2 changed", "s1 changed", "a1 changed", "a2 failed: drain timed out",
                        "a3 skipped: skipped: a2 (upgrade, agents batch 1) failed",
                        "a4 skipped: skipped: a2 (upgrade, agents batch 1) failed");
    }
}
