package io.k3gpu.lab.k3s;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The resource types the simulated API serves, with what discovery tells kubectl about them (names, kind,
 * scope, short names, categories, verbs), and the parsing of request paths into {@link ApiPath}.
 */
final class ApiResources {
    static final List<String> VERBS = List.of("create", "delete", "deletecollection", "get", "list", "patch",
            "update", "watch");

    record Resource(String group, String version, String plural, String singular, String kind, boolean namespaced,
                    List<String> shortNames, List<String> categories, List<String> subresources) {
        String groupVersion() {
            return group.isEmpty() ? version : group + "/" + version;
        }
    }

    /** A parsed request path: {@code /api/v1/namespaces/ns/pods/name/log}, {@code /apis/g/v/watch/...}. */
    record ApiPath(Resource resource, String namespace, String name, String subresource, boolean legacyWatch) {
        /** The store's path for this object or collection (no subresource, no query). */
        String storePath() {
            StringBuilder b = new StringBuilder(resource.group().isEmpty() ? "/api/" : "/apis/" + resource.group()
                    + "/");
            b.append(resource.version());
            if (namespace != null) {
                b.append("/namespaces/").append(namespace);
            }
            b.append('/').append(resource.plural());
            if (name != null) {
                b.append('/').append(name);
            }
            return b.toString();
        }

        String collectionPath() {
            return new ApiPath(resource, namespace, null, null, false).storePath();
        }
    }

    private static final List<Resource> ALL = new ArrayList<>();
    private static final Map<String, Resource> BY_GVR = new LinkedHashMap<>();

    private static void add(String group, String version, String plural, String kind, boolean namespaced,
                            String shortNames, String categories, String... subresources) {
        Resource r = new Resource(group, version, plural, kind.toLowerCase(java.util.Locale.ROOT), kind, namespaced,
                shortNames.isEmpty() ? List.of() : List.of(shortNames.split(",")),
                categories.isEmpty() ? List.of() : List.of(categories.split(",")), List.of(subresources));
        ALL.add(r);
        BY_GVR.put(group + "/" + version + "/" + plural, r);
    }

