package io.k3gpu.lab.k3s;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.node.ObjectNode;

/**
 * K3s's {@code manifests/local-storage.yaml} (v1.31): the local-path-provisioner that gives K3s its default
 * StorageClass. Staged to {@code <data-dir>/server/manifests/local-storage.yaml} and created at every start unless
 * {@code --disable local-storage}, which removes the file and the objects: ServiceAccount
 * {@code local-path-provisioner-service-account}, Deployment {@code local-path-provisioner} (image
 * {@code rancher/local-path-provisioner:v0.0.30}, {@code local-path-provisioner start --config
 * /etc/config/config.json}, priorityClassName system-node-critical, the control-plane tolerations), StorageClass
 * {@code local-path} (the default: {@code storageclass.kubernetes.io/is-default-class: "true"}, provisioner
 * {@code rancher.io/local-path}, WaitForFirstConsumer, reclaimPolicy Delete) and ConfigMap {@code local-path-config}
 * (config.json: every node's volumes under {@code /var/lib/rancher/k3s/storage}, K3s's {@code --default-local-storage-path};
 * the setup/teardown scripts and helper pod). Lab difference: the RBAC objects are not created
 * (the lab authorizes every authenticated request). What the provisioner does is its program's
 * ({@code images/bin/local-path-provisioner}).
 */
final class K3sLocalStorage {
    static final String IMAGE = "rancher/local-path-provisioner:v0.0.30";
    static final String STORAGE_PATH = "/var/lib/rancher/k3s/storage";
    static final String CONFIG = """
            {
              "nodePathMap":[
              {
                "node":"DEFAULT_PATH_FOR_NON_LISTED_NODES",
                "paths":["%s"]
              }
              ]
            }""".formatted(STORAGE_PATH);
    static final String SETUP = """
            #!/bin/sh
            set -eu
            mkdir -m 0777 -p "${VOL_DIR}"
            chmod 700 "${VOL_DIR}/.."
            """;
    static final String TEARDOWN = """
            #!/bin/sh
            set -eu
            rm -rf "${VOL_DIR}"
            """;
    static final String HELPER_POD = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: helper-pod
            spec:
              containers:
              - name: helper-pod
                image: "rancher/mirrored-library-busybox:1.36.1"
                imagePullPolicy: IfNotPresent
            """;

    private K3sLocalStorage() {
    }

    static List<ObjectNode> objects() {
        List<ObjectNode> out = new ArrayList<>();
        out.add(Json.parseObject("""
                {"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"local-path-provisioner-service-account",
                "namespace":"kube-system"}}"""));
        out.add(Json.parseObject("""
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"local-path-provisioner",
                "namespace":"kube-system","labels":{"app":"local-path-provisioner"}},
                "spec":{"revisionHistoryLimit":0,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}},
                "selector":{"matchLabels":{"app":"local-path-provisioner"}},
                "template":{"metadata":{"labels":{"app":"local-path-provisioner"}},
                "spec":{"priorityClassName":"system-node-critical",
                "serviceAccountName":"local-path-provisioner-service-account",
                "tolerations":[{"key":"CriticalAddonsOnly","operator":"Exists"},
                {"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoSchedule"},
                {"key":"node-role.kubernetes.io/master","operator":"Exists","effect":"NoSchedule"}],
                "containers":[{"name":"local-path-provisioner","image":"%s","imagePullPolicy":"IfNotPresent",
                "command":["local-path-provisioner","start","--config","/etc/config/config.json"],
                "volumeMounts":[{"name":"config-volume","mountPath":"/etc/config/"}],
                "env":[{"name":"POD_NAMESPACE","valueFrom":{"fieldRef":{"fieldPath":"metadata.namespace"}}},
                {"name":"CONFIG_MOUNT_PATH","value":"/etc/config/"}]}],
                "volumes":[{"name":"config-volume","configMap":{"name":"local-path-config"}}]}}}}"""
                .formatted(IMAGE)));
        out.add(Json.parseObject("""
                {"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"local-path",
                "annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},
                "provisioner":"rancher.io/local-path","volumeBindingMode":"WaitForFirstConsumer",
                "reclaimPolicy":"Delete"}"""));
        ObjectNode cm = Json.parseObject("""
                {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"local-path-config","namespace":"kube-system"}}""");
        ObjectNode data = Json.objectAt(cm, "data");
        data.put("config.json", CONFIG);
        data.put("setup", SETUP);
        data.put("teardown", TEARDOWN);
        data.put("helperPod.yaml", HELPER_POD);
        out.add(cm);
        return out;
    }

    /** Stages local-storage.yaml and creates what is missing, or with --disable local-storage removes both. */
    static void deploy(K3sServer.ApiClient api, boolean disabled, Path dataDir, K3sLog log) {
        Path file = dataDir.resolve("server").resolve("manifests").resolve("local-storage.yaml");
        List<ObjectNode> objects = objects();
        if (disabled) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                log.error("Failed to remove " + file + ": " + e.getMessage());
            }
            for (ObjectNode o : objects) {
                api.call("DELETE", K3sCoreDns.path(o) + "/" + Json.text(o, "metadata.name"), null, null);
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
            K3sCoreDns.createIfMissing(api, o);
        }
    }
}
