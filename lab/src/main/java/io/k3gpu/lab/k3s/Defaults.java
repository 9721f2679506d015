package io.k3gpu.lab.k3s;

import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What kube-apiserver fills in on a write, where later reads and the controllers depend on it: the registered
 * defaulting functions (pkg/apis/core/v1/defaults.go, pkg/apis/apps/v1/defaults.go, pkg/apis/batch/v1/defaults.go,
 * v1.31) and the REST strategies' PrepareForCreate / PrepareForUpdate (status reset, DaemonSet template generation).
 * One mechanism for every kind: a Pod's spec and the pod template of a DaemonSet, Deployment, ReplicaSet,
 * StatefulSet or Job get the same pod defaults. {@code metadata.generation} itself is the store's (1 on create, +1 on
 * a change outside metadata and status).
 */
final class Defaults {
    /** The annotation apps/v1 keeps the DaemonSet's template generation in (pods' pod-template-generation). */
    static final String TEMPLATE_GENERATION = "deprecated.daemonset.template.generation";

    private Defaults() {
    }

    /** A new object of kind {@code r}, before admission. */
    static void create(ApiResources.Resource r, ObjectNode o) {
        switch (r.kind()) {
            case "Namespace" -> {
                ObjectNode spec = Json.objectAt(o, "spec");
                if (!spec.has("finalizers")) {
                    spec.putArray("finalizers").add("kubernetes");
                }
                Json.objectAt(o, "status").put("phase", "Active");
            }
            case "Pod" -> {
                ObjectNode spec = Json.objectAt(o, "spec");
                podSpec(spec, "Always");
                // the ServiceAccount admission plugin's part
                text(spec, "serviceAccountName", "default");
                ObjectNode status = Json.objectAt(o, "status");
                text(status, "phase", "Pending");
                text(status, "qosClass", "BestEffort");
            }
            case "Job" -> {
                ObjectNode spec = Json.objectAt(o, "spec");
                // SetDefaults_Job: both 1 when both are unset; otherwise only parallelism (completions unset is a
                // work-queue Job, and for an Indexed one the validation's "Required value")
                if (!spec.hasNonNull("completions") && !spec.hasNonNull("parallelism")) {
                    spec.put("completions", 1);
                }
                number(spec, "parallelism", 1);
                number(spec, "backoffLimit", 6);
                text(spec, "completionMode", "NonIndexed");
                if (!spec.has("suspend")) {
                    spec.put("suspend", false);
                }
                // the lab's: Kubernetes refuses a Job template without Never/OnFailure
                podSpec(template(spec), "Never");
            }
            case "DaemonSet" -> {
                daemonSet(o);
                // daemonSetStrategy.PrepareForCreate: generation 1, templateGeneration 1, status reset
                ObjectNode annotations = Json.objectAt(Json.objectAt(o, "metadata"), "annotations");
                annotations.put(TEMPLATE_GENERATION, "1");
                o.set("status", emptyDaemonSetStatus());
            }
            case "Deployment" -> {
                deployment(o);
                o.remove("status");
            }
            case "PersistentVolumeClaim" -> {
                // SetDefaults_PersistentVolumeClaim, pvcStrategy.PrepareForCreate (status Pending)
                text(Json.objectAt(o, "spec"), "volumeMode", "Filesystem");
                o.set("status", Json.object().put("phase", "Pending"));
            }
            case "PersistentVolume" -> {
                ObjectNode spec = Json.objectAt(o, "spec");
                text(spec, "persistentVolumeReclaimPolicy", "Retain");
                text(spec, "volumeMode", "Filesystem");
                o.set("status", Json.object().put("phase", "Pending"));
            }
            case "ReplicaSet", "StatefulSet" -> {
                ObjectNode spec = Json.objectAt(o, "spec");
                number(spec, "replicas", 1);
                podSpec(template(spec), "Always");
                if (r.kind().equals("ReplicaSet")) {
                    // rsStrategy.PrepareForCreate: the status is the controller's
                    o.set("status", Json.object().put("replicas", 0));
                }
            }
            default -> {
            }
        }
    }

