package io.k3gpu.lab;

import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/** A lab that dies or fails half-way is cleaned up. Small labs (2 nodes). Needs root. */
class LabRecoveryIT {
    static final LabConfig CONFIG = new LabConfig("itrecover", 232, List.of("cpu-only", "jetson-nano"), null, null);

    @BeforeEach
    void clean() {
        assumeThat(Lab.isRoot()).as("the lab needs root").isTrue();
        Lab.down(CONFIG.stateDir());
    }

    @AfterEach
    void after() {
        Lab.failBootOf = null;
        if (Lab.isRoot()) {
            Lab.down(CONFIG.stateDir());
        }
    }

    @Test
    void aLabWhoseNodesDiedIsCleanedUpAndCanComeUpAgain() throws Exception {
        LabState lab = Lab.up(CONFIG);
        List<Long> pids = new ArrayList<>();
        List<String> ns = new ArrayList<>();
        for (LabNode n : lab.nodes()) {
            ns.add(Files.readSymbolicLink(Path.of("/proc", Long.toString(n.pid()), "ns", "net")).toString());
            pids.add(n.pid());
            pids.add(n.launcherPid());
        }
        for (LabNode n : lab.nodes()) { // a crash: the nodes die, namespaces, links and files stay
            ProcessHandle.of(n.launcherPid()).ifPresent(ProcessHandle::destroyForcibly);
            ProcessHandle.of(n.pid()).ifPresent(ProcessHandle::destroyForcibly);
        }
        long deadline = System.currentTimeMillis() + 10_000;
        while (Lab.status(CONFIG.stateDir()).orElseThrow().nodes().stream().anyMatch(LabNode::alive)
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertThat(Lab.status(CONFIG.stateDir())).get()
                .satisfies(s -> assertThat(s.nodes()).noneMatch(LabNode::alive));
        assertThat(Path.of("/run/netns", "itrecover-node1")).exists();

        LabState again = Lab.up(CONFIG); // cleans the remains first
        assertThat(again.nodes()).allMatch(LabNode::alive);
        for (LabNode n : again.nodes()) {
            ns.add(Files.readSymbolicLink(Path.of("/proc", Long.toString(n.pid()), "ns", "net")).toString());
            pids.add(n.pid());
        }
        Lab.down(CONFIG.stateDir());
        LabLeftovers.assertNone(again, pids, ns);
    }

    @Test
    void aNodeThatDoesNotBootTearsTheWholeLabDown() throws Exception {
        Lab.failBootOf = "jetson1";
        assertThatThrownBy(() -> Lab.up(CONFIG)).isInstanceOf(K3gpuException.class)
                .hasMessageContaining("lab node jetson1 did not boot: failed: boot (injected)");
        LabState planned = new LabState(CONFIG.id(), CONFIG.subnet(), CONFIG.bridge(), CONFIG.bridgeIp(),
                CONFIG.stateDir(), null, null, List.of(), CONFIG.plannedNodes(), null);
        LabLeftovers.assertNone(planned, List.of(), List.of());
    }
}
