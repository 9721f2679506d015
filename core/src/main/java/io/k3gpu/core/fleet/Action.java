package io.k3gpu.core.fleet;

/** What apply does to a host, as plan names it. */
public enum Action {
    INSTALL_SERVER("install server"),
    UPGRADE("upgrade"),
    RECONFIGURE_SERVER("reconfigure server"),
    JOIN_SERVER("join server"),
    JOIN_AGENT("join agent"),
    RECONFIGURE_AGENT("reconfigure agent"),
    SET_NVIDIA_RUNTIME("set NVIDIA runtime"),
    RELABEL("relabel"),
    SET_TAINTS("set taints");

    private final String label;

    Action(String label) {
        this.label = label;
    }

    /** As printed: "install server", "set NVIDIA runtime", ... */
    public String label() {
        return label;
    }

    /** As in JSON: install-server, set-nvidia-runtime, ... */
    public String id() {
        return label.toLowerCase(java.util.Locale.ROOT).replace(' ', '-');
    }
}
