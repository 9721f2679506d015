package io.k3gpu.cli;

import io.k3gpu.core.plugin.DevicePlugin;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Options refused before any cluster is contacted, and the report as people read it. */
class DevicePluginCommandTest {

    @Test
    void badOptionsAreUsageErrorsBeforeTheClusterIsContacted() {
        Cli.Result one = Cli.run("device-plugin", "--time-slicing", "1", "--kubeconfig", "/nonexistent");
        assertThat(one.exit()).isEqualTo(2);
        assertThat(one.err()).contains("--time-slicing must be 2 or more");

        Cli.Result both = Cli.run("device-plugin", "--version", "v0.17.3", "--image", "x/y:1",
                "--kubeconfig", "/nonexistent");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("cannot be used together; pass only one of them");

        Cli.Result remove = Cli.run("device-plugin", "--remove", "--time-slicing", "4", "--kubeconfig", "/nonexistent");
        assertThat(remove.exit()).isEqualTo(2);
        assertThat(remove.err()).contains("--remove takes no --version, --image or --time-slicing");

        Cli.Result timeout = Cli.run("device-plugin", "--timeout", "soon", "--kubeconfig", "/nonexistent");
        assertThat(timeout.exit()).isEqualTo(2);
        assertThat(timeout.err()).contains("'soon' is not a duration");
    }

    @Test
    void itsVersionOptionIsThePluginsAndHelpStillWorks() {
        Cli.Result help = Cli.run("device-plugin", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("--version=VERSION", "--time-slicing=N", "--remove", "--timeout=DURATION");
    }

    @Test
    void theReportShowsEachGpuNodeAndWhatChanged() {
        DevicePlugin.Report r = new DevicePlugin.Report("nvcr.io/nvidia/k8s-device-plugin:v0.17.4", 4,
                List.of("nvidia-device-plugin-jetson-docker-nvidia"),
                List.of("created ConfigMap kube-system/nvidia-device-plugin-config"), List.of(),
                List.of(new DevicePlugin.NodeRow("nano", "nvidia-device-plugin-jetson-docker-nvidia", "4", "4", 4,
                                "nvidia-device-plugin-jetson-docker-nvidia-x7k2p", "Running", true, null),
                        new DevicePlugin.NodeRow("orin", "nvidia-device-plugin-jetson-containerd-runc", null, null, 4,
                                "nvidia-device-plugin-jetson-containerd-runc-q8d3m",
                                "CrashLoopBackOff (not ready), 3 restarts", false, "E1205 unknown platform\nexit 1")),
                true);
        StringWriter out = new StringWriter();

        DevicePluginCommand.print(new PrintWriter(out, true), r);

        assertThat(out.toString()).isEqualTo("""
                device plugin nvcr.io/nvidia/k8s-device-plugin:v0.17.4, time-slicing 4 pods per GPU: nvidia-device-plugin-jetson-docker-nvidia
                created ConfigMap kube-system/nvidia-device-plugin-config
                NODE   CAPACITY   ALLOCATABLE   PLUGIN POD                                          STATE
                nano   4          4             nvidia-device-plugin-jetson-docker-nvidia-x7k2p     Running
                orin   -          - (want 4)    nvidia-device-plugin-jetson-containerd-runc-q8d3m   CrashLoopBackOff (not ready), 3 restarts
                orin: log of nvidia-device-plugin-jetson-containerd-runc-q8d3m (last lines):
                  E1205 unknown platform
                  exit 1
                """);
    }
}
