package io.k3gpu.core.doctor;

import io.k3gpu.core.facts.L4tRelease;
import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.plugin.ToolkitVersion;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The checks of {@code doctor}: pure functions of what was gathered (the node's facts, the probe, the cluster's
 * Nodes). Each says what it found and, when it is not a PASS, what to do. Golden-tested.
 */
public final class DoctorChecks {
    /** The clock offset within which a node passes: the server's Date header has a resolution of one second. */
    static final double CLOCK_PASS_S = 2;
    /** Beyond this the node fails: certificates K3s issues are valid from the server's clock on. */
    static final double CLOCK_FAIL_S = 30;
    private static final long GIB = 1024L * 1024;

    /**
     * The cluster as far as doctor sees it.
     *
     * @param server  the K3s server's address, or null when none was given
     * @param nodes   the cluster's Nodes, or null when the API was not asked
     * @param apiNote why the API was not asked (shown with the hostname check), or null
     */
    public record Cluster(String server, List<NodeStatus> nodes, String apiNote) {
    }

    private DoctorChecks() {
    }

    public static List<Check> run(NodeFacts f, DoctorProbe.Result p, Cluster c) {
        List<Check> out = new ArrayList<>();
        out.add(l4t(f));
        out.add(toolkit(f));
        out.add(csv(f, p));
        out.add(containerRuntime(f));
        out.add(nvidiaRuntimes(f, p));
        out.add(kernelConfig(p));
        out.add(cgroups(p));
        out.add(swap(p));
        out.add(disk(p));
        out.add(hostname(f, p, c));
        out.add(serverApi(p, c));
        out.add(clock(p, c));
        out.add(vxlan(p, c));
        return out;
    }

    static Check l4t(NodeFacts f) {
        String id = "l4t";
        String title = "L4T / JetPack";
        if (!f.isJetson()) {
            return Check.skip(id, title, "not a Jetson", null);
        }
        Optional<L4tRelease> r = L4tRelease.parseDpkgVersion(f.l4tVersion());
        if (r.isEmpty()) {
            return Check.warn(id, title, "a Jetson (" + f.socFamily() + ") whose L4T release could not be read",
                    "check /etc/nv_tegra_release and the nvidia-l4t-core package (dpkg -l nvidia-l4t-core)");
        }
        L4tRelease l = r.get();
        String name = "L4T " + l.version() + l.jetpack().map(j -> " = JetPack " + j).orElse("");
        if (l.jetpack().isEmpty()) {
            return Check.warn(id, title, name + ": not a JetPack release NVIDIA published (a developer preview or an "
                    + "L4T-only update)", "move to a published JetPack release of the board's line");
        }
        return switch (l.major()) {
            case 32 -> Check.warn(id, title, name + " (Ubuntu 18.04, kernel 4.9, the last line for Nano/TX1/TX2): its "
                            + "NVIDIA Container Toolkit (1.7 in 4.6.x) is older than the 1.11 NVIDIA's device plugin "
                            + "needs on Jetson, so pods get the GPU only through the node's default runtime",
                    "join with --gpu (Docker's or K3s's default runtime set to nvidia) and do not rely on "
                            + "nvidia.com/gpu on this node; or upgrade nvidia-container-toolkit to 1.11 or later");
            case 35 -> Check.pass(id, title, name + " (Ubuntu 20.04)");
            case 36 -> Check.pass(id, title, name + " (Ubuntu 22.04; the image has no Docker: K3s's own containerd "
                    + "with --gpu)");
            default -> l.major() >= 38
                    ? Check.pass(id, title, name + ": no CSV mode, containers get the GPU through CDI; NVIDIA's device "
                    + "plugin needs DEVICE_DISCOVERY_STRATEGY=tegra (k3gpu device-plugin sets it)")
                    : Check.warn(id, title, name + ": an old Jetson Linux line", "move to a current JetPack");
        };
    }

