package io.k3gpu.lab.k3s;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The server's embedded agent (kubelet and container runtime): K3s's {@code k3s server} runs {@code agent.Run} in
 * its own process unless {@code --disable-agent}, with the server's agent flags, {@code https://127.0.0.1:<port>}
 * and the agent token (pkg/cli/server/server.go, end of {@code run}). The lab's server is a JVM and its agent is
 * Python, so the agent is a child process of the server: the lab's {@code k3s-agent.py} with the server's agent
 * flags, told through {@code K3GPU_LAB_EMBEDDED_AGENT} what it registers as a server's Node (roles, the server's
 * node-args, the first pod CIDR). It owns the Node (registration, heartbeats, Lease, kubelet :10250, the pods); its
 * log lines go to the server's log. It stops with the server (SIGTERM, then SIGKILL), stops by itself when the
 * server's process is gone, and when it exits on its own the server is told (K3s exits when its agent fails).
 */
final class EmbeddedAgent implements AutoCloseable {
    /** The environment variable {@code k3s-agent.py} reads (k3sagent/options.py: embedded). */
    static final String ENV = "K3GPU_LAB_EMBEDDED_AGENT";
    /** Agent flags of {@code k3s server} that the embedded agent takes as they are (K3s: cmds.AgentConfig). */
    static final List<String> AGENT_FLAGS = List.of("node-label", "node-taint", "node-ip", "node-external-ip",
            "docker", "default-runtime", "kubelet-arg", "kube-proxy-arg", "with-node-id", "container-runtime-endpoint",
            "image-service-endpoint", "pause-image", "snapshotter", "private-registry", "resolv-conf", "flannel-iface",
            "flannel-conf", "vpn-auth", "vpn-auth-file", "image-credential-provider-bin-dir",
            "image-credential-provider-config", "node-internal-dns", "node-external-dns", "airgap-extra-registry",
            "selinux", "protect-kernel-defaults", "rootless", "prefer-bundled-bin",
            "disable-default-registry-endpoint", "nonroot-devices");

    private final Process process;
    private volatile boolean stopping;

    private EmbeddedAgent(Process process) {
        this.process = process;
    }

    /**
     * The agent's command line: the program, {@code agent}, the connection, then the server's agent flags. No
     * config file ({@code --config /dev/null}): the server read it already and its values are among the flags.
     */
    static List<String> command(Path program, String url, Path tokenFile, Path dataDir, String nodeName,
                                boolean debug, List<String> agentFlags) {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", "-S", program.toString(), "agent",
                "--config", "/dev/null", "--server", url, "--token-file", tokenFile.toString(), "--data-dir",
                dataDir.toString(), "--node-name", nodeName));
        if (debug) {
            cmd.add("--debug");
        }
        cmd.addAll(agentFlags);
        return cmd;
    }

    /** The server's agent flags, as {@code --name=value} arguments (list flags once per value). */
    static List<String> agentFlags(K3sFlags.Parsed parsed) {
        List<String> out = new ArrayList<>();
        for (String name : AGENT_FLAGS) {
            for (String v : parsed.list(name)) {
                out.add("--" + name + "=" + v);
            }
        }
        return out;
    }

    /** {@value #ENV}'s JSON: the server's node-args, whether it runs embedded etcd, its Node's pod CIDR or null. */
    static String environment(List<String> nodeArgs, boolean etcd, String podCidr) {
        ObjectNode doc = Json.object();
        ArrayNode args = doc.putArray("nodeArgs");
        nodeArgs.forEach(args::add);
        doc.put("etcd", etcd);
        if (podCidr != null) {
            doc.put("podCIDR", podCidr);
        }
        return Json.write(doc);
    }

    /** Starts the agent; {@code onExit} gets its exit status when it ends without {@link #close}. */
    static EmbeddedAgent start(List<String> command, String environment, PrintStream log, IntConsumer onExit)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put(ENV, environment);
        Process p = pb.start();
        EmbeddedAgent agent = new EmbeddedAgent(p);
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    log.println(line);
                }
            } catch (IOException e) {
                // the agent is gone
            }
            try {
                int rc = p.waitFor();
                if (!agent.stopping) {
                    onExit.accept(rc);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "embedded-agent-log");
        pump.setDaemon(true);
        pump.start();
        return agent;
    }

    long pid() {
        return process.pid();
    }

    /** SIGTERM (the agent kills its containers and exits), SIGKILL after 10 s. */
    @Override
    public void close() {
        stopping = true;
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
