package io.k3gpu.lab.k3s;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * K3s's ServiceLB (klipper-lb), pkg/cloudprovider/servicelb.go of v1.31, unless {@code --disable servicelb}: for each
 * Service of type LoadBalancer without a loadBalancerClass, a DaemonSet {@code kube-system/svclb-<name>-<uid[:8]>}
 * (labels {@code app}, {@code svccontroller.k3s.cattle.io/svcname|svcnamespace}; ServiceAccount {@code svclb},
 * priorityClassName system-node-critical, the control-plane and CriticalAddonsOnly tolerations, sysctl
 * net.ipv4.ip_forward=1) with one container per port, {@code lb-<proto>-<port>} (image
 * {@code rancher/klipper-lb:v0.4.9}, hostPort = the Service's port, NET_ADMIN, env SRC_PORT, SRC_RANGES, DEST_PROTO,
 * DEST_PORT = the node port, DEST_IPS = the pod's status.hostIPs); the Service's
 * {@code status.loadBalancer.ingress} lists the nodes of its ready svclb pods (ExternalIP, else InternalIP; ipMode
 * VIP). A Service that is gone or no longer a LoadBalancer loses its DaemonSet (EnsureLoadBalancerDeleted). The
 * {@code svclb} ServiceAccount is created once. Lab differences: polled every 2 s rather than watched; no
 * {@code service.kubernetes.io/load-balancer-cleanup} finalizer and no Events; the enablelb node labels and lbpool
 * are not read; what the pods forward is their program's ({@code images/bin/klipper-lb}).
 */
final class K3sServiceLb {
    static final String IMAGE = "rancher/klipper-lb:v0.4.9";
    static final String NAMESPACE = "kube-system";
    private static final String DAEMONSETS = "/apis/apps/v1/namespaces/" + NAMESPACE + "/daemonsets";
    private static final String SVCNAME = "svccontroller.k3s.cattle.io/svcname";
    private static final String SVCNAMESPACE = "svccontroller.k3s.cattle.io/svcnamespace";

    private final K3sServer.ApiClient api;
    private boolean serviceAccount;

    K3sServiceLb(K3sServer.ApiClient api) {
        this.api = api;
    }

    void sync() {
        ApiHandler.Response services = api.call("GET", "/api/v1/services", null, null);
        ApiHandler.Response sets = api.call("GET", DAEMONSETS + "?labelSelector=" + SVCNAME, null, null);
        if (services.status() != 200 || sets.status() != 200) {
            return;
        }
        Set<String> wanted = new HashSet<>();
        List<JsonNode> balanced = new ArrayList<>();
        for (JsonNode svc : Json.parse(services.bodyText()).path("items")) {
            if (svc.path("spec").path("type").asString("").equals("LoadBalancer")
                    && svc.path("spec").path("loadBalancerClass").asString("").isEmpty()
                    && svc.path("metadata").path("deletionTimestamp").isMissingNode()) {
                wanted.add(name(svc));
                balanced.add(svc);
            }
        }
        Map<String, JsonNode> existing = new HashMap<>();
        for (JsonNode ds : Json.parse(sets.bodyText()).path("items")) {
            String n = Json.text(ds, "metadata.name");
            if (!wanted.contains(n)) {
                api.call("DELETE", DAEMONSETS + "/" + n + "?propagationPolicy=Background", null, null);
            } else {
                existing.put(n, ds);
            }
        }
        if (balanced.isEmpty()) {
            return;
        }
        if (!serviceAccount) {
            K3sCoreDns.createIfMissing(api, Json.parseObject("""
                    {"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"svclb","namespace":"%s"}}"""
                    .formatted(NAMESPACE)));
            serviceAccount = true;
        }
        Map<String, JsonNode> nodes = new HashMap<>();
        ApiHandler.Response nodeList = api.call("GET", "/api/v1/nodes", null, null);
        if (nodeList.status() == 200) {
            for (JsonNode n : Json.parse(nodeList.bodyText()).path("items")) {
                nodes.put(Json.text(n, "metadata.name"), n);
            }
        }
        for (JsonNode svc : balanced) {
            String n = name(svc);
            ObjectNode ds = daemonSet(svc);
            JsonNode current = existing.get(n);
            if (current == null) {
                api.call("POST", DAEMONSETS, ApiHandler.JSON, Json.write(ds));
            } else if (!derived(current).equals(derived(ds))) { // the server adds defaults to the rest
                ObjectNode updated = (ObjectNode) current.deepCopy();
                updated.set("spec", ds.path("spec"));
                api.call("PUT", DAEMONSETS + "/" + n, ApiHandler.JSON, Json.write(updated));
            }
            status(svc, n, nodes);
        }
    }

    /** svclb-<name>-<first 8 characters of the uid> (servicelb.go generateName). */
    static String name(JsonNode svc) {
        String uid = Json.text(svc, "metadata.uid");
        return "svclb-" + Json.text(svc, "metadata.name") + "-" + uid.substring(0, Math.min(8, uid.length()));
    }

    static ObjectNode daemonSet(JsonNode svc) {
        String n = name(svc);
        ObjectNode ds = Json.parseObject("""
                {"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"%1$s","namespace":"%2$s",
                "labels":{"%3$s":"%4$s","%5$s":"%6$s","svccontroller.k3s.cattle.io/nodeselector":"false"}},
                "spec":{"selector":{"matchLabels":{"app":"%1$s"}},
                "template":{"metadata":{"labels":{"app":"%1$s","%3$s":"%4$s","%5$s":"%6$s"}},
                "spec":{"serviceAccountName":"svclb","automountServiceAccountToken":false,
                "priorityClassName":"system-node-critical",
                "securityContext":{"sysctls":[{"name":"net.ipv4.ip_forward","value":"1"}]},
                "tolerations":[{"key":"node-role.kubernetes.io/master","operator":"Exists","effect":"NoSchedule"},
                {"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoSchedule"},
                {"key":"CriticalAddonsOnly","operator":"Exists"}],
                "containers":[]}},
                "updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}}}}"""
                .formatted(n, NAMESPACE, SVCNAME, Json.text(svc, "metadata.name"), SVCNAMESPACE,
                        Json.text(svc, "metadata.namespace")));
        ArrayNode containers = (ArrayNode) ds.path("spec").path("template").path("spec").path("containers");
        List<String> ranges = new ArrayList<>();
        svc.path("spec").path("loadBalancerSourceRanges").forEach(r -> ranges.add(r.asString("")));
        for (JsonNode port : svc.path("spec").path("ports")) {
            String proto = port.path("protocol").asString("TCP");
            int p = port.path("port").asInt();
            String cname = "lb-" + proto.toLowerCase(Locale.ROOT) + "-" + p;
            ObjectNode c = Json.parseObject("""
                    {"name":"%s","image":"%s","imagePullPolicy":"IfNotPresent",
                    "ports":[{"name":"%s","containerPort":%d,"hostPort":%d,"protocol":"%s"}],
                    "env":[{"name":"SRC_PORT","value":"%d"},{"name":"SRC_RANGES","value":"%s"},
                    {"name":"DEST_PROTO","value":"%s"},{"name":"DEST_PORT","value":"%d"},
                    {"name":"DEST_IPS","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"status.hostIPs"}}}],
                    "securityContext":{"capabilities":{"add":["NET_ADMIN"]}}}""".formatted(cname, IMAGE, cname, p, p,
                    proto, p, ranges.isEmpty() ? "0.0.0.0/0" : String.join(",", ranges), proto,
                    port.path("nodePort").asInt(p)));
            containers.add(c);
        }
        return ds;
    }

    /** What a DaemonSet takes from its Service: each container's name, ports and env. */
    private static List<String> derived(JsonNode ds) {
        List<String> out = new ArrayList<>();
        for (JsonNode c : ds.path("spec").path("template").path("spec").path("containers")) {
            out.add(c.path("name").asString("") + " " + Json.write(c.path("env")) + " " + c.path("ports").size());
            for (JsonNode p : c.path("ports")) {
                out.add(p.path("containerPort").asInt() + "/" + p.path("hostPort").asInt() + "/"
                        + p.path("protocol").asString(""));
            }
        }
        return out;
    }

    /** status.loadBalancer.ingress: the addresses of the nodes whose svclb pod is Ready (servicelb.go getStatus). */
    private void status(JsonNode svc, String ds, Map<String, JsonNode> nodes) {
        ApiHandler.Response pods = api.call("GET", "/api/v1/namespaces/" + NAMESPACE + "/pods?labelSelector=app%3D"
                + ds, null, null);
        if (pods.status() != 200) {
            return;
        }
        Set<String> ips = new TreeSet<>();
        for (JsonNode pod : Json.parse(pods.bodyText()).path("items")) {
            if (!ready(pod) || !pod.path("metadata").path("deletionTimestamp").isMissingNode()) {
                continue;
            }
            JsonNode node = nodes.get(pod.path("spec").path("nodeName").asString(""));
            if (node == null) {
                continue;
            }
            List<String> external = new ArrayList<>();
            List<String> internal = new ArrayList<>();
            for (JsonNode a : node.path("status").path("addresses")) {
                String type = a.path("type").asString("");
                if (type.equals("ExternalIP")) {
                    external.add(a.path("address").asString(""));
                } else if (type.equals("InternalIP")) {
                    internal.add(a.path("address").asString(""));
                }
            }
            ips.addAll(external.isEmpty() ? internal : external);
        }
        ArrayNode ingress = Json.array();
        for (String ip : ips) {
            ingress.addObject().put("ip", ip).put("ipMode", "VIP");
        }
        JsonNode current = svc.path("status").path("loadBalancer").path("ingress");
        if ((current.isMissingNode() ? Json.array() : current).equals(ingress)) {
            return;
        }
        ObjectNode patch = Json.object();
        ObjectNode lb = Json.objectAt(Json.objectAt(patch, "status"), "loadBalancer");
        if (ingress.isEmpty()) {
            lb.putNull("ingress");
        } else {
            lb.set("ingress", ingress);
        }
        api.call("PATCH", "/api/v1/namespaces/" + Json.text(svc, "metadata.namespace") + "/services/"
                + Json.text(svc, "metadata.name") + "/status", "application/merge-patch+json", Json.write(patch));
    }

    private static boolean ready(JsonNode pod) {
        for (JsonNode c : pod.path("status").path("conditions")) {
            if (c.path("type").asString("").equals("Ready")) {
                return c.path("status").asString("").equals("True");
            }
        }
        return false;
    }
}
