package io.k3gpu.lab;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The hardware a lab node replays. Values come from real machines (see fixtures/l4t/README.md and
 * fixtures/nvidia-smi/README.md); where no capture exists the value is a documented approximation (marked below).
 *
 * <ul>
 *   <li>{@code jetson-nano}: Jetson Nano Developer Kit, JetPack 4.6.1 / L4T 32.7.1, CUDA 10.2, Docker 20.10 with the
 *   stock JetPack daemon.json, NVIDIA Container Toolkit 1.7.0.</li>
 *   <li>{@code orin-nano}: Jetson Orin Nano Developer Kit, JetPack 6.2 / L4T 36.4.3, CUDA 12.6, no Docker (JetPack 6
 *   images bring containerd only), NVIDIA Container Toolkit.</li>
 *   <li>{@code thor}: Jetson AGX Thor Developer Kit (tegra264), JetPack 7.0 / L4T 38.2.0, CUDA 13.0, Ubuntu 24.04,
 *   no Docker (containerd only), NVIDIA Container Toolkit 1.17.8 (the lab's dgpu version: JetPack 7 brings
 *   the toolkit from NVIDIA's apt repository, whose 1.17 series has the CDI support Thor's containers use, and it
 *   is above the 1.11 the device plugin needs on Jetson); no nvidia-smi capture of a Thor exists in the lab, so
 *   its nvidia-smi (real Thors have one) is absent; tegrastats replays the JetPack 7.1 samples of a Thor.</li>
 *   <li>{@code dgpu}: an x86_64 server with one NVIDIA H200 (driver 580.159.04, CUDA 13.0), Docker 27.5 without a
 *   daemon.json, NVIDIA Container Toolkit.</li>
 *   <li>{@code cpu-only}: an x86_64 machine with Docker 27.5 and nothing from NVIDIA.</li>
 * </ul>
 */
public enum Profile {
    JETSON_NANO("jetson-nano", "jetson", new Jetson(
            "aarch64", "arm64", "4.9.253-tegra",
            "#1 SMP PREEMPT Sat Feb 19 08:59:22 PST 2022", // approximation: L4T 32.7.1 build date
            "# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64, "
                    + "DATE: Sat Feb 19 17:05:08 UTC 2022\n",
            "NVIDIA Jetson Nano Developer Kit",
            List.of("nvidia,p3450-0000", "nvidia,jetson-nano", "nvidia,tegra210"),
            "32.7.1-20220219090432", "Jetson Nano 4GB", true,
            "NAME=\"Ubuntu\"\nVERSION=\"18.04.6 LTS (Bionic Beaver)\"\nID=ubuntu\nID_LIKE=debian\n"
                    + "PRETTY_NAME=\"Ubuntu 18.04.6 LTS\"\nVERSION_ID=\"18.04\"\nVERSION_CODENAME=bionic\n"
                    + "UBUNTU_CODENAME=bionic\n"),
            "version.txt", "CUDA Version 10.2.300\n",
            new Docker("20.10.21", "1.41", "go1.18.1", "20.10.21-0ubuntu1~18.04.3", "docker.io",
                    "20.10.21-0ubuntu1~18.04.3",
                    "{\n    \"runtimes\": {\n        \"nvidia\": {\n            \"path\": \"nvidia-container-runtime\",\n"
                            + "            \"runtimeArgs\": []\n        }\n    }\n}\n"),
            "1.7.0", false, 4, 4156555264L),
    ORIN_NANO("orin-nano", "jetson", new Jetson(
            "aarch64", "arm64", "5.15.148-tegra",
            "#1 SMP PREEMPT Tue Jan  7 17:14:07 PST 2025", // approximation: L4T 36.4.3 build date
            "# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, "
                    + "DATE: Wed Jan  8 01:49:37 UTC 2025\n# KERNEL_VARIANT: oot\nTARGET_USERSPACE_LIB_DIR=nvidia\n"
                    + "TARGET_USERSPACE_LIB_DIR_PATH=usr/lib/aarch64-linux-gnu/nvidia\n",
            "NVIDIA Jetson Orin Nano Developer Kit",
            List.of("nvidia,p3768-0000+p3767-0005", "nvidia,p3767-0005", "nvidia,tegra234"),
            "36.4.3-20250107174145", "Jetson Orin Nano 8GB", true,
            "PRETTY_NAME=\"Ubuntu 22.04.5 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\n"
                    + "VERSION=\"22.04.5 LTS (Jammy Jellyfish)\"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n"
                    + "UBUNTU_CODENAME=jammy\n"),
            "version.json", "{\"cuda\": {\"name\": \"CUDA SDK\", \"version\": \"12.6.68\"}}\n",
            null, "1.16.2", false, 6, 7990149120L),
    THOR("thor", "jetson", new Jetson(
            "aarch64", "arm64", "6.8.12-tegra",
            "#1 SMP PREEMPT Thu Aug 21 17:12:43 PDT 2025", // approximation: L4T 38.2.0 build date
            "# R38 (release), REVISION: 2.0, GCID: 41844464, BOARD: generic, EABI: aarch64, "
                    + "DATE: Fri Aug 22 00:55:42 UTC 2025\n",
            "NVIDIA Jetson AGX Thor Developer Kit",
            List.of("nvidia,p4071-0000+p3834-0008", "nvidia,p3834-0008", "nvidia,tegra264"),
            "38.2.0-20250821174243", // approximation: the build stamp of L4T 38.2.0's nvidia-l4t-core
            "Jetson AGX Thor 128GB", false,
            "PRETTY_NAME=\"Ubuntu 24.04.3 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\n"
                    + "VERSION=\"24.04.3 LTS (Noble Numbat)\"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n"
                    + "UBUNTU_CODENAME=noble\nLOGO=ubuntu-logo\n"),
            // approximation: the CUDA 13.0 toolkit's version.json
            "version.json", "{\"cuda\": {\"name\": \"CUDA SDK\", \"version\": \"13.0.48\"}}\n",
            null, "1.17.8", false, 14, 131882549248L),
    DGPU("dgpu", "gpu", null,
            // approximation: the CUDA 13.0 toolkit's nvcc version
            "version.json", "{\"cuda\": {\"name\": \"CUDA SDK\", \"version\": \"13.0.48\"}}\n",
            new Docker("27.5.1", "1.47", "go1.22.11", "4c9b3b0", "docker-ce", "5:27.5.1-1~debian.12~bookworm", null),
            "1.17.8", true, 0, 0L),
    CPU_ONLY("cpu-only", "node", null, null, null,
            new Docker("27.5.1", "1.47", "go1.22.11", "4c9b3b0", "docker-ce", "5:27.5.1-1~debian.12~bookworm", null),
            null, false, 0, 0L);

