package io.k3gpu.lab.k3s.controllers;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Endpoints controller (pkg/controller/endpoint, v1.31): for every Service with a selector, an Endpoints object
 * of the same name with the selected pods that have a pod IP and are not finished (ShouldPodBeInEndpoints: a deleting
 * pod only with {@code publishNotReadyAddresses}): a Ready pod in {@code addresses}, another in
 * {@code notReadyAddresses} (in {@code addresses} when the Service publishes not-ready addresses); each address with
 * {@code ip}, {@code hostname} (the pod's {@code spec.hostname} when its {@code spec.subdomain} is the Service's name),
 * {@code nodeName} and {@code targetRef}; the ports the Service's ports resolve to on each pod (a named targetPort
 * looked up in the pod's container ports; unresolved: the pod is left out). The Service's labels are copied, plus
 * {@code service.kubernetes.io/headless} for a headless one. Endpoints of a Service that is gone are deleted.
 * (One subset per distinct port list, addresses sorted by IP then pod name; no EndpointSlices.)
 */
final class EndpointsController {
    private final KubeApi api;

    EndpointsController(KubeApi api) {
        this.api = api;
    }

    void syncAll() {
        List<ObjectNode> services = J.items(api.call("GET", "/api/v1/services", null, null));
        List<ObjectNode> pods = J.items(api.call("GET", "/api/v1/pods", null, null));
        Set<String> keys = new HashSet<>();
        for (ObjectNode svc : services) {
            keys.add(J.namespace(svc) + "/" + J.name(svc));
            if (!svc.path("spec").path("selector").isObject() || svc.path("spec").path("selector").isEmpty()) {
                continue; // selector-less Services keep the Endpoints their users write
            }
            sync(svc, pods);
        }
        for (ObjectNode ep : J.items(api.call("GET", "/api/v1/endpoints", null, null))) {
            if (!keys.contains(J.namespace(ep) + "/" + J.name(ep))) {
                api.call("DELETE", path(J.namespace(ep)) + "/" + J.name(ep), null, null);
            }
        }
    }

    private static String path(String namespace) {
        return "/api/v1/namespaces/" + namespace + "/endpoints";
    }

    private void sync(ObjectNode svc, List<ObjectNode> pods) {
        ObjectNode desired = desired(svc, pods);
        String ns = J.namespace(svc);
        KubeApi.Result got = api.call("GET", path(ns) + "/" + J.name(svc), null, null);
        if (got.status() == 404) {
            api.call("POST", path(ns), "application/json", J.write(desired));
            return;
        }
        if (!got.ok()) {
            return;
        }
        ObjectNode current = got.object();
        if (current.path("subsets").equals(desired.path("subsets"))
                && current.path("metadata").path("labels").equals(desired.path("metadata").path("labels"))) {
            return;
        }
        current.set("subsets", desired.path("subsets"));
        J.objectAt(current, "metadata").set("labels", desired.path("metadata").path("labels"));
        api.call("PUT", path(ns) + "/" + J.name(svc), "application/json", J.write(current));
    }