    static {
        add("", "v1", "bindings", "Binding", true, "", "");
        add("", "v1", "configmaps", "ConfigMap", true, "cm", "");
        add("", "v1", "endpoints", "Endpoints", true, "ep", "");
        add("", "v1", "events", "Event", true, "ev", "");
        add("", "v1", "limitranges", "LimitRange", true, "limits", "");
        add("", "v1", "namespaces", "Namespace", false, "ns", "", "status");
        add("", "v1", "nodes", "Node", false, "no", "", "status", "proxy");
        add("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, "pvc", "", "status");
        add("", "v1", "persistentvolumes", "PersistentVolume", false, "pv", "", "status");
        add("", "v1", "pods", "Pod", true, "po", "all", "status", "log", "binding", "eviction", "exec", "attach",
                "portforward", "proxy", "ephemeralcontainers");
        add("", "v1", "podtemplates", "PodTemplate", true, "", "");
        add("", "v1", "replicationcontrollers", "ReplicationController", true, "rc", "all", "status", "scale");
        add("", "v1", "resourcequotas", "ResourceQuota", true, "quota", "", "status");
        add("", "v1", "secrets", "Secret", true, "", "");
        add("", "v1", "serviceaccounts", "ServiceAccount", true, "sa", "");
        add("", "v1", "services", "Service", true, "svc", "all", "status", "proxy");
        add("apps", "v1", "controllerrevisions", "ControllerRevision", true, "", "");
        add("apps", "v1", "daemonsets", "DaemonSet", true, "ds", "all", "status");
        add("apps", "v1", "deployments", "Deployment", true, "deploy", "all", "status", "scale");
        add("apps", "v1", "replicasets", "ReplicaSet", true, "rs", "all", "status", "scale");
        add("apps", "v1", "statefulsets", "StatefulSet", true, "sts", "all", "status", "scale");
        add("batch", "v1", "cronjobs", "CronJob", true, "cj", "all", "status");
        add("batch", "v1", "jobs", "Job", true, "", "all", "status");
        add("coordination.k8s.io", "v1", "leases", "Lease", true, "", "");
        add("events.k8s.io", "v1", "events", "Event", true, "ev", "");
        add("networking.k8s.io", "v1", "ingresses", "Ingress", true, "ing", "", "status");
        add("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, "netpol", "");
        add("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", false, "", "");
        add("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, "pdb", "", "status");
        add("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, "", "");
        add("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, "", "");
        add("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, "", "");
        add("rbac.authorization.k8s.io", "v1", "roles", "Role", true, "", "");
        add("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false, "pc", "");
        add("storage.k8s.io", "v1", "storageclasses", "StorageClass", false, "sc", "");
        add("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false, "crd,crds",
                "api-extensions", "status");
        // kube-aggregator's (K3s's metrics-server registers v1beta1.metrics.k8s.io)
        add("apiregistration.k8s.io", "v1", "apiservices", "APIService", false, "", "api-extensions", "status");
        // the CRDs K3s's embedded helm-controller registers (github.com/k3s-io/helm-controller, pkg/crd)
        add("helm.cattle.io", "v1", "helmchartconfigs", "HelmChartConfig", true, "", "");
        add("helm.cattle.io", "v1", "helmcharts", "HelmChart", true, "", "", "status");
    }

    private ApiResources() {
    }

    /** Group versions in discovery order: the core group first. */
    static List<String> groups() {
        List<String> groups = new ArrayList<>();
        for (Resource r : ALL) {
            if (!r.group().isEmpty() && !groups.contains(r.group())) {
                groups.add(r.group());
            }
        }
        return groups;
    }

    static List<Resource> inGroupVersion(String group, String version) {
        return ALL.stream().filter(r -> r.group().equals(group) && r.version().equals(version)).toList();
    }

    static Resource find(String group, String version, String plural) {
        return BY_GVR.get(group + "/" + version + "/" + plural);
    }

    static Resource byKind(String apiVersion, String kind) {
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        String version = apiVersion.contains("/") ? apiVersion.substring(apiVersion.indexOf('/') + 1) : apiVersion;
        for (Resource r : ALL) {
            if (r.group().equals(group) && r.version().equals(version) && r.kind().equals(kind)) {
                return r;
            }
        }
        return null;
    }

    /** Parses a resource path (without query); null when it names no known resource. */
    static ApiPath parse(String path) {
        String[] parts = path.replaceAll("/+$", "").split("/");
        int i = 1; // parts[0] is the empty string before the leading slash
        String group;
        if (parts.length > i && parts[i].equals("api")) {
            group = "";
            i++;
        } else if (parts.length > i + 1 && parts[i].equals("apis")) {
            group = parts[i + 1];
            i += 2;
        } else {
            return null;
        }
        if (parts.length <= i) {
            return null;
        }
        String version = parts[i++];
        boolean legacyWatch = false;
        if (parts.length > i && parts[i].equals("watch")) {
            legacyWatch = true;
            i++;
        }
        String[] rest = java.util.Arrays.copyOfRange(parts, i, parts.length);
        ApiPath p = null;
        if (rest.length >= 3 && rest[0].equals("namespaces")) {
            p = build(group, version, rest[1], rest, 2, legacyWatch);
        }
        return p != null ? p : build(group, version, null, rest, 0, legacyWatch);
    }

    private static ApiPath build(String group, String version, String namespace, String[] rest, int k,
                                 boolean legacyWatch) {
        if (rest.length <= k || rest.length > k + 3) {
            return null;
        }
        Resource r = find(group, version, rest[k]);
        if (r == null || (!r.namespaced() && namespace != null)) {
            return null;
        }
        String name = rest.length > k + 1 ? rest[k + 1] : null;
        String sub = rest.length > k + 2 ? rest[k + 2] : null;
        if (r.namespaced() && namespace == null && name != null) {
            return null;
        }
        if (sub != null && !r.subresources().contains(sub)) {
            return null;
        }
        return new ApiPath(r, namespace, name, sub, legacyWatch);
    }
}
