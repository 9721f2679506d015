package io.k3gpu.core.fleet;

import io.k3gpu.core.plugin.DevicePluginSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The {@code cluster:} section of cluster.yaml: which K3s, from where, with which token and flags, and where the
 * kubeconfig goes.
 *
 * @param k3sVersion   INSTALL_K3S_VERSION, or null
 * @param k3sChannel   INSTALL_K3S_CHANNEL, or null (neither: the install script's default, the stable channel)
 * @param serverArgs   more {@code k3s server} flags for every server
 * @param agentArgs    more {@code k3s agent} flags for every agent
 * @param tlsSan       more names for the servers' certificate (each server's address is always one)
 * @param installUrl   the install script's URL (a mirror); null for https://get.k3s.io
 * @param airgapBundle a local directory with install.sh, k3s, k3s-arm64 and image archives; null for none
 * @param serverUrl    the API URL the other nodes join; null for https://FIRST-SERVER:6443
 * @param readyTimeout how long each node may take to be Ready
 * @param kubeconfig   where the cluster's kubeconfig is written after apply, and as which context
 * @param devicePlugin NVIDIA's device plugin, installed by apply once the nodes are Ready; null for none
 * @param upgrade      how a new release is rolled over the nodes ({@code cluster.upgrade})
 */
public record ClusterSettings(String k3sVersion, String k3sChannel, TokenSource token, String serverArgs,
                              String agentArgs, List<String> tlsSan, String installUrl, Path airgapBundle,
                              String serverUrl, Duration readyTimeout, KubeconfigSettings kubeconfig,
                              DevicePluginSettings devicePlugin, UpgradeSettings upgrade) {
    public static final Duration DEFAULT_READY_TIMEOUT = Duration.ofMinutes(3);

    public ClusterSettings {
        tlsSan = List.copyOf(tlsSan);
        upgrade = upgrade == null ? UpgradeSettings.DEFAULTS : upgrade;
    }

    /**
     * @param path    written with mode 0600
     * @param context the name of the cluster, user and context in it
     * @param merge   merge into the file at {@code path} (entries of the same name replaced) instead of overwriting it
     */
    public record KubeconfigSettings(Path path, String context, boolean merge) {
    }
}
