package io.k3gpu.lab;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The node-side simulations (Python, stdlib only) run on the host against a scratch root: K3GPU_LAB_FSROOT
 * prefixes every path they use. No root needed.
 */
class SimScriptsTest {
    @TempDir
    static Path root;
    static Path bin;

    record Run(int exit, String out, String err) {
    }

    @BeforeAll
    static void install() throws IOException {
        assumeThat(Path.of("/usr/bin/python3")).isExecutable();
        bin = root.resolve("bin");
        Files.createDirectories(bin);
        Path lib = root.resolve("usr/local/lib/k3gpu-lab");
        Files.createDirectories(lib.resolve("nvidia-smi"));
        Files.createDirectories(lib.resolve("tegrastats"));
        Files.createDirectories(root.resolve("etc/k3gpu-lab/services/enabled"));
        Files.createDirectories(root.resolve("etc/k3gpu-lab/faults"));
        Files.createDirectories(root.resolve("etc/docker"));
        // as on a node: the tools link to k3lab-tool, which runs their modules compiled
        NodeFiles.writeSharedLib(lib, new Fixtures(null));
        for (String tool : List.of("nvidia-smi", "dockerd", "docker", "systemctl", "journalctl", "tegrastats")) {
            Files.createSymbolicLink(bin.resolve(tool), lib.resolve("k3lab-tool"));
        }
        Fixtures f = new Fixtures(null);
        for (String name : Fixtures.NVIDIA_SMI_FILES) {
            Files.write(lib.resolve("nvidia-smi").resolve(name), f.bytes("nvidia-smi/" + name));
        }
        String samples = f.text("tegrastats/samples.txt");
        Files.writeString(lib.resolve("tegrastats/root.txt"),
                String.join("\n", Fixtures.tegrastatsLines(samples, "Jetson Orin Nano 8GB", true)) + "\n");
        Files.writeString(lib.resolve("tegrastats/user.txt"),
                String.join("\n", Fixtures.tegrastatsLines(samples, "Jetson Orin Nano 8GB", false)) + "\n");
        Files.writeString(root.resolve("etc/k3gpu-lab/node.json"), "{\"docker\": {\"version\": \"20.10.21\", "
                + "\"apiVersion\": \"1.41\", \"goVersion\": \"go1.18.1\", \"gitCommit\": \"x\", \"clientBuild\": \"x\"}, "
                + "\"arch\": \"aarch64\", \"kernelRelease\": \"4.9.253-tegra\", \"cpus\": 4, \"memTotal\": 4156555264}");
        Files.writeString(root.resolve("etc/k3gpu-lab/services/docker.service-sh"),
                "DESCRIPTION=\"Docker Application Container Engine\"\nEXEC_START=\"" + bin.resolve("dockerd")
                        + "\"\nREADY_FILE=\"/run/k3gpu-lab/docker/state.json\"\nSTOP_TIMEOUT=5\n");
    }

