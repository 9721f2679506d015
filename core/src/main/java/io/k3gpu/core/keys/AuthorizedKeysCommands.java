package io.k3gpu.core.keys;

import io.k3gpu.core.remote.Shell;

/** What ssh-copy-id does on the node, as one sh command; the key line comes on stdin. Pure; golden-tested. */
public final class AuthorizedKeysCommands {
    private AuthorizedKeysCommands() {
    }

    /**
     * Appends the key line read from stdin to {@code sshDir}/authorized_keys unless that exact line is already there,
     * with OpenSSH's modes (dir 0700, file 0600) and, when {@code owner} is given, that owner. Prints "added" or
     * "present".
     */
    public static String authorize(String sshDir, String owner) {
        String d = sshDir.startsWith("~/") ? "\"$HOME\"/" + Shell.quote(sshDir.substring(2)) : Shell.quote(sshDir);
        StringBuilder sb = new StringBuilder();
        sb.append("set -e; umask 077; k=$(cat); d=").append(d).append("; f=\"$d/authorized_keys\"; ")
                .append("mkdir -p -- \"$d\"; touch -- \"$f\"; ")
                .append("if grep -qxF -- \"$k\" \"$f\"; then echo present; else ")
                .append("if [ -s \"$f\" ] && [ -n \"$(tail -c 1 -- \"$f\")\" ]; then echo >> \"$f\"; fi; ")
                .append("printf '%s\\n' \"$k\" >> \"$f\"; echo added; fi; ")
                .append("chmod 700 -- \"$d\"; chmod 600 -- \"$f\"");
        if (owner != null) {
            sb.append("; chown ").append(Shell.quote(owner)).append(": -- \"$d\" \"$f\"");
        }
        return sb.toString();
    }
}
