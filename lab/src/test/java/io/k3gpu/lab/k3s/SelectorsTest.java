package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

class SelectorsTest {
    private static final JsonNode POD = Json.parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\","
            + "\"labels\":{\"app\":\"gpu-test\",\"tier\":\"ml\"}},\"spec\":{\"nodeName\":\"jetson1\"},"
            + "\"status\":{\"phase\":\"Running\"}}");

    @Test
    void equalityAndSetBasedLabelSelectors() {
        assertThat(Selectors.labels("app=gpu-test").test(POD)).isTrue();
        assertThat(Selectors.labels("app==gpu-test,tier=ml").test(POD)).isTrue();
        assertThat(Selectors.labels("app!=gpu-test").test(POD)).isFalse();
        assertThat(Selectors.labels("tier in (ml, web)").test(POD)).isTrue();
        assertThat(Selectors.labels("tier notin (ml)").test(POD)).isFalse();
        assertThat(Selectors.labels("app").test(POD)).isTrue();
        assertThat(Selectors.labels("!gpu").test(POD)).isTrue();
        assertThat(Selectors.labels("missing=x").test(POD)).isFalse();
        assertThat(Selectors.labels(null).test(POD)).isTrue();
    }

    @Test
    void fieldSelectorsReadAnyPathAndMissingFieldsAreEmpty() {
        assertThat(Selectors.fields("spec.nodeName=jetson1").test(POD)).isTrue();
        assertThat(Selectors.fields("spec.nodeName=other").test(POD)).isFalse();
        assertThat(Selectors.fields("spec.nodeName=jetson1,status.phase!=Failed,status.phase!=Succeeded")
                .test(POD)).isTrue();
        assertThat(Selectors.fields("metadata.name=p,metadata.namespace=default").test(POD)).isTrue();
        assertThat(Selectors.fields("spec.schedulerName=").test(POD)).isTrue();
        assertThat(Selectors.fields("involvedObject.namespace=").test(POD)).isTrue();
    }

    @Test
    void malformedSelectorsAreRefused() {
        assertThatThrownBy(() -> Selectors.fields("nonsense")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Selectors.labels("a b")).isInstanceOf(IllegalArgumentException.class);
    }
}
