package io.k3gpu.lab.k3s;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.node.ObjectNode;

/**
 * Cluster DNS as K3s ships it, and the {@code kubernetes} Service the API server keeps.
 *
 * <p>{@code manifests/coredns.yaml} of K3s v1.31 (staged to {@code <data-dir>/server/manifests/coredns.yaml} and
 * created at every start unless {@code --disable coredns}, which removes them): ServiceAccount {@code coredns},
 * ConfigMap {@code coredns} (Corefile with the kubernetes, hosts, forward plugins; NodeHosts), Deployment
 * {@code coredns} (label {@code k8s-app: kube-dns}, image {@code rancher/mirrored-coredns-coredns:1.11.3}, args
 * {@code -conf /etc/coredns/Corefile}, dnsPolicy Default, priorityClassName system-cluster-critical, the control-plane
 * tolerations, {@code kubernetes.io/os: linux}, the hostname topology spread), Service {@code kube-system/kube-dns} at
 * {@code 10.43.0.10} (K3s's default {@code --cluster-dns}) with ports dns 53/UDP, dns-tcp 53/TCP, metrics 9153/TCP.
 * The RBAC objects are not created (the lab authorizes every authenticated request).
 *
 * <p>The {@code default/kubernetes} Service (ClusterIP 10.43.0.1, https 443 → 6443, labels component=apiserver,
 * provider=kubernetes) and its Endpoints (this server's address), as kube-apiserver's master endpoint reconciler
 * keeps them.
 */
final class K3sCoreDns {
    static final String CLUSTER_DNS = "10.43.0.10";
    static final String IMAGE = "rancher/mirrored-coredns-coredns:1.11.3";
    static final String COREFILE = """
            .:53 {
                errors
                health
                ready
                kubernetes cluster.local in-addr.arpa ip6.arpa {
                  pods insecure
                  fallthrough in-addr.arpa ip6.arpa
                }
                hosts /etc/coredns/NodeHosts {
                  ttl 60
                  reload 15s
                  fallthrough
                }
                prometheus :9153
                forward . /etc/resolv.conf
                cache 30
                loop
                reload
                loadbalance
                import /etc/coredns/custom/*.override
            }
            import /etc/coredns/custom/*.server
            """;

    private K3sCoreDns() {
    }

    static List<ObjectNode> objects() {
        List<ObjectNode> out = new ArrayList<>();
        out.add(Json.parseObject("""
                {"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"coredns","namespace":"kube-system"}}"""));
        ObjectNode cm = Json.parseObject("""
                {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"coredns","namespace":"kube-system"},
                "data":{"NodeHosts":""}}""");
        Json.objectAt(cm, "data").put("Corefile", COREFILE);
        out.add(cm);
        out.add(Json.parseObject("""
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"coredns","namespace":"kube-system",
                "labels":{"k8s-app":"kube-dns","kubernetes.io/name":"CoreDNS"}},
                "spec":{"revisionHistoryLimit":0,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}},
                "selector":{"matchLabels":{"k8s-app":"kube-dns"}},
                "template":{"metadata":{"labels":{"k8s-app":"kube-dns"}},
                "spec":{"priorityClassName":"system-cluster-critical","serviceAccountName":"coredns",
                "tolerations":[{"key":"CriticalAddonsOnly","operator":"Exists"},
                {"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoSchedule"},
                {"key":"node-role.kubernetes.io/master","operator":"Exists","effect":"NoSchedule"}],
                "nodeSelector":{"kubernetes.io/os":"linux"},
                "topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"kubernetes.io/hostname",
                "whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"k8s-app":"kube-dns"}}}],
                "containers":[{"name":"coredns","image":"%s","imagePullPolicy":"IfNotPresent",
                "resources":{"limits":{"memory":"170Mi"},"requests":{"cpu":"100m","memory":"70Mi"}},
                "args":["-conf","/etc/coredns/Corefile"],
                "volumeMounts":[{"name":"config-volume","mountPath":"/etc/coredns","readOnly":true},
                {"name":"custom-config-volume","mountPath":"/etc/coredns/custom","readOnly":true}],
                "ports":[{"containerPort":53,"name":"dns","protocol":"UDP"},
                {"containerPort":53,"name":"dns-tcp","protocol":"TCP"},
                {"containerPort":9153,"name":"metrics","protocol":"TCP"}]}],
                "dnsPolicy":"Default",
                "volumes":[{"name":"config-volume","configMap":{"name":"coredns","items":[
                {"key":"Corefile","path":"Corefile"},{"key":"NodeHosts","path":"NodeHosts"}]}},
                {"name":"custom-config-volume","configMap":{"name":"coredns-custom","optional":true}}]}}}}"""
                .formatted(IMAGE)));
        out.add(Json.parseObject("""
                {"apiVersion":"v1","kind":"Service","metadata":{"name":"kube-dns","namespace":"kube-system",
                "annotations":{"prometheus.io/port":"9153","prometheus.io/scrape":"true"},
                "labels":{"k8s-app":"kube-dns","kubernetes.io/cluster-service":"true","kubernetes.io/name":"CoreDNS"}},
                "spec":{"selector":{"k8s-app":"kube-dns"},"clusterIP":"%s","clusterIPs":["%s"],
                "ports":[{"name":"dns","port":53,"protocol":"UDP"},{"name":"dns-tcp","port":53,"protocol":"TCP"},
                {"name":"metrics","port":9153,"protocol":"TCP"}],"ipFamilyPolicy":"SingleStack"}}"""
                .formatted(CLUSTER_DNS, CLUSTER_DNS)));
        return out;
    }