    /** The Endpoints the controller wants for one Service (pure). */
    static ObjectNode desired(JsonNode svc, List<? extends JsonNode> pods) {
        JsonNode spec = svc.path("spec");
        boolean publishNotReady = spec.path("publishNotReadyAddresses").asBoolean(false);
        ObjectNode ep = J.obj();
        ep.put("apiVersion", "v1");
        ep.put("kind", "Endpoints");
        ObjectNode meta = ep.putObject("metadata");
        meta.put("name", J.name(svc));
        meta.put("namespace", J.namespace(svc));
        ObjectNode labels = meta.putObject("labels");
        svc.path("metadata").path("labels").properties().forEach(e -> labels.set(e.getKey(), e.getValue()));
        if ("None".equals(spec.path("clusterIP").asString(""))) {
            labels.put("service.kubernetes.io/headless", "");
        }
        Map<String, ArrayNode[]> subsets = new LinkedHashMap<>();
        Map<String, ArrayNode> portsOf = new LinkedHashMap<>();
        List<JsonNode> selected = new ArrayList<>(pods);
        selected.sort(Comparator.comparing((JsonNode p) -> J.text(p, "status.podIP", ""))
                .thenComparing(J::name));
        for (JsonNode pod : selected) {
            if (!J.namespace(svc).equals(J.namespace(pod)) || !selects(spec.path("selector"), pod)) {
                continue;
            }
            String ip = J.text(pod, "status.podIP", "");
            String phase = J.text(pod, "status.phase", "");
            if (ip.isEmpty() || Scheduling.TERMINAL.contains(phase) || (J.deleting(pod) && !publishNotReady)) {
                continue;
            }
            ArrayNode ports = J.arr();
            boolean resolved = true;
            for (JsonNode sp : spec.path("ports")) {
                Integer port = targetPort(sp, pod);
                if (port == null) {
                    resolved = false;
                    break;
                }
                ObjectNode p = ports.addObject();
                if (sp.hasNonNull("name")) {
                    p.put("name", sp.path("name").asString(""));
                }
                p.put("port", port);
                p.put("protocol", sp.path("protocol").asString("TCP"));
            }
            if (!resolved) {
                continue;
            }
            String key = J.write(ports);
            portsOf.putIfAbsent(key, ports);
            ArrayNode[] lists = subsets.computeIfAbsent(key, k -> new ArrayNode[] {J.arr(), J.arr()});
            ObjectNode address = J.obj();
            address.put("ip", ip);
            String hostname = J.text(pod, "spec.hostname", "");
            if (!hostname.isEmpty() && J.name(svc).equals(J.text(pod, "spec.subdomain", ""))) {
                address.put("hostname", hostname);
            }
            String node = J.text(pod, "spec.nodeName", "");
            if (!node.isEmpty()) {
                address.put("nodeName", node);
            }
            address.putObject("targetRef").put("kind", "Pod").put("namespace", J.namespace(pod))
                    .put("name", J.name(pod)).put("uid", J.uid(pod));
            boolean ready = "True".equals(J.condition(pod, "Ready").path("status").asString(""));
            lists[ready || publishNotReady ? 0 : 1].add(address);
        }
        ArrayNode out = ep.putArray("subsets");
        subsets.forEach((key, lists) -> {
            ObjectNode subset = out.addObject();
            if (!lists[0].isEmpty()) {
                subset.set("addresses", lists[0]);
            }
            if (!lists[1].isEmpty()) {
                subset.set("notReadyAddresses", lists[1]);
            }
            if (!portsOf.get(key).isEmpty()) {
                subset.set("ports", portsOf.get(key));
            }
        });
        if (out.isEmpty()) {
            ep.remove("subsets");
        }
        return ep;
    }

    static boolean selects(JsonNode selector, JsonNode pod) {
        JsonNode labels = pod.path("metadata").path("labels");
        for (Map.Entry<String, JsonNode> e : selector.properties()) {
            if (!e.getValue().asString("").equals(labels.path(e.getKey()).asString(null))) {
                return false;
            }
        }
        return true;
    }

    /** podutil.FindPort: a number as is, a name through the pod's container ports of the same protocol. */
    private static Integer targetPort(JsonNode servicePort, JsonNode pod) {
        JsonNode target = servicePort.path("targetPort");
        if (target.isMissingNode() || target.isNull()) {
            return servicePort.path("port").asInt();
        }
        if (target.isNumber()) {
            return target.asInt();
        }
        String name = target.asString("");
        if (name.matches("\\d+")) {
            return Integer.parseInt(name);
        }
        String protocol = servicePort.path("protocol").asString("TCP");
        for (JsonNode c : pod.path("spec").path("containers")) {
            for (JsonNode p : c.path("ports")) {
                if (name.equals(p.path("name").asString("")) && protocol.equals(p.path("protocol").asString("TCP"))) {
                    return p.path("containerPort").asInt();
                }
            }
        }
        return null;
    }
}
