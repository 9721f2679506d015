package io.k3gpu.core.runtime;

import io.k3gpu.core.text.JsonText;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.JsonNodeFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Makes the NVIDIA runtime Docker's default in {@code /etc/docker/daemon.json}, the edit that
 * {@code nvidia-ctk runtime configure --runtime=docker --set-as-default} makes: {@code "default-runtime": "nvidia"}
 * and a {@code runtimes.nvidia} entry. Every other member keeps its value and place; an existing
 * {@code runtimes.nvidia} keeps its path and arguments (JetPack ships one with {@code runtimeArgs}).
 */
public final class DaemonJsonMerge {
    public static final String RUNTIME = "nvidia";
    public static final String RUNTIME_PATH = "nvidia-container-runtime";

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // Keep numbers as written (1.50 stays 1.50) when the file is rewritten.
            .enable(JsonNodeFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();

    private DaemonJsonMerge() {
    }

    /**
     * The edit of the daemon.json at {@code path} (used in messages) whose current text is {@code content}; null,
     * empty or blank content is an empty configuration. A changed file is written as 4-space indented JSON with a
     * trailing newline, as {@code nvidia-ctk} writes it.
     *
     * @throws InvalidConfigException when the content is not JSON, not an object, or has a non-object
     *         {@code runtimes} or {@code runtimes.nvidia}
     */
    public static ConfigEdit enableNvidiaDefault(String path, String content) {
        String before = content == null ? "" : content;
        ObjectNode root = parse(path, before);
        ObjectNode runtimes = objectMember(path, root, "runtimes", "\"runtimes\"");
        ObjectNode nvidia = runtimes == null ? null : objectMember(path, runtimes, RUNTIME, "\"runtimes\".\"nvidia\"");
        JsonNode defaultRuntime = root.get("default-runtime");
        boolean isDefault = defaultRuntime != null && defaultRuntime.isString()
                && RUNTIME.equals(defaultRuntime.stringValue());
        if (isDefault && nvidia != null && hasPath(nvidia)) {
            return new ConfigEdit(before, before, false);
        }
        root.put("default-runtime", RUNTIME);
        if (runtimes == null) {
            runtimes = root.putObject("runtimes");
        }
        if (nvidia == null) {
            nvidia = runtimes.putObject(RUNTIME);
            nvidia.put("path", RUNTIME_PATH);
            nvidia.putArray("args");
        } else if (!hasPath(nvidia)) {
            nvidia.put("path", RUNTIME_PATH);
        }
        return new ConfigEdit(before, JsonText.indented(root, 4) + "\n", true);
    }

    private static ObjectNode parse(String path, String text) {
        // A UTF-8 byte order mark is accepted by dockerd; Jackson would read it as content.
        String json = text.startsWith("\uFEFF") ? text.substring(1) : text;
        if (json.isBlank()) {
            return MAPPER.createObjectNode();
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JacksonException e) {
            throw new InvalidConfigException(path, path + " is not valid JSON (" + where(e) + describe(e) + ")");
        }
        if (!root.isObject()) {
            throw new InvalidConfigException(path,
                    path + " is not a JSON object (its top level is " + kind(root) + "), so Docker cannot read it");
        }
        return (ObjectNode) root;
    }

    /** The member {@code name} of {@code parent} as an object, null when absent or JSON null. */
    private static ObjectNode objectMember(String path, ObjectNode parent, String name, String label) {
        JsonNode member = parent.get(name);
        if (member == null || member.isNull()) {
            return null;
        }
        if (!member.isObject()) {
            throw new InvalidConfigException(path,
                    path + " has " + label + " as " + kind(member) + ", where Docker expects an object");
        }
        return (ObjectNode) member;
    }

    private static boolean hasPath(ObjectNode runtime) {
        JsonNode path = runtime.get("path");
        return path != null && path.isString() && !path.stringValue().isBlank();
    }

    private static String where(JacksonException e) {
        TokenStreamLocation location = e.getLocation();
        if (location == null || location.getLineNr() < 1) {
            return "";
        }
        return "line " + location.getLineNr() + ", column " + location.getColumnNr() + ": ";
    }

    private static String describe(JacksonException e) {
        String message = e.getOriginalMessage();
        if (message == null || message.isBlank()) {
            return e.getClass().getSimpleName();
        }
        if (message.startsWith("Trailing token")) {
            return "unexpected content after the end of the top-level value";
        }
        int comment = message.indexOf(": maybe a (non-standard) comment?");
        if (comment >= 0) {
            return message.substring(0, comment) + ": comments are not allowed in JSON";
        }
        return cut(cut(message, "\n"), " (start marker at").strip();
    }

    private static String cut(String message, String from) {
        int at = message.indexOf(from);
        return at < 0 ? message : message.substring(0, at);
    }

    private static String kind(JsonNode node) {
        if (node.isArray()) {
            return "an array";
        }
        if (node.isString()) {
            return "a string";
        }
        if (node.isNumber()) {
            return "a number";
        }
        if (node.isBoolean()) {
            return "a boolean";
        }
        if (node.isNull()) {
            return "null";
        }
        return "an object";
    }
}
