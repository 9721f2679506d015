package io.k3gpu.core.facts;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Facts derived after a runtime change read the same as facts gathered again. */
class NodeFactsTest {

    private static String withSection(String output, String section, String content) {
        String marker = "@@k3gpu:" + section + "\n";
        int start = output.indexOf(marker) + marker.length();
        int end = output.indexOf("\n@@k3gpu:", start);
        return output.substring(0, start) + content + "\n" + output.substring(end);
    }

    @Test
    void k3sDefaultRuntimeSetReadsAsTheGatheredConfigWouldSayIt() {
        String before = FactsParserTest.fixture("jetson-nano-jp461.out");
        String after = withSection(before, FactsScript.K3S_CONFIG_DEFAULT_RUNTIME, "default-runtime: nvidia");

        assertThat(FactsParser.parse(before).withK3sDefaultRuntime("nvidia")).isEqualTo(FactsParser.parse(after));
    }

    @Test
    void dockerRestartedWithTheNvidiaDefaultReadsAsDockerInfoWouldSayIt() {
        String before = FactsParserTest.fixture("jetson-nano-jp461.out");
        String after = withSection(before, FactsScript.DOCKER_DEFAULT_RUNTIME, "nvidia");

        NodeFacts derived = FactsParser.parse(before).withDockerDefaultRuntime("nvidia");
        assertThat(FactsParser.parse(before).dockerDefaultRuntime()).isEqualTo("runc");
        assertThat(derived).isEqualTo(FactsParser.parse(after));
    }

    @Test
    void aDockerDaemonThatWasDownIsRunningWithTheRuntimeAfterwards() {
        String down = withSection(withSection(FactsParserTest.fixture("jetson-nano-jp461.out"),
                FactsScript.DOCKER_DEFAULT_RUNTIME, ""), FactsScript.DOCKER_INFO_RC, "1");
        NodeFacts before = FactsParser.parse(down);
        assertThat(before.dockerRunning()).isFalse();

        NodeFacts after = before.withDockerDefaultRuntime("nvidia");
        assertThat(after.dockerRunning()).isTrue();
        assertThat(after.dockerDefaultRuntime()).isEqualTo("nvidia");
        assertThat(after.dockerRuntimes()).containsExactly("nvidia");
    }
}
