package io.k3gpu.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class GpuRuntimeIT {
    private static final String DAEMON_JSON = "/etc/docker/daemon.json";
    static TestLab lab;

    @BeforeAll
    static void up() {
        lab = TestLab.up("itgpurt", 235, "jetson-nano", "jetson-nano", "jetson-nano", "orin-nano", "cpu-only",
                "dgpu");
    }

    @AfterAll
    static void down() {
        lab.close();
    }

    private static Cli.Result gpuRuntime(String node, String... more) {
        return Cli.run(TestLab.args("gpu-runtime", lab.ssh(node), more));
    }

    private static String dockerRuntime(String node) throws Exception {
        return lab.sh(node, "docker info --format '{{.DefaultRuntime}}'").strip();
    }

    private static String dockerPid(String node) throws IOException {
        return lab.read(node, "/run/docker.pid").strip();
    }

    @Test
    void makesNvidiaTheDefaultThenChangesNothingOnASecondRun() throws Exception {
        String node = "jetson1";
        byte[] stock = Files.readAllBytes(lab.path(node, DAEMON_JSON));

        Cli.Result dry = gpuRuntime(node, "--dry-run");
        assertThat(dry.exit()).isZero();
        assertThat(dry.out()).contains("+    \"default-runtime\": \"nvidia\"").contains("would change");
        assertThat(Files.readAllBytes(lab.path(node, DAEMON_JSON))).isEqualTo(stock);
        assertThat(dockerRuntime(node)).isEqualTo("runc");

        Cli.Result first = gpuRuntime(node);
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("docker: changed");
        assertThat(dockerRuntime(node)).isEqualTo("nvidia");
        String merged = lab.read(node, DAEMON_JSON);
        assertThat(merged).contains("\"default-runtime\": \"nvidia\"").contains("\"runtimeArgs\": []");
        try (Stream<Path> files = Files.list(lab.path(node, "/etc/docker"))) {
            Path backup = files.filter(p -> p.getFileName().toString().startsWith("daemon.json.k3gpu-backup-"))
                    .findFirst().orElseThrow();
            assertThat(Files.readAllBytes(backup)).isEqualTo(stock);
        }

        FileTime mtime = Files.getLastModifiedTime(lab.path(node, DAEMON_JSON));
        String pid = dockerPid(node);
        Cli.Result second = gpuRuntime(node, "-o", "json");
        assertThat(second.exit()).isZero();
        assertThat(second.out()).contains("\"outcome\" : \"unchanged\"");
        assertThat(Files.getLastModifiedTime(lab.path(node, DAEMON_JSON))).isEqualTo(mtime);
        assertThat(dockerPid(node)).as("docker was not restarted").isEqualTo(pid);
    }

    @Test
    void refusesAnInvalidDaemonJsonAndLeavesItUntouched() throws Exception {
        String node = "jetson2";
        String broken = "{\n    \"log-driver\": \"json-file\",\n}\n";
        lab.write(node, DAEMON_JSON, broken);

        Cli.Result r = gpuRuntime(node);

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).startsWith("error: /etc/docker/daemon.json is not valid JSON (line 3")
                .contains("nothing was changed");
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(lab.read(node, DAEMON_JSON)).isEqualTo(broken);
    }

    @Test
    void restoresTheOldFileByteForByteWhenDockerFailsToRestart() throws Exception {
        String node = "jetson3";
        String original = "{\n  \"data-root\": \"/mnt/docker\",\n  \"log-driver\": \"json-file\",\n"
                + "  \"log-opts\": {\"max-size\": \"10m\"},\n"
                + "  \"runtimes\": {\"nvidia\": {\"path\": \"nvidia-container-runtime\", \"runtimeArgs\": []}}\n}";
        lab.write(node, DAEMON_JSON, original);
        lab.sh(node, "systemctl restart docker");
        lab.write(node, "/etc/k3gpu-lab/faults/dockerd-fail-starts", "1\n");

        Cli.Result r = gpuRuntime(node);

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("docker failed to restart").contains("was restored from")
                .contains("docker restarted");
        assertThat(lab.read(node, DAEMON_JSON)).isEqualTo(original);
        assertThat(dockerRuntime(node)).isEqualTo("runc");
    }

    @Test
    void refusesANodeWithoutTheNvidiaContainerRuntime() throws Exception {
        Cli.Result r = gpuRuntime("node1");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("nvidia-container-runtime is not installed on " + lab.ip("node1"))
                .contains("nothing was changed");
        assertThat(Files.exists(lab.path("node1", DAEMON_JSON))).isFalse();
        assertThat(dockerRuntime("node1")).isEqualTo("runc");
    }

    @Test
    void createsDaemonJsonOnAFreshDockerInstall() throws Exception {
        Cli.Result r = gpuRuntime("gpu1");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(lab.read("gpu1", DAEMON_JSON)).isEqualTo("""
                {
                    "default-runtime": "nvidia",
                    "runtimes": {
                        "nvidia": {
                            "path": "nvidia-container-runtime",
                            "args": []
                        }
                    }
                }
                """);
        assertThat(dockerRuntime("gpu1")).isEqualTo("nvidia");
    }

    @Test
    void setsK3sDefaultRuntimeOnAContainerdOnlyJetson() throws Exception {
        String node = "jetson4";
        lab.write(node, "/etc/rancher/k3s/config.yaml", "# managed by hand\nnode-label:\n  - site=lab\n");

        Cli.Result first = gpuRuntime(node);
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("k3s: changed");
        assertThat(lab.read(node, "/etc/rancher/k3s/config.yaml"))
                .isEqualTo("# managed by hand\nnode-label:\n  - site=lab\ndefault-runtime: nvidia\n");

        Cli.Result second = gpuRuntime(node, "--runtime", "k3s");
        assertThat(second.out()).contains("k3s: unchanged");
    }
}
