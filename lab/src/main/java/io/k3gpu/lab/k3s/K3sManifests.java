package io.k3gpu.lab.k3s;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

import tools.jackson.databind.node.ObjectNode;

/**
 * The packaged manifest the lab's server deploys as K3s does: {@code manifests/runtimes.yaml} (K3s v1.29.0 and the
 * December 2023 backports v1.26.12, v1.27.9, v1.28.5), staged to {@code <data-dir>/server/manifests/runtimes.yaml}
 * and applied by the deploy controller (pkg/deploy/controller.go) at every start through wrangler's apply: each
 * object carries the object set's label {@code objectset.rio.cattle.io/hash} (SHA-1 of set id, owner GVK, owner name
 * and namespace, wrangler apply/desiredset.go) and the annotations {@code objectset.rio.cattle.io/applied} (the
 * applied object, gzip and base64), {@code id}, {@code owner-gvk}, {@code owner-name} and {@code owner-namespace} of
 * the Addon {@code kube-system/runtimes}. The ten RuntimeClasses exist whatever runtimes the nodes have (K3s
 * configures containerd for the ones it finds; a pod naming one its node lacks fails at sandbox creation). A deleted
 * one comes back at the next start; {@code --disable runtimes} removes the file and the objects.
 */
final class K3sManifests {
    /** The RuntimeClasses of runtimes.yaml, in its order; handler = name. */
    static final List<String> RUNTIMES = List.of("nvidia", "nvidia-experimental", "crun", "lunatic", "slight", "spin",
            "wws", "wasmedge", "wasmer", "wasmtime");
    static final String ADDON = "runtimes";
    static final String OWNER_GVK = "k3s.cattle.io/v1, Kind=Addon";
    static final String OWNER_NAMESPACE = "kube-system";
    private static final Pattern VERSION = Pattern.compile("v?(\\d+)\\.(\\d+)\\.(\\d+).*");

    private K3sManifests() {
    }

    /** Whether a K3s release ships runtimes.yaml: v1.29.0+, v1.28.5+, v1.27.9+, v1.26.12+. */
    static boolean shipsRuntimes(String version) {
        Matcher m = VERSION.matcher(version == null ? "" : version);
        if (!m.matches() || !m.group(1).equals("1")) {
            return false;
        }
        int minor = Integer.parseInt(m.group(2));
        int patch = Integer.parseInt(m.group(3));
        return switch (minor) {
            case 26 -> patch >= 12;
            case 27 -> patch >= 9;
            case 28 -> patch >= 5;
            default -> minor >= 29;
        };
    }

    /** The manifest's text, as the release packages it. */
    static String runtimesYaml() {
        List<String> docs = new ArrayList<>();
        for (String name : RUNTIMES) {
            docs.add("apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: " + name + "\nhandler: " + name
                    + "\n");
        }
        return String.join("---\n", docs);
    }

    /** The objects as the deploy controller applies them: labels and annotations of the Addon's object set. */
    static List<ObjectNode> runtimeClasses() {
        String hash = objectSetHash("", OWNER_GVK, ADDON, OWNER_NAMESPACE);
        List<ObjectNode> out = new ArrayList<>();
        for (String name : RUNTIMES) {
            ObjectNode rc = Json.object();
            rc.put("apiVersion", "node.k8s.io/v1");
            rc.put("kind", "RuntimeClass");
            ObjectNode meta = rc.putObject("metadata");
            meta.put("name", name);
            rc.put("handler", name);
            ObjectNode annotations = Json.object();
            annotations.put("objectset.rio.cattle.io/id", "");
            annotations.put("objectset.rio.cattle.io/owner-gvk", OWNER_GVK);
            annotations.put("objectset.rio.cattle.io/owner-name", ADDON);
            annotations.put("objectset.rio.cattle.io/owner-namespace", OWNER_NAMESPACE);
            meta.putObject("labels").put("objectset.rio.cattle.io/hash", hash);
            meta.set("annotations", annotations);
            String applied = applied(rc);
            ObjectNode ordered = Json.object();
            ordered.put("objectset.rio.cattle.io/applied", applied);
            ordered.setAll(annotations);
            meta.set("annotations", ordered);
            out.add(rc);
        }
        return out;
    }

    /** wrangler's objectSetHash: SHA-1 over set id, owner GVK, owner name, owner namespace. */
    static String objectSetHash(String setId, String ownerGvk, String ownerName, String ownerNamespace) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-1");
            for (String s : new String[] {setId, ownerGvk, ownerName, ownerNamespace}) {
                d.update(s.getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The applied annotation: the object as applied, gzip-compressed and base64-encoded. */
    private static String applied(ObjectNode o) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(Json.write(o).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Base64.getEncoder().encodeToString(bytes.toByteArray());
    }

    /**
     * Stages runtimes.yaml and applies it through {@code api} (create what is missing, put back what differs), or
     * with {@code --disable runtimes} removes the file and the Addon's objects. Releases without the manifest do
     * nothing.
     */
    static void deployRuntimes(K3sServer.ApiClient api, String version, boolean disabled, Path dataDir, K3sLog log) {
        if (!shipsRuntimes(version)) {
            return;
        }
        Path file = dataDir.resolve("server").resolve("manifests").resolve(ADDON + ".yaml");
        String collection = "/apis/node.k8s.io/v1/runtimeclasses";
        if (disabled) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                log.error("Failed to remove " + file + ": " + e.getMessage());
            }
            for (ObjectNode rc : runtimeClasses()) {
                ApiHandler.Response got = api.call("GET", collection + "/" + Json.text(rc, "metadata.name"), null,
                        null);
                if (got.status() == 200 && ADDON.equals(Json.parse(got.bodyText()).path("metadata")
                        .path("annotations").path("objectset.rio.cattle.io/owner-name").asString(""))) {
                    api.call("DELETE", collection + "/" + Json.text(rc, "metadata.name"), null, null);
                }
            }
            return;
        }
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, runtimesYaml());
        } catch (IOException e) {
            log.error("Failed to stage " + file + ": " + e.getMessage());
        }
        for (ObjectNode rc : runtimeClasses()) {
            String name = Json.text(rc, "metadata.name");
            ApiHandler.Response got = api.call("GET", collection + "/" + name, null, null);
            if (got.status() == 404) {
                api.call("POST", collection, ApiHandler.JSON, Json.write(rc));
                continue;
            }
            if (got.status() != 200) {
                continue;
            }
            ObjectNode current = Json.parseObject(got.bodyText());
            ObjectNode meta = Json.objectAt(current, "metadata");
            for (String field : new String[] {"labels", "annotations"}) {
                Json.objectAt(meta, field).setAll((ObjectNode) rc.path("metadata").path(field));
            }
            current.put("handler", name);
            if (!current.equals(Json.parseObject(got.bodyText()))) {
                api.call("PUT", collection + "/" + name, ApiHandler.JSON, Json.write(current));
            }
        }
    }
}