    /**
     * A full update ({@code incoming} replaces {@code current}, as stored), after a patch was applied or for a PUT:
     * the same defaults, then the strategy's PrepareForUpdate. Not for the status subresource.
     */
    static void update(ApiResources.Resource r, ObjectNode current, ObjectNode incoming) {
        switch (r.kind()) {
            case "DaemonSet" -> {
                daemonSet(incoming);
                // the status is the controller's; a changed template bumps the template generation
                if (current.has("status")) {
                    incoming.set("status", current.get("status").deepCopy());
                }
                ObjectNode annotations = Json.objectAt(Json.objectAt(incoming, "metadata"), "annotations");
                long generation = parseLong(Json.text(current, "metadata.annotations." + TEMPLATE_GENERATION), 1);
                JsonNode before = current.path("spec").path("template");
                JsonNode after = incoming.path("spec").path("template");
                annotations.put(TEMPLATE_GENERATION, String.valueOf(before.equals(after) ? generation
                        : generation + 1));
            }
            case "Deployment" -> {
                deployment(incoming);
                if (current.has("status")) {
                    incoming.set("status", current.get("status").deepCopy());
                }
            }
            case "Pod", "Job", "ReplicaSet", "StatefulSet" -> {
                if (r.kind().equals("ReplicaSet") && current.has("status")) {
                    // rsStrategy.PrepareForUpdate: a full update keeps the status
                    incoming.set("status", current.get("status").deepCopy());
                }
                ObjectNode spec = Json.objectAt(incoming, "spec");
                switch (r.kind()) {
                    case "Pod" -> podSpec(spec, "Always");
                    case "Job" -> podSpec(template(spec), "Never");
                    default -> podSpec(template(spec), "Always");
                }
            }
            default -> {
            }
        }
    }

    /** SetDefaults_DaemonSet: RollingUpdate with maxUnavailable 1 and maxSurge 0, revisionHistoryLimit 10. */
    private static void daemonSet(ObjectNode o) {
        ObjectNode spec = Json.objectAt(o, "spec");
        ObjectNode strategy = Json.objectAt(spec, "updateStrategy");
        text(strategy, "type", "RollingUpdate");
        if ("RollingUpdate".equals(Json.text(strategy, "type"))) {
            ObjectNode rolling = Json.objectAt(strategy, "rollingUpdate");
            if (!rolling.hasNonNull("maxUnavailable")) {
                rolling.put("maxUnavailable", 1);
            }
            if (!rolling.hasNonNull("maxSurge")) {
                rolling.put("maxSurge", 0);
            }
        }
        number(spec, "revisionHistoryLimit", 10);
        podSpec(template(spec), "Always");
    }

    /** SetDefaults_Deployment: 1 replica, RollingUpdate 25%/25%, 10 revisions, 600 s progress deadline. */
    private static void deployment(ObjectNode o) {
        ObjectNode spec = Json.objectAt(o, "spec");
        number(spec, "replicas", 1);
        ObjectNode strategy = Json.objectAt(spec, "strategy");
        text(strategy, "type", "RollingUpdate");
        if ("RollingUpdate".equals(Json.text(strategy, "type"))) {
            ObjectNode rolling = Json.objectAt(strategy, "rollingUpdate");
            if (!rolling.hasNonNull("maxUnavailable")) {
                rolling.put("maxUnavailable", "25%");
            }
            if (!rolling.hasNonNull("maxSurge")) {
                rolling.put("maxSurge", "25%");
            }
        }
        number(spec, "revisionHistoryLimit", 10);
        number(spec, "progressDeadlineSeconds", 600);
        podSpec(template(spec), "Always");
    }

