package io.k3gpu.lab.k3s;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** The JSON toolbox of the simulated K3s server: one mapper, small tree helpers. */
final class Json {
    static final JsonMapper MAPPER = JsonMapper.builder().build();
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Json() {
    }

    static ObjectNode object() {
        return NODES.objectNode();
    }

    static ArrayNode array() {
        return NODES.arrayNode();
    }

    static JsonNode parse(String text) {
        return MAPPER.readTree(text);
    }

    static ObjectNode parseObject(String text) {
        JsonNode node = MAPPER.readTree(text);
        if (!(node instanceof ObjectNode o)) {
            throw new IllegalArgumentException("expected a JSON object");
        }
        return o;
    }

    static String write(JsonNode node) {
        return MAPPER.writeValueAsString(node);
    }

    /** The text at a dotted path ({@code spec.nodeName}), or null when any step is missing or not a scalar. */
    static String text(JsonNode node, String dottedPath) {
        JsonNode at = node;
        for (String step : dottedPath.split("\\.")) {
            if (at == null || !at.isObject()) {
                return null;
            }
            at = at.get(step);
        }
        return at == null || at.isNull() || at.isContainer() ? null : at.asString();
    }

    static ObjectNode objectAt(ObjectNode parent, String field) {
        JsonNode child = parent.get(field);
        if (child instanceof ObjectNode o) {
            return o;
        }
        return parent.putObject(field);
    }
}
