package io.k3gpu.core.k3s;

import java.nio.file.Path;
import java.util.List;

/**
 * One run of K3s's install script on a node: what to install and where it comes from. The token, when there is
 * one, only ever travels in the environment file fed on stdin.
 *
 * @param role          server or agent
 * @param exec          the K3s command and flags (INSTALL_K3S_EXEC), e.g. "server --tls-san 1.2.3.4"
 * @param version       INSTALL_K3S_VERSION, or null
 * @param channel       INSTALL_K3S_CHANNEL, or null
 * @param serverUrl     K3S_URL (agents and joining servers), or null
 * @param token         K3S_TOKEN, or null
 * @param installUrl    where the node downloads the install script from (default https://get.k3s.io)
 * @param airgapBundle  a local directory with install.sh, k3s / k3s-arm64 and optional image archives; null for none
 */
public record K3sInstall(Role role, String exec, String version, String channel, String serverUrl, char[] token,
                         String installUrl, Path airgapBundle) {

    public static final String DEFAULT_INSTALL_URL = "https://get.k3s.io";

    public enum Role {
        SERVER("k3s", "k3s-uninstall.sh"),
        AGENT("k3s-agent", "k3s-agent-uninstall.sh");

        private final String service;
        private final String uninstallScript;

        Role(String service, String uninstallScript) {
            this.service = service;
            this.uninstallScript = uninstallScript;
        }

        public String service() {
            return service;
        }

        public String uninstallScript() {
            return "/usr/local/bin/" + uninstallScript;
        }
    }

    public K3sInstall {
        installUrl = installUrl == null ? DEFAULT_INSTALL_URL : installUrl;
    }

    @Override
    public String toString() {
        return "K3sInstall[" + role + " " + K3sArgs.masked(exec) + (serverUrl == null ? "" : " " + serverUrl) + "]";
    }

    static List<String> envNames() {
        return List.of("INSTALL_K3S_EXEC", "INSTALL_K3S_VERSION", "INSTALL_K3S_CHANNEL", "K3S_URL", "K3S_TOKEN",
                "INSTALL_K3S_SKIP_DOWNLOAD");
    }
}
