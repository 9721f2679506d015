package io.k3gpu.lab;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.ValueSerializer;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A lab as built by {@link Lab#up}: what tests and the CLI need to reach its nodes. Stored as
 * {@code <stateDir>/state.json} (mode 0600: it holds the users' passwords).
 *
 * @param id             lab id
 * @param subnet         third octet of the lab's 10.213.x.0/24
 * @param bridge         the bridge in the host's network namespace
 * @param bridgeIp       the host's address on the bridge (10.213.x.1; prefix length 24)
 * @param stateDir       the lab's directory on the host
 * @param keyFile        private key (ed25519, OpenSSH format, mode 0600) authorized for every user on every node;
 *                       the public key is {@code keyFile + ".pub"}
 * @param knownHostsFile known_hosts with every node's ed25519 host key, by IP
 * @param users          root, k3gpu, alice (see {@link LabUser})
 * @param nodes          the nodes, in configuration order
 * @param createdAt      when the lab came up (ISO-8601)
 */
public record LabState(String id, int subnet, String bridge, String bridgeIp, Path stateDir, Path keyFile,
                       Path knownHostsFile, List<LabUser> users, List<LabNode> nodes, String createdAt) {

    public static final String STATE_FILE = "state.json";

    private static final JsonMapper JSON = JsonMapper.builder()
            .addModule(new SimpleModule("k3gpu-lab-paths")
                    .addSerializer(Path.class, new ValueSerializer<Path>() {
                        @Override
                        public void serialize(Path value, JsonGenerator gen, SerializationContext ctxt) {
                            gen.writeString(value.toString());
                        }
                    })
                    .addDeserializer(Path.class, new ValueDeserializer<Path>() {
                        @Override
                        public Path deserialize(JsonParser p, DeserializationContext ctxt) {
                            return Path.of(p.getValueAsString());
                        }
                    }))
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    public LabState {
        users = users == null ? List.of() : List.copyOf(users);
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
    }

    public String toJson() {
        return JSON.writeValueAsString(this);
    }

    public static LabState fromJson(String json) {
        try {
            return JSON.readValue(json, LabState.class);
        } catch (JacksonException e) {
            throw new K3gpuException(ExitCode.FAILED, "lab: unreadable lab state: " + e.getOriginalMessage(),
                    "run `k3gpu lab down` to clean up, then bring the lab up again", e);
        }
    }

    /** The node called {@code name}; throws a usage error naming the lab's nodes when there is none. */
    public LabNode node(String name) {
        for (LabNode n : nodes) {
            if (n.name().equals(name)) {
                return n;
            }
        }
        List<String> names = new ArrayList<>();
        nodes.forEach(n -> names.add(n.name()));
        throw new K3gpuException(ExitCode.USAGE, "the lab " + id + " has no node '" + name + "'",
                "its nodes: " + String.join(", ", names));
    }

    public LabUser user(String name) {
        for (LabUser u : users) {
            if (u.name().equals(name)) {
                return u;
            }
        }
        throw new K3gpuException(ExitCode.USAGE, "the lab " + id + " has no user '" + name + "'",
                "its users: root, k3gpu, alice");
    }

    /** Public key file of the lab key pair. */
    public Path publicKeyFile() {
        return keyFile.resolveSibling(keyFile.getFileName() + ".pub");
    }

    /**
     * Where the node's view of {@code absPath} can be read (and written) from the host:
     * {@code /proc/<pid>/root/<absPath>}, which resolves through the node's own mounts (overlays included).
     */
    public Path nodePath(String node, String absPath) {
        LabNode n = node(node);
        if (n.pid() <= 0) {
            throw new K3gpuException(ExitCode.FAILED, "lab node " + node + " is not running", null);
        }
        return Path.of("/proc", Long.toString(n.pid()), "root").resolve(relative(absPath));
    }

    /** The node's root directory as seen from the host: {@code /proc/<pid>/root} (its own mounts included). */
    public Path nodeRoot(String node) {
        return nodePath(node, "/");
    }

    /** Same as {@link #upperPath(String, String)}. */
    public Path fileOnNode(String node, String absPath) {
        return upperPath(node, absPath);
    }

    /**
     * Where a file the node writes at {@code absPath} lands on the host: the node's overlay upper layer for paths
     * under /etc, /var, /opt and /usr (but /usr/local), its private directory for /root, /home and /usr/local.
     * Paths elsewhere (/tmp and /run are tmpfs, the rest is the host's own) have no such place.
     */
    public Path upperPath(String node, String absPath) {
        LabNode n = node(node);
        String rel = relative(absPath);
        String top = rel.contains("/") ? rel.substring(0, rel.indexOf('/')) : rel;
        String rest = rel.contains("/") ? rel.substring(rel.indexOf('/') + 1) : "";
        Path base;
        switch (top) {
            case "etc", "var", "opt" -> base = n.dir().resolve("upper").resolve(top);
            case "root" -> base = n.dir().resolve("root");
            case "home" -> base = n.dir().resolve("home");
            case "usr" -> {
                if (!rest.equals("local") && !rest.startsWith("local/")) {
                    base = n.dir().resolve("upper").resolve(top);
                    break;
                }
                base = n.dir().resolve("usr-local");
                rest = rest.equals("local") ? "" : rest.substring("local/".length());
            }
            default -> throw notKept(absPath);
        }
        return rest.isEmpty() ? base : base.resolve(rest);
    }

    /** The OpenSSH client command line that runs {@code command} as {@code user} on {@code node}. */
    public List<String> sshCommand(String node, String user, String... command) {
        List<String> cmd = new ArrayList<>(List.of("ssh", "-F", "/dev/null", "-i", keyFile.toString(),
                "-o", "UserKnownHostsFile=" + knownHostsFile, "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
                user + "@" + node(node).ip()));
        cmd.addAll(List.of(command));
        return cmd;
    }

    private static K3gpuException notKept(String absPath) {
        return new K3gpuException(ExitCode.USAGE, absPath + " is not kept in a node's own directory",
                "only /etc, /var, /opt, /root, /home and /usr/local are; use nodePath for the live view");
    }

    private static String relative(String absPath) {
        if (absPath == null || !absPath.startsWith("/")) {
            throw new K3gpuException(ExitCode.USAGE, "not an absolute path: " + absPath, null);
        }
        String rel = Path.of(absPath).normalize().toString().substring(1);
        if (rel.startsWith("..")) {
            throw new K3gpuException(ExitCode.USAGE, "not a path inside the node: " + absPath, null);
        }
        return rel;
    }
}