    /** The collection path of a packaged object (the kinds the packaged manifests hold). */
    static String path(ObjectNode o) {
        ApiResources.Resource r = ApiResources.byKind(Json.text(o, "apiVersion"), Json.text(o, "kind"));
        return new ApiResources.ApiPath(r, r.namespaced() ? Json.text(o, "metadata.namespace") : null, null, null,
                false).storePath();
    }

    /** Stages coredns.yaml and creates what is missing, or with --disable coredns removes both. */
    static void deploy(K3sServer.ApiClient api, boolean disabled, Path dataDir, K3sLog log) {
        Path file = dataDir.resolve("server").resolve("manifests").resolve("coredns.yaml");
        List<ObjectNode> objects = objects();
        if (disabled) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                log.error("Failed to remove " + file + ": " + e.getMessage());
            }
            for (ObjectNode o : objects) {
                api.call("DELETE", path(o) + "/" + Json.text(o, "metadata.name"), null, null);
            }
            return;
        }
        try {
            Files.createDirectories(file.getParent());
            List<String> docs = new ArrayList<>();
            objects.forEach(o -> docs.add(Json.write(o) + "\n")); // JSON documents are YAML
            Files.writeString(file, String.join("---\n", docs));
        } catch (IOException e) {
            log.error("Failed to stage " + file + ": " + e.getMessage());
        }
        for (ObjectNode o : objects) {
            createIfMissing(api, o);
        }
    }

    /** The kubernetes Service and its Endpoints at this server's address (kube-apiserver's reconciler). */
    static void kubernetesService(K3sServer.ApiClient api, String address, int port) {
        createIfMissing(api, Json.parseObject("""
                {"apiVersion":"v1","kind":"Service","metadata":{"name":"kubernetes","namespace":"default",
                "labels":{"component":"apiserver","provider":"kubernetes"}},
                "spec":{"clusterIP":"10.43.0.1","clusterIPs":["10.43.0.1"],
                "ports":[{"name":"https","port":443,"protocol":"TCP","targetPort":%d}]}}""".formatted(port)));
        ObjectNode ep = Json.parseObject("""
                {"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"kubernetes","namespace":"default",
                "labels":{"endpointslice.kubernetes.io/skip-mirror":"true"}},
                "subsets":[{"addresses":[{"ip":"%s"}],"ports":[{"name":"https","port":%d,"protocol":"TCP"}]}]}"""
                .formatted(address, port));
        ApiHandler.Response got = api.call("GET", path(ep) + "/kubernetes", null, null);
        if (got.status() == 404) {
            api.call("POST", path(ep), ApiHandler.JSON, Json.write(ep));
        } else if (got.status() == 200) {
            ObjectNode current = Json.parseObject(got.bodyText());
            if (!current.path("subsets").equals(ep.path("subsets"))) {
                current.set("subsets", ep.path("subsets"));
                api.call("PUT", path(ep) + "/kubernetes", ApiHandler.JSON, Json.write(current));
            }
        }
    }

    static void createIfMissing(K3sServer.ApiClient api, ObjectNode o) {
        ApiHandler.Response got = api.call("GET", path(o) + "/" + Json.text(o, "metadata.name"), null, null);
        if (got.status() == 404) {
            api.call("POST", path(o), ApiHandler.JSON, Json.write(o));
        }
    }
}