    static Check toolkit(NodeFacts f) {
        String id = "container-toolkit";
        String title = "NVIDIA Container Toolkit";
        if (!f.hasGpu()) {
            return Check.skip(id, title, "no GPU on this node", null);
        }
        if (!f.nvidiaContainerRuntime()) {
            return Check.fail(id, title, "no nvidia-container-runtime: containers cannot get the GPU",
                    f.isJetson() ? "sudo apt-get install nvidia-container (JetPack 5 and later) or "
                            + "nvidia-container-toolkit (JetPack 4, from JetPack's apt repository)"
                            : "install nvidia-container-toolkit from NVIDIA's apt repository (its install guide)");
        }
        String v = f.nvidiaContainerToolkitVersion();
        if (v == null) {
            return Check.warn(id, title, "nvidia-container-runtime at " + f.nvidiaContainerRuntimePath()
                    + ", version unknown", "check dpkg -l nvidia-container-toolkit");
        }
        if (f.isJetson() && !ToolkitVersion.supportsJetson(v).orElse(true)) {
            return Check.warn(id, title, v + " is older than " + ToolkitVersion.MINIMUM + ", which NVIDIA's device "
                            + "plugin needs on Jetson (its Jetson support since v0.13.0): no nvidia.com/gpu here",
                    "upgrade nvidia-container-toolkit to " + ToolkitVersion.MINIMUM + " or later, then k3gpu label");
        }
        return Check.pass(id, title, v + " (" + f.nvidiaContainerRuntimePath() + ")");
    }

    static Check csv(NodeFacts f, DoctorProbe.Result p) {
        String id = "csv";
        String title = "NVIDIA CSV lists";
        String dir = "/etc/nvidia-container-runtime/host-files-for-container.d";
        if (!f.isJetson()) {
            return Check.skip(id, title, "not a Jetson", null);
        }
        Optional<L4tRelease> r = L4tRelease.parseDpkgVersion(f.l4tVersion());
        if (r.isPresent() && r.get().major() >= 38) {
            return Check.pass(id, title, "JetPack 7 has none: the runtime uses CDI");
        }
        if (p.csvFiles().isEmpty()) {
            boolean jp4 = r.isPresent() && r.get().major() == 32;
            return Check.fail(id, title, "no *.csv in " + dir + ": the NVIDIA runtime mounts none of the host's "
                            + "CUDA and L4T files, so GPU containers find no libcudart",
                    "reinstall the packages that ship them: sudo apt-get install --reinstall "
                            + (jp4 ? "nvidia-container-csv-cuda nvidia-container-csv-cudnn nvidia-container-csv-tensorrt"
                            : "nvidia-container"));
        }
        return Check.pass(id, title, String.join(", ", p.csvFiles()) + " in " + dir);
    }

    static Check containerRuntime(NodeFacts f) {
        String id = "container-runtime";
        String title = "Docker / containerd";
        String k3s = f.k3sInstalled() && f.k3sDefaultRuntime() != null
                ? "; K3s's containerd default runtime " + f.k3sDefaultRuntime() : "";
        if (f.dockerInstalled() && !f.dockerRunning()) {
            return Check.warn(id, title, "Docker is installed but does not answer docker info" + k3s,
                    "sudo systemctl start docker (join --docker needs it), or join without --docker: K3s brings "
                            + "its own containerd");
        }
        if (f.dockerRunning()) {
            String d = "Docker running, default runtime " + f.dockerDefaultRuntime() + k3s;
            if (f.hasGpu() && !"nvidia".equals(f.dockerDefaultRuntime())) {
                return Check.warn(id, title, d + ": with --docker, pods get no GPU",
                        "k3gpu gpu-runtime --ip <this node> (or join --docker --gpu)");
            }
            return Check.pass(id, title, d);
        }
        return Check.pass(id, title, "no Docker: K3s uses its own containerd"
                + (f.containerdInstalled() ? " (a system containerd is installed too; K3s does not use it)" : "") + k3s);
    }

