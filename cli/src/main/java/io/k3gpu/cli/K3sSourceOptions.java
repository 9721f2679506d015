package io.k3gpu.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Which K3s and where it comes from. */
public final class K3sSourceOptions {
    @Option(names = "--k3s-version", paramLabel = "VERSION", description = "K3s release, e.g. v1.31.4+k3s1 (INSTALL_K3S_VERSION).")
    String version;

    @Option(names = "--k3s-channel", paramLabel = "CHANNEL", description = "Release channel, e.g. stable or latest (INSTALL_K3S_CHANNEL).")
    String channel;

    @Option(names = "--install-url", paramLabel = "URL",
            description = "Where the node downloads K3s's install script (default: https://get.k3s.io; a mirror for nodes without internet).")
    String installUrl;

    @Option(names = "--airgap-bundle", paramLabel = "DIR",
            description = "Install without downloading: a directory with install.sh, k3s (and k3s-arm64) and k3s-airgap-images-*.tar*.")
    Path airgapBundle;
}
