package io.k3gpu.core.runtime;

import java.util.HashMap;
import java.util.Map;

/** Which of the programs the runtime change needs a node has, and which K3s service runs there. */
record RuntimeProbe(String docker, String nvidiaContainerRuntime, String systemctl, String k3sService) {

    /**
     * One round trip: prints name=path lines, and the active K3s unit (k3s or k3s-agent) if any. One systemctl call
     * for both units: it prints one state per unit, in order.
     */
    static final String COMMAND = "for b in docker nvidia-container-runtime systemctl; do "
            + "printf '%s=%s\\n' \"$b\" \"$(command -v \"$b\" 2>/dev/null)\"; done; "
            + "set -- $(systemctl is-active k3s k3s-agent 2>/dev/null); "
            + "if [ \"$1\" = active ]; then echo k3s-service=k3s; fi; "
            + "if [ \"$2\" = active ]; then echo k3s-service=k3s-agent; fi";

    static RuntimeProbe parse(String output) {
        Map<String, String> kv = new HashMap<>();
        for (String line : output.split("\\R")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                String v = line.substring(eq + 1).strip();
                kv.put(line.substring(0, eq), v.isEmpty() ? null : v);
            }
        }
        return new RuntimeProbe(kv.get("docker"), kv.get("nvidia-container-runtime"), kv.get("systemctl"),
                kv.get("k3s-service"));
    }

    String restartCommand(String service) {
        return systemctl != null ? "systemctl restart " + service : "service " + service + " restart";
    }
}
