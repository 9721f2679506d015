package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The self reviews: what kubectl auth can-i / whoami get back for an identity. */
class ReviewsTest {
    @Test
    void accessReviewEchoesTheSpecAndAllows() {
        ApiHandler.Response r = Reviews.answer(Reviews.ACCESS, """
                {"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{},
                 "spec":{"resourceAttributes":{"namespace":"default","verb":"create","resource":"pods"}}}""",
                "system:admin", List.of("system:masters"));
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.bodyText()).isEqualTo("{\"kind\":\"SelfSubjectAccessReview\",\"apiVersion\":"
                + "\"authorization.k8s.io/v1\",\"metadata\":{\"creationTimestamp\":null},\"spec\":{\"resourceAttributes\":"
                + "{\"namespace\":\"default\",\"verb\":\"create\",\"resource\":\"pods\"}},\"status\":{\"allowed\":true}}");
        assertThat(Reviews.answer(Reviews.ACCESS, "{\"spec\":{}}", "u", List.of()).status()).isEqualTo(422);
    }

    @Test
    void whoamiAddsTheAuthenticatedGroup() {
        ApiHandler.Response r = Reviews.answer(Reviews.WHOAMI, "{\"kind\":\"SelfSubjectReview\"}", "system:admin",
                List.of("system:masters"));
        assertThat(r.bodyText()).isEqualTo("{\"kind\":\"SelfSubjectReview\",\"apiVersion\":\"authentication.k8s.io/v1\","
                + "\"metadata\":{\"creationTimestamp\":null},\"status\":{\"userInfo\":{\"username\":\"system:admin\","
                + "\"groups\":[\"system:masters\",\"system:authenticated\"]}}}");
        assertThat(Reviews.handles("POST", Reviews.WHOAMI)).isTrue();
        assertThat(Reviews.handles("GET", Reviews.WHOAMI)).isFalse();
    }
}
