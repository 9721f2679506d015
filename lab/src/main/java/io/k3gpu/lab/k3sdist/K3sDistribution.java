package io.k3gpu.lab.k3sdist;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.lab.LabState;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The simulated K3s of a lab as a distribution, the way K3s reaches real machines: an install mirror on the lab
 * bridge (get.k3s.io's script, GitHub's release files, update.k3s.io's channels), an air-gap bundle directory, and on
 * every node the programs the {@code k3s} "binary" runs. {@link io.k3gpu.lab.Lab#up} sets it up and
 * {@link io.k3gpu.lab.Lab#down} takes it away; a lab's distribution is found from its state:
 *
 * <pre>
 *   K3sDistribution k3s = K3sDistribution.of(lab);
 *   k3s.installUrl()    // http://10.213.238.1:8090/install.sh
 *   k3s.channelUrl()    // http://10.213.238.1:8090/v1-release/channels  (stable, latest, testing, v1.24 ... v1.32)
 *   k3s.githubUrl()     // http://10.213.238.1:8090/k3s-io/k3s/releases  (the install script's GITHUB_URL default)
 *   k3s.airgapDir()     // <stateDir>/airgap: k3s, k3s-arm64, install.sh, k3s-airgap-images-{amd64,arm64}.tar, ...
 *   k3s.gitRepoUrl()    // http://10.213.238.1:8090/git/example-mnist-training.git  (git's dumb HTTP protocol)
 * </pre>
 *
 * <p>Mirror paths: {@code /install.sh}; {@code /k3s/<version>/k3s}, {@code k3s-arm64},
 * {@code sha256sum-amd64.txt}, {@code sha256sum-arm64.txt}, {@code k3s-airgap-images-<arch>.tar},
 * {@code k3s-images.txt} (also under {@code /k3s-io/k3s/releases/download/<version>/}); {@code /v1-release/channels}
 * (JSON list) and {@code /v1-release/channels/<channel>} (302 to {@code /k3s-io/k3s/releases/tag/<version>}).
 * Versions: {@link K3sReleases}. On nodes: {@code /usr/local/lib/k3gpu-lab/shared/k3s/} holds {@code k3s-agent.py},
 * {@code k3s-service.sh} and {@code lib/*.jar} (the simulated server's class path).
 */
public final class K3sDistribution {
    public static final int MIRROR_PORT = 8090;
    static final String MIRROR_DIR = "k3s-mirror";
    static final String AIRGAP_DIR = "airgap";

    private final Path stateDir;
    private final String bridgeIp;

    private K3sDistribution(Path stateDir, String bridgeIp) {
        this.stateDir = stateDir;
        this.bridgeIp = bridgeIp;
    }

    public static K3sDistribution of(LabState lab) {
        return new K3sDistribution(lab.stateDir(), lab.bridgeIp());
    }

    /** {@code http://<bridge>:8090}. */
    public String mirrorUrl() {
        return "http://" + bridgeIp + ":" + MIRROR_PORT;
    }

    /** The install script: {@code curl -sfL <installUrl> | INSTALL_K3S_EXEC=... sh -}. */
    public String installUrl() {
        return mirrorUrl() + "/install.sh";
    }

    /** INSTALL_K3S_CHANNEL_URL: {@code <channelUrl>/<channel>} redirects to the channel's release. */
    public String channelUrl() {
        return mirrorUrl() + "/v1-release/channels";
    }

    /** GITHUB_URL: releases are {@code <githubUrl>/download/<version>/<asset>}. */
    public String githubUrl() {
        return mirrorUrl() + "/k3s-io/k3s/releases";
    }

    /** The URL of a release's binary for {@code arch} (amd64, arm64). */
    public String binaryUrl(String version, String arch) {
        return githubUrl() + "/download/" + version + "/" + K3sReleases.binaryName(arch);
    }

    /**
     * The air-gap bundle of the stable release ({@value K3sReleases#STABLE}) on the host: {@code k3s},
     * {@code k3s-arm64}, {@code install.sh}, {@code k3s-airgap-images-amd64.tar}, {@code k3s-airgap-images-arm64.tar},
     * {@code sha256sum-amd64.txt}, {@code sha256sum-arm64.txt}, {@code k3s-images.txt}.
     */
    public Path airgapDir() {
        return stateDir.resolve(AIRGAP_DIR);
    }

    /** The release the air-gap bundle holds. */
    public String airgapVersion() {
        return K3sReleases.STABLE;
    }

    /**
     * The lab's git repository with the project's trainer as {@code mnist.py} (the seed's example-mnist-training),
     * served by the mirror over git's dumb HTTP protocol: {@code git clone <gitRepoUrl()> /workspace} works from
     * every node, e.g. {@code http://10.213.238.1:8090/git/example-mnist-training.git}.
     */
    public String gitRepoUrl() {
        return mirrorUrl() + "/git/" + GitRepo.MNIST_REPO;
    }

    /** The mirror's document root on the host. */
    public Path mirrorDir() {
        return stateDir.resolve(MIRROR_DIR);
    }

    /** The mirror's access log on the host. */
    public Path mirrorLog() {
        return stateDir.resolve(MirrorDaemon.LOG_FILE);
    }

    /** {@code <stateDir>/lib/shared/k3s}, seen on nodes as {@code /usr/local/lib/k3gpu-lab/shared/k3s}. */
    public Path sharedDir() {
        return stateDir.resolve("lib/shared/k3s");
    }

    public boolean mirrorRunning() {
        return MirrorDaemon.running(stateDir);
    }

    /**
     * Lab hook, once the lab's network is up: writes the mirror, the air-gap bundle, the lab's git repository and the
     * nodes' K3s programs and jars, then starts the mirror on the bridge address.
     */
    public static void start(LabState lab) {
        K3sDistribution d = of(lab);
        String hostPort = lab.bridgeIp() + ":" + MIRROR_PORT;
        try {
            MirrorContent.writeMirror(d.mirrorDir(), hostPort);
            MirrorContent.writeAirgap(d.airgapDir(), hostPort, d.airgapVersion());
            MirrorContent.writeNodeFiles(d.sharedDir());
            GitRepo.writeAll(d.mirrorDir().resolve("git"));
            ServerJars.install(d.sharedDir().resolve("lib"));
            MirrorDaemon.start(lab.stateDir(), lab.bridgeIp(), MIRROR_PORT, d.mirrorDir());
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.FAILED, "lab: setting up the simulated K3s distribution failed: " + e,
                    null, e);
        }
    }

    /** Lab hook, before the lab's files go: stops the mirror of the lab in {@code stateDir}. Idempotent. */
    public static void stop(Path stateDir) {
        MirrorDaemon.stop(stateDir.toAbsolutePath().normalize());
    }
}
