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
 *   k3s.githubUrl()     // http://10.213.238.1:8090/k3s-io/k3s/releases  (GITHUB_URL; the default is github.com)
 *   k3s.airgapDir()     // <stateDir>/airgap: k3s, k3s-arm64, install.sh, k3s-airgap-images-{amd64,arm64}.tar, ...
 *   k3s.gitRepoUrl()    // http://10.213.238.1:8090/git/example-mnist-training.git  (git's dumb HTTP protocol)
 *   k3s.served()        // what the lab serves, for `lab up` / `lab status`
 * </pre>
 *
 * <p>The same mirror answers on port 443 of the bridge address, over HTTPS, as get.k3s.io, update.k3s.io, github.com
 * and release-assets.githubusercontent.com ({@link MirrorTls#NAMES}): lab nodes resolve those names to it
 * ({@code /etc/hosts}) and trust the lab's CA ({@link MirrorTls}), so {@code curl -sfL https://get.k3s.io | sh -} and
 * {@code k3gpu install} without {@code --install-url} work on a node as on the internet. The install script's
 * defaults are get.k3s.io's ({@link #PUBLIC_GITHUB_URL}, {@link #PUBLIC_CHANNEL_URL}); {@link #githubUrl()} and
 * {@link #channelUrl()} are the plain HTTP mirror's, for the GITHUB_URL / INSTALL_K3S_CHANNEL_URL overrides.
 *
 * <p>Mirror paths: {@code /install.sh}; {@code /k3s/<version>/k3s}, {@code k3s-arm64},
 * {@code sha256sum-amd64.txt}, {@code sha256sum-arm64.txt}, {@code k3s-airgap-images-<arch>.tar},
 * {@code k3s-images.txt} (also under {@code /k3s-io/k3s/releases/download/<version>/}); {@code /v1-release/channels}
 * (JSON list) and {@code /v1-release/channels/<channel>} (302 to {@code /k3s-io/k3s/releases/tag/<version>}).
 * Versions: {@link K3sReleases}. On nodes: {@code /usr/local/lib/k3gpu-lab/shared/k3s/} holds {@code k3s-agent.py}
 * (and its package {@code k3sagent/}), {@code k3s-service.sh} and {@code lib/*.jar} (the simulated server's class
 * path).
 */
public final class K3sDistribution {
    public static final int MIRROR_PORT = 8090;
    /** The mirror's HTTPS port, on the bridge address: where the public names land. */
    public static final int HTTPS_PORT = 443;
    /** The real install script's URL, which lab nodes reach on the mirror: k3gpu's default install URL. */
    public static final String PUBLIC_INSTALL_URL = "https://get.k3s.io";
    /** The install script's default INSTALL_K3S_CHANNEL_URL. */
    public static final String PUBLIC_CHANNEL_URL = "https://update.k3s.io/v1-release/channels";
    /** The install script's default GITHUB_URL. */
    public static final String PUBLIC_GITHUB_URL = "https://github.com/k3s-io/k3s/releases";
    static final String MIRROR_DIR = "k3s-mirror";
    static final String AIRGAP_DIR = "airgap";

    private final Path stateDir;
    private final String bridgeIp;
    private final String labId;

    private K3sDistribution(Path stateDir, String bridgeIp, String labId) {
        this.stateDir = stateDir;
        this.bridgeIp = bridgeIp;
        this.labId = labId;
    }

    public static K3sDistribution of(LabState lab) {
        return new K3sDistribution(lab.stateDir(), lab.bridgeIp(), lab.id());
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

    /** The lab's CA certificate on the host ({@code <stateDir>/mirror-tls/ca.crt}); nodes trust it. */
    public Path caCert() {
        return stateDir.resolve(MirrorTls.DIR).resolve(MirrorTls.CA_CERT);
    }

    /**
     * What the lab serves its nodes, in order, for {@code lab up} and {@code lab status}: the mirror's plain HTTP
     * URL, its HTTPS names and address, the install, channel and release URLs a node uses by default, the git
     * repository, the CA (on the host and on nodes) and whether the mirror runs. The lab has no image registry
     * (images come from the agent's catalog), so there is none to list.
     */
    public java.util.Map<String, Object> served() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("mirror", mirrorUrl());
        m.put("mirrorRunning", mirrorRunning());
        m.put("httpsNames", MirrorTls.NAMES);
        m.put("httpsAddress", bridgeIp + ":" + HTTPS_PORT);
        m.put("installUrl", PUBLIC_INSTALL_URL);
        m.put("channelUrl", PUBLIC_CHANNEL_URL);
        m.put("githubUrl", PUBLIC_GITHUB_URL);
        m.put("mirrorInstallUrl", installUrl());
        m.put("mirrorGithubUrl", githubUrl());
        m.put("mirrorChannelUrl", channelUrl());
        m.put("gitRepository", gitRepoUrl());
        m.put("caCert", caCert().toString());
        m.put("nodeCaCert", "/usr/local/share/ca-certificates/" + MirrorTls.caFileName(labId));
        m.put("airgapBundle", airgapDir().toString());
        m.put("registry", null);
        return m;
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
     * Lab hook, before the nodes' files are written: makes the lab's CA and the mirror's certificate
     * ({@code <stateDir>/mirror-tls/}); {@link MirrorTls#writeNode} then gives each node its trust and names.
     */
    public static MirrorTls makeTls(LabState lab) {
        MirrorTls tls = MirrorTls.create(lab.id(), java.time.Clock.systemUTC());
        try {
            tls.writeTo(lab.stateDir());
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.FAILED, "lab: writing the lab's CA failed: " + e, null, e);
        }
        return tls;
    }

    /**
     * The lab's image catalog (images.json and the simulated frameworks) into {@code dir}/images: what the nodes'
     * k3lab-images builds Docker images from at boot, before {@link #start} writes the K3s files.
     */
    public static void writeImageCatalog(Path dir) throws IOException {
        MirrorContent.writeImageCatalog(dir);
    }

    /**
     * Lab hook, once the lab's network is up: writes the mirror, the air-gap bundle, the lab's git repository and the
     * nodes' K3s programs and jars, then starts the mirror on the bridge address (HTTP and HTTPS, with the
     * certificate {@link #makeTls} made).
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
            MirrorDaemon.start(lab.stateDir(), lab.bridgeIp(), MIRROR_PORT, d.mirrorDir(), HTTPS_PORT,
                    lab.stateDir().resolve(MirrorTls.DIR));
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
