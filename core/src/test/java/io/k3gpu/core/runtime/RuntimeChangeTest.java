package io.k3gpu.core.runtime;

import io.k3gpu.core.facts.FactsParser;
import io.k3gpu.core.facts.FactsParserTest;
import io.k3gpu.core.facts.NodeFacts;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RuntimeChangeTest {
    private static final NodeFacts NANO = FactsParser.parse(FactsParserTest.fixture("jetson-nano-jp461.out"));

    private static RuntimeChange change(ContainerRuntime runtime, RuntimeChange.Outcome outcome) {
        return new RuntimeChange("10.0.0.2", runtime, outcome, runtime.configFile(), "", null, null, "");
    }

    @Test
    void aChangedRuntimeIsTheDefaultInTheFactsAfterwards() {
        NodeFacts docker = change(ContainerRuntime.DOCKER, RuntimeChange.Outcome.CHANGED).appliedTo(NANO);
        assertThat(NANO.dockerDefaultRuntime()).isEqualTo("runc");
        assertThat(docker).isEqualTo(NANO.withDockerDefaultRuntime("nvidia"));
        assertThat(docker.dockerDefaultRuntime()).isEqualTo("nvidia");

        NodeFacts k3s = change(ContainerRuntime.K3S, RuntimeChange.Outcome.CHANGED).appliedTo(NANO);
        assertThat(k3s).isEqualTo(NANO.withK3sDefaultRuntime("nvidia"));
        assertThat(k3s.dockerDefaultRuntime()).isEqualTo("runc");
    }

    @Test
    void anUnchangedOrDryRunChangeLeavesTheFactsAsGathered() {
        assertThat(change(ContainerRuntime.DOCKER, RuntimeChange.Outcome.UNCHANGED).appliedTo(NANO)).isSameAs(NANO);
        assertThat(change(ContainerRuntime.K3S, RuntimeChange.Outcome.WOULD_CHANGE).appliedTo(NANO)).isSameAs(NANO);
    }
}
