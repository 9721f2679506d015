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
 * (generateName: the name cut to 48 characters, not at a trailing hyphen; labels {@code app},
 * {@code svccontroller.k3s.cattle.io/svcname|svcnamespace|nodeselector}; ServiceAccount {@code svclb}, no token,
 * priorityClassName the Service's {@code svccontroller.k3s.cattle.io/priorityclassname} annotation else
 * system-node-critical, the control-plane and CriticalAddonsOnly tolerations, a forwarding sysctl per ipFamily) with
 * one container per port, {@code lb-<proto>-<port>} (image {@code rancher/klipper-lb:v0.4.9}, hostPort = the
 * Service's port, NET_ADMIN, env SRC_PORT, SRC_RANGES (loadBalancerSourceRanges, else 0.0.0.0/0, with ::/0 added
 * for IPv6), DEST_PROTO, and DEST_PORT/DEST_IPS: the Service's port and ClusterIPs, or with externalTrafficPolicy
 * Local the node port and the pod's status.hostIPs); the Service's {@code status.loadBalancer.ingress} lists the
 * nodes of its ready svclb pods with an IP (ExternalIPs if any node has one, else InternalIPs, sorted). A Service
 * that is gone or no longer a LoadBalancer loses its DaemonSet (EnsureLoadBalancerDeleted). The {@code svclb}
 * ServiceAccount is created once. Lab differences: run on changes (K3sServer#deployAddons) and once a minute, not by informers; no Events; the enablelb
 * node labels and lbpool are not read; the source-ranges annotation is not read; ipMode VIP is written with each
 * address (kube-apiserver's default since LoadBalancerIPMode); what the pods forward is their program's
 * ({@code images/bin/klipper-lb}).
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

    /** svclb-<name, at most 48 characters, not ending in '-'>-<first 8 characters of the uid> (generateName). */
    static String name(JsonNode svc) {
        String uid = Json.text(svc, "metadata.uid");
        String name = Json.text(svc, "metadata.name");
        if (name.length() > 48) {
            int cut = 48;
            while (name.charAt(cut - 1) == '-') {
                cut--;
            }
            name = name.substring(0, cut);
        }
        return "svclb-" + name + "-" + uid.substring(0, Math.min(8, uid.length()));
    }

    static ObjectNode daemonSet(JsonNode svc) {
        String n = name(svc);
        JsonNode spec = svc.path("spec");
        String priority = svc.path("metadata").path("annotations")
                .path("svccontroller.k3s.cattle.io/priorityclassname").asString("system-node-critical");
        ObjectNode ds = Json.parseObject("""
                {"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"%1$s","namespace":"%2$s",
                "labels":{"%3$s":"%4$s","%5$s":"%6$s","svccontroller.k3s.cattle.io/nodeselector":"false"}},
                "spec":{"selector":{"matchLabels":{"app":"%1$s"}},
                "template":{"metadata":{"labels":{"app":"%1$s","%3$s":"%4$s","%5$s":"%6$s"}},
                "spec":{"priorityClassName":"%7$s","serviceAccountName":"svclb","automountServiceAccountToken":false,
                "securityContext":{},
                "tolerations":[{"key":"node-role.kubernetes.io/master","operator":"Exists","effect":"NoSchedule"},
                {"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoSchedule"},
                {"key":"CriticalAddonsOnly","operator":"Exists"}],
                "containers":[]}},
                "updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}}}}"""
                .formatted(n, NAMESPACE, SVCNAME, Json.text(svc, "metadata.name"), SVCNAMESPACE,
                        Json.text(svc, "metadata.namespace"), priority));
        ObjectNode podSpec = (ObjectNode) ds.path("spec").path("template").path("spec");
        List<String> ranges = new ArrayList<>();
        spec.path("loadBalancerSourceRanges").forEach(r -> ranges.add(r.asString("")));
        String sourceRanges = ranges.isEmpty() ? "0.0.0.0/0" : String.join(",", ranges);
        ArrayNode sysctls = Json.array();
        JsonNode families = spec.path("ipFamilies");
        for (JsonNode family : families.isEmpty() ? Json.array().add("IPv4") : families) {
            if (family.asString("").equals("IPv4")) {
                sysctls.addObject().put("name", "net.ipv4.ip_forward").put("value", "1");
            } else if (family.asString("").equals("IPv6")) {
                sysctls.addObject().put("name", "net.ipv6.conf.all.forwarding").put("value", "1");
                if (sourceRanges.equals("0.0.0.0/0")) { // the default range is IPv4 only
                    sourceRanges += ",::/0";
                }
            }
        }
        if (!sysctls.isEmpty()) {
            Json.objectAt(podSpec, "securityContext").set("sysctls", sysctls);
        }
        boolean local = spec.path("externalTrafficPolicy").asString("").equals("Local");
        List<String> clusterIps = new ArrayList<>();
        spec.path("clusterIPs").forEach(ip -> clusterIps.add(ip.asString("")));
        if (clusterIps.isEmpty() && spec.hasNonNull("clusterIP")) {
            clusterIps.add(spec.path("clusterIP").asString(""));
        }
        ArrayNode containers = (ArrayNode) podSpec.path("containers");
        for (JsonNode port : spec.path("ports")) {
            String proto = port.path("protocol").asString("TCP");
            int p = port.path("port").asInt();
            String cname = "lb-" + proto.toLowerCase(Locale.ROOT) + "-" + p;
            ObjectNode c = Json.parseObject("""
                    {"name":"%s","image":"%s","imagePullPolicy":"IfNotPresent",
                    "ports":[{"name":"%s","containerPort":%d,"hostPort":%d,"protocol":"%s"}],
                    "env":[{"name":"SRC_PORT","value":"%d"},{"name":"SRC_RANGES","value":"%s"},
                    {"name":"DEST_PROTO","value":"%s"}],
                    "securityContext":{"capabilities":{"add":["NET_ADMIN"]}}}""".formatted(cname, IMAGE, cname, p, p,
                    proto, p, sourceRanges, proto));
            ArrayNode env = (ArrayNode) c.path("env");
            if (local) { // only this node's endpoints: to the node port on the node's own addresses
                env.addObject().put("name", "DEST_PORT").put("value", Integer.toString(port.path("nodePort").asInt()));
                env.addObject().put("name", "DEST_IPS").putObject("valueFrom").putObject("fieldRef")
                        .put("apiVersion", "v1").put("fieldPath", "status.hostIPs");
            } else { // to the Service's ClusterIPs and port
                env.addObject().put("name", "DEST_PORT").put("value", Integer.toString(p));
                env.addObject().put("name", "DEST_IPS").put("value", String.join(",", clusterIps));
            }
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

    /**
     * status.loadBalancer.ingress: the addresses of the nodes whose svclb pod has an IP and is Ready, ExternalIPs if
     * any of them has one, else InternalIPs, of the Service's ipFamilies, sorted (servicelb.go getStatus, podIPs,
     * filterByIPFamily).
     */
    private void status(JsonNode svc, String ds, Map<String, JsonNode> nodes) {
        ApiHandler.Response pods = api.call("GET", "/api/v1/namespaces/" + NAMESPACE + "/pods?labelSelector=app%3D"
                + ds, null, null);
        if (pods.status() != 200) {
            return;
        }
        Set<String> external = new TreeSet<>();
        Set<String> internal = new TreeSet<>();
        for (JsonNode pod : Json.parse(pods.bodyText()).path("items")) {
            if (!ready(pod) || pod.path("status").path("podIP").asString("").isEmpty()) {
                continue;
            }
            JsonNode node = nodes.get(pod.path("spec").path("nodeName").asString(""));
            if (node == null) {
                continue;
            }
            for (JsonNode a : node.path("status").path("addresses")) {
                String type = a.path("type").asString("");
                if (type.equals("ExternalIP")) {
                    external.add(a.path("address").asString(""));
                } else if (type.equals("InternalIP")) {
                    internal.add(a.path("address").asString(""));
                }
            }
        }
        List<String> ips = new ArrayList<>();
        JsonNode families = svc.path("spec").path("ipFamilies");
        for (JsonNode family : families.isEmpty() ? Json.array().add("IPv4") : families) {
            boolean v6 = family.asString("").equals("IPv6");
            for (String ip : external.isEmpty() ? internal : external) {
                if (ip.contains(":") == v6) {
                    ips.add(ip);
                }
            }
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
