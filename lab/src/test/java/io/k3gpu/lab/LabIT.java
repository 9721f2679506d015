package io.k3gpu.lab;

import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * One lab (jetson-nano, orin-nano, dgpu, cpu-only) for the whole class, reached with the real OpenSSH client.
 * Needs root; the last test brings the lab down and checks that nothing is left.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LabIT {
    static final String ID = "itlab";
    static final int SUBNET = 231;
    static LabState lab;

    record Ssh(int exit, String out, String err) {
    }

    @BeforeAll
    static void up() {
        assumeThat(Lab.isRoot()).as("the lab needs root").isTrue();
        Lab.down(LabConfig.STATE_ROOT.resolve(ID)); // leftovers of an interrupted run
        long t0 = System.nanoTime();
        lab = Lab.up(new LabConfig(ID, SUBNET, List.of("jetson-nano", "orin-nano", "dgpu", "cpu-only"), null, null));
        System.out.printf("lab up (4 nodes): %.0f ms%n", (System.nanoTime() - t0) / 1e6);
    }

    @AfterAll
    static void down() {
        if (lab != null) {
            Lab.down(lab.stateDir());
        }
    }

    static Ssh ssh(String node, String user, String command) throws Exception {
        Process p = new ProcessBuilder(lab.sshCommand(node, user, command)).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Ssh(p.exitValue(), out, err);
    }

    static String ok(String node, String user, String command) throws Exception {
        Ssh r = ssh(node, user, command);
        assertThat(r.exit()).as("%s on %s: %s", command, node, r.err()).isZero();
        return r.out();
    }

    @Test
    @Order(1)
    void stateDescribesTheLab() throws IOException {
        assertThat(lab.nodes()).extracting(LabNode::name).containsExactly("jetson1", "jetson2", "gpu1", "node1");
        assertThat(lab.nodes()).allSatisfy(n -> assertThat(n.alive()).isTrue());
        assertThat(lab.bridgeIp()).isEqualTo("10.213.231.1");
        assertThat(Files.getPosixFilePermissions(lab.keyFile())).isEqualTo(NodeFiles.perms(0600));
        assertThat(Files.getPosixFilePermissions(lab.stateDir().resolve(LabState.STATE_FILE)))
                .isEqualTo(NodeFiles.perms(0600));
        assertThat(Files.readAllLines(lab.knownHostsFile())).hasSize(4)
                .allSatisfy(l -> assertThat(l).matches("10\\.213\\.231\\.1[1-4] ssh-ed25519 \\S+"));
        assertThat(Lab.status(lab.stateDir())).get().isEqualTo(lab);
        assertThat(lab.user("k3gpu").password()).hasSize(16).isNotEqualTo(lab.user("alice").password());
    }

    @Test
    @Order(2)
    void aSecondLabWithTheSameIdIsRefused() {
        assertThatThrownBy(() -> Lab.up(new LabConfig(ID, SUBNET, List.of("cpu-only"), null, null)))
                .isInstanceOf(K3gpuException.class).hasMessageContaining("already up");
        assertThat(Lab.status(lab.stateDir())).get().satisfies(s -> assertThat(s.nodes()).allMatch(LabNode::alive));
    }

    @Test
    void hostnamesAndJetsonIdentity() throws Exception {
        assertThat(ok("jetson1", "root", "hostname")).isEqualTo("jetson1\n");
        assertThat(ok("gpu1", "root", "hostname")).isEqualTo("gpu1\n");
        assertThat(ok("jetson1", "root", "cat /etc/nv_tegra_release")).isEqualTo("# R32 (release), REVISION: 7.1, "
                + "GCID: 29818004, BOARD: t210ref, EABI: aarch64, DATE: Sat Feb 19 17:05:08 UTC 2022\n");
        assertThat(ok("jetson2", "root", "head -1 /etc/nv_tegra_release")).startsWith("# R36 (release), REVISION: 4.3");
        assertThat(ok("jetson1", "root", "uname -m; uname -r; cat /usr/local/cuda/version.txt"))
                .isEqualTo("aarch64\n4.9.253-tegra\nCUDA Version 10.2.300\n");
        assertThat(ok("jetson2", "root", "uname -m; uname -r; cat /usr/local/cuda/version.json"))
                .isEqualTo("aarch64\n5.15.148-tegra\n{\"cuda\": {\"name\": \"CUDA SDK\", \"version\": \"12.6.68\"}}\n");
        assertThat(ok("jetson1", "root", "cat /sys/firmware/devicetree/base/model"))
                .isEqualTo("NVIDIA Jetson Nano Developer Kit\0");
        assertThat(ok("jetson2", "root", "cat /sys/firmware/devicetree/base/compatible"))
                .isEqualTo("nvidia,p3768-0000+p3767-0005\0nvidia,p3767-0005\0nvidia,tegra234\0");
        assertThat(ok("jetson1", "root", "dpkg-query --showformat='${Version}' --show nvidia-l4t-core"))
                .isEqualTo("32.7.1-20220219090432");
        assertThat(ok("gpu1", "root", "uname -m; test -e /etc/nv_tegra_release || echo no-l4t"))
                .isEqualTo("x86_64\nno-l4t\n");
    }

    @Test
    void tegrastatsStreamsNanoLinesAndStopsWithItsReader() throws Exception {
        Process p = new ProcessBuilder(lab.sshCommand("jetson1", "root", "tegrastats --interval 100")).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            lines.add(r.readLine());
            lines.add(r.readLine());
        } finally {
            p.destroy();
        }
        assertThat(lines).allSatisfy(l -> assertThat(l).startsWith("RAM ").contains("POM_5V_IN", "GR3D_FREQ"));
        long deadline = System.currentTimeMillis() + 5000;
        String left;
        do {
            Thread.sleep(100);
            left = ssh("jetson1", "root", "pgrep -x tegrastats").out();
        } while (!left.isBlank() && System.currentTimeMillis() < deadline);
        assertThat(left).as("tegrastats exits when its output goes away").isBlank();
        assertThat(ok("jetson2", "root", "tegrastats --interval 100 | head -1"))
                .matches("\\d\\d-\\d\\d-\\d{4} \\d\\d:\\d\\d:\\d\\d RAM \\S+ .*VDD_IN \\d+mW/\\d+mW.*\n");
    }

    @Test
    void nvidiaSmiOnTheGpuServer() throws Exception {
        assertThat(ok("gpu1", "root", "nvidia-smi --query-gpu=name,memory.total --format=csv,noheader"))
                .isEqualTo("NVIDIA H200, 143771 MiB\n");
        assertThat(ok("gpu1", "root", "nvidia-smi -L")).startsWith("GPU 0: NVIDIA H200 (UUID: GPU-");
        assertThat(ssh("jetson1", "root", "command -v nvidia-smi").exit()).isNotZero();
        assertThat(ok("gpu1", "root", "cat /usr/local/cuda/version.json")).contains("\"13.0");
    }

    @Test
    void dockerAndTheNvidiaRuntimeWhereTheProfilesHaveThem() throws Exception {
        assertThat(ok("jetson1", "root", "docker info --format '{{.DefaultRuntime}}'")).isEqualTo("runc\n");
        String info = ok("jetson1", "root", "docker info");
        assertThat(info).contains(" Default Runtime: runc\n");
        // the real daemon lists its runtimes in Go's map order (random)
        assertThat(info.lines().filter(l -> l.startsWith(" Runtimes: ")).findFirst().orElse("").substring(11)
                .split(" ")).containsExactlyInAnyOrder("io.containerd.runc.v2", "io.containerd.runtime.v1.linux",
                "nvidia", "runc");
        assertThat(ok("jetson1", "root", "cat /etc/docker/daemon.json")).isEqualTo("{\n    \"runtimes\": {\n"
                + "        \"nvidia\": {\n            \"path\": \"nvidia-container-runtime\",\n"
                + "            \"runtimeArgs\": []\n        }\n    }\n}\n");
        // Debian's real dockerd on every Docker node (not the profile's Docker version)
        assertThat(ok("jetson1", "root", "docker version --format '{{.Server.Version}}'"))
                .isEqualTo("20.10.24+dfsg1\n");
        assertThat(ok("gpu1", "root", "docker version --format '{{.Server.Version}}'; test -e /etc/docker/daemon.json "
                + "|| echo none")).isEqualTo("20.10.24+dfsg1\nnone\n");
        assertThat(ok("jetson1", "root", "nvidia-container-runtime --version"))
                .startsWith("NVIDIA Container Runtime version 1.7.0");
        assertThat(ok("jetson2", "root", "command -v docker dockerd; command -v nvidia-container-runtime; "
                + "systemctl is-active docker; true")).isEqualTo("/usr/bin/nvidia-container-runtime\ninactive\n");
        assertThat(ok("node1", "root", "command -v nvidia-container-runtime nvidia-smi tegrastats; "
                + "systemctl is-active docker")).isEqualTo("active\n");
        assertThat(ok("gpu1", "root", "pgrep -x dockerd >/dev/null && systemctl is-enabled docker")).isEqualTo("enabled\n");
    }

    @Test
    void aBrokenDaemonJsonMakesTheRestartFail() throws Exception {
        Path daemonJson = lab.nodePath("node1", "/etc/docker/daemon.json");
        Files.writeString(daemonJson, "{\"default-runtime\": \"nvidia\",}\n");
        try {
            Ssh restart = ssh("node1", "root", "systemctl restart docker");
            assertThat(restart.exit()).isEqualTo(1);
            assertThat(restart.err()).startsWith("Job for docker.service failed because the control process exited "
                    + "with error code.\nSee \"systemctl status docker.service\" and \"journalctl -xeu docker.service\"");
            // the real 20.10 client: `docker info --format` fails on the template, other calls name the socket
            Ssh info = ssh("node1", "root", "docker info --format '{{.DefaultRuntime}}'");
            assertThat(info.exit()).isEqualTo(1);
            assertThat(info.out()).isBlank();
            Ssh ps = ssh("node1", "root", "docker ps");
            assertThat(ps.exit()).isEqualTo(1);
            assertThat(ps.err()).contains("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                    + "Is the docker daemon running?");
            assertThat(ok("node1", "root", "journalctl -u docker -n 5 --no-pager")).contains("unable to configure the "
                    + "Docker daemon with file /etc/docker/daemon.json: invalid character '}' looking for beginning of "
                    + "object key string");
            assertThat(ssh("node1", "root", "systemctl is-active docker").out()).isEqualTo("failed\n");

            Files.writeString(daemonJson, "{\"default-runtime\": \"nvidia\"}\n");
            assertThat(ssh("node1", "root", "systemctl restart docker").exit()).isEqualTo(1);
            assertThat(ok("node1", "root", "journalctl -u docker -n 4")).contains("unable to configure the Docker "
                    + "daemon with file /etc/docker/daemon.json: configuration validation from file failed: specified "
                    + "default runtime 'nvidia' does not exist");

            Files.writeString(daemonJson, "{\"default-runtime\": \"nvidia\", \"runtimes\": {\"nvidia\": "
                    + "{\"path\": \"nvidia-container-runtime\", \"args\": []}}}\n");
            assertThat(ok("node1", "root", "systemctl restart docker && docker info --format '{{.DefaultRuntime}}'"))
                    .isEqualTo("nvidia\n");
        } finally {
            Files.deleteIfExists(daemonJson);
            ok("node1", "root", "systemctl restart docker");
        }
        assertThat(ok("node1", "root", "docker info --format '{{.DefaultRuntime}}'")).isEqualTo("runc\n");
    }

    @Test
    void injectedDockerdFaultFailsTheNextStartOnly() throws Exception {
        ok("gpu1", "root", "echo 1 > /etc/k3gpu-lab/faults/dockerd-fail-starts");
        assertThat(ssh("gpu1", "root", "systemctl restart docker").exit()).isEqualTo(1);
        assertThat(ok("gpu1", "root", "journalctl -u docker -n 5")).contains("injected fault");
        assertThat(ok("gpu1", "root", "cat /etc/k3gpu-lab/faults/dockerd-fail-starts")).isEqualTo("0\n");
        assertThat(ok("gpu1", "root", "systemctl restart docker && systemctl is-active docker")).isEqualTo("active\n");
    }

    @Test
    void sudoAndPasswordsOfTheUsers() throws Exception {
        assertThat(ok("jetson1", "k3gpu", "id -un; sudo -n true && echo sudo-ok")).isEqualTo("k3gpu\nsudo-ok\n");
        Ssh alice = ssh("jetson1", "alice", "sudo -n true");
        assertThat(alice.exit()).isEqualTo(1);
        assertThat(alice.err()).contains("a password is required");
        String pw = lab.user("alice").password();
        assertThat(ok("jetson1", "alice", "echo '" + pw + "' | sudo -S -p '' id -un")).isEqualTo("root\n");
        // password login (the path ssh-copy-id takes) works for the non-root users
        Path askpass = Files.createTempFile("askpass", ".sh");
        try {
            Files.writeString(askpass, "#!/bin/sh\necho '" + lab.user("k3gpu").password() + "'\n");
            askpass.toFile().setExecutable(true);
            ProcessBuilder pb = new ProcessBuilder("setsid", "-w", "ssh", "-F", "/dev/null",
                    "-o", "UserKnownHostsFile=" + lab.knownHostsFile(), "-o", "StrictHostKeyChecking=yes",
                    "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password",
                    "-o", "NumberOfPasswordPrompts=1", "k3gpu@" + lab.node("gpu1").ip(), "id -un");
            pb.environment().put("SSH_ASKPASS", askpass.toString());
            pb.environment().put("SSH_ASKPASS_REQUIRE", "force");
            pb.environment().put("DISPLAY", "none");
            pb.redirectErrorStream(true);
            Process p = pb.start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(out).isEqualTo("k3gpu\n");
        } finally {
            Files.delete(askpass);
        }
        Ssh rootPassword = ssh("gpu1", "root", "true");
        assertThat(rootPassword.exit()).isZero();
    }

    @Test
    void writesLandInTheNodesUpperDir() throws Exception {
        ok("jetson1", "root", "echo from-node > /etc/k3gpu-it-marker; mkdir -p /opt/it && echo x > /opt/it/f");
        assertThat(lab.upperPath("jetson1", "/etc/k3gpu-it-marker")).hasContent("from-node");
        assertThat(lab.nodePath("jetson1", "/etc/k3gpu-it-marker")).hasContent("from-node");
        assertThat(lab.upperPath("jetson1", "/opt/it/f")).hasContent("x");
        assertThat(Path.of("/etc/k3gpu-it-marker")).doesNotExist();
        assertThat(Path.of("/opt/it")).doesNotExist();
        assertThat(ssh("jetson2", "root", "test -e /etc/k3gpu-it-marker").exit()).isEqualTo(1);
        // and the host side writes into the node
        Files.writeString(lab.nodePath("gpu1", "/etc/k3gpu-it-from-host"), "hello");
        assertThat(ok("gpu1", "root", "cat /etc/k3gpu-it-from-host")).isEqualTo("hello");
        assertThat(lab.upperPath("gpu1", "/etc/k3gpu-it-from-host")).hasContent("hello");
    }

    @Test
    void nodesReachEachOtherAndTheHostOnly() throws Exception {
        assertThat(ok("jetson1", "root", "ip route")).doesNotContain("default");
        assertThat(ok("jetson1", "root", "getent hosts gpu1")).startsWith(lab.node("gpu1").ip());
        assertThat(ok("jetson1", "root", "ssh-keyscan -T 5 -t ed25519 " + lab.node("gpu1").ip() + " 2>/dev/null"))
                .startsWith(lab.node("gpu1").ip() + " ssh-ed25519 ");
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void downLeavesNothingBehind() throws Exception {
        Set<Long> pids = new HashSet<>();
        for (LabNode n : lab.nodes()) {
            pids.add(n.pid());
            pids.add(n.launcherPid());
        }
        List<String> nsLinks = new ArrayList<>();
        for (LabNode n : lab.nodes()) {
            nsLinks.add(Files.readSymbolicLink(Path.of("/proc", Long.toString(n.pid()), "ns", "net")).toString());
        }
        long t0 = System.nanoTime();
        Lab.down(lab.stateDir());
        System.out.printf("lab down (4 nodes): %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        Lab.down(lab.stateDir()); // idempotent
        LabLeftovers.assertNone(lab, pids, nsLinks);
        lab = null;
    }
}
