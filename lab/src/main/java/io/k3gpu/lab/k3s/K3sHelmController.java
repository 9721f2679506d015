package io.k3gpu.lab.k3s;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * K3s's embedded helm-controller (github.com/k3s-io/helm-controller, pkg/controllers/chart/chart.go), for
 * HelmCharts: per chart a ServiceAccount {@code helm-<name>}, a ClusterRoleBinding {@code helm-<ns>-<name>} to
 * cluster-admin, a Secret {@code chart-values-<name>} (values-01_HelmChart.yaml: the chart's valuesContent) and a
 * ConfigMap {@code chart-content-<name>}, and the Job {@code helm-install-<name>} (label
 * {@code helmcharts.helm.cattle.io/chart}, image {@code rancher/klipper-helm:v0.9.3-build20241008}, args
 * {@code install} [--namespace, --version] and {@code --set}/{@code --set-string} per spec.set key in order, env NAME,
 * VERSION, REPO, HELM_DRIVER=secret, CHART_NAMESPACE, CHART, HELM_VERSION, TARGET_NAMESPACE, AUTH_PASS_CREDENTIALS,
 * INSECURE_SKIP_TLS_VERIFY, PLAIN_HTTP, FAILURE_POLICY=reinstall, backoffLimit 1000, restartPolicy OnFailure, the
 * default pod and container security contexts, the pod annotation {@code helmcharts.helm.cattle.io/configHash}
 * {@code SHA256=<hex>} of the content ConfigMap's and values Secret's data (hashObjects)); the chart's status names
 * the Job ({@code jobName}, conditions JobCreated and Failed). A changed configuration (another hash) replaces the
 * Job. What the Job does (helm install) is its program's, {@code images/bin/klipper-helm}. Lab differences: run on
 * changes to HelmCharts and their Jobs (K3sServer#deployAddons) and once a minute, not by informers; HelmChartConfigs and the proxy environment are not read; no Events; a removed
 * chart's release is deleted by the server ({@link K3sAddons#deploy}) rather than by a {@code helm-delete-<name>} Job.
 */
final class K3sHelmController {
    static final String IMAGE = "rancher/klipper-helm:v0.9.3-build20241008";
    private static final String CHARTS = "/apis/helm.cattle.io/v1/helmcharts";

    private final K3sServer.ApiClient api;

    K3sHelmController(K3sServer.ApiClient api) {
        this.api = api;
    }

    void sync() {
        ApiHandler.Response list = api.call("GET", CHARTS, null, null);
        if (list.status() != 200) {
            return;
        }
        for (JsonNode chart : Json.parse(list.bodyText()).path("items")) {
            if (!chart.path("metadata").path("deletionTimestamp").isMissingNode()) {
                continue;
            }
            sync((ObjectNode) chart);
        }
    }

    private void sync(ObjectNode chart) {
        String ns = Json.text(chart, "metadata.namespace");
        String name = Json.text(chart, "metadata.name");
        JsonNode spec = chart.path("spec");
        String values = spec.hasNonNull("valuesContent") ? Base64.getEncoder().encodeToString(
                spec.path("valuesContent").asString("").getBytes(StandardCharsets.UTF_8)) : null;
        // hashObjects: the content ConfigMap's data (none: no chartContent), then the values Secret's (base64)
        String hash = "SHA256=" + sha256(values == null ? "" : "values-01_HelmChart.yaml" + values)
                .toUpperCase(java.util.Locale.ROOT);
        String jobs = "/apis/batch/v1/namespaces/" + ns + "/jobs";
        String jobName = "helm-install-" + name;
        ApiHandler.Response got = api.call("GET", jobs + "/" + jobName, null, null);
        if (got.status() == 200) {
            JsonNode job = Json.parse(got.bodyText());
            if (hash.equals(job.path("spec").path("template").path("metadata").path("annotations")
                    .path("helmcharts.helm.cattle.io/configHash").asString(""))) {
                return;
            }
            api.call("DELETE", jobs + "/" + jobName + "?propagationPolicy=Foreground", null, null);
            return; // created again once it is gone
        }
        if (got.status() != 404) {
            return;
        }
        String owner = """
                "ownerReferences":[{"apiVersion":"helm.cattle.io/v1","kind":"HelmChart","name":"%s","uid":"%s",
                "controller":true,"blockOwnerDeletion":true}]""".formatted(name, Json.text(chart, "metadata.uid"));
        K3sCoreDns.createIfMissing(api, Json.parseObject("""
                {"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"helm-%s","namespace":"%s",%s},
                "automountServiceAccountToken":true}"""
                .formatted(name, ns, owner)));
        K3sCoreDns.createIfMissing(api, Json.parseObject("""
                {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding",
                "metadata":{"name":"helm-%s-%s"},
                "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},
                "subjects":[{"kind":"ServiceAccount","name":"helm-%s","namespace":"%s"}]}"""
                .formatted(ns, name, name, ns))); // cluster-scoped: no namespaced owner (the GC would drop it)
        ObjectNode valuesSecret = Json.parseObject("""
                {"apiVersion":"v1","kind":"Secret","type":"Opaque","metadata":{"name":"chart-values-%s","namespace":"%s",%s},
                "data":{}}""".formatted(name, ns, owner));
        if (values != null) {
            Json.objectAt(valuesSecret, "data").put("values-01_HelmChart.yaml", values);
        }
        replace(valuesSecret, "/api/v1/namespaces/" + ns + "/secrets/chart-values-" + name);
        replace(Json.parseObject("""
                {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"chart-content-%s","namespace":"%s",%s}}"""
                .formatted(name, ns, owner)), "/api/v1/namespaces/" + ns + "/configmaps/chart-content-" + name);
        ObjectNode job = Json.parseObject("""
                {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"%s","namespace":"%s",
                "labels":{"helmcharts.helm.cattle.io/chart":"%s"},%s},
                "spec":{"backoffLimit":1000,"template":{"metadata":{"labels":{"helmcharts.helm.cattle.io/chart":"%s"},
                "annotations":{"helmcharts.helm.cattle.io/configHash":"%s"}},
                "spec":{"restartPolicy":"OnFailure","serviceAccountName":"helm-%s",
                "nodeSelector":{"kubernetes.io/os":"linux"},
                "securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
                "containers":[{"name":"helm","image":"%s","imagePullPolicy":"IfNotPresent","args":["install"],
                "env":[{"name":"NAME","value":"%s"},{"name":"VERSION","value":"%s"},{"name":"REPO","value":"%s"},
                {"name":"HELM_DRIVER","value":"secret"},{"name":"CHART_NAMESPACE","value":"%s"},
                {"name":"CHART","value":"%s"},{"name":"HELM_VERSION","value":"%s"},
                {"name":"TARGET_NAMESPACE","value":"%s"},{"name":"AUTH_PASS_CREDENTIALS","value":"false"},
                {"name":"INSECURE_SKIP_TLS_VERIFY","value":"false"},{"name":"PLAIN_HTTP","value":"false"},
                {"name":"FAILURE_POLICY","value":"reinstall"}],
                "securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},
                "readOnlyRootFilesystem":true},
                "volumeMounts":[{"name":"klipper-helm","mountPath":"/home/klipper-helm/.helm"},
                {"name":"klipper-cache","mountPath":"/home/klipper-helm/.cache"},
                {"name":"klipper-config","mountPath":"/home/klipper-helm/.config"},
                {"name":"tmp","mountPath":"/tmp"},
                {"name":"values","mountPath":"/config"},{"name":"content","mountPath":"/chart"}]}],
                "volumes":[{"name":"klipper-helm","emptyDir":{"medium":"Memory"}},
                {"name":"klipper-cache","emptyDir":{"medium":"Memory"}},
                {"name":"klipper-config","emptyDir":{"medium":"Memory"}},
                {"name":"tmp","emptyDir":{"medium":"Memory"}},
                {"name":"values","secret":{"secretName":"chart-values-%s"}},
                {"name":"content","configMap":{"name":"chart-content-%s"}}]}}}}""".formatted(jobName, ns, name,
                owner, name, hash, name, IMAGE, name, spec.path("version").asString(""),
                spec.path("repo").asString(""), ns, chartName(name, spec), spec.path("helmVersion").asString(""),
                spec.path("targetNamespace").asString("").isEmpty() ? ns : spec.path("targetNamespace").asString(""),
                name, name));
        tools.jackson.databind.node.ArrayNode args = (tools.jackson.databind.node.ArrayNode) job.path("spec")
                .path("template").path("spec").path("containers").get(0).path("args");
        // helm-controller's args(): install, then
        if (!spec.path("targetNamespace").asString("").isEmpty()) {
            args.add("--namespace").add(spec.path("targetNamespace").asString(""));
        }
        if (spec.path("createNamespace").asBoolean(false)) {
            args.add("--create-namespace");
        }
        if (!spec.path("version").asString("").isEmpty()) {
            args.add("--version").add(spec.path("version").asString(""));
        }
        java.util.TreeMap<String, JsonNode> set = new java.util.TreeMap<>(); // keys sorted
        spec.path("set").properties().forEach(e -> set.put(e.getKey(), e.getValue()));
        for (var e : set.entrySet()) {
            String v = e.getValue().asString("");
            // typedVal: ints, booleans and null go as --set, everything else as --set-string (commas escaped)
            boolean typed = e.getValue().isNumber() || List.of("true", "false", "null").contains(v.toLowerCase(
                    java.util.Locale.ROOT));
            args.add(typed ? "--set" : "--set-string");
            args.add(e.getKey() + "=" + (typed ? v : escapeCommas(v)));
        }
        api.call("POST", jobs, ApiHandler.JSON, Json.write(job));
        ObjectNode status = Json.object();
        ObjectNode st = Json.objectAt(status, "status");
        st.put("jobName", jobName);
        st.putArray("conditions").add(Json.parseObject("""
                {"type":"JobCreated","status":"True","reason":"Job created",
                "message":"Applying HelmChart using Job %s/%s"}""".formatted(ns, jobName)))
                .add(Json.parseObject("{\"type\":\"Failed\",\"status\":\"False\"}"));
        api.call("PATCH", CHARTS.replace("/helmcharts", "/namespaces/" + ns + "/helmcharts") + "/" + name
                + "/status", "application/merge-patch+json", Json.write(status));
    }

    /** The Job's CHART: the chart, or {@code <name>/<chart>} from a repository. */
    private static String chartName(String name, JsonNode spec) {
        String chart = spec.path("chart").asString("");
        return spec.path("repo").asString("").isEmpty() ? chart : name + "/" + chart;
    }

    /** commaRE + escapeComma: a comma after an even number of backslashes gets one more. */
    static String escapeCommas(String v) {
        StringBuilder out = new StringBuilder();
        int slashes = 0;
        for (char c : v.toCharArray()) {
            if (c == ',' && slashes % 2 == 0) {
                out.append('\\');
            }
            slashes = c == '\\' ? slashes + 1 : 0;
            out.append(c);
        }
        return out.toString();
    }

    private void replace(ObjectNode o, String path) {
        ApiHandler.Response got = api.call("GET", path, null, null);
        if (got.status() == 404) {
            api.call("POST", path.substring(0, path.lastIndexOf('/')), ApiHandler.JSON, Json.write(o));
        } else if (got.status() == 200) {
            ObjectNode current = Json.parseObject(got.bodyText());
            o.set("metadata", current.path("metadata"));
            api.call("PUT", path, ApiHandler.JSON, Json.write(o));
        }
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
