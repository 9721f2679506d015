package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.databind.node.ObjectNode;

class K3sNodeObjectTest {
    static final Instant NOW = Instant.parse("2026-11-28T18:00:00Z");
    /** A Jetson Nano (lab profile jetson-nano) joined with --docker after gpu-runtime set nvidia as default. */
    static final HostFacts JETSON = new HostFacts("jetson1", "arm64", "4.9.253-tegra", "Ubuntu 18.04.6 LTS", 4,
            4059136, 30435312, "192.168.0.40", "0f3c3a54-8a8b-4a64-9d7b-5a3e6c1d2e3f",
            "8f1c4e2a9b7d4c3e8f1a2b3c4d5e6f70", 1, List.of("nvidia"), "20.10.21", "nvidia");

    static K3sNodeObject.Spec spec(boolean docker, String defaultRuntime) {
        return new K3sNodeObject.Spec("jetson1", "v1.31.4+k3s1", true, false, docker, defaultRuntime,
                List.of("k3gpu.dev/l4t=32.7.1"), List.of("nvidia.com/gpu=true:NoSchedule"), List.of(), List.of(),
                List.of("server", "--docker", "--token", "********"), "10.42.0.0/24");
    }

    @Test
    void nodeObjectMatchesTheGoldenFile() throws IOException {
        ObjectNode node = K3sNodeObject.build(spec(true, null), JETSON, NOW);
        String golden;
        try (InputStream in = getClass().getResourceAsStream("node-golden.json")) {
            golden = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n").isEqualTo(golden);
    }

    @Test
    void gpuCapacityNeedsAnNvidiaEnabledDefaultRuntime() {
        HostFacts runcDocker = new HostFacts("jetson1", "arm64", "4.9.253-tegra", "Ubuntu 18.04.6 LTS", 4, 4059136,
                30435312, "192.168.0.40", "b", "m", 1, List.of("nvidia"), "20.10.21", "runc");
        assertThat(K3sNodeObject.build(spec(true, null), runcDocker, NOW).path("status").path("capacity")
                .has("nvidia.com/gpu")).isFalse();
        ObjectNode containerd = K3sNodeObject.build(spec(false, "nvidia"), JETSON, NOW);
        assertThat(containerd.path("status").path("capacity").path("nvidia.com/gpu").asString()).isEqualTo("1");
        assertThat(containerd.path("status").path("nodeInfo").path("containerRuntimeVersion").asString())
                .isEqualTo("containerd://1.7.23-k3s2");
        assertThat(K3sNodeObject.build(spec(false, null), JETSON, NOW).path("status").path("capacity")
                .has("nvidia.com/gpu")).isFalse();
    }

    @Test
    void nvidiaRuntimesAreFoundOnPath(@TempDir Path dir) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        for (String name : List.of("nvidia-container-runtime", "nvidia-container-runtime.cdi")) {
            Path f = Files.writeString(bin.resolve(name), "#!/bin/sh\n");
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        assertThat(HostFacts.nvidiaRuntimes("/nonexistent:" + bin)).containsExactly("nvidia", "nvidia-cdi");
        assertThat(HostFacts.nvidiaRuntimes("/nonexistent")).isEmpty();
    }

    @Test
    void unameMachineBecomesKubernetesArch() {
        assertThat(HostFacts.kubeArch("aarch64")).isEqualTo("arm64");
        assertThat(HostFacts.kubeArch("x86_64\n")).isEqualTo("amd64");
        assertThat(HostFacts.kubeArch("armv7l")).isEqualTo("arm");
    }
}
