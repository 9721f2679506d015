package io.k3gpu.core.ssh;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.util.Locale;

/** OpenSSH's StrictHostKeyChecking modes, with OpenSSH's meaning. */
public enum HostKeyChecking {
    /** Only hosts already in known_hosts; a new or changed key is refused. */
    YES("yes"),
    /** A new host's key is recorded in known_hosts; a changed key is refused (OpenSSH's accept-new, our default). */
    ACCEPT_NEW("accept-new"),
    /** New keys are recorded and a changed key is accepted with a warning (as OpenSSH's "no"). */
    NO("no");

    private final String flag;

    HostKeyChecking(String flag) {
        this.flag = flag;
    }

    public String flag() {
        return flag;
    }

    public static HostKeyChecking parse(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        for (HostKeyChecking c : values()) {
            if (c.flag.equals(v)) {
                return c;
            }
        }
        if (v.equals("off")) {
            return NO;
        }
        throw new K3gpuException(ExitCode.USAGE, "unknown --strict-host-key-checking value '" + s + "'",
                "use yes, accept-new or no");
    }
}
