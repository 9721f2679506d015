package io.k3gpu.lab.k3s;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A Service's defaults and its ClusterIP, as kube-apiserver's service REST storage does on create (v1.31): type
 * ClusterIP, sessionAffinity None, ports protocol TCP and targetPort = port, ipFamilies [IPv4], ipFamilyPolicy
 * SingleStack, internalTrafficPolicy Cluster; {@code clusterIP} "None" stays (headless), a requested address is taken
 * when free in K3s's default {@code --service-cidr 10.43.0.0/16}, otherwise a random free one (10.43.0.1 is the
 * {@code kubernetes} Service's, 10.43.0.10 K3s's {@code --cluster-dns}, both taken only when asked for).
 */
final class ClusterIps {
    static final String SERVICE_CIDR_PREFIX = "10.43.";
    private static final SecureRandom RANDOM = new SecureRandom();

    private ClusterIps() {
    }

    /** Sets the defaults and the address; the field error (as the API words it) when the address cannot be had. */
    static String allocate(ObjectNode svc, String existingList) {
        ObjectNode spec = Json.objectAt(svc, "spec");
        if (!spec.hasNonNull("type")) {
            spec.put("type", "ClusterIP");
        }
        if (!spec.hasNonNull("sessionAffinity")) {
            spec.put("sessionAffinity", "None");
        }
        for (JsonNode port : spec.path("ports")) {
            if (port instanceof ObjectNode p) {
                if (!p.hasNonNull("protocol")) {
                    p.put("protocol", "TCP");
                }
                if (!p.hasNonNull("targetPort")) {
                    p.set("targetPort", p.path("port"));
                }
            }
        }
        if (spec.path("type").asString("").equals("ExternalName")) {
            return null;
        }
        Set<String> used = new HashSet<>();
        for (JsonNode item : Json.parse(existingList == null ? "{}" : existingList).path("items")) {
            used.add(item.path("spec").path("clusterIP").asString(""));
        }
        String wanted = spec.path("clusterIP").asString("");
        if (wanted.isEmpty() && spec.path("clusterIPs").size() > 0) {
            wanted = spec.path("clusterIPs").get(0).asString("");
        }
        String ip;
        if (wanted.equals("None")) {
            ip = "None";
        } else if (!wanted.isEmpty()) {
            if (!wanted.startsWith(SERVICE_CIDR_PREFIX) || !valid(wanted)) {
                return "spec.clusterIPs: Invalid value: []string{\"" + wanted + "\"}: failed to allocate IP " + wanted
                        + ": the provided IP (" + wanted + ") is not in the valid range. The range of valid IPs is "
                        + "10.43.0.0/16";
            }
            if (used.contains(wanted)) {
                return "spec.clusterIPs: Invalid value: []string{\"" + wanted + "\"}: failed to allocate IP " + wanted
                        + ": provided IP is already allocated";
            }
            ip = wanted;
        } else {
            do {
                ip = SERVICE_CIDR_PREFIX + RANDOM.nextInt(256) + "." + (1 + RANDOM.nextInt(254));
            } while (used.contains(ip) || ip.equals("10.43.0.1") || ip.equals("10.43.0.10"));
        }
        spec.put("clusterIP", ip);
        spec.putArray("clusterIPs").add(ip);
        if (!spec.has("ipFamilies")) {
            spec.putArray("ipFamilies").add("IPv4");
        }
        if (!spec.hasNonNull("ipFamilyPolicy")) {
            spec.put("ipFamilyPolicy", "SingleStack");
        }
        if (!spec.hasNonNull("internalTrafficPolicy")) {
            spec.put("internalTrafficPolicy", "Cluster");
        }
        nodePorts(spec, existingList);
        return null;
    }

    /**
     * NodePort and LoadBalancer Services: externalTrafficPolicy Cluster, allocateLoadBalancerNodePorts true (a
     * LoadBalancer's default) and a free port of {@code --service-node-port-range} 30000-32767 for each port that has
     * none (pkg/registry/core/service/storage and portallocator). Lab: nothing listens on them.
     */
    private static void nodePorts(ObjectNode spec, String existingList) {
        String type = spec.path("type").asString("");
        if (!type.equals("NodePort") && !type.equals("LoadBalancer")) {
            return;
        }
        if (!spec.hasNonNull("externalTrafficPolicy")) {
            spec.put("externalTrafficPolicy", "Cluster");
        }
        if (type.equals("LoadBalancer") && !spec.hasNonNull("allocateLoadBalancerNodePorts")) {
            spec.put("allocateLoadBalancerNodePorts", true);
        }
        if (type.equals("LoadBalancer") && !spec.path("allocateLoadBalancerNodePorts").asBoolean(true)) {
            return;
        }
        Set<Integer> used = new HashSet<>();
        for (JsonNode item : Json.parse(existingList == null ? "{}" : existingList).path("items")) {
            for (JsonNode port : item.path("spec").path("ports")) {
                used.add(port.path("nodePort").asInt(0));
            }
        }
        for (JsonNode port : spec.path("ports")) {
            if (port instanceof ObjectNode p && p.path("nodePort").asInt(0) == 0) {
                int n;
                do {
                    n = 30000 + RANDOM.nextInt(2768);
                } while (used.contains(n));
                used.add(n);
                p.put("nodePort", n);
            }
        }
    }

    private static boolean valid(String ip) {
        String[] parts = ip.split("\\.");
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            try {
                int v = Integer.parseInt(p);
                if (v < 0 || v > 255) {
                    return false;
                }
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return !ip.endsWith(".0.0") && !ip.equals("10.43.255.255");
    }
}
