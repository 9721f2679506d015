package io.k3gpu.lab;

import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LabStateTest {

    static LabState sample() {
        LabConfig c = new LabConfig("t", 9, List.of("jetson-nano", "dgpu"), Path.of("/tmp/labstate"), null);
        List<LabNode> nodes = new ArrayList<>();
        long pid = 100;
        for (LabNode n : c.plannedNodes()) {
            nodes.add(n.withPids(pid++, pid++));
        }
        return new LabState("t", 9, c.bridge(), c.bridgeIp(), c.stateDir(), c.stateDir().resolve("id_ed25519"),
                c.stateDir().resolve("known_hosts"), List.of(new LabUser("root", null, LabUser.Sudo.ROOT, 0),
                new LabUser("k3gpu", "pw1", LabUser.Sudo.NOPASSWD, 1001),
                new LabUser("alice", "pw2", LabUser.Sudo.PASSWORD, 1002)), nodes, "2026-01-01T00:00:00Z");
    }

    @Test
    void jsonRoundTrip() {
        LabState s = sample();
        String json = s.toJson();
        assertThat(json).contains("\"stateDir\" : \"/tmp/labstate\"", "\"sudo\" : \"NOPASSWD\"",
                "\"ip\" : \"10.213.9.11\"", "\"netns\" : \"t-jetson1\"");
        assertThat(LabState.fromJson(json)).isEqualTo(s);
    }

    @Test
    void unknownFieldsAreIgnoredAndGarbageIsReported() {
        String json = sample().toJson().replaceFirst("\\{", "{ \"future\" : 1,");
        assertThat(LabState.fromJson(json).nodes()).hasSize(2);
        assertThatThrownBy(() -> LabState.fromJson("{not json")).isInstanceOf(K3gpuException.class)
                .hasMessageContaining("unreadable lab state");
    }

    @Test
    void pathsOfANode() {
        LabState s = sample();
        assertThat(s.nodePath("jetson1", "/etc/docker/daemon.json"))
                .isEqualTo(Path.of("/proc/100/root/etc/docker/daemon.json"));
        assertThat(s.upperPath("jetson1", "/etc/docker/daemon.json"))
                .isEqualTo(Path.of("/tmp/labstate/nodes/jetson1/upper/etc/docker/daemon.json"));
        assertThat(s.upperPath("gpu1", "/var/log/k3gpu-lab/docker.log"))
                .isEqualTo(Path.of("/tmp/labstate/nodes/gpu1/upper/var/log/k3gpu-lab/docker.log"));
        assertThat(s.upperPath("gpu1", "/root/.ssh/authorized_keys"))
                .isEqualTo(Path.of("/tmp/labstate/nodes/gpu1/root/.ssh/authorized_keys"));
        assertThat(s.upperPath("gpu1", "/home/alice")).isEqualTo(Path.of("/tmp/labstate/nodes/gpu1/home/alice"));
        assertThat(s.upperPath("gpu1", "/usr/local/bin/nvidia-smi"))
                .isEqualTo(Path.of("/tmp/labstate/nodes/gpu1/usr-local/bin/nvidia-smi"));
        assertThatThrownBy(() -> s.upperPath("gpu1", "/tmp/x")).isInstanceOf(K3gpuException.class);
        assertThat(s.upperPath("gpu1", "/usr/bin/nvidia-container-runtime"))
                .isEqualTo(Path.of("/tmp/labstate/nodes/gpu1/upper/usr/bin/nvidia-container-runtime"));
        assertThatThrownBy(() -> s.nodePath("gpu1", "relative")).isInstanceOf(K3gpuException.class);
        assertThatThrownBy(() -> s.node("gpu9")).isInstanceOf(K3gpuException.class)
                .hasMessageContaining("no node 'gpu9'")
                .satisfies(e -> assertThat(((K3gpuException) e).hint()).isEqualTo("its nodes: jetson1, gpu1"));
    }

    @Test
    void usersAndSsh() {
        LabState s = sample();
        assertThat(s.user("alice").password()).isEqualTo("pw2");
        assertThat(s.user("root").home()).isEqualTo("/root");
        assertThat(s.user("k3gpu").home()).isEqualTo("/home/k3gpu");
        assertThat(s.publicKeyFile()).isEqualTo(Path.of("/tmp/labstate/id_ed25519.pub"));
        assertThat(s.sshCommand("gpu1", "root", "hostname")).startsWith("ssh").endsWith("root@10.213.9.12", "hostname")
                .contains("UserKnownHostsFile=/tmp/labstate/known_hosts", "StrictHostKeyChecking=yes");
    }
}
