package io.k3gpu.cli;

import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** The one JSON writer of the CLI: pretty objects for -o json. */
final class Json {
    static final JsonMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private Json() {
    }

    static String pretty(Object value) {
        return MAPPER.writeValueAsString(value);
    }
}
