package io.k3gpu.lab.k3s.controllers;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The admission plugins a K3s API server runs on a new Pod that the lab's workloads meet:
 * <ul>
 *   <li>defaulting: a container's missing requests take its limits (so {@code limits: nvidia.com/gpu: 1} requests
 *   one GPU), {@code status.qosClass} from the result;</li>
 *   <li>RuntimeClass: an unknown {@code runtimeClassName} is refused with 403
 *   {@code pods "x" is forbidden: pod rejected: RuntimeClass "nvidia" not found}; a known one adds its
 *   {@code scheduling.nodeSelector} and tolerations and its {@code overhead.podFixed};</li>
 *   <li>Priority: {@code spec.priority} from the PriorityClass (0 without one), {@code preemptionPolicy}
 *   PreemptLowerPriority;</li>
 *   <li>DefaultTolerationSeconds: tolerations of {@code node.kubernetes.io/not-ready} and
 *   {@code node.kubernetes.io/unreachable} (NoExecute) for 300 s unless the pod has its own.</li>
 * </ul>
 */
final class Admission {
    private final KubeApi api;

    Admission(KubeApi api) {
        this.api = api;
    }

    ApiHooks.Reply admit(String apiVersion, String kind, String namespace, ObjectNode o) {
        if (!"v1".equals(apiVersion) || !"Pod".equals(kind)) {
            return null;
        }
        ObjectNode spec = J.objectAt(o, "spec");
        for (String list : new String[] {"initContainers", "containers"}) {
            for (JsonNode c : spec.path(list)) {
                if (c instanceof ObjectNode co) {
                    defaultRequests(co);
                }
            }
        }
        String runtimeClass = J.text(spec, "runtimeClassName");
        // admission runs before the name is generated: errors name a generateName pod by its prefix
        String shownName = J.text(o, "metadata.generateName", J.name(o));
        if (runtimeClass != null && !runtimeClass.isEmpty()) {
            KubeApi.Result rc = api.call("GET", "/apis/node.k8s.io/v1/runtimeclasses/" + runtimeClass, null, null);
            if (rc.status() == 404) {
                return forbidden(shownName, "pod rejected: RuntimeClass \"" + runtimeClass + "\" not found");
            }
            if (rc.ok()) {
                applyRuntimeClass(spec, rc.json());
            }
        }
        if (!spec.has("priority")) {
            int priority = 0;
            String pc = J.text(spec, "priorityClassName");
            if (pc != null && !pc.isEmpty()) {
                KubeApi.Result r = api.call("GET", "/apis/scheduling.k8s.io/v1/priorityclasses/" + pc, null, null);
                if (r.status() == 404) {
                    return forbidden(shownName, "no PriorityClass with name " + pc + " was found");
                }
                priority = r.json().path("value").asInt(0);
            }
            spec.put("priority", priority);
        }
        if (!spec.hasNonNull("preemptionPolicy")) {
            spec.put("preemptionPolicy", "PreemptLowerPriority");
        }
        defaultTolerations(spec);
        J.objectAt(o, "status").put("qosClass", qosClass(spec));
        return null;
    }

    private static void defaultRequests(ObjectNode container) {
        JsonNode limits = container.path("resources").path("limits");
        if (!limits.isObject() || limits.isEmpty()) {
            return;
        }
        ObjectNode requests = J.objectAt(J.objectAt(container, "resources"), "requests");
        for (Map.Entry<String, JsonNode> e : limits.properties()) {
            if (!requests.has(e.getKey())) {
                requests.set(e.getKey(), e.getValue().deepCopy());
            }
        }
    }