    static Run run(String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(command));
        cmd.set(0, bin.resolve(cmd.get(0)).toString());
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("K3GPU_LAB_FSROOT", root.toString());
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out, err);
    }

    @Test
    void nvidiaSmiAnswersLikeTheCapturedH200() throws Exception {
        assertThat(run("nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader").out())
                .isEqualTo("NVIDIA H200, 143771 MiB\n");
        String header = Files.readAllLines(root.resolve("usr/local/lib/k3gpu-lab/nvidia-smi/q-header.csv")).get(0);
        String[] captured = Files.readAllLines(root.resolve("usr/local/lib/k3gpu-lab/nvidia-smi/q-header.csv"))
                .get(1).split(", ", 2);
        String fields = header.replaceAll(" \\[[^]]*]", "").replace(", ", ",");
        String[] lines = run("nvidia-smi", "--query-gpu=" + fields, "--format=csv").out().split("\n");
        assertThat(lines[0]).isEqualTo(header);
        assertThat(lines[1]).matches("\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}, .*");
        assertThat(lines[1].split(", ", 2)[1]).isEqualTo(captured[1]);
        assertThat(run("nvidia-smi", "--query-gpu=gpu_name,clocks.sm,utilization.gpu,fan.speed",
                "--format=csv,nounits").out()).isEqualTo(
                "name, clocks.current.sm [MHz], utilization.gpu [%], fan.speed [%]\nNVIDIA H200, 1980, 0, [N/A]\n");
        assertThat(run("nvidia-smi", "-L").out()).startsWith("GPU 0: NVIDIA H200 (UUID: GPU-eed3be17");
        assertThat(run("nvidia-smi", "--version").out()).contains("CUDA Version        : 13.0");
        Run bad = run("nvidia-smi", "--query-gpu=name,bogus", "--format=csv");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("Field \"bogus\" is not a valid field to query.");
        assertThat(run("nvidia-smi").out()).contains("NVIDIA H200", "143771MiB", "CUDA Version: 13.0");
    }

    @Test
    void everyDocumentedFieldAnswers() throws Exception {
        List<String> names = new ArrayList<>();
        for (String line : Files.readAllLines(root.resolve("usr/local/lib/k3gpu-lab/nvidia-smi/help-query-gpu.txt"))) {
            if (line.matches("^\"[^\"]+\"( or \"[^\"]+\")?\\s*$")) {
                names.add(line.substring(1, line.indexOf('"', 1)));
            }
        }
        assertThat(names).hasSizeGreaterThan(200).contains("memory.total", "hostname", "clocks.max.memory");
        Run r = run("nvidia-smi", "--query-gpu=" + String.join(",", names), "--format=csv,noheader");
        assertThat(r.exit()).isZero();
        assertThat(r.out().strip().split(", ")).hasSize(names.size());
    }

    @Test
    void nvidiaSmiLoopsAndReplaysTheLoadedGpu() throws Exception {
        Path load = root.resolve("etc/k3gpu-lab/gpu-load");
        Files.writeString(load, "busy\n");
        try {
            ProcessBuilder pb = new ProcessBuilder(bin.resolve("nvidia-smi").toString(),
                    "--query-gpu=utilization.gpu,power.draw", "--format=csv,noheader,nounits", "-lms", "50");
            pb.environment().put("K3GPU_LAB_FSROOT", root.toString());
            Process p = pb.start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
                assertThat(r.readLine()).isEqualTo("100, 692.60");
                assertThat(r.readLine()).isEqualTo("100, 692.36");
            } finally {
                p.destroy();
            }
            assertThat(p.waitFor(5, TimeUnit.SECONDS)).isTrue();
        } finally {
            Files.delete(load);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"debug\": true,}|invalid character '}' looking for beginning of object key string",
            "{\"runtimes\": {\"nvidia\": {\"path\": \"x\"}}|unexpected end of JSON input",
            "{\"default-runtime\" \"nvidia\"}|invalid character '\"' after object key",
            "{\"debug\": true \"x\": 1}|invalid character '\"' after object key:value pair",
            "{\"debug\": tru}|invalid character '}' in literal true (expecting 'e')",
            "{} x|invalid character 'x' after top-level value",
            "{'debug': true}|invalid character '\\'' looking for beginning of object key string",
            "[1, 2]|json: cannot unmarshal array into Go value of type map[string]interface {}",
            "{\"foo\": 1, \"debug\": true}|the following directives don't match any configuration option: foo",
            "{\"default-runtime\": \"nvidia\"}|configuration validation from file failed: specified default runtime 'nvidia' does not exist",
    })
    void dockerdRefusesWhatTheRealOneRefuses(String daemonJson, String message) throws Exception {
        Files.writeString(root.resolve("etc/docker/daemon.json"), daemonJson);
        Run r = run("dockerd");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo(
                message.startsWith("configuration") || message.startsWith("invalid") || message.startsWith("unexpected")
                        || message.startsWith("json") || message.startsWith("the following")
                        ? "unable to configure the Docker daemon with file /etc/docker/daemon.json: " + message
                        : message);
    }

    @Test
    void systemctlRunsTheDaemonAndDockerReportsWhatItRunsWith() throws Exception {
        Path daemonJson = root.resolve("etc/docker/daemon.json");
        Files.writeString(daemonJson, "{\"default-runtime\": \"nvidia\", \"runtimes\": {\"nvidia\": "
                + "{\"path\": \"nvidia-container-runtime\", \"args\": []}}}");
        assertThat(run("systemctl", "restart", "docker").exit()).isZero();
        try {
            assertThat(run("systemctl", "is-active", "docker").out()).isEqualTo("active\n");
            Run both = run("systemctl", "is-active", "k3s", "docker");
            assertThat(both.out()).isEqualTo("inactive\nactive\n");
            assertThat(both.exit()).isEqualTo(3);
            assertThat(run("systemctl", "is-enabled", "docker")).isEqualTo(new Run(1, "disabled\n", ""));
            assertThat(run("systemctl", "is-enabled", "k3s")).isEqualTo(new Run(1, "",
                    "Failed to get unit file state for k3s.service: No such file or directory\n"));
            assertThat(run("docker", "info", "--format", "{{.DefaultRuntime}}").out()).isEqualTo("nvidia\n");
            assertThat(run("docker", "info", "--format", "{{.DefaultRuntime}}\n{{json .Runtimes}}").out()).startsWith(
                    "nvidia\n{\"io.containerd.runc.v2\":{\"path\":\"runc\"},");
            assertThat(run("docker", "info", "--format", "{{json .Runtimes}}").out()).isEqualTo(
                    "{\"io.containerd.runc.v2\":{\"path\":\"runc\"},\"io.containerd.runtime.v1.linux\":{\"path\":\"runc\"},"
                            + "\"nvidia\":{\"path\":\"nvidia-container-runtime\"},\"runc\":{\"path\":\"runc\"}}\n");
            assertThat(run("docker", "info").out()).contains(
                    " Runtimes: io.containerd.runc.v2 io.containerd.runtime.v1.linux nvidia runc\n",
                    " Default Runtime: nvidia\n", " Architecture: aarch64\n", " Kernel Version: 4.9.253-tegra\n");
            assertThat(run("docker", "version", "--format", "{{.Server.Version}}").out()).isEqualTo("20.10.21\n");
            // daemon.json changes only count after a restart
            Files.writeString(daemonJson, "{}");
            assertThat(run("docker", "info", "--format", "{{.DefaultRuntime}}").out()).isEqualTo("nvidia\n");
            // a broken file: restart fails like systemd says, the daemon is down
            Files.writeString(daemonJson, "{\"default-runtime\": ");
            Run restart = run("systemctl", "restart", "docker");
            assertThat(restart.exit()).isEqualTo(1);
            assertThat(restart.err()).isEqualTo("Job for docker.service failed because the control process exited "
                    + "with error code.\nSee \"systemctl status docker.service\" and \"journalctl -xeu docker.service\" "
                    + "for details.\n");
            assertThat(run("systemctl", "is-active", "docker").out()).isEqualTo("failed\n");
            Run info = run("docker", "info", "--format", "{{.DefaultRuntime}}");
            assertThat(info.exit()).isEqualTo(1);
            assertThat(info.err()).isEqualTo("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                    + "Is the docker daemon running?\n");
            assertThat(run("journalctl", "-u", "docker", "-n", "4", "--no-pager").out())
                    .contains("unexpected end of JSON input", "Failed to start Docker Application Container Engine.");
            // injected fault: one failed start, then fine again
            Files.delete(daemonJson);
            Files.writeString(root.resolve("etc/k3gpu-lab/faults/dockerd-fail-starts"), "1\n");
            assertThat(run("systemctl", "restart", "docker").exit()).isEqualTo(1);
            assertThat(run("journalctl", "-u", "docker").out()).contains("injected fault");
            assertThat(Files.readString(root.resolve("etc/k3gpu-lab/faults/dockerd-fail-starts"))).isEqualTo("0\n");
            assertThat(run("systemctl", "restart", "docker").exit()).isZero();
            assertThat(run("docker", "info", "--format", "{{.DefaultRuntime}}").out()).isEqualTo("runc\n");
            assertThat(run("systemctl", "status", "docker").out()).contains("Active: active (running)");
        } finally {
            run("systemctl", "stop", "docker");
            Files.deleteIfExists(daemonJson);
        }
        assertThat(run("systemctl", "is-active", "docker").exit()).isEqualTo(3);
        assertThat(run("systemctl", "is-active", "--quiet", "k3s").out()).isEmpty();
        assertThat(run("systemctl", "restart", "k3s").err()).contains("Unit k3s.service not found.");
    }

    @Test
    void tegrastatsReplaysWithTheCurrentTime() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(bin.resolve("tegrastats").toString(), "--interval", "50");
        pb.environment().put("K3GPU_LAB_FSROOT", root.toString());
        Process p = pb.start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            lines.add(r.readLine());
            lines.add(r.readLine());
        } finally {
            p.destroy();
        }
        assertThat(p.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        assertThat(lines).allSatisfy(l -> assertThat(l).matches("\\d\\d-\\d\\d-\\d{4} \\d\\d:\\d\\d:\\d\\d RAM .*")
                .doesNotStartWith("11-15-2024").contains("VDD_IN"));
    }
}
