package io.k3gpu.lab;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What lab to build.
 *
 * <p>Naming: the lab's network namespaces are {@code <id>-<node>}, its bridge {@code <id>-br} (so {@code id} has at
 * most 12 characters: interface names have at most 15), the host side of each node's veth {@code v<subnet>-<node>}.
 * The bridge has {@code 10.213.<subnet>.1/24}; nodes get {@code .11}, {@code .12}, ... in the order of
 * {@code profiles}. Node names are the profile's prefix plus a counter per prefix, in order: {@code jetson1,
 * jetson2, ...} for the Jetson profiles (jetson-nano, orin-nano share the counter), {@code gpu1, ...} for dgpu,
 * {@code node1, ...} for cpu-only. The hostname of a node is its name.
 *
 * @param id          lab name, {@code [a-z][a-z0-9]{0,11}} plus inner dashes; default {@code k3gpu}
 * @param subnet      third octet of 10.213.x.0/24, 0..255; default 213
 * @param profiles    one profile key per node (see {@link Profile#keys()})
 * @param stateDir    where the lab keeps its keys, node directories and state.json; default
 *                    {@code /run/k3gpu-lab/<id>}; must not lie under /etc, /var or /opt (they are the nodes'
 *                    overlay lower layers)
 * @param fixturesDir optional directory laid out like the bundled fixtures (tegrastats/, nvidia-smi/) whose files
 *                    replace the bundled ones; null = the copies inside the jar
 */
public record LabConfig(String id, int subnet, List<String> profiles, Path stateDir, Path fixturesDir) {
    public static final String DEFAULT_ID = "k3gpu";
    public static final int DEFAULT_SUBNET = 213;
    public static final Path STATE_ROOT = Path.of("/run/k3gpu-lab");
    /** The first host number of the nodes: node i (0-based) gets 10.213.subnet.(11 + i). */
    public static final int FIRST_HOST = 11;
    public static final int MAX_NODES = 254 - FIRST_HOST + 1;
    private static final Pattern ID = Pattern.compile("[a-z][a-z0-9-]{0,11}");

    public LabConfig {
        id = id == null ? DEFAULT_ID : id;
        if (!ID.matcher(id).matches() || id.endsWith("-")) {
            throw new K3gpuException(ExitCode.USAGE, "invalid lab id '" + id + "'",
                    "use 1 to 12 lowercase letters, digits or dashes, starting with a letter");
        }
        if (subnet < 0 || subnet > 255) {
            throw new K3gpuException(ExitCode.USAGE, "invalid lab subnet " + subnet,
                    "the subnet is the third octet of 10.213.x.0/24: 0..255");
        }
        if (profiles == null || profiles.isEmpty()) {
            throw new K3gpuException(ExitCode.USAGE, "a lab needs at least one node", "give one profile per node");
        }
        if (profiles.size() > MAX_NODES) {
            throw new K3gpuException(ExitCode.USAGE, "a lab has at most " + MAX_NODES + " nodes", null);
        }
        profiles.forEach(Profile::of);
        profiles = List.copyOf(profiles);
        stateDir = (stateDir == null ? STATE_ROOT.resolve(id) : stateDir).toAbsolutePath().normalize();
        for (String lower : List.of("/etc", "/var", "/opt", "/usr", "/proc", "/sys")) {
            if (stateDir.startsWith(lower) || stateDir.equals(Path.of("/"))) {
                throw new K3gpuException(ExitCode.USAGE, "the lab state directory cannot be " + stateDir,
                        "use a directory outside /etc, /var, /opt and /usr, e.g. /run/k3gpu-lab/" + id);
            }
        }
    }

    /** The default lab (id k3gpu, subnet 213, /run/k3gpu-lab/k3gpu) with these node profiles. */
    public static LabConfig of(List<String> profiles) {
        return new LabConfig(DEFAULT_ID, DEFAULT_SUBNET, profiles, null, null);
    }

    /** {@code --nodes 3 --profile jetson-nano,dgpu}: the profiles cycle (jetson-nano, dgpu, jetson-nano). */
    public static List<String> cycle(int nodes, List<String> profiles) {
        if (nodes < 1 || profiles == null || profiles.isEmpty()) {
            throw new K3gpuException(ExitCode.USAGE, "a lab needs at least one node and one profile", null);
        }
        List<String> out = new ArrayList<>(nodes);
        for (int i = 0; i < nodes; i++) {
            out.add(profiles.get(i % profiles.size()).strip());
        }
        return out;
    }

    public LabConfig withId(String newId) {
        return new LabConfig(newId, subnet, profiles, stateDir.equals(STATE_ROOT.resolve(id)) ? null : stateDir,
                fixturesDir);
    }

    public LabConfig withSubnet(int newSubnet) {
        return new LabConfig(id, newSubnet, profiles, stateDir, fixturesDir);
    }

    public LabConfig withStateDir(Path dir) {
        return new LabConfig(id, subnet, profiles, dir, fixturesDir);
    }

    public LabConfig withFixturesDir(Path dir) {
        return new LabConfig(id, subnet, profiles, stateDir, dir);
    }

    public String bridge() {
        return id + "-br";
    }

    public String bridgeIp() {
        return ip(1);
    }

    public String ip(int host) {
        return "10.213." + subnet + "." + host;
    }

    /** The nodes this configuration describes (pid 0: not started). */
    public List<LabNode> plannedNodes() {
        Map<String, Integer> counters = new HashMap<>();
        List<LabNode> nodes = new ArrayList<>();
        for (int i = 0; i < profiles.size(); i++) {
            Profile p = Profile.of(profiles.get(i));
            int n = counters.merge(p.namePrefix(), 1, Integer::sum);
            String name = p.namePrefix() + n;
            String veth = "v" + subnet + "-" + name;
            if (veth.length() > 15) {
                veth = "v" + subnet + "-n" + (i + 1);
            }
            nodes.add(new LabNode(name, name, ip(FIRST_HOST + i), profiles.get(i), 0, 0, id + "-" + name, veth,
                    stateDir.resolve("nodes").resolve(name), false));
        }
        return nodes;
    }
}
