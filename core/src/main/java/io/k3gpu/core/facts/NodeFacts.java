package io.k3gpu.core.facts;

import java.util.List;
import java.util.TreeSet;

/**
 * What a node is, as far as making it a GPU node of a K3s cluster goes. Values a node does not have are null (or
 * false, or empty lists).
 *
 * @param arch the machine as {@code uname -m} prints it ({@code aarch64}, {@code x86_64})
 * @param os the PRETTY_NAME of {@code /etc/os-release}
 * @param kernel {@code uname -r}
 * @param jetsonModel the device-tree model of a Jetson; null when the machine is not a Jetson
 * @param socFamily {@code tegra210}, {@code tegra234}, ...
 * @param l4tVersion the Jetson Linux release, e.g. {@code 32.7.1}
 * @param l4tSource where the L4T version came from: {@code nv_tegra_release} or {@code nvidia-l4t-core}
 * @param gpus the GPUs {@code nvidia-smi} lists; empty without nvidia-smi, as on most Jetsons
 * @param dockerDefaultRuntime what {@code docker info} reports; null when the Docker daemon is not running
 * @param dockerRuntimes the runtimes the running Docker daemon knows, sorted by name
 * @param nvidiaContainerRuntime whether {@code nvidia-container-runtime} is installed
 * @param k3sRole {@code server}, {@code agent}, or null when K3s is not installed or its role is unknown
 * @param k3sVersion e.g. {@code v1.31.4+k3s1}
 * @param k3sDefaultRuntime the default runtime K3s gives containerd: {@code default-runtime} of
 *                          {@code /etc/rancher/k3s/config.yaml}, overridden by its unit's {@code --default-runtime} and
 *                          by a containerd template's {@code default_runtime_name}
 * @param nvidiaContainerToolkitVersion the NVIDIA Container Toolkit's version, e.g. {@code 1.7.0} (the installed
 *        package's, without its Debian revision, else what its tools say)
 * @param toolkitDirRuntime {@code /usr/local/nvidia/toolkit/nvidia-container-runtime} when it exists, else null
 * @param toolkitDirRuntimeDiffers whether that file is another one than the packaged
 *        {@code /usr/bin/nvidia-container-runtime}
 */
public record NodeFacts(
        String hostname,
        String arch,
        String os,
        String kernel,
        String jetsonModel,
        String socFamily,
        String l4tVersion,
        String l4tSource,
        String jetpackVersion,
        String cudaVersion,
        List<Gpu> gpus,
        boolean dockerInstalled,
        boolean dockerRunning,
        String dockerDefaultRuntime,
        List<String> dockerRuntimes,
        boolean nvidiaContainerRuntime,
        String nvidiaContainerRuntimePath,
        boolean containerdInstalled,
        boolean k3sInstalled,
        String k3sRole,
        String k3sVersion,
        String k3sDefaultRuntime,
        String nvidiaContainerToolkitVersion,
        String toolkitDirRuntime,
        boolean toolkitDirRuntimeDiffers) {

    public static final String L4T_FROM_NV_TEGRA_RELEASE = "nv_tegra_release";
    public static final String L4T_FROM_PACKAGE = "nvidia-l4t-core";

    /** Facts without what is known about the NVIDIA Container Toolkit. */
    public NodeFacts(String hostname, String arch, String os, String kernel, String jetsonModel, String socFamily,
                     String l4tVersion, String l4tSource, String jetpackVersion, String cudaVersion, List<Gpu> gpus,
                     boolean dockerInstalled, boolean dockerRunning, String dockerDefaultRuntime,
                     List<String> dockerRuntimes, boolean nvidiaContainerRuntime, String nvidiaContainerRuntimePath,
                     boolean containerdInstalled, boolean k3sInstalled, String k3sRole, String k3sVersion,
                     String k3sDefaultRuntime) {
        this(hostname, arch, os, kernel, jetsonModel, socFamily, l4tVersion, l4tSource, jetpackVersion, cudaVersion,
                gpus, dockerInstalled, dockerRunning, dockerDefaultRuntime, dockerRuntimes, nvidiaContainerRuntime,
                nvidiaContainerRuntimePath, containerdInstalled, k3sInstalled, k3sRole, k3sVersion, k3sDefaultRuntime,
                null, null, false);
    }

    public NodeFacts {
        gpus = gpus == null ? List.of() : List.copyOf(gpus);
        dockerRuntimes = dockerRuntimes == null ? List.of() : List.copyOf(dockerRuntimes);
    }

    /** A Jetson: a Tegra SoC, or a Jetson Linux release installed. */
    public boolean isJetson() {
        return socFamily != null || l4tVersion != null;
    }

    /** Whether there is a GPU to offer to the cluster: a Jetson's integrated GPU or a discrete one. */
    public boolean hasGpu() {
        return isJetson() || !gpus.isEmpty();
    }

    /**
     * These facts once {@code /etc/rancher/k3s/config.yaml} holds {@code default-runtime: runtime}: what a runtime
     * change wrote, so that nothing needs gathering again (no other fact depends on that file).
     */
    public NodeFacts withK3sDefaultRuntime(String runtime) {
        return new NodeFacts(hostname, arch, os, kernel, jetsonModel, socFamily, l4tVersion, l4tSource, jetpackVersion,
                cudaVersion, gpus, dockerInstalled, dockerRunning, dockerDefaultRuntime, dockerRuntimes,
                nvidiaContainerRuntime, nvidiaContainerRuntimePath, containerdInstalled, k3sInstalled, k3sRole, k3sVersion,
                runtime, nvidiaContainerToolkitVersion, toolkitDirRuntime, toolkitDirRuntimeDiffers);
    }

    /**
     * These facts once the Docker daemon runs with {@code runtime} as its default, as a runtime change proved with
     * {@code docker info}: the daemon is running and knows that runtime.
     */
    public NodeFacts withDockerDefaultRuntime(String runtime) {
        TreeSet<String> runtimes = new TreeSet<>(dockerRuntimes);
        runtimes.add(runtime);
        return new NodeFacts(hostname, arch, os, kernel, jetsonModel, socFamily, l4tVersion, l4tSource, jetpackVersion,
                cudaVersion, gpus, true, true, runtime, List.copyOf(runtimes), nvidiaContainerRuntime,
                nvidiaContainerRuntimePath, containerdInstalled, k3sInstalled, k3sRole, k3sVersion, k3sDefaultRuntime,
                nvidiaContainerToolkitVersion, toolkitDirRuntime, toolkitDirRuntimeDiffers);
    }

    /**
     * The warning for a node where K3s would run another {@code nvidia-container-runtime} than the packaged one: K3s
     * looks in {@code /usr/local/nvidia/toolkit} before {@code /usr/bin} (pkg/agent/containerd/runtimes.go), and
     * what is there is usually left by NVIDIA's GPU Operator, set up for its own driver container.
     */
    public java.util.Optional<String> toolkitDirWarning() {
        if (toolkitDirRuntime == null || !toolkitDirRuntimeDiffers) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(toolkitDirRuntime + " is another file than the packaged "
                + "/usr/bin/nvidia-container-runtime, and K3s uses the one in /usr/local/nvidia/toolkit first; "
                + "unless NVIDIA's GPU Operator manages this node, remove /usr/local/nvidia/toolkit (or link the "
                + "packaged runtime there) and restart K3s");
    }
}
