package io.k3gpu.core.k3s;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.RemoteShell;

import java.util.List;

/**
 * What K3s's install script left of its inputs on a node, for one role: K3S_URL from the unit's environment file
 * (never the token: only that line is read) and the K3s command line from the unit's {@code ExecStart=}
 * (INSTALL_K3S_EXEC and the script's arguments). The release is in the node's facts.
 *
 * @param joinedUrl K3S_URL, or null (a first server, or no unit)
 * @param execArgs  the unit's K3s command line without the program, e.g. [server, --cluster-init]; empty without a unit
 */
public record K3sUnit(String joinedUrl, List<String> execArgs) {
    private static final String SEPARATOR = "--- k3gpu: unit";

    public K3sUnit {
        execArgs = List.copyOf(execArgs);
    }

    /** Prints the K3S_URL line of the environment file, a separator line, then the unit file. */
    static String command(K3sInstall.Role role) {
        String unit = "/etc/systemd/system/" + role.service() + ".service";
        return "grep -h '^K3S_URL=' " + unit + ".env 2>/dev/null; echo '" + SEPARATOR + "'; cat " + unit + " 2>/dev/null";
    }

    /** The output of {@link #command}. */
    static K3sUnit parse(String stdout) {
        int at = stdout.indexOf(SEPARATOR + "\n");
        String env = at < 0 ? stdout : stdout.substring(0, at);
        String unit = at < 0 ? "" : stdout.substring(at + SEPARATOR.length() + 1);
        String url = null;
        for (String line : env.split("\n")) {
            if (line.startsWith("K3S_URL=")) {
                url = line.substring("K3S_URL=".length()).replace("'", "").replace("\"", "").strip();
            }
        }
        return new K3sUnit(url == null || url.isEmpty() ? null : url, K3sArgs.execStart(unit));
    }

    /** Reads the node's unit for {@code role} (through sudo: the environment file is 0600). */
    public static K3sUnit read(RemoteShell shell, K3sInstall.Role role) {
        ExecResult r = shell.sudo(command(role));
        try {
            return parse(r.stdout());
        } catch (IllegalArgumentException e) {
            throw new K3gpuException(ExitCode.REMOTE_COMMAND, "cannot read the K3s command line of /etc/systemd/system/"
                    + role.service() + ".service on " + shell.host() + ": " + e.getMessage(),
                    "look at its ExecStart= line; reinstalling K3s rewrites it");
        }
    }

    /** Whether there is a unit with a command line. */
    public boolean installed() {
        return !execArgs.isEmpty();
    }
}
