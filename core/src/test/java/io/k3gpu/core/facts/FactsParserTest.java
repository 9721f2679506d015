package io.k3gpu.core.facts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.Test;

public class FactsParserTest {

    public static String fixture(String name) {
        try (InputStream in = FactsParserTest.class.getResourceAsStream("/facts/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource /facts/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The plain-VM output with one section's content replaced. */
    private static String vmWith(String section, String content) {
        return fixture("plain-vm.out").replace("@@k3gpu:" + section + "\n\n", "@@k3gpu:" + section + "\n" + content
                + "\n\n");
    }

    @Test
    void jetsonNanoOnJetPack461WithDockerOnRunc() {
        NodeFacts facts = FactsParser.parse(fixture("jetson-nano-jp461.out"));

        assertThat(facts).isEqualTo(new NodeFacts(
                "jetson-nano", "aarch64", "Ubuntu 18.04.6 LTS", "4.9.253-tegra",
                "NVIDIA Jetson Nano Developer Kit", "tegra210",
                "32.7.1", "nv_tegra_release", "4.6.1", "10.2.300",
                List.of(),
                true, true, "runc",
                List.of("io.containerd.runc.v2", "io.containerd.runtime.v1.linux", "nvidia", "runc"),
                true, "/usr/bin/nvidia-container-runtime",
                true,
                false, null, null, null));
        assertThat(facts.isJetson()).isTrue();
        assertThat(facts.hasGpu()).isTrue();
    }

    @Test
    void orinNanoOnJetPack62FallsBackToThePackageVersion() {
        NodeFacts facts = FactsParser.parse(fixture("orin-nano-jp62.out"));

        assertThat(facts).isEqualTo(new NodeFacts(
                "orin-nano", "aarch64", "Ubuntu 22.04.5 LTS", "5.15.148-tegra",
                "NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super", "tegra234",
                "36.4.3", "nvidia-l4t-core", "6.2", "12.6.68",
                List.of(),
                false, false, null, List.of(),
                true, "/usr/bin/nvidia-container-runtime",
                true,
                false, null, null, null));
        assertThat(facts.isJetson()).isTrue();
        assertThat(facts.hasGpu()).isTrue();
    }

    @Test
    void h200ServerWithDockerOnNvidia() {
        NodeFacts facts = FactsParser.parse(fixture("h200-server.out"));

        assertThat(facts).isEqualTo(new NodeFacts(
                "gpu-h200-01", "x86_64", "Ubuntu 24.04.2 LTS", "6.8.0-60-generic",
                null, null,
                null, null, null, "13.0.2",
                List.of(new Gpu(0, "NVIDIA H200", "GPU-eed3be17-8c4b-3ec0-67f4-92cf24bce06f", 143771L,
                        "580.159.04")),
                true, true, "nvidia", List.of("io.containerd.runc.v2", "nvidia", "runc"),
                true, "/usr/bin/nvidia-container-runtime",
                true,
                false, null, null, null));
        assertThat(facts.isJetson()).isFalse();
        assertThat(facts.hasGpu()).isTrue();
    }

    /** The facts script run as root on the device machine's real H200 on 2026-11-28: no Docker, no K3s, nvcc 13.0. */
    @Test
    void aRealH200MachineAsTheScriptSawIt() {
        NodeFacts facts = FactsParser.parse(fixture("h200-device-real.out"));

        assertThat(facts).isEqualTo(new NodeFacts(
                "vm", "x86_64", "Ubuntu 24.04.3 LTS", "6.18.44-fc-v657-gpu",
                null, null, null, null, null, "13.0.88",
                List.of(new Gpu(0, "NVIDIA H200", "GPU-4a0dd23c-a95b-3821-4d11-35b49ae7759e", 143771L,
                        "580.159.04")),
                false, false, null, List.of(),
                false, null,
                false,
                false, null, null, null));
        assertThat(facts.isJetson()).isFalse();
        assertThat(facts.hasGpu()).isTrue();
    }

    @Test
    void realH100MachineFromTheDeviceTool() {
        // captured 2026-12-05 (session 5) with k3gpu's own facts script on the device tool's one-H100 machine
        NodeFacts facts = FactsParser.parse(fixture("h100-device-real.out"));

        assertThat(facts).isEqualTo(new NodeFacts(
                "vm", "x86_64", "Ubuntu 24.04.3 LTS", "6.18.44-fc-v1252-gpu",
                null, null, null, null, null, "13.0.88",
                List.of(new Gpu(0, "NVIDIA H100 80GB HBM3", "GPU-8d12b96e-7e46-5d58-9c31-5db8056a5f8b", 81559L,
                        "580.159.04")),
                false, false, null, List.of(),
                false, null,
                false,
                false, null, null, null));
        assertThat(facts.gpus()).hasSize(1);
        assertThat(facts.isJetson()).isFalse();
    }

    @Test
    void plainVmHasNothing() {
        NodeFacts facts = FactsParser.parse(fixture("plain-vm.out"));

        assertThat(facts).isEqualTo(new NodeFacts(
                "vm-01", "x86_64", "Debian GNU/Linux 12 (bookworm)", "6.1.0-31-cloud-amd64",
                null, null, null, null, null, null,
                List.of(),
                false, false, null, List.of(),
                false, null,
                false,
                false, null, null, null));
        assertThat(facts.isJetson()).isFalse();
        assertThat(facts.hasGpu()).isFalse();
    }

    @Test
    void agxOrinK3sAgentOnCustomCarrier() {
        NodeFacts facts = FactsParser.parse(fixture("agx-orin-k3s-agent.out"));

        assertThat(facts).isEqualTo(new NodeFacts(
                "agx-orin-1", "aarch64", "Ubuntu 20.04.6 LTS", "5.10.120-tegra",
                "Jetson AGX Orin", "tegra234",
                "35.4.1", "nv_tegra_release", "5.1.2", "11.4.19",
                List.of(),
                false, false, null, List.of(),
                true, "/usr/bin/nvidia-container-runtime",
                false,
                true, "agent", "v1.31.4+k3s1", "nvidia"));
    }

    @Test
    void aRealDashRunOnANanoLikeFilesystem() {
        // Output of FactsScript under dash, with Nano identity files, CUDA 10.2, and docker / k3s stand-ins.
        NodeFacts facts = FactsParser.parse(fixture("nano-like-dash-run.out"));

        assertThat(facts).isEqualTo(new NodeFacts(
                "vm", "x86_64", "Debian GNU/Linux 12 (bookworm)", "6.18.44-fc-v669",
                "NVIDIA Jetson Nano Developer Kit", "tegra210",
                "32.7.1", "nv_tegra_release", "4.6.1", "10.2.300",
                List.of(),
                true, true, "runc", List.of("io.containerd.runc.v2", "nvidia", "runc"),
                true, "/usr/local/bin/nvidia-container-runtime",
                false,
                true, "agent", "v1.31.4+k3s1", "nvidia"));
    }

    @Test
    void k3sServerFromItsUnitFile() {
        String output = vmWith("k3s", "/usr/local/bin/k3s")
                .replace("@@k3gpu:k3s-units\n", "@@k3gpu:k3s-units\n/etc/systemd/system/k3s.service\n")
                .replace("@@k3gpu:k3s-dirs\n", "@@k3gpu:k3s-dirs\n/etc/rancher/k3s\n/var/lib/rancher/k3s/server\n"
                        + "/var/lib/rancher/k3s/agent\n");

        NodeFacts facts = FactsParser.parse(output);

        assertThat(facts.k3sInstalled()).isTrue();
        assertThat(facts.k3sRole()).isEqualTo("server");
        assertThat(facts.k3sVersion()).isNull();
    }

    @Test
    void k3sRoleFromSystemctlWhenTheUnitLivesElsewhere() {
        String output = vmWith("k3s", "/usr/local/bin/k3s")
                .replace("@@k3gpu:k3s-enabled\n", "@@k3gpu:k3s-enabled\nk3s disabled\nk3s-agent \n");

        assertThat(FactsParser.parse(output).k3sRole()).isEqualTo("server");
    }

    @Test
    void k3sRoleFromItsDataDirectoriesWithoutServiceManager() {
        String server = vmWith("k3s", "/usr/local/bin/k3s")
                .replace("@@k3gpu:k3s-dirs\n", "@@k3gpu:k3s-dirs\n/etc/rancher/k3s\n/var/lib/rancher/k3s/server\n"
                        + "/var/lib/rancher/k3s/agent\n");
        String agent = vmWith("k3s", "/usr/local/bin/k3s")
                .replace("@@k3gpu:k3s-dirs\n", "@@k3gpu:k3s-dirs\n/etc/rancher/k3s\n");
        String unknown = vmWith("k3s", "/usr/local/bin/k3s");

        assertThat(FactsParser.parse(server).k3sRole()).isEqualTo("server");
        assertThat(FactsParser.parse(agent).k3sRole()).isEqualTo("agent");
        assertThat(FactsParser.parse(unknown).k3sRole()).isNull();
    }

    @Test
    void openRcAgentScript() {
        String output = vmWith("k3s", "/usr/local/bin/k3s").replace("@@k3gpu:k3s-units\n",
                "@@k3gpu:k3s-units\n/etc/init.d/k3s-agent\n");

        assertThat(FactsParser.parse(output).k3sRole()).isEqualTo("agent");
    }

    @Test
    void noRoleWithoutTheK3sBinary() {
        String output = fixture("plain-vm.out").replace("@@k3gpu:k3s-dirs\n",
                "@@k3gpu:k3s-dirs\n/etc/rancher/k3s\n");

        NodeFacts facts = FactsParser.parse(output);

        assertThat(facts.k3sInstalled()).isFalse();
        assertThat(facts.k3sRole()).isNull();
    }

    @Test
    void dockerInstalledButItsDaemonDown() {
        String output = vmWith("docker", "/usr/bin/docker").replace("@@k3gpu:docker-info-rc\n",
                "@@k3gpu:docker-info-rc\n1\n");

        NodeFacts facts = FactsParser.parse(output);

        assertThat(facts.dockerInstalled()).isTrue();
        assertThat(facts.dockerRunning()).isFalse();
        assertThat(facts.dockerDefaultRuntime()).isNull();
        assertThat(facts.dockerRuntimes()).isEmpty();
    }

    @Test
    void toolkitVersionIsTheInstalledPackagesUpstreamVersion() {
        NodeFacts facts = FactsParser.parse(fixture("jetson-nano-jp461.out").replace(
                "@@k3gpu:containerd\n", "@@k3gpu:nvidia-container-toolkit-dpkg\ninstall ok installed 1.7.0-1\n"
                        + "@@k3gpu:nvidia-container-toolkit-cli\nNVIDIA Container Runtime version 1.7.0\n"
                        + "@@k3gpu:containerd\n"));

        assertThat(facts.nvidiaContainerToolkitVersion()).isEqualTo("1.7.0");
        assertThat(facts.toolkitDirRuntime()).isNull();
        assertThat(facts.toolkitDirWarning()).isEmpty();
    }

    @Test
    void toolkitVersionFallsBackToItsTools() {
        assertThat(FactsParser.toolkitVersion("install ok installed 1.13.0~rc.1-1", null)).isEqualTo("1.13.0~rc.1");
        assertThat(FactsParser.toolkitVersion("deinstall ok config-files 1.7.0-1",
                "NVIDIA Container Toolkit CLI version 1.17.8")).isEqualTo("1.17.8");
        assertThat(FactsParser.toolkitVersion(null, "NVIDIA Container Runtime Hook version 1.7.0")).isEqualTo("1.7.0");
        assertThat(FactsParser.toolkitVersion(null, "NVIDIA Container Runtime version 1.16.2")).isEqualTo("1.16.2");
        // the runtime package of before toolkit 1.6 had its own 3.x versions
        assertThat(FactsParser.toolkitVersion(null, "NVIDIA Container Runtime version 3.5.0")).isNull();
        assertThat(FactsParser.toolkitVersion(null, "runc version spec: 1.0.2")).isNull();
        assertThat(FactsParser.toolkitVersion(null, null)).isNull();
    }

    @Test
    void anotherRuntimeInTheToolkitDirIsWarnedAbout() {
        NodeFacts other = FactsParser.parse(vmWith("nvidia-toolkit-dir-runtime",
                "/usr/local/nvidia/toolkit/nvidia-container-runtime different"));
        NodeFacts same = FactsParser.parse(vmWith("nvidia-toolkit-dir-runtime",
                "/usr/local/nvidia/toolkit/nvidia-container-runtime same"));

        assertThat(other.toolkitDirRuntime()).isEqualTo("/usr/local/nvidia/toolkit/nvidia-container-runtime");
        assertThat(other.toolkitDirRuntimeDiffers()).isTrue();
        assertThat(other.toolkitDirWarning()).hasValueSatisfying(w -> assertThat(w)
                .startsWith("/usr/local/nvidia/toolkit/nvidia-container-runtime is another file than the packaged "
                        + "/usr/bin/nvidia-container-runtime, and K3s uses the one in /usr/local/nvidia/toolkit first;")
                .endsWith("restart K3s"));
        assertThat(same.toolkitDirRuntimeDiffers()).isFalse();
        assertThat(same.toolkitDirWarning()).isEmpty();
    }

    @Test
    void severalGpusAndMemoryNotReported() {
        String output = vmWith("nvidia-smi", """
                0, NVIDIA H200, GPU-eed3be17-8c4b-3ec0-67f4-92cf24bce06f, 143771, 580.159.04
                1, NVIDIA H200, GPU-4d7409f8-b030-4d26-8d92-c7f6be719549, 143771, 580.159.04
                2, NVIDIA Thor, GPU-0c1c3b7a-1111-2222-3333-444455556666, [N/A], 580.00""");

        assertThat(FactsParser.parse(output).gpus()).containsExactly(
                new Gpu(0, "NVIDIA H200", "GPU-eed3be17-8c4b-3ec0-67f4-92cf24bce06f", 143771L, "580.159.04"),
                new Gpu(1, "NVIDIA H200", "GPU-4d7409f8-b030-4d26-8d92-c7f6be719549", 143771L, "580.159.04"),
                new Gpu(2, "NVIDIA Thor", "GPU-0c1c3b7a-1111-2222-3333-444455556666", null, "580.00"));
    }

    @Test
    void nvidiaSmiFailureTextIsNoGpu() {
        String output = vmWith("nvidia-smi", "NVIDIA-SMI has failed because it couldn't communicate with the "
                + "NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.");

        assertThat(FactsParser.parse(output).gpus()).isEmpty();
    }

    @Test
    void anRaspberryPiIsNotAJetson() {
        String output = vmWith("dt-model", "Raspberry Pi 4 Model B Rev 1.4")
                .replace("@@k3gpu:dt-compatible\n", "@@k3gpu:dt-compatible\nraspberrypi,4-model-b\nbrcm,bcm2711\n");

        NodeFacts facts = FactsParser.parse(output);

        assertThat(facts.jetsonModel()).isNull();
        assertThat(facts.socFamily()).isNull();
        assertThat(facts.isJetson()).isFalse();
    }

    @Test
    void crlfOutputReadsTheSame() {
        String lf = fixture("jetson-nano-jp461.out");

        assertThat(FactsParser.parse(lf.replace("\n", "\r\n"))).isEqualTo(FactsParser.parse(lf));
    }

    @Test
    void osReleaseWithoutPrettyNameUsesName() {
        assertThat(FactsParser.prettyName("NAME='Alpine Linux'\nID=alpine\n")).isEqualTo("Alpine Linux");
        assertThat(FactsParser.prettyName("PRETTY_NAME=\"Say \\\"hi\\\"\"\n")).isEqualTo("Say \"hi\"");
        assertThat(FactsParser.prettyName("")).isNull();
    }

    @Test
    void outputWithoutTheEndMarkerIsRefused() {
        String cut = fixture("plain-vm.out").replace("@@k3gpu:end\n", "");

        assertThatThrownBy(() -> FactsParser.parse(cut))
                .isInstanceOf(K3gpuException.class)
                .hasMessage("the node's facts output is incomplete (no @@k3gpu:end line)")
                .satisfies(e -> assertThat(((K3gpuException) e).exitCode()).isEqualTo(ExitCode.REMOTE_COMMAND));
    }

    @Test
    void textBeforeTheFirstMarkerIsIgnored() {
        String output = "Welcome to Ubuntu 18.04.6 LTS\n" + fixture("plain-vm.out");

        assertThat(FactsParser.parse(output).hostname()).isEqualTo("vm-01");
    }
}
