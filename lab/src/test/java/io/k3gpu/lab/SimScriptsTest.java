package io.k3gpu.lab;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
        for (String tool : List.of("nvidia-smi", "systemctl", "journalctl", "tegrastats")) {
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
        Files.writeString(root.resolve("etc/k3gpu-lab/node.json"), "{\"arch\": \"aarch64\", "
                + "\"kernelRelease\": \"4.9.253-tegra\", \"cpus\": 4, \"memTotal\": 4156555264}");
        // docker.service as on a Docker node, its dockerd a stand-in (a real one needs root and the node's
        // namespaces: LabIT): it records its arguments, says READY=1 as dockerd does (sd_notify) unless told
        // otherwise, and waits for SIGTERM
        Files.writeString(root.resolve("etc/k3gpu-lab/services/docker.service-sh"),
                "DESCRIPTION=\"Docker Application Container Engine\"\nEXEC_START=\""
                        + lib.resolve("k3lab-dockerd") + "\"\nNOTIFY=1\nSTOP_TIMEOUT=5\n");
        Path dockerd = root.resolve("fake-dockerd");
        Files.writeString(dockerd, "#!/bin/sh\necho \"$@\" > \"$K3GPU_LAB_FSROOT/dockerd.args\"\n"
                + "[ -f \"$K3GPU_LAB_FSROOT/dockerd.exit\" ] && exit \"$(cat \"$K3GPU_LAB_FSROOT/dockerd.exit\")\"\n"
                + "python3 -S -c 'import socket, sys\n"
                + "socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])'"
                + " \"$K3GPU_LAB_FSROOT/run/docker.sock\"\n"
                + "[ -f \"$K3GPU_LAB_FSROOT/dockerd.silent\" ] || [ -z \"$NOTIFY_SOCKET\" ] || python3 -S -c '"
                + "import socket, os\n"
                + "socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)"
                + ".sendto(b\"READY=1\", os.environ[\"NOTIFY_SOCKET\"])'\n"
                + "trap 'exit 0' TERM\nwhile :; do sleep 1; done\n");
        Files.setPosixFilePermissions(dockerd, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(root.resolve("run"));
    }

    static Run run(String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(command));
        cmd.set(0, bin.resolve(cmd.get(0)).toString());
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("K3GPU_LAB_FSROOT", root.toString());
        pb.environment().put("K3GPU_LAB_DOCKERD", root.resolve("fake-dockerd").toString());
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
        pb.environment().put("K3GPU_LAB_DOCKERD", root.resolve("fake-dockerd").toString());
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

    @Test
    void systemctlStartsDockerdWithTheLabsFlagsReadyWhenItNotifiesAndAppliesTheFaultKnobs() throws Exception {
        Path faults = root.resolve("etc/k3gpu-lab/faults");
        try {
            assertThat(run("systemctl", "restart", "docker").exit()).isZero();
            assertThat(run("systemctl", "is-active", "docker").out()).isEqualTo("active\n");
            Run both = run("systemctl", "is-active", "k3s", "docker");
            assertThat(both.out()).isEqualTo("inactive\nactive\n");
            assertThat(both.exit()).isEqualTo(3);
            assertThat(run("systemctl", "is-enabled", "docker")).isEqualTo(new Run(1, "disabled\n", ""));
            assertThat(run("systemctl", "is-enabled", "k3s")).isEqualTo(new Run(1, "",
                    "Failed to get unit file state for k3s.service: No such file or directory\n"));
            assertThat(Files.readString(root.resolve("dockerd.args")))
                    .isEqualTo("--iptables=false --ip-masq=false --bridge=none --storage-driver=vfs\n");
            assertThat(run("systemctl", "status", "docker").out()).contains("Active: active (running)");
            // injected fault: one failed start, then fine again
            Files.writeString(faults.resolve("dockerd-fail-starts"), "1\n");
            Run failed = run("systemctl", "restart", "docker");
            assertThat(failed.exit()).isEqualTo(1);
            assertThat(failed.err()).isEqualTo("Job for docker.service failed because the control process exited "
                    + "with error code.\nSee \"systemctl status docker.service\" and "
                    + "\"journalctl -xeu docker.service\" for details.\n");
            assertThat(run("systemctl", "is-active", "docker").out()).isEqualTo("failed\n");
            assertThat(run("journalctl", "-u", "docker").out()).contains("failed to start daemon: injected fault",
                    "Failed to start Docker Application Container Engine.");
            assertThat(Files.readString(faults.resolve("dockerd-fail-starts"))).isEqualTo("0\n");
            assertThat(run("systemctl", "restart", "docker").exit()).isZero();
            // a daemon that never says READY=1 times out as Type=notify does under systemd
            Path unit = root.resolve("etc/k3gpu-lab/services/docker.service-sh");
            String normal = Files.readString(unit);
            Files.writeString(unit, normal + "START_TIMEOUT=1\n");
            Files.writeString(root.resolve("dockerd.silent"), "");
            Run silent = run("systemctl", "restart", "docker");
            assertThat(silent.exit()).isEqualTo(1);
            assertThat(run("journalctl", "-u", "docker", "-n", "3").out())
                    .contains("docker.service: start operation timed out. Terminating.");
            Files.delete(root.resolve("dockerd.silent"));
            Files.writeString(unit, normal);
            // a wedged start: ready, but the daemon is stopped (every client call would wait); stop still ends it
            Files.writeString(faults.resolve("dockerd-hang-starts"), "1\n");
            assertThat(run("systemctl", "restart", "docker").exit()).isZero();
            assertThat(Files.readString(faults.resolve("dockerd-hang-starts"))).isEqualTo("0\n");
            ProcessHandle daemon = ProcessHandle.allProcesses().filter(h -> h.info().commandLine().orElse("")
                    .contains(root.resolve("fake-dockerd").toString())).findFirst().orElseThrow();
            assertThat(Files.readString(Path.of("/proc/" + daemon.pid() + "/stat")).replaceAll(".*\\) ", ""))
                    .startsWith("T");
            assertThat(run("systemctl", "stop", "docker").exit()).isZero();
            assertThat(daemon.onExit().get(5, TimeUnit.SECONDS).isAlive()).isFalse();
            // a daemon that refuses its configuration (dockerd exits 1): start fails
            Files.writeString(root.resolve("dockerd.exit"), "1");
            assertThat(run("systemctl", "restart", "docker").exit()).isEqualTo(1);
            assertThat(run("journalctl", "-u", "docker", "-n", "3").out())
                    .contains("docker.service: Main process exited, code=exited, status=1/FAILURE");
        } finally {
            run("systemctl", "stop", "docker");
            Files.deleteIfExists(root.resolve("dockerd.exit"));
            Files.deleteIfExists(root.resolve("dockerd.silent"));
        }
        assertThat(run("systemctl", "is-active", "docker").exit()).isEqualTo(3);
        assertThat(run("systemctl", "is-active", "--quiet", "k3s").out()).isEmpty();
        assertThat(run("systemctl", "restart", "k3s").err()).contains("Unit k3s.service not found.");
    }

    @Test
    void dockersContainerdGetsItsGcSchedulerCalmedOnceAndKeepsItsArguments() throws Exception {
        Path wrapper = root.resolve("usr/local/lib/k3gpu-lab/containerd-gc/containerd");
        // dockerd's generated config (version 0: plugins by their short id) and a version 2 one
        Path v0 = root.resolve("containerd-v0.toml");
        Files.writeString(v0, "version = 0\n[plugins]\n  [plugins.linux]\n    shim = \"containerd-shim\"\n");
        Path v2 = root.resolve("containerd-v2.toml");
        Files.writeString(v2, "version = 2\n");
        for (int i = 0; i < 2; i++) {
            ProcessBuilder pb = new ProcessBuilder(wrapper.toString(), "--config", v0.toString(), "--log-level",
                    "info");
            pb.environment().put("K3GPU_LAB_CONTAINERD", "/bin/echo");
            Process p = pb.start();
            assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                    .isEqualTo("--config " + v0 + " --log-level info\n");
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(Files.readString(v0)).isEqualTo("version = 0\n[plugins]\n  [plugins.linux]\n"
                + "    shim = \"containerd-shim\"\n\n[plugins.scheduler]\n  pause_threshold = 0.0\n");
        ProcessBuilder pb = new ProcessBuilder(wrapper.toString(), "--config=" + v2);
        pb.environment().put("K3GPU_LAB_CONTAINERD", "/bin/true");
        assertThat(pb.start().waitFor()).isZero();
        assertThat(Files.readString(v2)).isEqualTo("version = 2\n\n[plugins.\"io.containerd.gc.v1.scheduler\"]\n"
                + "  pause_threshold = 0.0\n");
    }

    @Test
    void nvidiaContainerRuntimeBindsTheCsvFilesIntoTheSpecAndHandsOverToRunc() throws Exception {
        Path rt = root.resolve("ncr");
        Path csv = rt.resolve("etc/nvidia-container-runtime/host-files-for-container.d");
        Files.createDirectories(csv);
        Files.createDirectories(rt.resolve("host/lib"));
        Files.writeString(rt.resolve("host/lib/libcudart.so.10.2"), "lab CUDA runtime\n");
        Files.createSymbolicLink(rt.resolve("host/lib/libcudart.so"), Path.of("libcudart.so.10.2"));
        Files.writeString(csv.resolve("l4t.csv"), "dev, /dev/null\nlib, " + rt.resolve("host/lib/libcudart.so.10.2")
                + "\nsym, " + rt.resolve("host/lib/libcudart.so") + "\nfile, /nonexistent/nv_tegra_release\n");
        Path bundle = rt.resolve("bundle");
        Files.createDirectories(bundle.resolve("rootfs"));
        Files.writeString(bundle.resolve("config.json"), "{\"root\": {\"path\": \"rootfs\"}, \"mounts\": "
                + "[{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}], \"linux\": {}}");
        Path runc = rt.resolve("runc");
        Files.writeString(runc, "#!/bin/sh\necho \"runc $*\"\n");
        Files.setPosixFilePermissions(runc, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path program = rt.resolve("nvidia-container-runtime");
        Files.write(program, getClass().getResourceAsStream("/io/k3gpu/lab/sim/nvidia-container-runtime.py")
                .readAllBytes());
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/python3", "-S", program.toString(), "--root", "/run/runc",
                "create", "--bundle", bundle.toString(), "ctr1");
        pb.environment().put("K3GPU_LAB_RUNC", runc.toString());
        pb.environment().put("K3GPU_LAB_FSROOT", rt.toString());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).isEqualTo("runc --root /run/runc create --bundle " + bundle + " ctr1\n");
        String spec = Files.readString(bundle.resolve("config.json"));
        assertThat(spec).contains("{\"destination\": \"/proc\"", "{\"destination\": \"/dev/null\", \"type\": "
                        + "\"bind\", \"source\": \"/dev/null\", \"options\": [\"bind\", \"nosuid\"]}",
                "{\"destination\": \"" + rt.resolve("host/lib/libcudart.so.10.2") + "\", \"type\": \"bind\"",
                "\"devices\": [{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rwm\"}]")
                .doesNotContain("nv_tegra_release");
        assertThat(Files.readSymbolicLink(Path.of(bundle.resolve("rootfs") + rt.resolve("host/lib/libcudart.so")
                .toString()))).isEqualTo(Path.of("libcudart.so.10.2"));
    }

    @Test
    void tegrastatsReplaysWithTheCurrentTime() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(bin.resolve("tegrastats").toString(), "--interval", "50");
        pb.environment().put("K3GPU_LAB_FSROOT", root.toString());
        pb.environment().put("K3GPU_LAB_DOCKERD", root.resolve("fake-dockerd").toString());
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
