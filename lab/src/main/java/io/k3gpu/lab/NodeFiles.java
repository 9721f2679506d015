package io.k3gpu.lab;

import io.k3gpu.lab.k3sdist.K3sDistribution;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes what a node sees before it boots: its overlay upper layers (identity, users, sudoers, sshd config, simulated
 * services), its private /root, /home and /usr/local, and for Jetsons its device tree. Everything the node's init
 * does at boot is in {@code node-init.sh}; this class does the rest so that boots stay cheap.
 *
 * <p>Inside a node (relevant to tests): {@code /etc/k3gpu-lab/} holds node.json (the replayed identity), the sshd
 * config and host key, {@code services/} (service definitions of the lab's systemctl; {@code enabled/}),
 * {@code faults/} (fault-injection knobs), {@code gpu-load} (write "busy" to make nvidia-smi replay the loaded GPU).
 * Service logs (what {@code journalctl -u <name>} shows) are {@code /var/log/k3gpu-lab/<name>.log}; run state is
 * under {@code /run/k3gpu-lab/}. Docker nodes run Debian's real dockerd ({@code /run/docker.sock},
 * {@code /run/docker.pid}, {@code /var/lib/docker} with the vfs driver).
 */
final class NodeFiles {
    static final String SIM = "sim/";
    /** From /usr/local/bin to the lab's shared, read-only directory of simulation scripts. */
    private static final String SHARED_LINK = "../lib/k3gpu-lab/shared/";
    /** What the simulated tools (systemctl, docker, nvidia-smi, ...) link to: it runs their compiled modules. */
    private static final String TOOL = "k3lab-tool";
    private static final List<String> TOOL_MODULES = List.of("k3lab_systemd.py", "k3lab_nvidia_smi.py",
            "k3lab_tegrastats.py");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** What every node of one lab shares. */
    record Shared(LabConfig config, Path libDir, String clientPublicKey, List<LabUser> users,
                  Map<String, String> passwordHashes, int dockerGid, List<LabNode> allNodes, Fixtures fixtures,
                  String hostPasswd, String hostGroup, String hostShadow, String hostGshadow) {
    }

    private final Shared shared;

    NodeFiles(Shared shared) {
        this.shared = shared;
    }