    /**
     * A Jetson's identity: what the replayed board reports. {@code csvMode}: the NVIDIA Container Runtime mounts the
     * host files listed in /etc/nvidia-container-runtime/host-files-for-container.d/*.csv into containers (JetPack
     * 4-6); JetPack 7 (Thor) has no such lists, so an image sees none of the host's Tegra files.
     */
    record Jetson(String machine, String dpkgArch, String kernelRelease, String kernelVersion, String nvTegraRelease,
                  String model, List<String> compatible, String l4tCoreVersion, String tegrastatsBoard,
                  boolean csvMode, String osRelease) {
    }

    /** The simulated Docker of a profile; {@code daemonJson} null = no /etc/docker/daemon.json (fresh install). */
    record Docker(String version, String apiVersion, String goVersion, String gitCommit, String dpkgPackage,
                  String dpkgVersion, String daemonJson) {
        String clientBuild() {
            return version.startsWith("27.5.1") ? "9f9e405" : gitCommit;
        }
    }

    private final String key;
    private final String namePrefix;
    private final Jetson jetson;
    private final String cudaFile;
    private final String cudaContent;
    private final Docker docker;
    private final String nvidiaContainerToolkit;
    private final boolean nvidiaSmi;
    private final int cpus;
    private final long memTotal;

    Profile(String key, String namePrefix, Jetson jetson, String cudaFile, String cudaContent, Docker docker,
            String nvidiaContainerToolkit, boolean nvidiaSmi, int cpus, long memTotal) {
        this.key = key;
        this.namePrefix = namePrefix;
        this.jetson = jetson;
        this.cudaFile = cudaFile;
        this.cudaContent = cudaContent;
        this.docker = docker;
        this.nvidiaContainerToolkit = nvidiaContainerToolkit;
        this.nvidiaSmi = nvidiaSmi;
        this.cpus = cpus;
        this.memTotal = memTotal;
    }

    /** The name used on the command line and in LabConfig: jetson-nano, orin-nano, thor, dgpu, cpu-only. */
    public String key() {
        return key;
    }

    /** Node names of this profile are {@code <namePrefix><n>}: jetson, gpu or node. */
    public String namePrefix() {
        return namePrefix;
    }

    public boolean isJetson() {
        return jetson != null;
    }

    public boolean hasDocker() {
        return docker != null;
    }

    public boolean hasNvidiaContainerRuntime() {
        return nvidiaContainerToolkit != null;
    }

    public boolean hasNvidiaSmi() {
        return nvidiaSmi;
    }

    Jetson jetson() {
        return jetson;
    }

    Docker docker() {
        return docker;
    }

    String cudaFile() {
        return cudaFile;
    }

    String cudaContent() {
        return cudaContent;
    }

    String nvidiaContainerToolkit() {
        return nvidiaContainerToolkit;
    }

    int cpus() {
        return cpus;
    }

    long memTotal() {
        return memTotal;
    }

    public static List<String> keys() {
        return Arrays.stream(values()).map(Profile::key).collect(Collectors.toList());
    }

    /**
     * The profile of a node spec: its key, optionally followed by planted faults ({@code orin-nano+swap+clock-skew=-3h},
     * see {@link NodeFaults}), which are validated here.
     */
    public static Profile of(String key) {
        int plus = key.indexOf('+');
        if (plus >= 0) {
            NodeFaults.parse(key.substring(plus + 1));
            key = key.substring(0, plus);
        }
        for (Profile p : values()) {
            if (p.key.equals(key)) {
                return p;
            }
        }
        throw new K3gpuException(ExitCode.USAGE, "unknown lab profile '" + key + "'",
                "use one of " + String.join(", ", keys()));
    }
}
