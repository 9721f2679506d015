package io.k3gpu.lab.k3s;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * K3s v1.31's other packaged manifests (the server stages them to {@code <data-dir>/server/manifests/} and its deploy
 * controller, pkg/deploy, applies them at every start; {@code --disable <name>} removes the file and its objects):
 *
 * <ul>
 * <li>{@code manifests/metrics-server/*.yaml} ({@code --disable metrics-server}): aggregated-metrics-reader.yaml
 * (ClusterRole {@code system:aggregated-metrics-reader}), auth-delegator.yaml (ClusterRoleBinding
 * {@code metrics-server:system:auth-delegator}), auth-reader.yaml (RoleBinding {@code metrics-server-auth-reader}),
 * resource-reader.yaml (ClusterRole and ClusterRoleBinding {@code system:metrics-server}),
 * metrics-server-deployment.yaml (ServiceAccount and Deployment {@code metrics-server}, image
 * {@code rancher/mirrored-metrics-server:v0.7.2}, {@code --secure-port=10250}, port {@code https}),
 * metrics-server-service.yaml (Service {@code metrics-server} 443 → https) and metrics-apiservice.yaml (APIService
 * {@code v1beta1.metrics.k8s.io} → {@code kube-system/metrics-server}, insecureSkipTLSVerify).</li>
 * <li>{@code manifests/traefik.yaml} ({@code --disable traefik}): the HelmCharts {@code traefik-crd} and
 * {@code traefik} (helm.cattle.io/v1, chart {@code https://%{KUBERNETES_API}%/static/charts/traefik-27.0.201+up27.0.2.tgz},
 * K3s's valuesContent), which K3s's helm-controller installs ({@link K3sHelmController}); servicelb then exposes its
 * LoadBalancer Service ({@link K3sServiceLb}).</li>
 * </ul>
 */
final class K3sAddons {
    static final String METRICS_SERVER_IMAGE = "rancher/mirrored-metrics-server:v0.7.2";
    static final String TRAEFIK_CHART_VERSION = "27.0.201+up27.0.2";
    /** traefik.yaml's valuesContent (v1.31). */
    static final String TRAEFIK_VALUES = """
            deployment:
              podAnnotations:
                prometheus.io/port: "8082"
                prometheus.io/scrape: "true"
            providers:
              kubernetesIngress:
                publishedService:
                  enabled: true
            priorityClassName: "system-cluster-critical"
            image:
              repository: "rancher/mirrored-library-traefik"
              tag: "2.11.10"
            tolerations:
            - key: "CriticalAddonsOnly"
              operator: "Exists"
            - key: "node-role.kubernetes.io/control-plane"
              operator: "Exists"
              effect: "NoSchedule"
            - key: "node-role.kubernetes.io/master"
              operator: "Exists"
              effect: "NoSchedule"
            service:
              ipFamilyPolicy: "PreferDualStack\"""";

    private K3sAddons() {
    }

    static List<ObjectNode> metricsServer() {
        List<ObjectNode> out = new ArrayList<>();
        out.add(Json.parseObject("""
                {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",
                "metadata":{"name":"system:aggregated-metrics-reader","labels":{
                "rbac.authorization.k8s.io/aggregate-to-view":"true","rbac.authorization.k8s.io/aggregate-to-edit":"true",
                "rbac.authorization.k8s.io/aggregate-to-admin":"true"}},
                "rules":[{"apiGroups":["metrics.k8s.io"],"resources":["pods","nodes"],"verbs":["get","list","watch"]}]}"""));
        out.add(Json.parseObject("""
                {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding",
                "metadata":{"name":"metrics-server:system:auth-delegator"},
                "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:auth-delegator"},
                "subjects":[{"kind":"ServiceAccount","name":"metrics-server","namespace":"kube-system"}]}"""));
        out.add(Json.parseObject("""
                {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding",
                "metadata":{"name":"metrics-server-auth-reader","namespace":"kube-system"},
                "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role",
                "name":"extension-apiserver-authentication-reader"},
                "subjects":[{"kind":"ServiceAccount","name":"metrics-server","namespace":"kube-system"}]}"""));
        out.add(Json.parseObject("""
                {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"system:metrics-server"},
                "rules":[{"apiGroups":[""],"resources":["nodes/metrics"],"verbs":["get"]},
                {"apiGroups":[""],"resources":["pods","nodes"],"verbs":["get","list","watch"]}]}"""));
        out.add(Json.parseObject("""
                {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding",
                "metadata":{"name":"system:metrics-server"},
                "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:metrics-server"},
                "subjects":[{"kind":"ServiceAccount","name":"metrics-server","namespace":"kube-system"}]}"""));
        out.add(Json.parseObject("""
                {"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"metrics-server","namespace":"kube-system"}}"""));
        out.add(Json.parseObject("""
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"metrics-server","namespace":"kube-system",
                "labels":{"k8s-app":"metrics-server"}},
                "spec":{"selector":{"matchLabels":{"k8s-app":"metrics-server"}},
                "strategy":{"rollingUpdate":{"maxUnavailable":0}},
                "template":{"metadata":{"name":"metrics-server","labels":{"k8s-app":"metrics-server"}},
                "spec":{"priorityClassName":"system-node-critical","serviceAccountName":"metrics-server",
                "tolerations":[{"key":"CriticalAddonsOnly","operator":"Exists"},
                {"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoSchedule"},
                {"key":"node-role.kubernetes.io/master","operator":"Exists","effect":"NoSchedule"}],
                "volumes":[{"name":"tmp-dir","emptyDir":{}}],
                "nodeSelector":{"kubernetes.io/os":"linux"},
                "containers":[{"name":"metrics-server","image":"%s",
                "args":["--cert-dir=/tmp","--secure-port=10250",
                "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname","--kubelet-use-node-status-port",
                "--metric-resolution=15s",
                "--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"],
                "resources":{"requests":{"cpu":"100m","memory":"70Mi"}},
                "ports":[{"containerPort":10250,"name":"https","protocol":"TCP"}],
                "readinessProbe":{"httpGet":{"path":"/readyz","port":"https","scheme":"HTTPS"},
                "periodSeconds":2,"failureThreshold":3,"initialDelaySeconds":2},
                "livenessProbe":{"httpGet":{"path":"/livez","port":"https","scheme":"HTTPS"},
                "periodSeconds":10,"failureThreshold":3},
                "securityContext":{"readOnlyRootFilesystem":true,"runAsNonRoot":true,"runAsUser":1000,
                "allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"seccompProfile":{"type":"RuntimeDefault"}},
                "volumeMounts":[{"name":"tmp-dir","mountPath":"/tmp"}]}]}}}}"""
                .formatted(METRICS_SERVER_IMAGE)));
        out.add(Json.parseObject("""
                {"apiVersion":"v1","kind":"Service","metadata":{"name":"metrics-server","namespace":"kube-system",
                "labels":{"kubernetes.io/name":"Metrics-server","kubernetes.io/cluster-service":"true"}},
                "spec":{"selector":{"k8s-app":"metrics-server"},
                "ports":[{"name":"https","port":443,"protocol":"TCP","targetPort":"https"}]}}"""));
        out.add(Json.parseObject("""
                {"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1beta1.metrics.k8s.io"},
                "spec":{"service":{"name":"metrics-server","namespace":"kube-system"},"group":"metrics.k8s.io",
                "version":"v1beta1","insecureSkipTLSVerify":true,"groupPriorityMinimum":100,"versionPriority":100}}"""));
        return out;
    }

    static List<ObjectNode> traefik() {
        List<ObjectNode> out = new ArrayList<>();
        out.add(Json.parseObject("""
                {"apiVersion":"helm.cattle.io/v1","kind":"HelmChart","metadata":{"name":"traefik-crd","namespace":"kube-system"},
                "spec":{"chart":"https://%%{KUBERNETES_API}%%/static/charts/traefik-crd-%s.tgz"}}"""
                .formatted(TRAEFIK_CHART_VERSION)));
        ObjectNode chart = Json.parseObject("""
                {"apiVersion":"helm.cattle.io/v1","kind":"HelmChart","metadata":{"name":"traefik","namespace":"kube-system"},
                "spec":{"chart":"https://%%{KUBERNETES_API}%%/static/charts/traefik-%s.tgz",
                "set":{"global.systemDefaultRegistry":""}}}""".formatted(TRAEFIK_CHART_VERSION));
        Json.objectAt(chart, "spec").put("valuesContent", TRAEFIK_VALUES);
        out.add(chart);
        return out;
    }

    /**
     * Whether a change concerns helm-controller, servicelb or the aggregator (what their informers watch): an
     * APIService, HelmChart, Service or Endpoints; a helm Job or svclb DaemonSet or pod (by their labels); a Node
     * added, deleted or with other addresses (not its heartbeats).
     */
    static boolean concerns(String kind, JsonNode object, JsonNode previous) {
        JsonNode labels = object.path("metadata").path("labels");
        return switch (kind) {
            case "APIService", "HelmChart", "Service", "Endpoints" -> true;
            case "Job" -> labels.has("helmcharts.helm.cattle.io/chart");
            case "DaemonSet", "Pod" -> labels.has("svccontroller.k3s.cattle.io/svcname");
            case "Node" -> previous == null || !object.path("status").path("addresses")
                    .equals(previous.path("status").path("addresses"));
            default -> false;
        };
    }

    /**
     * Stages {@code <file>} under server/manifests and creates what is missing, or when disabled removes the file and
     * the objects (and, for the given extra paths, what the objects made: a HelmChart's release).
     */
    static void deploy(K3sServer.ApiClient api, String file, List<ObjectNode> objects, boolean disabled, Path dataDir,
                       K3sLog log, List<String> madeByThem) {
        Path staged = dataDir.resolve("server").resolve("manifests").resolve(file);
        if (disabled) {
            try {
                Files.deleteIfExists(staged);
            } catch (IOException e) {
                log.error("Failed to remove " + staged + ": " + e.getMessage());
            }
            for (ObjectNode o : objects) {
                api.call("DELETE", K3sCoreDns.path(o) + "/" + Json.text(o, "metadata.name"), null, null);
            }
            for (String path : madeByThem) {
                api.call("DELETE", path + (path.contains("?") ? "&" : "?") + "propagationPolicy=Background", null, null);
            }
            return;
        }
        try {
            Files.createDirectories(staged.getParent());
            List<String> docs = new ArrayList<>();
            objects.forEach(o -> docs.add(Json.write(o) + "\n")); // JSON documents are YAML
            Files.writeString(staged, String.join("---\n", docs));
        } catch (IOException e) {
            log.error("Failed to stage " + staged + ": " + e.getMessage());
        }
        for (ObjectNode o : objects) {
            K3sCoreDns.createIfMissing(api, o);
        }
    }
}
