package io.k3gpu.lab;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

/**
 * The k3gpu lab: simulated GPU nodes, each a real OpenSSH sshd in its own network, UTS, mount and PID namespaces
 * with replayed Jetson/NVIDIA hardware (see {@link Profile}), on a bridge of the host. Needs root.
 *
 * <pre>
 *   LabState lab = Lab.up(new LabConfig("itlab", 231, List.of("jetson-nano", "dgpu"), null, null));
 *   ... ssh -i lab.keyFile() -o UserKnownHostsFile=lab.knownHostsFile() root@lab.node("jetson1").ip() ...
 *   Lab.down(lab.stateDir());
 * </pre>
 *
 * <p>Each node: a netns {@code <id>-<node>} with a veth to the bridge {@code <id>-br} (no default route: nodes
 * reach each other and the host's bridge address only); its init ({@code node-init.sh}) sets the hostname, mounts
 * overlays over /etc, /var and /opt (upper layers in {@code <stateDir>/nodes/<node>/upper}), binds the node's own
 * /root, /home and /usr/local (and /sys/firmware with the device tree on Jetsons), tmpfs on /run and /tmp, starts
 * the enabled simulated services (Docker) and execs sshd as the node's PID 1. Killing that PID ends the node and
 * every process in it.
 */
public final class Lab {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String MARKER = ".k3gpu-lab";
    /** Test hook: the node of this name fails its boot (its init exits early). */
    static volatile String failBootOf;
    private static final String INSTALL_HINT = "install them: apt-get install -y openssh-server sudo iproute2 python3";

    private Lab() {
    }

