package io.k3gpu.core.k3s;

import io.k3gpu.core.remote.RemoteFileCommands;
import io.k3gpu.core.remote.Shell;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The commands that run K3s's install script on a node. Pure; golden-tested. The environment (with the token) is a
 * file fed on stdin, sourced by the shell and deleted before the script runs, so the token is never on a command
 * line or in a process listing; the install script then keeps it in its 0600 systemd environment file.
 */
public final class InstallCommands {
    /** Exit status when the install script could not be downloaded. */
    public static final int DOWNLOAD_FAILED = 90;
    public static final String REDACTED = "<redacted>";

    private InstallCommands() {
    }

    /** The environment file's lines, KEY='value'. */
    public static String envFile(K3sInstall i, boolean redactToken) {
        StringBuilder sb = new StringBuilder();
        env(i, redactToken).forEach((k, v) -> sb.append(k).append('=').append(Shell.quote(v)).append('\n'));
        return sb.toString();
    }

    static Map<String, String> env(K3sInstall i, boolean redactToken) {
        Map<String, String> e = new LinkedHashMap<>();
        e.put("INSTALL_K3S_EXEC", redactToken ? K3sArgs.masked(i.exec()) : i.exec());
        if (i.version() != null) {
            e.put("INSTALL_K3S_VERSION", i.version());
        }
        if (i.channel() != null) {
            e.put("INSTALL_K3S_CHANNEL", i.channel());
        }
        if (i.serverUrl() != null) {
            e.put("K3S_URL", i.serverUrl());
        }
        if (i.token() != null) {
            e.put("K3S_TOKEN", redactToken ? REDACTED : new String(i.token()));
        }
        if (i.airgapBundle() != null) {
            e.put("INSTALL_K3S_SKIP_DOWNLOAD", "true");
        }
        return e;
    }

    /**
     * Downloads the install script (failing loudly when that fails, unlike {@code curl | sh}), loads the environment
     * from stdin (an {@link io.k3gpu.core.remote.Upload} of {@link #envFile}: a cut one would run the script
     * without the token), and runs the script. With an air-gap bundle the script is already at {@code uploadedScript}.
     */
    public static String install(K3sInstall i, String uploadedScript) {
        StringBuilder sb = new StringBuilder();
        sb.append("set -e; umask 077; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; ")
                .append(RemoteFileCommands.receive("\"$d/env\"", "the K3s install environment")).append("; ");
        if (uploadedScript != null) {
            sb.append("cp -- ").append(Shell.quote(uploadedScript)).append(" \"$d/install.sh\"; ");
        } else {
            String url = Shell.quote(i.installUrl());
            sb.append("if command -v curl >/dev/null 2>&1; then curl -sfL --retry 2 -o \"$d/install.sh\" ").append(url)
                    .append("; else wget -q -O \"$d/install.sh\" ").append(url).append("; fi")
                    .append(" || { echo \"k3gpu: could not download the K3s install script from \"").append(url)
                    .append(" >&2; exit ").append(DOWNLOAD_FAILED).append("; }; ")
                    .append("[ -s \"$d/install.sh\" ] || { echo \"k3gpu: the K3s install script from \"").append(url)
                    .append(" is empty >&2; exit ").append(DOWNLOAD_FAILED).append("; }; ");
        }
        sb.append("set -a; . \"$d/env\"; set +a; rm -f \"$d/env\"; sh \"$d/install.sh\"");
        return sb.toString();
    }

    /** Reads the server's node token. */
    public static String readNodeToken() {
        return "cat /var/lib/rancher/k3s/server/node-token";
    }

    /**
     * Prints K3s's kubeconfig, at most {@code limit} + 1 bytes of it (so that an oversized file is seen as such without
     * reading it all), or exits {@value RemoteFileCommands#ABSENT} when there is none yet.
     */
    public static String readKubeconfig(int limit) {
        return "if [ -f /etc/rancher/k3s/k3s.yaml ]; then head -c " + (limit + 1) + " /etc/rancher/k3s/k3s.yaml; "
                + "else exit " + RemoteFileCommands.ABSENT + "; fi";
    }

    /** The last lines of a K3s service's log, as journalctl shows them. */
    public static String serviceLog(String service, int lines) {
        return "journalctl -u " + service + " -n " + lines + " --no-pager 2>/dev/null || tail -n " + lines
                + " /var/log/" + service + ".log 2>/dev/null";
    }

    /** Restarts a K3s service (k3s, k3s-agent) with systemd, else with the init system's {@code service}. */
    public static String restartService(String service) {
        String s = Shell.quote(service);
        return "if command -v systemctl >/dev/null 2>&1; then systemctl restart " + s + "; else service " + s
                + " restart; fi";
    }

    /** Runs the uninstall script when it is there; prints "absent" when K3s was not installed. */
    public static String uninstall(K3sInstall.Role role) {
        String s = Shell.quote(role.uninstallScript());
        return "if [ -x " + s + " ]; then " + s + "; else echo absent; fi";
    }

    /**
     * What K3s's uninstall scripts keep: the node password (a re-join to a rebuilt server is then refused with
     * "Node password rejected") and the empty /etc/rancher. A reset removes them too.
     */
    public static String removeKept() {
        return "rm -rf /etc/rancher/node; rmdir /etc/rancher 2>/dev/null || true";
    }

    /** What K3s leaves on a node; the reset proves none of it is left. */
    public static String leftovers() {
        return "for p in /usr/local/bin/k3s /etc/rancher/k3s /etc/rancher/node /var/lib/rancher/k3s /etc/systemd/system/k3s.service "
                + "/etc/systemd/system/k3s-agent.service /usr/local/bin/k3s-uninstall.sh "
                + "/usr/local/bin/k3s-agent-uninstall.sh; do if [ -e \"$p\" ]; then echo \"$p\"; fi; done";
    }
}
