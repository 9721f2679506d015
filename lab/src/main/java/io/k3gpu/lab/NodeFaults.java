package io.k3gpu.lab;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Faults planted in a node at boot, named after its profile: {@code orin-nano+memory-cgroup-off+swap}. Each is what
 * a real machine with that problem shows to the programs that look, made in the node's own namespaces by
 * {@code node-init.sh} (see the lab README's table): nothing of the host changes.
 */
final class NodeFaults {
    /** Fault name to the pattern of its value ("" = takes none). */
    static final Map<String, Pattern> KNOWN = Map.of(
            "kernel-config", Pattern.compile("-[A-Z0-9_]{1,64}(:-[A-Z0-9_]{1,64}){0,15}"),
            "memory-cgroup-off", Pattern.compile(""),
            "stale-toolkit-runtime", Pattern.compile(""),
            "no-toolkit", Pattern.compile(""),
            "no-csv", Pattern.compile(""),
            "hostname", Pattern.compile("[a-z0-9][a-z0-9-]{0,62}"),
            "clock-skew", Pattern.compile("[+-][0-9]{1,6}[smhd]"),
            "swap", Pattern.compile(""),
            "disk-full", Pattern.compile(""),
            "block", Pattern.compile("[0-9]{1,5}/(tcp|udp)"));

    private NodeFaults() {
    }

    /** The faults of {@code spec} ({@code name[=value]} joined by '+'), each checked against {@link #KNOWN}. */
    static List<String> parse(String spec) {
        List<String> out = new ArrayList<>();
        if (spec == null || spec.isEmpty()) {
            return out;
        }
        for (String f : spec.split("\\+")) {
            int eq = f.indexOf('=');
            String name = eq < 0 ? f : f.substring(0, eq);
            String value = eq < 0 ? "" : f.substring(eq + 1);
            Pattern p = KNOWN.get(name);
            if (p == null || !p.matcher(value).matches()) {
                throw new K3gpuException(ExitCode.USAGE, "unknown lab fault '" + f + "'",
                        "use " + String.join(", ", KNOWN.keySet().stream().sorted().toList())
                                + " (see the lab README)");
            }
            out.add(f);
        }
        return out;
    }

    /** The node.env line for {@code node-init.sh} ({@code FAULTS='a b=c'}; values are checked, so quoting is safe). */
    static String envLine(String profileSpec) {
        int plus = profileSpec.indexOf('+');
        List<String> faults = plus < 0 ? List.of() : parse(profileSpec.substring(plus + 1));
        return faults.isEmpty() ? "" : "FAULTS='" + String.join(" ", faults) + "'\n";
    }
}