    /**
     * Builds and starts the lab; returns once every node's sshd accepts connections and its simulated services
     * have started. On failure, whatever was made is torn down again.
     *
     * @throws K3gpuException when not root, when sshd/sudo/ip (or python3) are missing, when a lab with this id
     *                        is already up, when its names or subnet are taken, or when a node does not boot
     */
    public static LabState up(LabConfig config) {
        checkHost();
        Path dir = config.stateDir();
        Optional<LabState> existing = status(dir);
        if (existing.isPresent()) {
            if (existing.get().nodes().stream().anyMatch(LabNode::alive)) {
                throw new K3gpuException(ExitCode.FAILED, "a lab with id " + existing.get().id()
                        + " is already up (state in " + dir + ")", "run `k3gpu lab down` first, or pick another id");
            }
            down(dir); // leftovers of a lab whose nodes died
        } else if (Files.exists(dir.resolve(MARKER))) {
            down(dir);
        } else if (Files.isDirectory(dir) && !isEmptyDir(dir)) {
            throw new K3gpuException(ExitCode.FAILED, "lab: " + dir + " exists and is not a lab state directory",
                    "remove it or choose another state directory");
        }
        long t0 = System.nanoTime();
        checkFree(config);
        phase(t0, "checks");
        try {
            return build(config, t0);
        } catch (RuntimeException e) {
            try {
                down(dir);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            if (e instanceof K3gpuException) {
                throw e;
            }
            throw new K3gpuException(ExitCode.FAILED, "lab: bringing up " + config.id() + " failed: " + e,
                    "the partly built lab was torn down", e);
        }
    }

    /**
     * The lab whose state lives in {@code stateDir}, with each node's {@code alive} refreshed; empty when there is
     * no such lab (no state.json).
     */
    public static Optional<LabState> status(Path stateDir) {
        stateDir = stateDir.toAbsolutePath().normalize();
        Path file = stateDir.resolve(LabState.STATE_FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        LabState s;
        try {
            s = LabState.fromJson(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<LabNode> nodes = new ArrayList<>();
        for (LabNode n : s.nodes()) {
            nodes.add(n.withAlive(n.pid() > 0 && inNetns(n.pid(), n.netns())));
        }
        return Optional.of(new LabState(s.id(), s.subnet(), s.bridge(), s.bridgeIp(), s.stateDir(), s.keyFile(),
                s.knownHostsFile(), s.users(), nodes, s.createdAt()));
    }

    /**
     * Tears the lab down: kills every process of its nodes (all nodes signalled first, then waited for), deletes
     * veths, namespaces and the bridge, and removes {@code stateDir}. Idempotent; also cleans up after crashes
     * (nodes that died, a JVM that stopped in the middle of {@link #up}).
     */
    public static void down(Path stateDir) {
        stateDir = stateDir.toAbsolutePath().normalize();
        io.k3gpu.lab.k3sdist.K3sDistribution.stop(stateDir); // the install mirror runs in the host's namespace
        Path file = stateDir.resolve(LabState.STATE_FILE);
        LabState s = null;
        if (Files.isRegularFile(file)) {
            try {
                s = LabState.fromJson(Files.readString(file));
            } catch (IOException | RuntimeException e) {
                s = null;
            }
        }
        List<String> netns = new ArrayList<>();
        List<String> veths = new ArrayList<>();
        String bridge = null;
        if (s != null) {
            bridge = s.bridge();
            for (LabNode n : s.nodes()) {
                netns.add(n.netns());
                veths.add(n.veth());
            }
        }
        // every lab process is inside one of the lab's network namespaces (launchers, nodes, and anything tests
        // started with `ip netns exec`)
        Set<String> nsInodes = new HashSet<>();
        for (String ns : netns) {
            String inode = netnsInode(ns);
            if (inode != null) {
                nsInodes.add(inode);
            }
        }
        Map<Long, String> victims = new LinkedHashMap<>();
        if (!nsInodes.isEmpty()) {
            for (long pid : allPids()) {
                if (nsInodes.contains(netOf(pid))) {
                    String st = startTime(pid);
                    if (st != null) {
                        victims.put(pid, st);
                    }
                }
            }
        }
        // launchers whose namespace file is already gone: recognised by their command line
        Path nodesDir = stateDir.resolve("nodes");
        if (Files.isDirectory(nodesDir)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(nodesDir)) {
                for (Path nd : ds) {
                    long lp = readLong(nd.resolve("launcher.pid"));
                    String st = lp > 0 ? startTime(lp) : null;
                    if (st != null && isUnshareOf(lp, nd)) {
                        victims.put(lp, st);
                        for (long kid : children(lp)) {
                            String kst = startTime(kid);
                            if (kst != null) {
                                victims.put(kid, kst);
                            }
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        long t0 = System.nanoTime();
        for (long pid : victims.keySet()) {
            kill(pid);
        }
        phase(t0, "down: signalled " + victims.size());
        // wait until they are dead (a node's PID 1 only dies once the kernel has torn its PID namespace down;
        // signalling everything first lets those run in parallel). Dead means exited: zombies hold no namespaces
        // or mounts any more, and reaping them is the job of their parent (the host's init for launchers).
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        for (Map.Entry<Long, String> v : victims.entrySet()) {
            while (v.getValue().equals(startTime(v.getKey())) && System.nanoTime() < deadline) {
                sleep(5);
            }
        }
        phase(t0, "down: processes gone");
        // network: veths, namespaces, bridge (netns cleanup is asynchronous: delete the veths explicitly)
        StringBuilder batch = new StringBuilder();
        for (String v : veths) {
            if (Files.exists(Path.of("/sys/class/net", v))) {
                batch.append("link del ").append(v).append('\n');
            }
        }
        for (String ns : netns) {
            if (Files.exists(Path.of("/run/netns", ns))) {
                batch.append("netns del ").append(ns).append('\n');
            }
        }
        if (bridge != null && Files.exists(Path.of("/sys/class/net", bridge))) {
            batch.append("link del ").append(bridge).append('\n');
        }
        if (batch.length() > 0) {
            Exec.run(List.of("ip", "-force", "-batch", "-"), batch.toString(), Duration.ofSeconds(60));
        }
        phase(t0, "down: network removed");
        // files: never through a mount that is still there
        if (Files.isDirectory(stateDir)) {
            if (!Files.exists(stateDir.resolve(MARKER)) && !Files.exists(file)) {
                return; // not ours
            }
            for (String m : mountsUnder(stateDir)) {
                Exec.run(List.of("umount", "-l", m));
            }
            deleteTree(stateDir);
            phase(t0, "down: files removed");
        }
    }

    // ------------------------------------------------------------------------------------------------------ build

    /** Phase timings on stderr when the environment has K3GPU_LAB_TIMING=1 (for tuning boot times). */
    private static void phase(long t0, String what) {
        if ("1".equals(System.getenv("K3GPU_LAB_TIMING"))) {
            System.err.printf("lab: %-24s %6.0f ms%n", what, (System.nanoTime() - t0) / 1e6);
        }
    }

    private static LabState build(LabConfig config, long t0) {
        Path dir = config.stateDir();
        List<LabNode> nodes = config.plannedNodes();
        try {
            Files.createDirectories(dir.getParent());
            Files.createDirectories(dir);
            // a tmpfs of its own: node files are many small ones, and a busy disk made creating and deleting them
            // take seconds; down() unmounts it (where mounting fails the lab lives in plain directories)
            Exec.run(List.of("mount", "-t", "tmpfs", "-o", "mode=0700,size=2g", "k3gpu-lab-" + config.id(),
                    dir.toString()));
            Files.setPosixFilePermissions(dir, NodeFiles.perms(0700));
            Files.writeString(dir.resolve(MARKER), "k3gpu lab " + config.id() + "\n");
            Files.createDirectories(dir.resolve("nodes"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path key = dir.resolve("id_ed25519");
        Path knownHosts = dir.resolve("known_hosts");
        List<LabUser> users = users();
        LabState state = new LabState(config.id(), config.subnet(), config.bridge(), config.bridgeIp(), dir, key,
                knownHosts, users, nodes, Instant.now().toString());
        writeState(state); // from here on, down() knows every name to clean up
        phase(t0, "state dir");

        Path lib = dir.resolve("lib");
        try {
            Files.createDirectories(lib);
            NodeFiles.write(lib.resolve("launch.sh"), Fixtures.resourceText(NodeFiles.SIM + "launch.sh"), 0755);
            NodeFiles.write(lib.resolve("node-init.sh"), Fixtures.resourceText(NodeFiles.SIM + "node-init.sh"), 0644);
            NodeFiles.writeSharedLib(lib.resolve("shared"), new Fixtures(config.fixturesDir()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }

        ExecutorService pool = Executors.newFixedThreadPool(Math.max(2, Math.min(8,
                Runtime.getRuntime().availableProcessors() * 2)));
        try {
            // keys: the lab's client key and one host key per node
            Future<?> clientKey = pool.submit(() -> Exec.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                    "-C", "k3gpu-lab-" + config.id(), "-f", key.toString())).orThrow("ssh-keygen (lab key)"));
            Map<String, String> hashes = new HashMap<>();
            for (LabUser u : users) {
                if (u.password() != null) {
                    hashes.put(u.name(), ShaCrypt.hash(u.password()));
                }
            }
            String[] host = readHostFiles();
            // the lab's CA: nodes trust it and find the mirror under get.k3s.io & co. (the host's files stay as they are)
            io.k3gpu.lab.k3sdist.MirrorTls tls = io.k3gpu.lab.k3sdist.K3sDistribution.makeTls(state);
            String hostBundle = readOrEmpty(Path.of(io.k3gpu.lab.k3sdist.MirrorTls.BUNDLE));
            join(clientKey);
            String pub = read(state.publicKeyFile());
            NodeFiles files = new NodeFiles(new NodeFiles.Shared(config, lib, pub, users, hashes, dockerGid(host[1]),
                    nodes, new Fixtures(config.fixturesDir()), host[0], host[1], host[2], host[3]));
            List<Future<?>> work = new ArrayList<>();
            for (LabNode n : nodes) {
                work.add(pool.submit(() -> {
                    files.write(n);
                    tls.writeNode(n.dir(), config.bridgeIp(), hostBundle);
                    HostKeys.write(n.dir().resolve("upper/etc/k3gpu-lab/ssh_host_ed25519_key"), "root@" + n.hostname());
                    return null;
                }));
            }
            work.forEach(Lab::join);
            phase(t0, "node files and keys");
            StringBuilder kh = new StringBuilder();
            for (LabNode n : nodes) {
                String[] parts = read(n.dir().resolve("upper/etc/k3gpu-lab/ssh_host_ed25519_key.pub")).strip()
                        .split("\\s+");
                kh.append(n.ip()).append(' ').append(parts[0]).append(' ').append(parts[1]).append('\n');
            }
            NodeFiles.write(knownHosts, kh.toString(), 0644);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            pool.shutdownNow();
        }

        // network: bridge, namespaces, veths (the node side, eth0, is configured by the node's init)
        StringBuilder net = new StringBuilder();
        net.append("link add ").append(config.bridge()).append(" type bridge\n");
        for (LabNode n : nodes) {
            net.append("netns add ").append(n.netns()).append('\n');
            net.append("link add ").append(n.veth()).append(" type veth peer name eth0 netns ").append(n.netns())
                    .append('\n');
            net.append("link set ").append(n.veth()).append(" master ").append(config.bridge()).append(" up\n");
        }
        net.append("addr add ").append(config.bridgeIp()).append("/24 dev ").append(config.bridge()).append('\n');
        net.append("link set ").append(config.bridge()).append(" up\n");
        Exec.run(List.of("ip", "-batch", "-"), net.toString(), Duration.ofSeconds(60)).orThrow("creating the lab network");
        disableIpv6(config.bridge());
        for (LabNode n : nodes) {
            disableIpv6(n.veth());
        }
        phase(t0, "network");

        // boot
        List<String> launch = new ArrayList<>(List.of("/bin/sh", lib.resolve("launch.sh").toString(), lib.toString()));
        for (LabNode n : nodes) {
            launch.add(n.dir().toString());
            launch.add(n.netns());
        }
        Exec.run(launch).orThrow("starting the lab nodes");
        phase(t0, "launched");
        List<LabNode> started = waitForBoot(nodes, Duration.ofSeconds(30 + nodes.size()));
        LabState up = new LabState(config.id(), config.subnet(), config.bridge(), config.bridgeIp(), dir, key,
                knownHosts, users, started, Instant.now().toString());
        writeState(up);
        phase(t0, "booted");
        io.k3gpu.lab.k3sdist.K3sDistribution.start(up);
        phase(t0, "k3s distribution");
        return up;
    }

    private static List<LabNode> waitForBoot(List<LabNode> nodes, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, LabNode> done = new LinkedHashMap<>();
        Set<String> sshUp = new HashSet<>();
        while (done.size() < nodes.size()) {
            for (LabNode n : nodes) {
                if (done.containsKey(n.name())) {
                    continue;
                }
                String boot = readOrEmpty(n.dir().resolve("boot.status")).strip();
                long launcher = readLong(n.dir().resolve("launcher.pid"));
                if (boot.startsWith("failed") || (launcher > 0 && startTime(launcher) == null)) {
                    throw bootFailure(n, boot.isEmpty() ? "the node exited" : boot);
                }
                if (!boot.equals("ok")) {
                    continue;
                }
                if (!sshUp.contains(n.name())) {
                    if (!accepts(n.ip())) {
                        continue;
                    }
                    sshUp.add(n.name());
                }
                String services = readOrEmpty(n.dir().resolve("services.status")).strip();
                if (services.isEmpty()) {
                    continue;
                }
                List<Long> kids = children(launcher);
                if (kids.isEmpty()) {
                    throw bootFailure(n, "the node's init is gone");
                }
                done.put(n.name(), n.withPids(kids.get(0), launcher));
            }
            if (done.size() < nodes.size()) {
                if (System.nanoTime() > deadline) {
                    List<String> late = nodes.stream().map(LabNode::name).filter(x -> !done.containsKey(x))
                            .collect(Collectors.toList());
                    throw new K3gpuException(ExitCode.TIMEOUT, "lab: nodes " + String.join(", ", late)
                            + " did not come up in " + timeout.toSeconds() + " s", "see "
                            + nodes.get(0).dir().resolveSibling(late.get(0)).resolve("console.log"));
                }
                sleep(5);
            }
        }
        List<LabNode> out = new ArrayList<>();
        nodes.forEach(n -> out.add(done.get(n.name())));
        return out;
    }

    private static K3gpuException bootFailure(LabNode n, String why) {
        String log = readOrEmpty(n.dir().resolve("console.log")).strip();
        String[] lines = log.split("\\R");
        String tail = String.join(" | ", List.of(lines).subList(Math.max(0, lines.length - 3), lines.length));
        return new K3gpuException(ExitCode.FAILED, "lab node " + n.name() + " did not boot: " + why
                + (tail.isBlank() ? "" : " (" + tail + ")"), "its console: " + n.dir().resolve("console.log"));
    }

    private static boolean accepts(String ip) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(ip, 22), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static List<LabUser> users() {
        String[] passwd = readHostFiles();
        Set<Integer> taken = new HashSet<>();
        for (String file : List.of(passwd[0], passwd[1])) {
            for (String line : file.split("\n")) {
                String[] f = line.split(":");
                if (f.length > 2) {
                    try {
                        taken.add(Integer.parseInt(f[2]));
                    } catch (NumberFormatException e) {
                        // not an entry
                    }
                }
            }
        }
        int uid = 1001;
        List<LabUser> users = new ArrayList<>();
        users.add(new LabUser("root", null, LabUser.Sudo.ROOT, 0));
        for (String name : List.of("k3gpu", "alice")) {
            while (taken.contains(uid)) {
                uid++;
            }
            taken.add(uid);
            users.add(new LabUser(name, password(), "k3gpu".equals(name) ? LabUser.Sudo.NOPASSWD
                    : LabUser.Sudo.PASSWORD, uid));
        }
        return users;
    }

    private static int dockerGid(String group) {
        Set<Integer> taken = new HashSet<>();
        for (String line : group.split("\n")) {
            String[] f = line.split(":");
            if (f.length > 2) {
                if (f[0].equals("docker")) {
                    return Integer.parseInt(f[2]);
                }
                try {
                    taken.add(Integer.parseInt(f[2]));
                } catch (NumberFormatException e) {
                    // not an entry
                }
            }
        }
        int gid = 999;
        while (taken.contains(gid)) {
            gid--;
        }
        return gid;
    }

    private static String password() {
        String alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            sb.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    /** passwd, group, shadow, gshadow of the host (the nodes' lower layer). */
    private static String[] readHostFiles() {
        return new String[] {readOrEmpty(Path.of("/etc/passwd")), readOrEmpty(Path.of("/etc/group")),
                readOrEmpty(Path.of("/etc/shadow")), readOrEmpty(Path.of("/etc/gshadow"))};
    }

    private static void writeState(LabState s) {
        try {
            Path tmp = s.stateDir().resolve(LabState.STATE_FILE + ".tmp");
            NodeFiles.write(tmp, s.toJson() + "\n", 0600);
            Files.move(tmp, s.stateDir().resolve(LabState.STATE_FILE),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------------------------------------------ checks

    static void checkHost() {
        if (!isRoot()) {
            throw new K3gpuException(ExitCode.USAGE, "the lab needs root: run it with sudo",
                    "it creates network namespaces, a bridge and mounts");
        }
        List<String> missing = new ArrayList<>();
        for (String[] tool : new String[][] {{"sshd", "/usr/sbin/sshd"}, {"ssh-keygen", "/usr/bin/ssh-keygen"},
                {"sudo", "/usr/bin/sudo"}, {"ip", "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"},
                {"unshare", "/usr/bin/unshare"}, {"python3", "/usr/bin/python3"}}) {
            boolean found = false;
            for (int i = 1; i < tool.length; i++) {
                found |= Files.isExecutable(Path.of(tool[i]));
            }
            if (!found) {
                missing.add(tool[0]);
            }
        }
        if (!missing.isEmpty()) {
            throw new K3gpuException(ExitCode.FAILED, "the lab needs " + String.join(", ", missing)
                    + ", missing on this machine: " + INSTALL_HINT, INSTALL_HINT);
        }
    }

    static boolean isRoot() {
        for (String line : readOrEmpty(Path.of("/proc/self/status")).split("\n")) {
            if (line.startsWith("Uid:")) {
                String[] f = line.substring(4).trim().split("\\s+");
                return f.length > 1 && f[1].equals("0");
            }
        }
        return false;
    }

    private static void checkFree(LabConfig config) {
        if (Files.exists(Path.of("/sys/class/net", config.bridge()))) {
            throw new K3gpuException(ExitCode.FAILED, "lab: the bridge " + config.bridge() + " already exists",
                    "another lab with id " + config.id() + " is up (state elsewhere?): bring it down or pick another id");
        }
        for (LabNode n : config.plannedNodes()) {
            if (Files.exists(Path.of("/run/netns", n.netns()))) {
                throw new K3gpuException(ExitCode.FAILED, "lab: the network namespace " + n.netns()
                        + " already exists", "bring the other lab down (ip netns del " + n.netns() + ") or pick another id");
            }
            if (Files.exists(Path.of("/sys/class/net", n.veth()))) {
                throw new K3gpuException(ExitCode.FAILED, "lab: the interface " + n.veth() + " already exists",
                        "another lab uses subnet " + config.subnet() + ": pick another subnet");
            }
        }
        String prefix = "10.213." + config.subnet() + ".";
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    if (a.getHostAddress().startsWith(prefix)) {
                        throw new K3gpuException(ExitCode.FAILED, "lab: the subnet " + prefix + "0/24 is in use (on "
                                + nif.getName() + ")", "pick another subnet");
                    }
                }
            }
        } catch (SocketException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ----------------------------------------------------------------------------------------------- processes

    private static String netnsInode(String ns) {
        try {
            Object ino = Files.getAttribute(Path.of("/run/netns", ns), "unix:ino");
            return ino.toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** The inode of the network namespace of {@code pid} ("net:[4026532...]"), or null. */
    private static String netOf(long pid) {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "net")).toString();
            return link.substring(link.indexOf('[') + 1, link.indexOf(']'));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static boolean inNetns(long pid, String ns) {
        String want = netnsInode(ns);
        return want != null && want.equals(netOf(pid)) && startTime(pid) != null;
    }

    /** Whether {@code pid} is the launcher (unshare) of the node in {@code nodeDir}: its command line names it. */
    private static boolean isUnshareOf(long pid, Path nodeDir) {
        String cmd = readOrEmpty(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
        return cmd.contains(nodeDir.toString());
    }

    /** Start time (field 22 of /proc/pid/stat) of a live process, null when it is gone or a zombie. */
    static String startTime(long pid) {
        return startTime(pid, false);
    }

    /** Start time of {@code pid}; with {@code zombies}, also of a process that exited but was not reaped yet. */
    static String startTime(long pid, boolean zombies) {
        String stat = readOrEmpty(Path.of("/proc", Long.toString(pid), "stat"));
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return null;
        }
        String[] f = stat.substring(close + 2).split(" ");
        if (f.length < 20 || (!zombies && (f[0].equals("Z") || f[0].equals("X")))) {
            return null;
        }
        return f[19];
    }

    static List<Long> children(long pid) {
        List<Long> out = new ArrayList<>();
        if (pid <= 0) {
            return out;
        }
        String kids = readOrEmpty(Path.of("/proc", Long.toString(pid), "task", Long.toString(pid), "children"));
        for (String k : kids.trim().split("\\s+")) {
            if (!k.isEmpty()) {
                out.add(Long.parseLong(k));
            }
        }
        return out;
    }

    private static List<Long> allPids() {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!name.isEmpty() && name.chars().allMatch(Character::isDigit)) {
                    out.add(Long.parseLong(name));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static void kill(long pid) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    // ----------------------------------------------------------------------------------------------- files

    private static List<String> mountsUnder(Path dir) {
        List<String> out = new ArrayList<>();
        String prefix = dir.toString() + "/";
        for (String line : readOrEmpty(Path.of("/proc/self/mountinfo")).split("\n")) {
            String[] f = line.split(" ");
            if (f.length > 4) {
                String mp = f[4].replace("\\040", " ");
                if (mp.equals(dir.toString()) || mp.startsWith(prefix)) {
                    out.add(mp);
                }
            }
        }
        out.sort((a, b) -> b.length() - a.length());
        return out;
    }

    private static void deleteTree(Path dir) {
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.FAILED, "lab: cannot remove " + dir + ": " + e, null, e);
        }
    }

    private static boolean isEmptyDir(Path dir) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            return !ds.iterator().hasNext();
        } catch (IOException e) {
            return false;
        }
    }

    private static void disableIpv6(String iface) {
        Path p = Path.of("/proc/sys/net/ipv6/conf", iface, "disable_ipv6");
        if (Files.isWritable(p)) {
            try {
                Files.writeString(p, "1");
            } catch (IOException e) {
                // IPv6 noise on the bridge is harmless
            }
        }
    }

    static String readOrEmpty(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException | UncheckedIOException e) {
            return "";
        } catch (RuntimeException e) {
            try {
                return new String(Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1);
            } catch (IOException e2) {
                return "";
            }
        }
    }

    private static String read(Path p) throws IOException {
        return Files.readString(p);
    }

    private static long readLong(Path p) {
        try {
            return Long.parseLong(readOrEmpty(p).trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static void join(Future<?> f) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "lab: interrupted", null, e);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(c);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "lab: interrupted", null, e);
        }
    }
}
