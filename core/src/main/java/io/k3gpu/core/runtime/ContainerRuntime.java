package io.k3gpu.core.runtime;

import com.fasterxml.jackson.annotation.JsonValue;
import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.util.Locale;

/** Which container runtime's default k3gpu makes NVIDIA's. */
public enum ContainerRuntime {
    /** Docker: /etc/docker/daemon.json (the seed's path, used by K3s --docker). */
    DOCKER("docker", "/etc/docker/daemon.json"),
    /** K3s's embedded containerd: default-runtime in /etc/rancher/k3s/config.yaml. */
    K3S("k3s", "/etc/rancher/k3s/config.yaml");

    private final String flag;
    private final String configFile;

    ContainerRuntime(String flag, String configFile) {
        this.flag = flag;
        this.configFile = configFile;
    }

    @JsonValue
    public String flag() {
        return flag;
    }

    public String configFile() {
        return configFile;
    }

    public static ContainerRuntime parse(String s) {
        for (ContainerRuntime r : values()) {
            if (r.flag.equals(s.trim().toLowerCase(Locale.ROOT))) {
                return r;
            }
        }
        throw new K3gpuException(ExitCode.USAGE, "unknown --runtime '" + s + "'", "use docker or k3s");
    }
}