    static Check nvidiaRuntimes(NodeFacts f, DoctorProbe.Result p) {
        String id = "nvidia-runtimes";
        String title = "nvidia-container-runtime copies";
        List<String> paths = p.runtimes().stream().map(DoctorProbe.Runtime::path).toList();
        if (f.toolkitDirRuntime() != null && f.toolkitDirRuntimeDiffers()) {
            return Check.fail(id, title, "found " + String.join(", ", paths) + ": " + f.toolkitDirRuntime()
                            + " is another file than the packaged /usr/bin/nvidia-container-runtime, and K3s configures "
                            + "containerd with the one in /usr/local/nvidia/toolkit first (pkg/agent/containerd/runtimes.go)",
                    "unless NVIDIA's GPU Operator manages this node: sudo rm -rf /usr/local/nvidia/toolkit (or link "
                            + "the packaged runtime there), then restart K3s (sudo systemctl restart k3s-agent)");
        }
        Set<String> sums = new LinkedHashSet<>();
        p.runtimes().forEach(r -> sums.add(r.checksum()));
        if (sums.size() > 1) {
            return Check.warn(id, title, "different copies: " + String.join(", ", paths) + "; $PATH order decides "
                    + "which one runs", "keep the packaged /usr/bin/nvidia-container-runtime and remove the others");
        }
        if (paths.isEmpty()) {
            return f.hasGpu() ? Check.skip(id, title, "none installed (see NVIDIA Container Toolkit)", null)
                    : Check.skip(id, title, "none installed, no GPU", null);
        }
        return Check.pass(id, title, String.join(", ", paths));
    }

    static Check kernelConfig(DoctorProbe.Result p) {
        String id = "kernel-config";
        String title = "kernel config (k3s check-config)";
        if (p.kernelConfigSource() == null) {
            return Check.warn(id, title, "no kernel config readable (/proc/config.gz, /boot/config-$(uname -r)): "
                    + "K3s's check-config cannot verify this kernel either", "sudo modprobe configs (then "
                    + "/proc/config.gz exists), or install the kernel's config as /boot/config-$(uname -r)");
        }
        List<String> missing = KernelChecks.missing(KernelChecks.REQUIRED, p.kernelConfig());
        missing.addAll(KernelChecks.missing(KernelChecks.DRIVERS, p.kernelConfig()));
        List<String> optional = KernelChecks.missing(KernelChecks.OPTIONAL, p.kernelConfig());
        if (!missing.isEmpty()) {
            StringBuilder fix = new StringBuilder("build and boot a kernel with " + String.join(", ", missing)
                    + " (=y or =m; on a Jetson: the L4T kernel sources with these options, as the Jetson Linux "
                    + "Developer Guide's Kernel Customization describes)");
            if (missing.contains("CONFIG_VXLAN")) {
                fix.append("; without VXLAN, flannel needs another backend (K3s --flannel-backend=host-gw on one L2 "
                        + "network)");
            }
            if (missing.contains("CONFIG_OVERLAY_FS")) {
                fix.append("; without overlayfs, K3s --snapshotter=native");
            }
            return Check.fail(id, title, "missing in " + p.kernelConfigSource() + ": " + String.join(", ", missing)
                    + (optional.isEmpty() ? "" : " (optional, also missing: " + String.join(", ", optional) + ")"),
                    fix.toString());
        }
        if (!optional.isEmpty()) {
            return Check.warn(id, title, "every option K3s needs is set (" + p.kernelConfigSource() + "); optional "
                    + "ones missing: " + String.join(", ", optional), "only needed for kube-proxy's IPVS mode and "
                    + "the cgroup controllers named; nothing to do for K3s's defaults");
        }
        return Check.pass(id, title, "every option K3s's check-config looks for is set (" + p.kernelConfigSource()
                + ")");
    }

    static Check cgroups(DoctorProbe.Result p) {
        String id = "cgroups";
        String title = "cgroups (memory)";
        String fix = "enable the memory controller on the kernel command line (add cgroup_enable=memory "
                + "cgroup_memory=1, remove cgroup_disable=memory; on a Jetson the APPEND line of "
                + "/boot/extlinux/extlinux.conf) and reboot; K3s stops with \"failed to find memory cgroup\" without it";
        List<String> missing = new ArrayList<>();
        if ("cgroup2fs".equals(p.cgroupFs())) {
            for (String need : List.of("cpu", "cpuset", "memory")) {
                if (!p.cgroupControllers().contains(need)) {
                    missing.add(need);
                }
            }
            return missing.isEmpty()
                    ? Check.pass(id, title, "cgroup v2 with " + String.join(" ", p.cgroupControllers()))
                    : Check.fail(id, title, "cgroup v2 without the " + String.join(", ", missing)
                    + " controller(s) (/sys/fs/cgroup/cgroup.controllers)", fix);
        }
        if (p.procCgroups().isEmpty()) {
            return Check.warn(id, title, "no cgroup controllers readable (/proc/cgroups)", "check that cgroups are "
                    + "mounted (mount -t cgroup) and enabled in the kernel");
        }
        for (String need : List.of("cpuset", "memory")) {
            if (!p.procCgroups().getOrDefault(need, false)) {
                missing.add(need);
            }
        }
        return missing.isEmpty() ? Check.pass(id, title, "cgroup v1 with cpuset and memory enabled")
                : Check.fail(id, title, "cgroup v1: the " + String.join(", ", missing) + " controller(s) disabled "
                + "or absent (/proc/cgroups)", fix);
    }

