package io.k3gpu.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Asserts that a lab left nothing behind: processes, namespaces, links, addresses, mounts, files. */
final class LabLeftovers {
    private LabLeftovers() {
    }

    static void assertNone(LabState lab, Collection<Long> pids, Collection<String> netnsLinks) throws Exception {
        String id = lab.id();
        assertThat(Lab.status(lab.stateDir())).isEmpty();
        assertThat(lab.stateDir()).doesNotExist();
        assertThat(run("ip", "netns", "list")).doesNotContain(id + "-");
        assertThat(run("ip", "-o", "link")).doesNotContain(lab.bridge(), "v" + lab.subnet() + "-");
        assertThat(run("ip", "-o", "-4", "addr")).doesNotContain("10.213." + lab.subnet() + ".");
        assertThat(Files.readString(Path.of("/proc/mounts"))).doesNotContain(lab.stateDir().toString(),
                "/run/netns/" + id + "-");
        assertThat(run("ps", "-eo", "pid,stat,args")).doesNotContain(lab.stateDir().toString());
        for (long pid : pids) {
            // gone, or a zombie waiting for its parent (the host's init) to reap it
            assertThat(Lab.startTime(pid)).as("pid %d still running", pid).isNull();
        }
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String ns = Files.readSymbolicLink(p.resolve("ns/net")).toString();
                    assertThat(netnsLinks).as("process %s in a lab namespace", p).doesNotContain(ns);
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
    }

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }
}
