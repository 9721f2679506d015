package io.k3gpu.cli;

import io.k3gpu.lab.Lab;
import io.k3gpu.lab.LabConfig;
import io.k3gpu.lab.LabState;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A lab for one test class, plus the SSH flags that reach its nodes and helpers to look inside them. */
final class TestLab implements AutoCloseable {
    final LabState state;

    private TestLab(LabState state) {
        this.state = state;
    }

    static TestLab up(String id, int subnet, String... profiles) {
        LabConfig config = new LabConfig(id, subnet, List.of(profiles), LabConfig.STATE_ROOT.resolve(id), null);
        Lab.down(config.stateDir()); // leftovers of an interrupted earlier run
        return new TestLab(Lab.up(config));
    }

    String ip(String node) {
        return state.node(node).ip();
    }

    String password(String user) {
        return state.user(user).password();
    }

    /** --ip NODE plus the lab's key, known_hosts, and no ~/.ssh/config. */
    String[] ssh(String node, String... more) {
        List<String> a = new ArrayList<>(List.of("--ip", ip(node), "--ssh-key", state.keyFile().toString(),
                "--known-hosts", state.knownHostsFile().toString(), "--ssh-config", "/dev/null",
                "--connect-timeout", "5s"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    static String[] args(String command, String[] ssh, String... more) {
        List<String> a = new ArrayList<>(List.of(command.split(" ")));
        a.addAll(List.of(ssh));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** The node's view of a file, read from the host. */
    Path path(String node, String abs) {
        return state.nodePath(node, abs);
    }

    String read(String node, String abs) throws IOException {
        return Files.readString(path(node, abs), StandardCharsets.UTF_8);
    }

    void write(String node, String abs, String content) throws IOException {
        Path p = path(node, abs);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
    }

    /** Runs a command on the node with the real OpenSSH client, as root. */
    String sh(String node, String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(state.sshCommand(node, "root", command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        if (rc != 0) {
            throw new IOException("ssh " + node + " '" + command + "' exited " + rc + ": " + out);
        }
        return out;
    }

    /** The node's processes of that name, waiting up to 3 s for them to go (the kill travels asynchronously). */
    String processesLeft(String node, String name) throws IOException, InterruptedException {
        String left = "";
        for (int i = 0; i < 30; i++) {
            left = sh(node, "pgrep -x " + name + " || true").strip();
            if (left.isEmpty()) {
                return left;
            }
            Thread.sleep(100);
        }
        return left;
    }

    @Override
    public void close() {
        Lab.down(state.stateDir());
    }
}
