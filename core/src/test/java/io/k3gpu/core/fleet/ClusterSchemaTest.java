package io.k3gpu.core.fleet;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The shipped JSON Schema agrees with the loader and accepts the shipped example. */
class ClusterSchemaTest {
    private static final JsonNode SCHEMA = schema();

    private static JsonNode schema() {
        try (InputStream in = ClusterFile.class.getResourceAsStream("/io/k3gpu/fleet/cluster.schema.json")) {
            assertThat(in).as("the schema is on the classpath").isNotNull();
            return JsonMapper.builder().build().readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object yaml(String text) {
        return new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    }

    @Test
    void theShippedExampleValidatesAgainstTheSchema() throws IOException {
        Object doc = yaml(Files.readString(ClusterFileTest.EXAMPLE));
        assertThat(validate(SCHEMA, doc, "$")).isEmpty();
    }

    @Test
    void theSchemaRefusesWhatTheLoaderRefuses() {
        Object doc = yaml("""
                cluster: {token: K10secret, readyTimeout: soon}
                ssh: {port: 0, strictHostKeyChecking: maybe}
                hosts:
                  - {address: 10.0.0.1, role: master, gpuu: docker, taints: ["x:Sometimes"]}
                """);
        assertThat(validate(SCHEMA, doc, "$")).containsExactlyInAnyOrder(
                "$.cluster.token: expected object",
                "$.cluster.readyTimeout: does not match the pattern",
                "$.ssh.port: below the minimum 1",
                "$.ssh.strictHostKeyChecking: not one of [\"yes\",\"accept-new\",\"no\",true,false]",
                "$.hosts[0].role: not one of [\"server\",\"agent\"]",
                "$.hosts[0].gpuu: not allowed",
                "$.hosts[0].taints[0]: does not match the pattern");
    }

    @Test
    void theSchemaHasExactlyTheKeysTheLoaderKnows() {
        JsonNode p = SCHEMA.get("properties");
        assertThat(names(SCHEMA.get("properties"))).isEqualTo(ClusterFile.TOP_KEYS);
        assertThat(names(p.get("cluster").get("properties"))).isEqualTo(ClusterFile.CLUSTER_KEYS);
        assertThat(names(p.get("cluster").get("properties").get("token").get("properties")))
                .isEqualTo(ClusterFile.TOKEN_KEYS);
        assertThat(names(p.get("cluster").get("properties").get("kubeconfig").get("properties")))
                .isEqualTo(ClusterFile.KUBECONFIG_KEYS);
        assertThat(names(p.get("cluster").get("properties").get("devicePlugin").get("properties")))
                .isEqualTo(ClusterFile.DEVICE_PLUGIN_KEYS);
        assertThat(names(SCHEMA.get("$defs").get("ssh").get("properties"))).isEqualTo(ClusterFile.SSH_KEYS);
        assertThat(names(p.get("hosts").get("items").get("properties"))).isEqualTo(ClusterFile.HOST_KEYS);
        assertThat(names(SCHEMA.get("$defs").get("secret").get("properties"))).isEqualTo(ClusterFile.SECRET_KEYS);
    }

    @Test
    void theSchemaTakesASudoPasswordFromWhereItComesNeverItself() {
        Object doc = yaml("""
                ssh: {sudoPassword: hunter2}
                hosts:
                  - {address: 10.0.0.1, role: server, ssh: {sudoPassword: {env: K3GPU_A, file: b}}}
                  - {address: 10.0.0.2, role: agent, ssh: {sudoPassword: {}}}
                  - {address: 10.0.0.3, role: agent, ssh: {sudoPassword: {env: FLEET_SUDO_PASSWORD}}}
                  - {address: 10.0.0.4, role: agent, ssh: {sudoPassword: {file: ./pw}}}
                  - {address: 10.0.0.5, role: agent, ssh: {sudoPassword: {env: AWS_SECRET_ACCESS_KEY}}}
                """);
        assertThat(validate(SCHEMA, doc, "$")).containsExactlyInAnyOrder(
                "$.ssh.sudoPassword: expected object",
                "$.hosts[0].ssh.sudoPassword: more than 1 properties",
                "$.hosts[1].ssh.sudoPassword: fewer than 1 properties",
                "$.hosts[4].ssh.sudoPassword.env: does not match the pattern");
    }

    private static List<String> names(JsonNode properties) {
        return new ArrayList<>(properties.propertyNames());
    }

    /**
     * The part of JSON Schema 2020-12 the shipped schema uses: $ref to #/$defs, type, enum, pattern, minLength,
     * minimum, maximum, properties, required, additionalProperties, minProperties, maxProperties, propertyNames,
     * items, minItems.
     */
    static List<String> validate(JsonNode schema, Object value, String at) {
        List<String> errors = new ArrayList<>();
        if (schema.has("$ref")) {
            String ref = schema.get("$ref").asString();
            JsonNode target = SCHEMA.at(ref.substring(1));
            errors.addAll(validate(target, value, at));
        }
        if (schema.has("type")) {
            List<String> types = new ArrayList<>();
            if (schema.get("type").isArray()) {
                schema.get("type").forEach(t -> types.add(t.asString()));
            } else {
                types.add(schema.get("type").asString());
            }
            if (types.stream().noneMatch(t -> is(t, value))) {
                errors.add(at + ": expected " + String.join(" or ", types));
                return errors;
            }
        }
        if (schema.has("enum")) {
            boolean found = false;
            for (JsonNode e : schema.get("enum")) {
                found |= e.isBoolean() ? Boolean.valueOf(e.asBoolean()).equals(value)
                        : e.isString() && e.asString().equals(value);
            }
            if (!found) {
                errors.add(at + ": not one of " + schema.get("enum"));
            }
        }
        if (schema.has("pattern") && value instanceof String s
                && !Pattern.compile(schema.get("pattern").asString()).matcher(s).find()) {
            errors.add(at + ": does not match the pattern");
        }
        if (schema.has("pattern") && value instanceof Integer i
                && !Pattern.compile(schema.get("pattern").asString()).matcher(i.toString()).find()) {
            errors.add(at + ": does not match the pattern");
        }
        if (schema.has("minLength") && value instanceof String s && s.length() < schema.get("minLength").asInt()) {
            errors.add(at + ": shorter than " + schema.get("minLength").asInt());
        }
        if (value instanceof Number n) {
            if (schema.has("minimum") && n.doubleValue() < schema.get("minimum").asDouble()) {
                errors.add(at + ": below the minimum " + schema.get("minimum").asInt());
            }
            if (schema.has("maximum") && n.doubleValue() > schema.get("maximum").asDouble()) {
                errors.add(at + ": above the maximum " + schema.get("maximum").asInt());
            }
        }
        if (value instanceof Map<?, ?> m) {
            if (schema.has("required")) {
                schema.get("required").forEach(r -> {
                    if (!m.containsKey(r.asString())) {
                        errors.add(at + ": missing " + r.asString());
                    }
                });
            }
            if (schema.has("minProperties") && m.size() < schema.get("minProperties").asInt()) {
                errors.add(at + ": fewer than " + schema.get("minProperties").asInt() + " properties");
            }
            if (schema.has("maxProperties") && m.size() > schema.get("maxProperties").asInt()) {
                errors.add(at + ": more than " + schema.get("maxProperties").asInt() + " properties");
            }
            JsonNode props = schema.get("properties");
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String key = String.valueOf(e.getKey());
                if (schema.has("propertyNames")) {
                    errors.addAll(validate(schema.get("propertyNames"), key, at + "." + key + " (name)"));
                }
                if (props != null && props.has(key)) {
                    errors.addAll(validate(props.get(key), e.getValue(), at + "." + key));
                } else if (schema.has("additionalProperties")) {
                    JsonNode ap = schema.get("additionalProperties");
                    if (ap.isBoolean() && !ap.asBoolean()) {
                        errors.add(at + "." + key + ": not allowed");
                    } else if (ap.isObject()) {
                        errors.addAll(validate(ap, e.getValue(), at + "." + key));
                    }
                }
            }
        }
        if (value instanceof List<?> l) {
            if (schema.has("minItems") && l.size() < schema.get("minItems").asInt()) {
                errors.add(at + ": fewer than " + schema.get("minItems").asInt() + " items");
            }
            if (schema.has("items")) {
                for (int i = 0; i < l.size(); i++) {
                    errors.addAll(validate(schema.get("items"), l.get(i), at + "[" + i + "]"));
                }
            }
        }
        return errors;
    }

    private static boolean is(String type, Object v) {
        return switch (type) {
            case "object" -> v instanceof Map;
            case "array" -> v instanceof List;
            case "string" -> v instanceof String;
            case "integer" -> v instanceof Integer || v instanceof Long;
            case "number" -> v instanceof Number;
            case "boolean" -> v instanceof Boolean;
            case "null" -> v == null;
            default -> throw new IllegalArgumentException("type " + type);
        };
    }
}
