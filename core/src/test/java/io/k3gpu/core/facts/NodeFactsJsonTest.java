package io.k3gpu.core.facts;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

class NodeFactsJsonTest {
    private static final NodeFacts NANO = new NodeFacts(
            "jetson-nano", "aarch64", "Ubuntu 18.04.6 LTS", "4.9.253-tegra",
            "NVIDIA Jetson Nano Developer Kit", "tegra210",
            "32.7.1", "nv_tegra_release", "4.6.1", "10.2.300",
            List.of(),
            true, true, "runc", List.of("nvidia", "runc"),
            true, "/usr/bin/nvidia-container-runtime",
            true,
            false, null, null, null,
            "1.7.0", null, false);
    private static final NodeFacts H200 = new NodeFacts(
            "gpu-h200-01", "x86_64", "Ubuntu 24.04.2 LTS", "6.8.0-60-generic",
            null, null, null, null, null, null,
            List.of(new Gpu(0, "NVIDIA H200", "GPU-eed3be17-8c4b-3ec0-67f4-92cf24bce06f", 143771L, "580.159.04"),
                    new Gpu(1, "NVIDIA Thor", "GPU-0c1c3b7a", null, null)),
            false, false, null, List.of(),
            false, null,
            true,
            true, "server", "v1.31.4+k3s1", "nvidia",
            null, "/usr/local/nvidia/toolkit/nvidia-container-runtime", true);

    @Test
    void prettyJsonHasEveryFieldInOrderWithNulls() {
        assertThat(NodeFactsJson.toJson(NANO)).isEqualTo("""
                {
                  "hostname": "jetson-nano",
                  "arch": "aarch64",
                  "os": "Ubuntu 18.04.6 LTS",
                  "kernel": "4.9.253-tegra",
                  "jetsonModel": "NVIDIA Jetson Nano Developer Kit",
                  "socFamily": "tegra210",
                  "l4tVersion": "32.7.1",
                  "l4tSource": "nv_tegra_release",
                  "jetpackVersion": "4.6.1",
                  "cudaVersion": "10.2.300",
                  "gpus": [],
                  "dockerInstalled": true,
                  "dockerRunning": true,
                  "dockerDefaultRuntime": "runc",
                  "dockerRuntimes": [
                    "nvidia",
                    "runc"
                  ],
                  "nvidiaContainerRuntime": true,
                  "nvidiaContainerRuntimePath": "/usr/bin/nvidia-container-runtime",
                  "containerdInstalled": true,
                  "k3sInstalled": false,
                  "k3sRole": null,
                  "k3sVersion": null,
                  "k3sDefaultRuntime": null,
                  "nvidiaContainerToolkitVersion": "1.7.0",
                  "toolkitDirRuntime": null,
                  "toolkitDirRuntimeDiffers": false,
                  "warnings": []
                }""");
    }

    @Test
    void prettyJsonOfGpus() {
        assertThat(NodeFactsJson.toJson(H200)).isEqualTo("""
                {
                  "hostname": "gpu-h200-01",
                  "arch": "x86_64",
                  "os": "Ubuntu 24.04.2 LTS",
                  "kernel": "6.8.0-60-generic",
                  "jetsonModel": null,
                  "socFamily": null,
                  "l4tVersion": null,
                  "l4tSource": null,
                  "jetpackVersion": null,
                  "cudaVersion": null,
                  "gpus": [
                    {
                      "index": 0,
                      "name": "NVIDIA H200",
                      "uuid": "GPU-eed3be17-8c4b-3ec0-67f4-92cf24bce06f",
                      "memoryTotalMiB": 143771,
                      "driverVersion": "580.159.04"
                    },
                    {
                      "index": 1,
                      "name": "NVIDIA Thor",
                      "uuid": "GPU-0c1c3b7a",
                      "memoryTotalMiB": null,
                      "driverVersion": null
                    }
                  ],
                  "dockerInstalled": false,
                  "dockerRunning": false,
                  "dockerDefaultRuntime": null,
                  "dockerRuntimes": [],
                  "nvidiaContainerRuntime": false,
                  "nvidiaContainerRuntimePath": null,
                  "containerdInstalled": true,
                  "k3sInstalled": true,
                  "k3sRole": "server",
                  "k3sVersion": "v1.31.4+k3s1",
                  "k3sDefaultRuntime": "nvidia",
                  "nvidiaContainerToolkitVersion": null,
                  "toolkitDirRuntime": "/usr/local/nvidia/toolkit/nvidia-container-runtime",
                  "toolkitDirRuntimeDiffers": true,
                  "warnings": [
                    "/usr/local/nvidia/toolkit/nvidia-container-runtime is another file than the packaged /usr/bin/nvidia-container-runtime, and K3s uses the one in /usr/local/nvidia/toolkit first; unless NVIDIA's GPU Operator manages this node, remove /usr/local/nvidia/toolkit (or link the packaged runtime there) and restart K3s"
                  ]
                }""");
    }

    @Test
    void compactJsonIsOneLine() {
        assertThat(NodeFactsJson.toCompactJson(NANO)).isEqualTo("{\"hostname\":\"jetson-nano\",\"arch\":\"aarch64\","
                + "\"os\":\"Ubuntu 18.04.6 LTS\",\"kernel\":\"4.9.253-tegra\","
                + "\"jetsonModel\":\"NVIDIA Jetson Nano Developer Kit\",\"socFamily\":\"tegra210\","
                + "\"l4tVersion\":\"32.7.1\",\"l4tSource\":\"nv_tegra_release\",\"jetpackVersion\":\"4.6.1\","
                + "\"cudaVersion\":\"10.2.300\",\"gpus\":[],\"dockerInstalled\":true,\"dockerRunning\":true,"
                + "\"dockerDefaultRuntime\":\"runc\",\"dockerRuntimes\":[\"nvidia\",\"runc\"],"
                + "\"nvidiaContainerRuntime\":true,\"nvidiaContainerRuntimePath\":\"/usr/bin/nvidia-container-runtime\","
                + "\"containerdInstalled\":true,\"k3sInstalled\":false,\"k3sRole\":null,\"k3sVersion\":null,"
                + "\"k3sDefaultRuntime\":null,\"nvidiaContainerToolkitVersion\":\"1.7.0\",\"toolkitDirRuntime\":null,"
                + "\"toolkitDirRuntimeDiffers\":false,\"warnings\":[]}");
    }

    @Test
    void theParsedFixtureRoundTripsToTheSameJson() {
        NodeFacts parsed = FactsParser.parse(FactsParserTest.fixture("jetson-nano-jp461.out"));

        assertThat(NodeFactsJson.toJson(parsed)).contains("\"l4tVersion\": \"32.7.1\"",
                "\"jetsonModel\": \"NVIDIA Jetson Nano Developer Kit\"", "\"dockerDefaultRuntime\": \"runc\"",
                "\"nvidiaContainerRuntime\": true", "\"k3sRole\": null", "\"gpus\": []");
    }
}
