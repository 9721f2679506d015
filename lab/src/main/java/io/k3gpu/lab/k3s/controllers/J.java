package io.k3gpu.lab.k3s.controllers;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** JSON and time helpers of the controllers. */
final class J {
    static final JsonMapper MAPPER = JsonMapper.builder().build();
    private static final DateTimeFormatter MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

    private J() {
    }

    static ObjectNode obj() {
        return JsonNodeFactory.instance.objectNode();
    }

    static ArrayNode arr() {
        return JsonNodeFactory.instance.arrayNode();
    }

    static JsonNode parse(String text) {
        return MAPPER.readTree(text);
    }

    static ObjectNode parseObject(String text) {
        return (ObjectNode) MAPPER.readTree(text);
    }

    static String write(JsonNode node) {
        return MAPPER.writeValueAsString(node);
    }

    /** The scalar text at a dotted path, or null. */
    static String text(JsonNode node, String dotted) {
        JsonNode at = node;
        for (String step : dotted.split("\\.")) {
            if (at == null || !at.isObject()) {
                return null;
            }
            at = at.get(step);
        }
        return at == null || at.isNull() || at.isContainer() ? null : at.asString();
    }

    static String text(JsonNode node, String dotted, String fallback) {
        String t = text(node, dotted);
        return t == null || t.isEmpty() ? fallback : t;
    }

    static ObjectNode objectAt(ObjectNode parent, String field) {
        JsonNode child = parent.get(field);
        if (child instanceof ObjectNode o) {
            return o;
        }
        return parent.putObject(field);
    }

    static ArrayNode arrayAt(ObjectNode parent, String field) {
        JsonNode child = parent.get(field);
        if (child instanceof ArrayNode a) {
            return a;
        }
        return parent.putArray(field);
    }

    static String name(JsonNode o) {
        return text(o, "metadata.name");
    }

    static String namespace(JsonNode o) {
        return text(o, "metadata.namespace");
    }

    static String uid(JsonNode o) {
        return text(o, "metadata.uid");
    }

    static boolean deleting(JsonNode o) {
        JsonNode ts = o.path("metadata").path("deletionTimestamp");
        return !ts.isMissingNode() && !ts.isNull();
    }

    /** The items of a list response, as objects. */
    static List<ObjectNode> items(KubeApi.Result r) {
        List<ObjectNode> out = new ArrayList<>();
        if (r.ok()) {
            for (JsonNode item : r.json().path("items")) {
                if (item instanceof ObjectNode o) {
                    out.add(o);
                }
            }
        }
        return out;
    }

    /** A condition of {@code type} in {@code status.conditions}, or a missing node. */
    static JsonNode condition(JsonNode o, String type) {
        for (JsonNode c : o.path("status").path("conditions")) {
            if (type.equals(c.path("type").asString(""))) {
                return c;
            }
        }
        return J.obj().path("missing");
    }

    /** metav1.Time: RFC 3339 in seconds. */
    static String time(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** metav1.MicroTime. */
    static String microTime(Instant t) {
        return MICRO.format(t);
    }

    static Instant instant(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            try {
                return java.time.OffsetDateTime.parse(text).toInstant();
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }

    /** A path segment for a namespaced collection: {@code /api/v1/namespaces/ns/pods}. */
    static String pods(String namespace) {
        return "/api/v1/namespaces/" + namespace + "/pods";
    }

    static String pod(String namespace, String name) {
        return pods(namespace) + "/" + name;
    }

    static String jobs(String namespace) {
        return "/apis/batch/v1/namespaces/" + namespace + "/jobs";
    }

    static String job(String namespace, String name) {
        return jobs(namespace) + "/" + name;
    }

    /** The collections whose objects the lab's owners own: pods, jobs, controller revisions. */
    static String[] dependentCollections(String namespace) {
        return new String[] {pods(namespace), jobs(namespace),
            "/apis/apps/v1/namespaces/" + namespace + "/controllerrevisions",
            "/apis/apps/v1/namespaces/" + namespace + "/replicasets"};
    }

    /** The API path of a namespaced object of the kinds the controllers handle, from its apiVersion and kind. */
    static String path(JsonNode o) {
        String ns = namespace(o);
        String name = name(o);
        return switch (o.path("kind").asString("")) {
            case "Pod" -> pod(ns, name);
            case "Job" -> job(ns, name);
            case "CronJob" -> "/apis/batch/v1/namespaces/" + ns + "/cronjobs/" + name;
            case "DaemonSet" -> "/apis/apps/v1/namespaces/" + ns + "/daemonsets/" + name;
            case "ControllerRevision" -> "/apis/apps/v1/namespaces/" + ns + "/controllerrevisions/" + name;
            case "ReplicaSet" -> ReplicaSetController.path(ns, name);
            case "Deployment" -> DeploymentController.path(ns, name);
            default -> throw new IllegalArgumentException("no path for kind " + o.path("kind").asString(""));
        };
    }
}
