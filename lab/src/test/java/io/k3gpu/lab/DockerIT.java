package io.k3gpu.lab;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The real Docker of the lab's Docker nodes (Debian's docker.io in the node's namespaces) and the lab's NVIDIA runtime
 * (a runc wrapper in CSV mode): the seed's own `docker run` line on a lab Jetson before and after the default runtime
 * is nvidia, containers' exit codes and output, Docker's error without the NVIDIA runtime, the daemon's memory.
 */
class DockerIT {
    static final String ID = "itdocker";
    static final int SUBNET = 229;
    static final String SEED_LINE = "echo \"python3 -c 'import tensorflow'\" | "
            + "docker run -i icetekio/jetson-nano-tensorflow /bin/bash";
    static final String NVIDIA_DEFAULT = "{\"default-runtime\": \"nvidia\", \"runtimes\": {\"nvidia\": "
            + "{\"path\": \"nvidia-container-runtime\", \"runtimeArgs\": []}}}";
    static LabState lab;

    record Ssh(int exit, String out, String err) {
    }

    @BeforeAll
    static void up() {
        assumeThat(Lab.isRoot()).as("the lab needs root").isTrue();
        Lab.down(LabConfig.STATE_ROOT.resolve(ID));
        lab = Lab.up(new LabConfig(ID, SUBNET, List.of("jetson-nano", "cpu-only"), null, null));
    }

    @AfterAll
    static void down() {
        if (lab != null) {
            Lab.down(lab.stateDir());
        }
    }

    static Ssh ssh(String node, String command) throws Exception {
        Process p = new ProcessBuilder(lab.sshCommand(node, "root", command)).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Ssh(p.exitValue(), out, err);
    }

    static String ok(String node, String command) throws Exception {
        Ssh r = ssh(node, command);
        assertThat(r.exit()).as("%s on %s: %s", command, node, r.err()).isZero();
        return r.out();
    }

    @Test
    void theSeedsDockerRunLineFindsTheCudaRuntimeOnlyWithTheNvidiaRuntime() throws Exception {
        // built in the background at boot (k3gpu-lab-images), as a pull would be
        String images = "";
        for (int i = 0; i < 60 && !images.contains("icetekio/jetson-nano-tensorflow:latest"); i++) {
            Thread.sleep(i == 0 ? 0 : 500);
            images = ok("jetson1", "docker images --format '{{.Repository}}:{{.Tag}}'");
        }
        assertThat(images).as(ok("jetson1", "journalctl -u k3gpu-lab-images")).contains(
                "icetekio/jetson-nano-tensorflow:latest");
        Ssh before = ssh("jetson1", SEED_LINE);
        assertThat(before.exit()).isZero();
        assertThat(before.err()).contains("W tensorflow/stream_executor/platform/default/dso_loader.cc:60] Could not "
                + "load dynamic library 'libcudart.so.10.2'; dlerror: libcudart.so.10.2: cannot open shared object "
                + "file: No such file or directory", "Ignore above cudart dlerror if you do not have a GPU set up");
        try {
            // what `k3gpu gpu-runtime` does: nvidia as Docker's default runtime, then a restart
            ok("jetson1", "cp /etc/docker/daemon.json /tmp/daemon.json.orig && echo '" + NVIDIA_DEFAULT
                    + "' > /etc/docker/daemon.json && systemctl restart docker");
            assertThat(ok("jetson1", "docker info --format '{{.DefaultRuntime}}'")).isEqualTo("nvidia\n");
            Ssh after = ssh("jetson1", SEED_LINE);
            assertThat(after.exit()).isZero();
            assertThat(after.err()).contains("I tensorflow/stream_executor/platform/default/dso_loader.cc:49] "
                    + "Successfully opened dynamic library libcudart.so.10.2").doesNotContain("dlerror");
            // the library is there through the runtime's CSV mount only, read-only
            assertThat(ok("jetson1", "docker run --rm icetekio/jetson-nano-tensorflow cat "
                    + "/usr/local/cuda-10.2/targets/aarch64-linux/lib/libcudart.so.10.2"))
                    .contains("SIMULATED CUDA runtime");
            assertThat(ssh("jetson1", "docker run --rm --runtime runc icetekio/jetson-nano-tensorflow ls "
                    + "/usr/local/cuda-10.2").exit()).isNotZero();
        } finally {
            ok("jetson1", "mv /tmp/daemon.json.orig /etc/docker/daemon.json && systemctl restart docker");
        }
    }

    @Test
    void containersRunForRealAndWithoutTheNvidiaRuntimeDockerFailsAsItDoes() throws Exception {
        ok("node1", "rm -rf /tmp/bb && mkdir -p /tmp/bb/bin && cp /bin/busybox /tmp/bb/bin/ && ln -s busybox "
                + "/tmp/bb/bin/sh && tar -C /tmp/bb -c . | docker import - lab/busybox:1 >/dev/null");
        Ssh r = ssh("node1", "docker run --rm lab/busybox:1 sh -c 'echo out; echo err >&2; exit 3'");
        assertThat(r).isEqualTo(new Ssh(3, "out\n", "err\n"));
        try {
            ok("node1", "echo '" + NVIDIA_DEFAULT + "' > /etc/docker/daemon.json && systemctl restart docker");
            Ssh nv = ssh("node1", "docker run --rm lab/busybox:1 true");
            assertThat(nv.exit()).isEqualTo(127);
            assertThat(nv.err()).contains("exec: \"nvidia-container-runtime\": executable file not found in $PATH");
        } finally {
            ok("node1", "rm -f /etc/docker/daemon.json && systemctl restart docker");
        }
        assertThat(ok("node1", "docker info --format '{{.DefaultRuntime}} {{.Driver}} {{.ServerVersion}}'"))
                .isEqualTo("runc vfs 20.10.24+dfsg1\n");
    }

    @Test
    void theDaemonStaysWithin150MbOfMemory() throws Exception {
        long kib = 0;
        for (String rss : ok("node1", "ps -o rss= -C dockerd,containerd").trim().split("\\s+")) {
            kib += Long.parseLong(rss);
        }
        System.out.printf("dockerd + containerd RSS on a Docker node: %d KiB%n", kib);
        assertThat(kib).isLessThanOrEqualTo(150 * 1024);
    }
}