    static Check swap(DoctorProbe.Result p) {
        String id = "swap";
        String title = "swap";
        if (p.swaps().isEmpty()) {
            return Check.pass(id, title, "off");
        }
        return Check.warn(id, title, "on: " + String.join(", ", p.swaps()) + "; K3s runs the kubelet with "
                        + "--fail-swap-on=false, so it starts, but memory limits and eviction do not count swap",
                "sudo swapoff -a and remove it from /etc/fstab (JetPack's zram swap: sudo systemctl disable "
                        + "nvzramconfig)");
    }

    static Check disk(DoctorProbe.Result p) {
        String id = "disk";
        String title = "free disk under /var/lib/rancher";
        if (p.diskAvailKiB() == null || p.diskSizeKiB() == null || p.diskSizeKiB() == 0) {
            return Check.warn(id, title, "df could not be read", "check df -h /var/lib/rancher");
        }
        long avail = p.diskAvailKiB();
        long size = p.diskSizeKiB();
        double pct = 100.0 * avail / size;
        String d = String.format(Locale.ROOT, "%s free of %s (%.0f%%) on the filesystem of %s", size(avail), size(size),
                pct, p.diskPath());
        String fix = "free space there, or put K3s's data on a bigger disk (K3s --data-dir)";
        if (pct < 10 || avail < GIB) {
            return Check.fail(id, title, d + ": below the kubelet's nodefs.available 10% eviction threshold or 1 GiB, "
                    + "the node would be tainted with DiskPressure", fix);
        }
        if (pct < 15 || avail < 4 * GIB) {
            return Check.warn(id, title, d + ": images fill it fast (imagefs.available 15% starts evictions)", fix);
        }
        return Check.pass(id, title, d);
    }

    static Check hostname(NodeFacts f, DoctorProbe.Result p, Cluster c) {
        String id = "hostname";
        String title = "hostname free in the cluster";
        if (c.nodes() == null) {
            return Check.skip(id, title, c.apiNote() != null ? c.apiNote() : "no cluster API asked",
                    "give --kubeconfig FILE to compare with the cluster's Nodes");
        }
        String name = f.hostname() == null ? "" : f.hostname().toLowerCase(Locale.ROOT);
        for (NodeStatus n : c.nodes()) {
            if (n.name().equals(name)) {
                if (n.internalIp() != null && p.addresses().contains(n.internalIp())) {
                    return Check.pass(id, title, "this machine is Node " + name + " already (InternalIP "
                            + n.internalIp() + ")");
                }
                return Check.fail(id, title, "Node " + name + " exists already with InternalIP " + n.internalIp()
                                + ", not an address of this machine (" + String.join(" ", p.addresses()) + "): K3s "
                                + "refuses a second machine of that name (\"Node password rejected, duplicate hostname\")",
                        "give this machine its own name (sudo hostnamectl set-hostname NEW, or K3s --node-name), or, "
                                + "if " + name + " is a retired machine, kubectl delete node " + name);
            }
        }
        return Check.pass(id, title, "no Node named " + name + " among " + c.nodes().size());
    }

