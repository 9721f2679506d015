package io.k3gpu.core.doctor;

import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * What {@code doctor} found on one host.
 *
 * @param host     the host as the user named it
 * @param hostname the node's hostname
 * @param checks   the checks, in a fixed order
 * @param error    why the host could not be examined (then {@code checks} is empty), or null
 */
public record DoctorReport(String host, String hostname, List<Check> checks, String error) {
    public DoctorReport {
        checks = checks == null ? List.of() : List.copyOf(checks);
    }

    /** No FAIL, and the host could be examined. */
    public boolean ok() {
        return error == null && checks.stream().noneMatch(c -> c.status() == Check.Status.FAIL);
    }

    public long count(Check.Status s) {
        return checks.stream().filter(c -> c.status() == s).count();
    }

    /**
     * {@code {"host", "hostname", "ok", "summary": {"PASS": n, ...}, "checks": [{"id", "title", "status",
     * "detail", "fix"}], "error"}}; {@code fix} and {@code error} only where there is one. Pure; golden-tested.
     */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("host", host);
        o.put("hostname", hostname);
        o.put("ok", ok());
        if (error != null) {
            o.put("error", error);
        }
        ObjectNode summary = o.putObject("summary");
        for (Check.Status s : Check.Status.values()) {
            summary.put(s.name(), count(s));
        }
        ArrayNode list = o.putArray("checks");
        for (Check c : checks) {
            ObjectNode j = list.addObject();
            j.put("id", c.id());
            j.put("title", c.title());
            j.put("status", c.status().name());
            j.put("detail", c.detail());
            if (c.fix() != null) {
                j.put("fix", c.fix());
            }
        }
        return o;
    }
}
