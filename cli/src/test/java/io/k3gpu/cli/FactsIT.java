package io.k3gpu.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

class FactsIT {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    static TestLab lab;

    @BeforeAll
    static void up() {
        lab = TestLab.up("itfacts", 234, "jetson-nano", "orin-nano", "dgpu", "cpu-only");
    }

    @AfterAll
    static void down() {
        lab.close();
    }

    private static JsonNode facts(String node) {
        Cli.Result r = Cli.run(TestLab.args("facts", lab.ssh(node), "-o", "json"));
        assertThat(r.exit()).as(r.err()).isZero();
        return JSON.readTree(r.out());
    }

    @Test
    void jetsonNanoReportsItsL4tCudaAndDockerRuntime() {
        JsonNode f = facts("jetson1");
        assertThat(f.get("hostname").asString()).isEqualTo("jetson1");
        assertThat(f.get("arch").asString()).isEqualTo("aarch64");
        assertThat(f.get("jetsonModel").asString()).isEqualTo("NVIDIA Jetson Nano Developer Kit");
        assertThat(f.get("socFamily").asString()).isEqualTo("tegra210");
        assertThat(f.get("l4tVersion").asString()).isEqualTo("32.7.1");
        assertThat(f.get("jetpackVersion").asString()).isEqualTo("4.6.1");
        assertThat(f.get("cudaVersion").asString()).isEqualTo("10.2.300");
        assertThat(f.get("gpus")).isEmpty();
        assertThat(f.get("dockerDefaultRuntime").asString()).isEqualTo("runc");
        assertThat(f.get("nvidiaContainerRuntime").asBoolean()).isTrue();
        assertThat(f.get("k3sRole").isNull()).isTrue();
    }

    @Test
    void orinNanoHasNoDocker() {
        JsonNode f = facts("jetson2");
        assertThat(f.get("l4tVersion").asString()).isEqualTo("36.4.3");
        assertThat(f.get("socFamily").asString()).isEqualTo("tegra234");
        assertThat(f.get("cudaVersion").asString()).isEqualTo("12.6.68");
        assertThat(f.get("dockerInstalled").asBoolean()).isFalse();
        assertThat(f.get("dockerDefaultRuntime").isNull()).isTrue();
    }

    @Test
    void gpuServerListsItsH200() {
        JsonNode f = facts("gpu1");
        assertThat(f.get("arch").asString()).isEqualTo("x86_64");
        assertThat(f.get("jetsonModel").isNull()).isTrue();
        assertThat(f.get("gpus")).hasSize(1);
        assertThat(f.get("gpus").get(0).get("name").asString()).isEqualTo("NVIDIA H200");
        assertThat(f.get("gpus").get(0).get("memoryTotalMiB").asLong()).isEqualTo(143771L);
    }

    @Test
    void textOutputIsATableAPersonReads() {
        Cli.Result r = Cli.run(TestLab.args("facts", lab.ssh("node1")));
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("hostname:                 node1")
                .contains("nvidia-container-runtime: not installed")
                .contains("gpus:                     none");
    }
}