    private static void applyRuntimeClass(ObjectNode spec, JsonNode rc) {
        JsonNode scheduling = rc.path("scheduling");
        for (Map.Entry<String, JsonNode> e : scheduling.path("nodeSelector").properties()) {
            ObjectNode selector = J.objectAt(spec, "nodeSelector");
            if (!selector.has(e.getKey())) {
                selector.set(e.getKey(), e.getValue().deepCopy());
            }
        }
        for (JsonNode t : scheduling.path("tolerations")) {
            ArrayNode tolerations = J.arrayAt(spec, "tolerations");
            boolean present = false;
            for (JsonNode existing : tolerations) {
                present |= existing.equals(t);
            }
            if (!present) {
                tolerations.add(t.deepCopy());
            }
        }
        JsonNode overhead = rc.path("overhead").path("podFixed");
        if (overhead.isObject() && !spec.has("overhead")) {
            spec.set("overhead", overhead.deepCopy());
        }
    }

    private static void defaultTolerations(ObjectNode spec) {
        boolean notReady = false;
        boolean unreachable = false;
        for (JsonNode t : spec.path("tolerations")) {
            String key = t.path("key").asString("");
            String effect = t.path("effect").asString("");
            boolean noExecute = effect.isEmpty() || effect.equals("NoExecute");
            notReady |= noExecute && (key.isEmpty() || key.equals("node.kubernetes.io/not-ready"));
            unreachable |= noExecute && (key.isEmpty() || key.equals("node.kubernetes.io/unreachable"));
        }
        for (String[] t : new String[][] {{"node.kubernetes.io/not-ready", notReady ? "y" : ""},
            {"node.kubernetes.io/unreachable", unreachable ? "y" : ""}}) {
            if (t[1].isEmpty()) {
                J.arrayAt(spec, "tolerations").addObject().put("key", t[0]).put("operator", "Exists")
                        .put("effect", "NoExecute").put("tolerationSeconds", 300);
            }
        }
    }

    /** v1qos.GetPodQOS over cpu and memory of all containers. */
    static String qosClass(JsonNode spec) {
        Map<String, BigDecimal> requests = new HashMap<>();
        Map<String, BigDecimal> limits = new HashMap<>();
        boolean guaranteed = true;
        for (String list : new String[] {"initContainers", "containers"}) {
            for (JsonNode c : spec.path(list)) {
                for (String r : new String[] {"cpu", "memory"}) {
                    JsonNode req = c.path("resources").path("requests").path(r);
                    if (!req.isMissingNode() && Quantity.parse(req.asString("0")).signum() != 0) {
                        requests.merge(r, Quantity.parse(req.asString("0")), BigDecimal::add);
                    }
                    JsonNode lim = c.path("resources").path("limits").path(r);
                    if (!lim.isMissingNode() && Quantity.parse(lim.asString("0")).signum() != 0) {
                        limits.merge(r, Quantity.parse(lim.asString("0")), BigDecimal::add);
                    } else {
                        guaranteed = false;
                    }
                }
            }
        }
        if (requests.isEmpty() && limits.isEmpty()) {
            return "BestEffort";
        }
        if (guaranteed && requests.size() == limits.size()) {
            for (Map.Entry<String, BigDecimal> e : requests.entrySet()) {
                if (limits.get(e.getKey()) == null || limits.get(e.getKey()).compareTo(e.getValue()) != 0) {
                    return "Burstable";
                }
            }
            return "Guaranteed";
        }
        return "Burstable";
    }

    static ApiHooks.Reply forbidden(String name, String why) {
        ObjectNode s = J.obj();
        s.put("kind", "Status");
        s.put("apiVersion", "v1");
        s.putObject("metadata");
        s.put("status", "Failure");
        s.put("message", (name == null || name.isEmpty() ? "pods" : "pods \"" + name + "\"") + " is forbidden: "
                + why);
        s.put("reason", "Forbidden");
        ObjectNode details = s.putObject("details");
        if (name != null && !name.isEmpty()) {
            details.put("name", name);
        }
        details.put("kind", "pods");
        s.put("code", 403);
        return new ApiHooks.Reply(403, s);
    }
}
