package io.k3gpu.core.text;

import java.util.Iterator;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * JSON text in the layout of Go's {@code json.MarshalIndent}, which is how {@code nvidia-ctk} and Docker tooling
 * write their files: one member per line, {@code "key": value}, and {@code {}} / {@code []} for empty containers.
 * Member order is the node's order.
 */
public final class JsonText {
    private static final JsonMapper SCALARS = JsonMapper.builder().build();

    private JsonText() {
    }

    /** {@code node} as indented text without a trailing newline. */
    public static String indented(JsonNode node, int indentWidth) {
        StringBuilder out = new StringBuilder();
        write(out, node, " ".repeat(indentWidth), 0);
        return out.toString();
    }

    private static void write(StringBuilder out, JsonNode node, String indent, int depth) {
        if (node.isObject()) {
            if (node.isEmpty()) {
                out.append("{}");
                return;
            }
            out.append("{\n");
            Iterator<Map.Entry<String, JsonNode>> members = node.properties().iterator();
            while (members.hasNext()) {
                Map.Entry<String, JsonNode> member = members.next();
                out.append(indent.repeat(depth + 1)).append(SCALARS.writeValueAsString(member.getKey())).append(": ");
                write(out, member.getValue(), indent, depth + 1);
                out.append(members.hasNext() ? ",\n" : "\n");
            }
            out.append(indent.repeat(depth)).append('}');
        } else if (node.isArray()) {
            if (node.isEmpty()) {
                out.append("[]");
                return;
            }
            out.append("[\n");
            for (int i = 0; i < node.size(); i++) {
                out.append(indent.repeat(depth + 1));
                write(out, node.get(i), indent, depth + 1);
                out.append(i + 1 < node.size() ? ",\n" : "\n");
            }
            out.append(indent.repeat(depth)).append(']');
        } else {
            out.append(SCALARS.writeValueAsString(node));
        }
    }
}