    /** DaemonSetStatus as a fresh object serializes it: the four counters without omitempty. */
    static ObjectNode emptyDaemonSetStatus() {
        ObjectNode s = Json.object();
        s.put("currentNumberScheduled", 0);
        s.put("numberMisscheduled", 0);
        s.put("desiredNumberScheduled", 0);
        s.put("numberReady", 0);
        return s;
    }

    /**
     * SetDefaults_PodSpec and the container defaults: restartPolicy, dnsPolicy ClusterFirst, schedulerName
     * default-scheduler, terminationGracePeriodSeconds 30, securityContext {}; per container terminationMessagePath
     * /dev/termination-log, terminationMessagePolicy File, imagePullPolicy (Always for {@code :latest} or no tag,
     * else IfNotPresent), resources {} and protocol TCP on ports.
     */
    static void podSpec(ObjectNode spec, String restartPolicy) {
        text(spec, "restartPolicy", restartPolicy);
        text(spec, "dnsPolicy", "ClusterFirst");
        text(spec, "schedulerName", "default-scheduler");
        number(spec, "terminationGracePeriodSeconds", 30);
        Json.objectAt(spec, "securityContext");
        for (String list : List.of("initContainers", "containers")) {
            for (JsonNode c : spec.path(list)) {
                if (c instanceof ObjectNode co) {
                    container(co);
                }
            }
        }
    }

    private static void container(ObjectNode c) {
        String image = c.path("image").asString("");
        String tail = image.substring(image.lastIndexOf('/') + 1);
        if (tail.contains("@")) { // a digest: never re-pulled
            text(c, "imagePullPolicy", "IfNotPresent");
        } else {
            text(c, "imagePullPolicy", !tail.contains(":") || tail.endsWith(":latest") ? "Always" : "IfNotPresent");
        }
        text(c, "terminationMessagePath", "/dev/termination-log");
        text(c, "terminationMessagePolicy", "File");
        Json.objectAt(c, "resources");
        for (JsonNode p : c.path("ports")) {
            if (p instanceof ObjectNode po) {
                text(po, "protocol", "TCP");
            }
        }
    }

    private static ObjectNode template(ObjectNode workloadSpec) {
        return Json.objectAt(Json.objectAt(workloadSpec, "template"), "spec");
    }

    /**
     * The completion-mode part of validateJobSpec (pkg/apis/batch/validation/validation.go, v1.31): the field errors
     * as the API words them, several in brackets; null when valid.
     */
    static String validateJob(JsonNode job) {
        JsonNode spec = job.path("spec");
        List<String> errors = new ArrayList<>();
        String mode = spec.path("completionMode").asString("NonIndexed");
        if (!mode.equals("NonIndexed") && !mode.equals("Indexed")) {
            errors.add("spec.completionMode: Unsupported value: \"" + mode + "\": supported values: \"Indexed\", "
                    + "\"NonIndexed\"");
        }
        if (mode.equals("Indexed")) {
            if (!spec.hasNonNull("completions")) {
                errors.add("spec.completions: Required value: when completion mode is Indexed");
            }
            if (spec.path("parallelism").asLong(0) > MAX_INDEXED_PARALLELISM) {
                errors.add("spec.parallelism: Invalid value: " + spec.path("parallelism").asLong() + ": must be less "
                        + "than or equal to " + MAX_INDEXED_PARALLELISM + " when completion mode is Indexed");
            }
        }
        if (errors.isEmpty()) {
            return null;
        }
        return errors.size() == 1 ? errors.get(0) : "[" + String.join(", ", errors) + "]";
    }

    /** maxParallelismForIndexedJob. */
    private static final long MAX_INDEXED_PARALLELISM = 100_000;

    private static void text(ObjectNode o, String field, String value) {
        if (!o.hasNonNull(field) || o.path(field).asString("").isEmpty()) {
            o.put(field, value);
        }
    }

    private static void number(ObjectNode o, String field, long value) {
        if (!o.hasNonNull(field)) {
            o.put(field, value);
        }
    }

    private static long parseLong(String s, long fallback) {
        try {
            return s == null ? fallback : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