    static Check serverApi(DoctorProbe.Result p, Cluster c) {
        String id = "server-api";
        String title = "server's API (6443/tcp)";
        if (c.server() == null) {
            return Check.skip(id, title, "no server given", "give --server IP or --kubeconfig FILE");
        }
        DoctorProbe.Tcp t = p.serverTcp();
        String url = "https://" + c.server() + ":6443/ping";
        if (t == null || t.noCurl()) {
            return Check.skip(id, title, "not tested: no curl on the node", "sudo apt-get install curl");
        }
        String fix = "check that K3s runs on " + c.server() + " (systemctl status k3s) and that no firewall on "
                + "either machine or between them drops TCP 6443";
        Integer rc = t.curlExit();
        if (rc != null && rc == 0 && t.statusLine() != null) {
            return Check.pass(id, title, url + " answered from this node (" + t.statusLine() + ")");
        }
        String why = rc == null ? "no answer" : switch (rc) {
            case 6 -> "the name does not resolve";
            case 7 -> "connection refused or no route";
            case 28 -> "timed out";
            case 35 -> "the TLS handshake failed";
            case 124 -> "no answer within 15 s";
            default -> "curl exit " + rc;
        };
        return Check.fail(id, title, url + " from this node: " + why, fix);
    }

    static Check clock(DoctorProbe.Result p, Cluster c) {
        String id = "clock";
        String title = "clock against the server";
        DoctorProbe.Tcp t = p.serverTcp();
        if (c.server() == null || t == null || t.noCurl() || t.date() == null || t.before() == null
                || t.after() == null) {
            return Check.skip(id, title, c.server() == null ? "no server given" : "the server's time was not read",
                    null);
        }
        double server;
        try {
            server = ZonedDateTime.parse(t.date(), DateTimeFormatter.RFC_1123_DATE_TIME).toEpochSecond() + 0.5;
        } catch (DateTimeParseException e) {
            return Check.skip(id, title, "the server's Date header could not be read", null);
        }
        double offset = (t.before() + t.after()) / 2 - server;
        String d = "this node's clock is " + span(Math.abs(offset)) + (offset >= 0 ? " ahead of " : " behind ")
                + c.server() + "'s (its HTTP Date, to about 1 s)";
        String fix = "turn on time sync: sudo timedatectl set-ntp true (systemd-timesyncd), or chrony; Jetson dev "
                + "kits keep no time without a battery in the RTC holder";
        if (Math.abs(offset) <= CLOCK_PASS_S) {
            return Check.pass(id, title, d);
        }
        if (Math.abs(offset) <= CLOCK_FAIL_S) {
            return Check.warn(id, title, d, fix);
        }
        return Check.fail(id, title, d + ": certificates K3s issues are valid from the server's clock, so TLS "
                + "fails (x509: certificate has expired or is not yet valid)", fix);
    }

    static Check vxlan(DoctorProbe.Result p, Cluster c) {
        String id = "vxlan";
        String title = "flannel VXLAN (8472/udp)";
        if (c.server() == null || p.serverUdp() == null) {
            return Check.skip(id, title, "no server given", null);
        }
        String to = c.server() + ":8472/udp";
        String u = p.serverUdp();
        if (u.equals("no-python3")) {
            return Check.skip(id, title, "not tested: no python3 on the node", null);
        }
        if (u.equals("silent") || u.equals("reply")) {
            return Check.pass(id, title, "sent two datagrams to " + to + " and no ICMP error came back: what a "
                    + "listening VXLAN socket looks like (UDP cannot prove delivery: a firewall that drops silently "
                    + "looks the same)");
        }
        if (u.equals("refused")) {
            return Check.warn(id, title, c.server() + " answered " + to + " with ICMP port unreachable: nothing "
                            + "listens there, so flannel's VXLAN is not up on it (K3s not running, or another "
                            + "--flannel-backend)",
                    "on " + c.server() + ": K3s with the default vxlan backend; pods here could not reach pods there");
        }
        return Check.fail(id, title, "sending to " + to + " failed on this node: " + u.substring("error ".length())
                        + " (its own firewall or routing)",
                "let UDP 8472 out of this node and into the server (nft list ruleset, iptables -S)");
    }

    private static String size(long kib) {
        return kib >= GIB ? String.format(Locale.ROOT, "%.1f GiB", kib / (double) GIB)
                : String.format(Locale.ROOT, "%d MiB", kib / 1024);
    }

    private static String span(double seconds) {
        Duration d = Duration.ofMillis(Math.round(seconds * 1000));
        if (d.toSeconds() < 60) {
            return String.format(Locale.ROOT, "%.1f s", seconds);
        }
        return d.toHours() + "h" + d.toMinutesPart() + "m" + d.toSecondsPart() + "s";
    }
}
