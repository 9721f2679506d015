package io.k3gpu.core.facts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.LocalSh;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FactsScriptTest {
    private static final String SCRIPT = FactsScript.text();

    @Test
    void printsEverySectionTheParserReadsInOrderEndingWithEnd() {
        List<String> sections = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^k3gpu_section (\\S+)$").matcher(SCRIPT);
        while (m.find()) {
            sections.add(m.group(1));
        }

        assertThat(sections).containsExactly(
                FactsScript.HOSTNAME, FactsScript.ARCH, FactsScript.KERNEL, FactsScript.OS_RELEASE,
                FactsScript.NV_TEGRA_RELEASE, FactsScript.L4T_CORE_VERSION, FactsScript.DT_MODEL,
                FactsScript.DT_COMPATIBLE, FactsScript.SOC_FAMILY, FactsScript.CUDA_VERSION_TXT,
                FactsScript.CUDA_VERSION_JSON, FactsScript.NVCC, FactsScript.NVIDIA_SMI, FactsScript.DOCKER,
                FactsScript.DOCKER_DEFAULT_RUNTIME, FactsScript.DOCKER_INFO_RC, FactsScript.DOCKER_RUNTIMES,
                FactsScript.NVIDIA_CONTAINER_RUNTIME, FactsScript.NVIDIA_CONTAINER_TOOLKIT_DPKG,
                FactsScript.NVIDIA_CONTAINER_TOOLKIT_CLI, FactsScript.NVIDIA_TOOLKIT_DIR_RUNTIME, FactsScript.CONTAINERD, FactsScript.K3S,
                FactsScript.K3S_VERSION, FactsScript.K3S_UNITS, FactsScript.K3S_ENABLED, FactsScript.K3S_DIRS,
                FactsScript.K3S_CONFIG_DEFAULT_RUNTIME, FactsScript.END);
    }

    @Test
    void eachMarkerStartsOnItsOwnLine() {
        assertThat(SCRIPT).contains("k3gpu_section() { printf '\\n@@k3gpu:%s\\n' \"$1\"; }");
    }

    @Test
    void runsTheExactProbesTheFactsNeed() {
        assertThat(SCRIPT).contains(
                "dpkg-query --showformat='${Version}' --show nvidia-l4t-core",
                "tr '\\0' '\\n' <\"$k3gpu_f\"",
                "\"/proc/device-tree/$1\" \"/sys/firmware/devicetree/base/$1\"",
                "nvidia-smi \\\n  --query-gpu=index,name,uuid,memory.total,driver_version "
                        + "--format=csv,noheader,nounits",
                "docker info --format \"{{.DefaultRuntime}}$k3gpu_nl{{json .Runtimes}}\"",
                "k3gpu_rc=$?",
                "/usr/local/cuda/bin/nvcc --version",
                "systemctl is-enabled \"$k3gpu_u\"");
    }

    @Test
    void neverSendsTheK3sConfigBackOnlyItsDefaultRuntimeLines() {
        assertThat(SCRIPT).doesNotContain("k3gpu_file /etc/rancher/k3s/config.yaml")
                .contains("grep -E \"^[\\\"']?default-runtime[\\\"']?[[:space:]]*:\" /etc/rancher/k3s/config.yaml");
    }

    @Test
    void discardsTheErrorsOfEveryCommandThatCanFail() {
        for (String probe : List.of("hostname", "uname -m", "uname -r", "dpkg-query", "nvcc --version",
                "docker info", "command -v docker", "command -v containerd", "command -v k3s", "k3s --version",
                "systemctl is-enabled", "grep -E")) {
            Matcher line = Pattern.compile("(?m)^(?!k3gpu_section ).*" + Pattern.quote(probe) + ".*$").matcher(SCRIPT);
            assertThat(line.find()).as(probe).isTrue();
            assertThat(line.group()).as(probe).contains("2>/dev/null");
        }
    }

    /** docker as Docker answers the one template the script sends; anything else is a test failure. */
    private static final String RUNNING_DOCKER = """
            #!/bin/sh
            [ "$1 $2" = "info --format" ] || exit 64
            case "$3" in
            '{{.DefaultRuntime}}
            {{json .Runtimes}}') printf '%s\\n' nvidia '{"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}' ;;
            *) echo "unexpected template: $3" >&2; exit 65 ;;
            esac
            """;

    private static final String STOPPED_DOCKER = """
            #!/bin/sh
            echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2
            exit 1
            """;

    @TempDir
    Path bin;

    /** The script's helpers and its Docker sections, run by the local sh with {@code docker} on PATH first. */
    private Map<String, String> dockerSections(String docker) throws IOException {
        Path file = bin.resolve("docker");
        Files.writeString(file, docker);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
        String script = SCRIPT.substring(0, SCRIPT.indexOf("k3gpu_section hostname\n")) + "PATH=" + bin + ":$PATH\n"
                + SCRIPT.substring(SCRIPT.indexOf("k3gpu_section docker\n"),
                SCRIPT.indexOf("k3gpu_section nvidia-container-runtime\n")) + "k3gpu_section end\n";
        ExecResult r = LocalSh.run("sh -s", script);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return FactsParser.sections(r.stdout());
    }

    @Test
    void oneDockerInfoGivesTheDefaultRuntimeAndTheRuntimes() throws IOException {
        Map<String, String> s = dockerSections(RUNNING_DOCKER);

        assertThat(s.get(FactsScript.DOCKER)).isEqualTo(bin.resolve("docker").toString());
        assertThat(s.get(FactsScript.DOCKER_DEFAULT_RUNTIME)).isEqualTo("nvidia");
        assertThat(s.get(FactsScript.DOCKER_INFO_RC)).isEqualTo("0");
        assertThat(FactsParser.runtimeNames(s.get(FactsScript.DOCKER_RUNTIMES))).containsExactly("nvidia", "runc");
    }

    @Test
    void aStoppedDockerDaemonLeavesOnlyItsExitStatus() throws IOException {
        Map<String, String> s = dockerSections(STOPPED_DOCKER);

        assertThat(s.get(FactsScript.DOCKER_DEFAULT_RUNTIME)).isEmpty();
        assertThat(s.get(FactsScript.DOCKER_INFO_RC)).isEqualTo("1");
        assertThat(s.get(FactsScript.DOCKER_RUNTIMES)).isEmpty();
    }

    /** The script's NVIDIA runtime and toolkit sections, run by the local sh with these tools first on PATH. */
    private Map<String, String> toolkitSections(Map<String, String> tools) throws IOException {
        for (Map.Entry<String, String> tool : tools.entrySet()) {
            Path file = bin.resolve(tool.getKey());
            Files.writeString(file, tool.getValue());
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
        }
        String script = SCRIPT.substring(0, SCRIPT.indexOf("k3gpu_section hostname\n")) + "PATH=" + bin + ":$PATH\n"
                + SCRIPT.substring(SCRIPT.indexOf("k3gpu_section nvidia-container-runtime\n"),
                SCRIPT.indexOf("k3gpu_section containerd\n")) + "k3gpu_section end\n";
        ExecResult r = LocalSh.run("sh -s", script);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return FactsParser.sections(r.stdout());
    }

    @Test
    void theToolkitVersionComesFromDpkgWhereANvidiaRuntimeIsInstalled() throws IOException {
        Map<String, String> s = toolkitSections(Map.of(
                "nvidia-container-runtime", "#!/bin/sh\necho 'NVIDIA Container Runtime version 1.7.0'\n",
                "dpkg-query", "#!/bin/sh\n[ \"$*\" = '-W -f ${Status} ${Version} nvidia-container-toolkit' ] || exit 64\n"
                        + "printf 'install ok installed 1.7.0-1'\n"));

        assertThat(s.get(FactsScript.NVIDIA_CONTAINER_TOOLKIT_DPKG)).isEqualTo("install ok installed 1.7.0-1");
        assertThat(s.get(FactsScript.NVIDIA_CONTAINER_TOOLKIT_CLI)).isEqualTo("NVIDIA Container Runtime version 1.7.0");
        assertThat(FactsParser.toolkitVersion(s.get(FactsScript.NVIDIA_CONTAINER_TOOLKIT_DPKG),
                s.get(FactsScript.NVIDIA_CONTAINER_TOOLKIT_CLI))).isEqualTo("1.7.0");
    }

    @Test
    void nvidiaCtkAnswersFirstAndNothingIsAskedWithoutAnyNvidiaTool() throws IOException {
        Map<String, String> withCtk = toolkitSections(Map.of(
                "nvidia-ctk", "#!/bin/sh\n[ \"$1\" = --version ] || exit 64\n"
                        + "printf 'NVIDIA Container Toolkit CLI version 1.17.8\\ncommit: f202b80\\n'\n",
                "dpkg-query", "#!/bin/sh\necho 'dpkg-query: no packages found matching nvidia-container-toolkit' >&2\n"
                        + "exit 1\n"));
        assertThat(withCtk.get(FactsScript.NVIDIA_CONTAINER_TOOLKIT_DPKG)).isEmpty();
        assertThat(withCtk.get(FactsScript.NVIDIA_CONTAINER_TOOLKIT_CLI))
                .isEqualTo("NVIDIA Container Toolkit CLI version 1.17.8");

        Files.delete(bin.resolve("nvidia-ctk"));
        Files.writeString(bin.resolve("dpkg-query"), "#!/bin/sh\nexit 64\n");
        Map<String, String> none = toolkitSections(Map.of());
        assertThat(none.get(FactsScript.NVIDIA_CONTAINER_TOOLKIT_DPKG)).isEmpty();
        assertThat(none.get(FactsScript.NVIDIA_CONTAINER_TOOLKIT_CLI)).isEmpty();
    }

    @Test
    void alwaysExitsZero() {
        assertThat(SCRIPT).endsWith("k3gpu_section end\nexit 0\n");
    }

    /** The K3s default-runtime section, run by the local sh over files under {@code root}. */
    private String defaultRuntimeLines(Path root) throws IOException {
        String section = SCRIPT.substring(SCRIPT.indexOf("k3gpu_section k3s-config-default-runtime\n"),
                SCRIPT.indexOf("k3gpu_section end\n")).replace(" /etc/", " " + root + "/etc/").replace(" /var/", " " + root + "/var/");
        String script = SCRIPT.substring(0, SCRIPT.indexOf("k3gpu_section hostname\n")) + section + "k3gpu_section end\n";
        ExecResult r = LocalSh.run("sh -s", script);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return FactsParser.sections(r.stdout()).get(FactsScript.K3S_CONFIG_DEFAULT_RUNTIME);
    }

    @Test
    void k3sDefaultRuntimeComesFromTheFileThenTheUnitsFlagThenAContainerdTemplate() throws IOException {
        Path etc = Files.createDirectories(bin.resolve("etc/rancher/k3s"));
        Files.writeString(etc.resolve("config.yaml"), "token: secret\ndefault-runtime: crun\n");
        Path units = Files.createDirectories(bin.resolve("etc/systemd/system"));
        // as K3s's install script writes ExecStart=: one quoted word a line
        Files.writeString(units.resolve("k3s-agent.service"), """
                [Service]
                ExecStart=/usr/local/bin/k3s \\
                    agent \\
                	'--default-runtime' \\
                	'nvidia' \\
                	'--node-label=a=b' \\

                """);
        assertThat(defaultRuntimeLines(bin)).isEqualTo("default-runtime: crun\ndefault-runtime: nvidia")
                .doesNotContain("secret");
        Files.writeString(units.resolve("k3s-agent.service"), "ExecStart=/usr/local/bin/k3s \\\n    agent \\\n"
                + "\t'--default-runtime=nvidia-experimental' \\\n");
        Path tmpl = Files.createDirectories(bin.resolve("var/lib/rancher/k3s/agent/etc/containerd"));
        Files.writeString(tmpl.resolve("config.toml.tmpl"), "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
                + "  default_runtime_name = \"nvidia\"\n");
        assertThat(defaultRuntimeLines(bin)).isEqualTo(
                "default-runtime: crun\ndefault-runtime: nvidia-experimental\ndefault-runtime: nvidia");
    }
}
