package io.k3gpu.cli;

import io.k3gpu.lab.LabNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Real faults on lab nodes, for the fault-injection suite: the link cut (the host side of the node's veth down),
 * packet loss on what reaches the node (nftables in the node's network namespace: this kernel has no netem), a
 * slow link (a token bucket on the veth), a full disk (a small tmpfs in the node's mount namespace) and signals to
 * the node's processes.
 */
final class Faults {
    private static final String TABLE = "k3gpufault";

    private Faults() {
    }

    /** Cuts the node off the lab network: its veth goes down on the host side; nothing reaches it, nothing leaves. */
    static void cut(TestLab lab, String node) {
        host("ip", "link", "set", lab.state.node(node).veth(), "down");
    }

    static void restore(TestLab lab, String node) {
        host("ip", "link", "set", lab.state.node(node).veth(), "up");
    }

    /** Drops {@code percent} % of the packets that reach the node (as netem loss on the host side of its veth). */
    static void loss(TestLab lab, String node, int percent) {
        LabNode n = lab.state.node(node);
        noLoss(lab, node);
        host("ip", "netns", "exec", n.netns(), "nft", "add", "table", "inet", TABLE);
        host("ip", "netns", "exec", n.netns(), "nft", "add", "chain", "inet", TABLE, "in",
                "{ type filter hook input priority 0; policy accept; }");
        // Only what comes over the link: the node's own traffic to itself (a relay in front of its sshd) goes by lo.
        host("ip", "netns", "exec", n.netns(), "nft", "add", "rule", "inet", TABLE, "in", "iifname", "lo", "accept");
        host("ip", "netns", "exec", n.netns(), "nft", "add", "rule", "inet", TABLE, "in",
                "numgen", "random", "mod", "100", "<", String.valueOf(percent), "drop");
    }

    static void noLoss(TestLab lab, String node) {
        LabNode n = lab.state.node(node);
        run(List.of("ip", "netns", "exec", n.netns(), "nft", "delete", "table", "inet", TABLE));
    }

    /**
     * Adds {@code seconds} of latency each way to SSH on {@code port} of the node (a round trip: twice that): a relay
     * in the node's network namespace, in front of its sshd, that holds every byte that long (this kernel has no
     * netem). Stop it with {@link Process#destroy}.
     */
    static Process latency(TestLab lab, String node, int port, double seconds) throws IOException {
        LabNode n = lab.state.node(node);
        Path script = Files.createTempFile("k3gpu-delay-relay", ".py");
        try (InputStream in = Faults.class.getResourceAsStream("delay-relay.py")) {
            Files.write(script, in.readAllBytes());
        }
        script.toFile().deleteOnExit();
        Process relay = new ProcessBuilder("ip", "netns", "exec", n.netns(), "/usr/bin/python3", script.toString(),
                n.ip(), String.valueOf(port), n.ip(), "22", String.valueOf(seconds))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        boolean listening = await(5, () -> run(List.of("ip", "netns", "exec", n.netns(), "sh", "-c",
                "ss -ltn | grep -q '" + n.ip() + ":" + port + " '")) == null);
        if (!listening) {
            relay.destroyForcibly();
            throw new IllegalStateException("the delay relay on " + node + " did not start");
        }
        return relay;
    }

    /** Limits what is sent to the node to {@code mbit} Mbit/s (a token bucket on the host side of its veth). */
    static void slow(TestLab lab, String node, int mbit) {
        String veth = lab.state.node(node).veth();
        host("tc", "qdisc", "replace", "dev", veth, "root", "tbf", "rate", mbit + "mbit", "burst", "32kbit",
                "latency", "400ms");
    }

    static void fast(TestLab lab, String node) {
        run(List.of("tc", "qdisc", "del", "dev", lab.state.node(node).veth(), "root"));
    }

    /** Waits up to {@code seconds} for {@code condition}, polling every 20 ms. */
    static boolean await(double seconds, BooleanSupplier condition) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            if (condition.getAsBoolean()) {
                return true;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return condition.getAsBoolean();
    }

    /** The SHA-256 of a file (hex), or "absent". */
    static String sha256(Path file) {
        if (!Files.isRegularFile(file)) {
            return "absent";
        }
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The names of the temporary files k3gpu's atomic writes leave in {@code dir} of the node (should be none). */
    static List<String> tempFiles(TestLab lab, String node, String dir) throws IOException {
        Path d = lab.path(node, dir);
        if (!Files.isDirectory(d)) {
            return List.of();
        }
        try (var s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".k3gpu.")).sorted().toList();
        }
    }

    private static void host(String... command) {
        String out = run(List.of(command));
        if (out != null) {
            throw new IllegalStateException(String.join(" ", command) + ": " + out);
        }
    }

    /** Runs a command on the host; null when it succeeded, else its output. */
    private static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor() == 0 ? null : out.strip();
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
