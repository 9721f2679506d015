package io.k3gpu.lab.k3s;

import java.io.File;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import tools.jackson.databind.JsonNode;

/**
 * What a kubelet learns about its machine, as the simulated K3s reads it on the node it runs on: {@code uname}
 * through PATH (so a lab Jetson's shim answers aarch64), {@code /etc/os-release}, {@code /proc}, the lab's replayed
 * hardware in {@code /etc/k3gpu-lab/node.json} (cpus, memTotal) when present, GPUs ({@code /etc/nv_tegra_release}
 * or {@code nvidia-smi -L}), NVIDIA container runtimes on PATH, and Docker when asked.
 *
 * @param architecture         Kubernetes's name: amd64, arm64, arm
 * @param memoryKiB            MemTotal
 * @param ephemeralStorageKiB  size of the filesystem holding the data directory
 * @param internalIp           first non-loopback IPv4 address, null when none
 * @param gpuCount             GPUs on the machine (a Jetson counts one)
 * @param nvidiaRuntimes       runtime names K3s would configure: nvidia, nvidia-experimental, nvidia-cdi
 * @param dockerVersion        {@code docker version --format {{.Server.Version}}}, null when not probed
 * @param dockerDefaultRuntime {@code docker info --format {{.DefaultRuntime}}}, null when not probed
 */
public record HostFacts(String hostname, String architecture, String kernelVersion, String osImage, int cpus,
                        long memoryKiB, long ephemeralStorageKiB, String internalIp, String bootId, String machineId,
                        int gpuCount, List<String> nvidiaRuntimes, String dockerVersion,
                        String dockerDefaultRuntime) {

    /** Reads the machine; {@code dataDir} sizes ephemeral storage; {@code docker} probes the Docker daemon. */
    public static HostFacts probe(Path dataDir, boolean docker) {
        String hostname = read(Path.of("/proc/sys/kernel/hostname"));
        if (hostname == null) {
            try {
                hostname = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                hostname = "localhost";
            }
        }
        String machine = run("uname", "-m");
        String kernel = run("uname", "-r");
        int cpus = countCpus();
        long memKiB = memTotalKiB();
        JsonNode lab = labNodeJson();
        if (lab != null && lab.has("cpus")) {
            cpus = lab.get("cpus").asInt();
            memKiB = lab.get("memTotal").asLong() / 1024;
        }
        long storage = 0;
        try {
            Path p = dataDir;
            while (p != null && !Files.exists(p)) {
                p = p.getParent();
            }
            storage = Files.getFileStore(p == null ? Path.of("/") : p).getTotalSpace() / 1024;
        } catch (IOException e) {
            storage = 0;
        }
        String dockerVersion = null;
        String dockerRuntime = null;
        if (docker) {
            dockerVersion = run("docker", "version", "--format", "{{.Server.Version}}");
            dockerRuntime = run("docker", "info", "--format", "{{.DefaultRuntime}}");
        }
        return new HostFacts(hostname.strip().toLowerCase(Locale.ROOT), kubeArch(machine),
                kernel == null ? "" : kernel, readOsImage(), cpus, memKiB, storage, firstIpv4(),
                orEmpty(read(Path.of("/proc/sys/kernel/random/boot_id"))), orEmpty(read(Path.of("/etc/machine-id"))),
                gpus(), nvidiaRuntimes(System.getenv("PATH")), dockerVersion, dockerRuntime);
    }

    /** uname -m as Kubernetes names it. */
    static String kubeArch(String machine) {
        if (machine == null) {
            return "amd64";
        }
        return switch (machine.strip()) {
            case "x86_64", "amd64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            case "armv7l", "armv7", "armhf", "arm" -> "arm";
            case "s390x" -> "s390x";
            case "ppc64le" -> "ppc64le";
            case "riscv64" -> "riscv64";
            default -> machine.strip();
        };
    }

    /**
     * The runtimes K3s's containerd configuration would find on PATH (with /usr/local/nvidia/toolkit in front):
     * nvidia-container-runtime → nvidia, nvidia-container-runtime-experimental → nvidia-experimental,
     * nvidia-container-runtime.cdi → nvidia-cdi.
     */
    static List<String> nvidiaRuntimes(String path) {
        List<String> dirs = new ArrayList<>();
        dirs.add("/usr/local/nvidia/toolkit");
        if (path != null) {
            Collections.addAll(dirs, path.split(File.pathSeparator));
        }
        List<String> found = new ArrayList<>();
        String[][] known = {{"nvidia-container-runtime", "nvidia"},
            {"nvidia-container-runtime-experimental", "nvidia-experimental"},
            {"nvidia-container-runtime.cdi", "nvidia-cdi"}};
        for (String[] k : known) {
            for (String d : dirs) {
                if (!d.isEmpty() && Files.isExecutable(Path.of(d, k[0]))) {
                    found.add(k[1]);
                    break;
                }
            }
        }
        return found;
    }

    private static int gpus() {
        if (Files.exists(Path.of("/etc/nv_tegra_release"))) {
            return 1;
        }
        String out = run("nvidia-smi", "-L");
        if (out == null) {
            return 0;
        }
        return (int) out.lines().filter(l -> l.startsWith("GPU ")).count();
    }

    private static String readOsImage() {
        for (String f : List.of("/etc/os-release", "/usr/lib/os-release")) {
            String text = read(Path.of(f));
            if (text == null) {
                continue;
            }
            for (String line : text.split("\n")) {
                if (line.startsWith("PRETTY_NAME=")) {
                    return line.substring("PRETTY_NAME=".length()).replaceAll("^\"|\"$", "");
                }
            }
        }
        return "Linux";
    }

    private static int countCpus() {
        String text = read(Path.of("/proc/cpuinfo"));
        if (text == null) {
            return Runtime.getRuntime().availableProcessors();
        }
        int n = (int) text.lines().filter(l -> l.startsWith("processor")).count();
        return n > 0 ? n : Runtime.getRuntime().availableProcessors();
    }

    private static long memTotalKiB() {
        String text = read(Path.of("/proc/meminfo"));
        if (text != null) {
            for (String line : text.split("\n")) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        }
        return Runtime.getRuntime().maxMemory() / 1024;
    }

    private static JsonNode labNodeJson() {
        String text = read(Path.of("/etc/k3gpu-lab/node.json"));
        if (text == null) {
            return null;
        }
        try {
            return Json.parse(text);
        } catch (RuntimeException e) {
            return null;
        }
    }

    static String firstIpv4() {
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nif.isUp() || nif.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                        return a.getHostAddress();
                    }
                }
            }
        } catch (SocketException e) {
            return null;
        }
        return null;
    }

    /** Every address of the host's up interfaces (loopback included): the serving certificate's IP SANs. */
    static List<InetAddress> allAddresses() {
        List<InetAddress> out = new ArrayList<>();
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nif.isUp()) {
                    continue;
                }
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    if (!a.isLinkLocalAddress()) {
                        out.add(a);
                    }
                }
            }
        } catch (SocketException e) {
            // no interfaces to list: the loopback added by the caller remains
        }
        return out;
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s.strip();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8).strip();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** A command's stdout, stripped, or null when it cannot run or fails. */
    static String run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(false)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return p.exitValue() == 0 ? out.strip() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