    void write(LabNode node) {
        try {
            writeUnchecked(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void writeUnchecked(LabNode node) throws IOException {
        Profile p = node.profileInfo();
        Path d = node.dir();
        for (String layer : List.of("etc", "var", "opt", "usr")) {
            dir(d.resolve("upper").resolve(layer), Path.of("/" + layer));
            dir(d.resolve("work").resolve(layer), null);
        }
        Path etc = d.resolve("upper/etc");
        Path var = d.resolve("upper/var");

        String failAt = node.name().equals(Lab.failBootOf) ? "FAIL_AT=boot\n" : "";
        write(d.resolve("node.env"), "NAME=" + node.name() + "\nIP=" + node.ip() + "\nPREFIX=24\nJETSON="
                + (p.isJetson() ? 1 : 0) + "\nSHARED=" + shared.libDir().resolve("shared") + "\nDOCKER="
                + (p.hasDocker() ? 1 : 0) + "\n" + failAt + NodeFaults.envLine(node.profile()), 0600);

        // identity and name resolution
        upper(etc, "hostname", node.hostname() + "\n", 0644);
        StringBuilder hosts = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                + "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n\n# k3gpu lab " + shared.config().id() + "\n"
                + shared.config().bridgeIp() + "\t" + shared.config().id() + "-host\n");
        for (LabNode n : shared.allNodes()) {
            hosts.append(n.ip()).append('\t').append(n.hostname()).append('\n');
        }
        upper(etc, "hosts", hosts.toString(), 0644);

        // users
        StringBuilder passwd = new StringBuilder(withNewline(shared.hostPasswd()));
        StringBuilder group = new StringBuilder(withNewline(shared.hostGroup()));
        StringBuilder shadow = new StringBuilder(withNewline(shared.hostShadow()));
        StringBuilder gshadow = new StringBuilder(withNewline(shared.hostGshadow()));
        long days = LocalDate.now().toEpochDay();
        for (LabUser u : shared.users()) {
            if (u.sudo() == LabUser.Sudo.ROOT) {
                continue;
            }
            passwd.append(u.name()).append(":x:").append(u.uid()).append(':').append(u.uid())
                    .append(":k3gpu lab user:").append(u.home()).append(":/bin/bash\n");
            group.append(u.name()).append(":x:").append(u.uid()).append(":\n");
            shadow.append(u.name()).append(':').append(shared.passwordHashes().get(u.name())).append(':').append(days)
                    .append(":0:99999:7:::\n");
            gshadow.append(u.name()).append(":!::\n");
        }
        if (p.hasDocker()) {
            group.append("docker:x:").append(shared.dockerGid()).append(":\n");
            gshadow.append("docker:!::\n");
        }
        upper(etc, "passwd", passwd.toString(), -1);
        upper(etc, "group", group.toString(), -1);
        upper(etc, "shadow", shadow.toString(), -1);
        upper(etc, "gshadow", gshadow.toString(), -1);
        for (LabUser u : shared.users()) {
            if (u.sudo() == LabUser.Sudo.NOPASSWD) {
                upper(etc, "sudoers.d/" + u.name(), u.name() + " ALL=(ALL) NOPASSWD: ALL\n", 0440);
            } else if (u.sudo() == LabUser.Sudo.PASSWORD) {
                upper(etc, "sudoers.d/" + u.name(), u.name() + " ALL=(ALL) ALL\n", 0440);
            }
        }

        // homes: /root and /home are the node's own directories
        dir(d.resolve("root"), null, 0700, 0);
        dir(d.resolve("home"), null, 0755, 0);
        for (LabUser u : shared.users()) {
            Path home = u.sudo() == LabUser.Sudo.ROOT ? d.resolve("root") : d.resolve("home").resolve(u.name());
            dir(home, null, u.sudo() == LabUser.Sudo.ROOT ? 0700 : 0750, u.uid());
            dir(home.resolve(".ssh"), null, 0700, u.uid());
            Path keys = home.resolve(".ssh/authorized_keys");
            write(keys, shared.clientPublicKey().strip() + "\n", 0600);
            own(keys, u.uid());
        }

        // sshd
        upper(etc, "k3gpu-lab/sshd_config", sshdConfig(node), 0644);
        dir(etc.resolve("k3gpu-lab/faults"), null, 0755, 0);
        Map<String, Object> nodeJson = new LinkedHashMap<>();
        nodeJson.put("name", node.name());
        nodeJson.put("profile", p.key());
        nodeJson.put("lab", shared.config().id());
        if (p.isJetson()) {
            nodeJson.put("arch", p.jetson().machine());
            nodeJson.put("kernelRelease", p.jetson().kernelRelease());
        }
        if (p.cpus() > 0) {
            nodeJson.put("cpus", p.cpus());
            nodeJson.put("memTotal", p.memTotal());
        }
        if (p.hasNvidiaContainerRuntime()) {
            nodeJson.put("nvidiaContainerToolkit", p.nvidiaContainerToolkit());
        }
        upper(etc, "k3gpu-lab/node.json", JSON.writeValueAsString(nodeJson) + "\n", 0644);
        dir(var.resolve("log/k3gpu-lab"), null, 0755, 0);

        // /usr/local: the profile's tools
        Path local = d.resolve("usr-local");
        dir(local, null, 0755, 0);
        for (String sub : List.of("bin", "sbin", "lib", "lib/k3gpu-lab", "lib/k3gpu-lab/shared", "share", "include",
                "etc", "src", "games")) {
            dir(local.resolve(sub), null, 0755, 0);
        }
        Path lib = local.resolve("lib/k3gpu-lab");
        symlink(local.resolve("bin/systemctl"), SHARED_LINK + TOOL);
        symlink(local.resolve("bin/journalctl"), SHARED_LINK + TOOL);
        dir(etc.resolve("k3gpu-lab/services/enabled"), null, 0755, 0);

        StringBuilder dpkg = new StringBuilder();
        String arch = p.isJetson() ? p.jetson().dpkgArch() : "amd64";
        if (p.isJetson()) {
            Profile.Jetson j = p.jetson();
            upper(etc, "nv_tegra_release", j.nvTegraRelease(), 0644);
            upper(etc, "os-release", j.osRelease(), 0644);
            script("uname.sh", local.resolve("bin/uname"), Map.of("@MACHINE@", j.machine(), "@RELEASE@",
                    j.kernelRelease(), "@VERSION@", j.kernelVersion()));
            script("arch.sh", local.resolve("bin/arch"), Map.of("@MACHINE@", j.machine()));
            script("dpkg.sh", local.resolve("bin/dpkg"), Map.of("@DPKG_ARCH@", j.dpkgArch()));
            Path base = d.resolve("firmware/devicetree/base");
            dir(d.resolve("firmware"), null, 0755, 0);
            dir(d.resolve("firmware/devicetree"), null, 0755, 0);
            dir(base, null, 0755, 0);
            Files.write(base.resolve("model"), (j.model() + "\0").getBytes(StandardCharsets.UTF_8));
            Files.write(base.resolve("compatible"),
                    (String.join("\0", j.compatible()) + "\0").getBytes(StandardCharsets.UTF_8));
            // tegrastats
            symlink(local.resolve("bin/tegrastats"), SHARED_LINK + TOOL);
            symlink(lib.resolve("tegrastats"), "shared/tegrastats/" + p.key());
            dpkg.append(stanza("nvidia-l4t-core", j.l4tCoreVersion(), arch, "NVIDIA Core Package"));
        }
        if (p.cudaFile() != null) {
            dir(local.resolve("cuda"), null, 0755, 0);
            write(local.resolve("cuda").resolve(p.cudaFile()), p.cudaContent(), 0644);
        }
        if (p.hasNvidiaSmi()) {
            symlink(local.resolve("bin/nvidia-smi"), SHARED_LINK + TOOL);
            symlink(lib.resolve("nvidia-smi"), "shared/nvidia-smi");
        }
        if (p.hasNvidiaContainerRuntime()) {
            // where the toolkit's packages put it (K3s looks in /usr/local/nvidia/toolkit, then /usr/bin only)
            Path usrBin = d.resolve("upper/usr/bin");
            dir(usrBin, Path.of("/usr/bin"));
            script("nvidia-container-runtime.py", usrBin.resolve("nvidia-container-runtime"),
                    Map.of("@VERSION@", p.nvidiaContainerToolkit()));
            if (p.isJetson() && p.jetson().csvMode()) {
                // CSV mode (L4T <= 36): the files the runtime mounts into containers (an excerpt of JetPack's l4t.csv)
                upper(etc, "nvidia-container-runtime/host-files-for-container.d/l4t.csv",
                        "dev, /dev/nvhost-ctrl\ndev, /dev/nvhost-ctrl-gpu\ndev, /dev/nvhost-gpu\ndev, /dev/nvmap\n"
                                + "file, /etc/nv_tegra_release\nsym, /usr/lib/aarch64-linux-gnu/libcuda.so\n", 0644);
                String cudart = cudartPath(p.cudaContent());
                if (cudart != null) {
                    // JetPack's cuda.csv lists the CUDA runtime the same way; the file is the lab's stand-in (a
                    // container's simulated TensorFlow finds it, as the real one dlopens it)
                    Path file = local.resolve(cudart.substring("/usr/local/".length()));
                    dir(file.getParent(), null, 0755, 0);
                    write(file, "k3gpu lab: SIMULATED CUDA runtime (not a library)\n", 0644);
                    upper(etc, "nvidia-container-runtime/host-files-for-container.d/cuda.csv", "lib, " + cudart + "\n",
                            0644);
                }
            }
            dpkg.append(stanza("nvidia-container-toolkit", p.nvidiaContainerToolkit() + "-1", arch,
                    "NVIDIA Container toolkit"));
        }
        if (p.hasDocker()) {
            Profile.Docker dk = p.docker();
            // Debian's real docker.io (the host's /usr/sbin/dockerd, /usr/bin/docker) through k3lab-dockerd.sh;
            // ready when dockerd says so (sd_notify), as docker.service (Type=notify) under systemd
            upper(etc, "k3gpu-lab/services/docker.service-sh", "# Docker (Debian's docker.io; see k3lab-dockerd)\n"
                    + "DESCRIPTION=\"Docker Application Container Engine\"\n"
                    + "EXEC_START=\"/usr/local/lib/k3gpu-lab/shared/k3lab-dockerd\"\n"
                    + "NOTIFY=1\n"
                    + "UNIT_FILE=\"/lib/systemd/system/docker.service\"\n", 0644);
            write(etc.resolve("k3gpu-lab/services/enabled/docker"), "", 0644);
            if (p.isJetson()) {
                // the seed's image, as if pulled (the lab has no registry): built from the node's userland in the
                // background at boot (a service without readiness: started at once, as Type=simple)
                upper(etc, "k3gpu-lab/services/k3gpu-lab-images.service-sh", "# images of the lab's catalog\n"
                        + "DESCRIPTION=\"k3gpu lab: catalog images for Docker\"\n"
                        + "EXEC_START=\"/usr/local/lib/k3gpu-lab/shared/k3lab-images "
                        + "icetekio/jetson-nano-tensorflow\"\n", 0644);
                write(etc.resolve("k3gpu-lab/services/enabled/k3gpu-lab-images"), "", 0644);
            }
            if (dk.daemonJson() != null) {
                upper(etc, "docker/daemon.json", dk.daemonJson(), 0644);
            } else {
                dir(etc.resolve("docker"), null, 0755, 0);
            }
        }
        if (dpkg.length() > 0) {
            // an entry of dpkg's update journal: dpkg and dpkg-query read it on top of /var/lib/dpkg/status, so the
            // node's package database gains the replayed packages without a copy of the host's status file
            upper(var, "lib/dpkg/updates/" + dpkgUpdateName(), dpkg.toString(), 0644);
        }
    }

    /**
     * What all nodes of a lab share, written once into {@code <stateDir>/lib/shared} and bind-mounted read-only at
     * {@code /usr/local/lib/k3gpu-lab/shared} in every node: the simulation scripts, the dockerd wrapper of
     * docker.service (k3lab-dockerd) and the containerd it starts (containerd-gc/containerd), the nvidia-smi
     * captures and the tegrastats lines of each Jetson profile.
     */
    static void writeSharedLib(Path sharedDir, Fixtures fixtures) throws IOException {
        dir(sharedDir, null, 0755, 0);
        for (String script : TOOL_MODULES) {
            copyScript(script, sharedDir.resolve(script));
        }
        copyScript(TOOL, sharedDir.resolve(TOOL));
        compile(sharedDir, TOOL_MODULES);
        write(sharedDir.resolve("k3lab-dockerd"), Fixtures.resourceText(SIM + "k3lab-dockerd.sh"), 0755);
        dir(sharedDir.resolve("containerd-gc"), null, 0755, 0);
        write(sharedDir.resolve("containerd-gc/containerd"), Fixtures.resourceText(SIM + "k3lab-containerd.sh"), 0755);
        write(sharedDir.resolve("k3lab-images"), Fixtures.resourceText(SIM + "k3lab-images.sh"), 0755);
        // the image catalog and its simulated frameworks, for k3lab-images at boot (before the K3s files exist)
        K3sDistribution.writeImageCatalog(sharedDir);
        dir(sharedDir.resolve("nvidia-smi"), null, 0755, 0);
        for (String f : Fixtures.NVIDIA_SMI_FILES) {
            Files.write(sharedDir.resolve("nvidia-smi").resolve(f), fixtures.bytes("nvidia-smi/" + f));
        }
        String samples = fixtures.text("tegrastats/samples.txt");
        dir(sharedDir.resolve("tegrastats"), null, 0755, 0);
        for (Profile p : Profile.values()) {
            if (p.isJetson()) {
                Path d = sharedDir.resolve("tegrastats").resolve(p.key());
                dir(d, null, 0755, 0);
                String board = p.jetson().tegrastatsBoard();
                write(d.resolve("root.txt"), String.join("\n", Fixtures.tegrastatsLines(samples, board, true)) + "\n",
                        0644);
                write(d.resolve("user.txt"), String.join("\n", Fixtures.tegrastatsLines(samples, board, false))
                        + "\n", 0644);
            }
        }
    }

    private String sshdConfig(LabNode node) {
        return "# sshd of k3gpu lab node " + node.name() + " (lab " + shared.config().id() + ")\n"
                + "ListenAddress " + node.ip() + ":22\n"
                + "HostKey /etc/k3gpu-lab/ssh_host_ed25519_key\n"
                + "PermitRootLogin prohibit-password\n"
                + "PubkeyAuthentication yes\n"
                + "AuthorizedKeysFile .ssh/authorized_keys\n"
                + "PasswordAuthentication yes\n"
                + "KbdInteractiveAuthentication no\n"
                + "UsePAM no\n"
                + "UseDNS no\n"
                + "PidFile none\n"
                + "MaxStartups 100:30:200\n"
                + "StrictModes yes\n"
                + "PrintMotd no\n"
                + "PrintLastLog no\n"
                + "X11Forwarding no\n"
                + "Subsystem sftp internal-sftp\n";
    }

    private static String stanza(String pkg, String version, String arch, String description) {
        return "Package: " + pkg + "\nStatus: install ok installed\nPriority: optional\nSection: misc\n"
                + "Installed-Size: 1\nMaintainer: simulated by the k3gpu lab\nArchitecture: " + arch + "\nVersion: "
                + version + "\nDescription: " + description + "\n (replayed by the k3gpu lab; no files installed)\n\n";
    }

    /** A name after the host's pending dpkg updates (normally there are none: 0000). */
    private static String dpkgUpdateName() throws IOException {
        int next = 0;
        Path updates = Path.of("/var/lib/dpkg/updates");
        if (Files.isDirectory(updates)) {
            try (var names = Files.list(updates)) {
                for (Path p : (Iterable<Path>) names::iterator) {
                    String n = p.getFileName().toString();
                    if (n.matches("\\d+")) {
                        next = Math.max(next, Integer.parseInt(n) + 1);
                    }
                }
            }
        }
        return String.format("%04d", next);
    }

    private static String withNewline(String s) {
        return s.isEmpty() || s.endsWith("\n") ? s : s + "\n";
    }

    /** Writes {@code rel} into an upper layer whose lower is {@code /<layer>}, creating parents like the lower's. */
    private static void upper(Path layerRoot, String rel, String content, int mode) throws IOException {
        Path lowerRoot = Path.of("/" + layerRoot.getFileName());
        Path target = layerRoot.resolve(rel);
        Path relParent = Path.of(rel).getParent();
        if (relParent != null) {
            Path cur = layerRoot;
            Path lower = lowerRoot;
            for (Path part : relParent) {
                cur = cur.resolve(part.toString());
                lower = lower.resolve(part.toString());
                dir(cur, lower);
            }
        }
        Path lowerFile = lowerRoot.resolve(rel);
        Files.writeString(target, content);
        if (mode >= 0) {
            Files.setPosixFilePermissions(target, perms(mode));
        } else if (Files.exists(lowerFile, LinkOption.NOFOLLOW_LINKS)) {
            copyAttributes(lowerFile, target);
        }
    }

    /** Creates a directory with the mode and owner of {@code like} (when that exists), else 0755 root. */
    private static void dir(Path dir, Path like) throws IOException {
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.createDirectories(dir);
        if (like != null && Files.isDirectory(like)) {
            copyAttributes(like, dir);
        } else {
            Files.setPosixFilePermissions(dir, perms(0755));
        }
    }

    private static void dir(Path dir, Path like, int mode, int uid) throws IOException {
        dir(dir, like);
        Files.setPosixFilePermissions(dir, perms(mode));
        own(dir, uid);
    }

    private static void copyAttributes(Path from, Path to) throws IOException {
        Map<String, Object> a = Files.readAttributes(from, "unix:mode,uid,gid");
        Files.setAttribute(to, "unix:uid", a.get("uid"));
        Files.setAttribute(to, "unix:gid", a.get("gid"));
        Files.setAttribute(to, "unix:mode", ((Integer) a.get("mode")) & 07777);
    }

    private static void own(Path p, int uid) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", uid, LinkOption.NOFOLLOW_LINKS);
    }

    static void write(Path p, String content, int mode) throws IOException {
        Files.writeString(p, content);
        Files.setPosixFilePermissions(p, perms(mode));
    }

    /** Compiles the modules into {@code dir/__pycache__} with the host's python3, which the nodes share. */
    private static void compile(Path dir, List<String> modules) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", "-S", "-c",
                "import py_compile, sys\nfor f in sys.argv[1:]: py_compile.compile(f, doraise=True)"));
        modules.forEach(m -> cmd.add(dir.resolve(m).toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException("compiling the lab's simulated tools failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while compiling the lab's simulated tools", e);
        }
    }

    private static void copyScript(String resource, Path target) throws IOException {
        if (!Files.exists(target)) {
            Files.write(target, Fixtures.resource(SIM + resource));
            Files.setPosixFilePermissions(target, perms(0755));
        }
    }

    private static void script(String resource, Path target, Map<String, String> substitutions) throws IOException {
        String text = Fixtures.resourceText(SIM + resource);
        for (Map.Entry<String, String> e : substitutions.entrySet()) {
            text = text.replace(e.getKey(), e.getValue());
        }
        write(target, text, 0755);
    }

    /**
     * Where L4T puts the CUDA runtime of the profile's CUDA ("CUDA Version 10.2.300" ->
     * /usr/local/cuda-10.2/targets/aarch64-linux/lib/libcudart.so.10.2; sonames as CUDA's: 11.x .so.11.0, 12+ .so.12).
     */
    static String cudartPath(String cudaVersionText) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)\\.(\\d+)").matcher(
                cudaVersionText == null ? "" : cudaVersionText);
        if (!m.find()) {
            return null;
        }
        int major = Integer.parseInt(m.group(1));
        String soname = major <= 10 ? major + "." + m.group(2) : major == 11 ? "11.0" : Integer.toString(major);
        return "/usr/local/cuda-" + major + "." + m.group(2) + "/targets/aarch64-linux/lib/libcudart.so." + soname;
    }

    private static void symlink(Path link, String target) throws IOException {
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, Path.of(target));
    }

    static Set<PosixFilePermission> perms(int mode) {
        StringBuilder sb = new StringBuilder();
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            sb.append((mode & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
        }
        return PosixFilePermissions.fromString(sb.toString());
    }
}
