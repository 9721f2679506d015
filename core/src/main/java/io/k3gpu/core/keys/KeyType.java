package io.k3gpu.core.keys;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.util.Locale;

/** Key types ssh-keys creates, as ssh-keygen -t names them. */
public enum KeyType {
    ED25519("ed25519", "id_ed25519"),
    RSA("rsa", "id_rsa");

    private final String flag;
    private final String defaultFileName;

    KeyType(String flag, String defaultFileName) {
        this.flag = flag;
        this.defaultFileName = defaultFileName;
    }

    public String flag() {
        return flag;
    }

    public String defaultFileName() {
        return defaultFileName;
    }

    public static KeyType parse(String s) {
        for (KeyType t : values()) {
            if (t.flag.equals(s.trim().toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new K3gpuException(ExitCode.USAGE, "unknown key type '" + s + "'", "use --type ed25519 or --type rsa");
    }
}
