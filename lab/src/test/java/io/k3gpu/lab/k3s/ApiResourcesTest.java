package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ApiResourcesTest {
    @Test
    void parsesCoreAndGroupPaths() {
        ApiResources.ApiPath p = ApiResources.parse("/api/v1/namespaces/default/pods/gpu-test/log");
        assertThat(p.resource().kind()).isEqualTo("Pod");
        assertThat(p.namespace()).isEqualTo("default");
        assertThat(p.name()).isEqualTo("gpu-test");
        assertThat(p.subresource()).isEqualTo("log");
        assertThat(p.storePath()).isEqualTo("/api/v1/namespaces/default/pods/gpu-test");

        ApiResources.ApiPath node = ApiResources.parse("/api/v1/nodes/jetson1/status");
        assertThat(node.resource().kind()).isEqualTo("Node");
        assertThat(node.namespace()).isNull();
        assertThat(node.subresource()).isEqualTo("status");

        ApiResources.ApiPath jobs = ApiResources.parse("/apis/batch/v1/namespaces/ml/jobs");
        assertThat(jobs.resource().kind()).isEqualTo("Job");
        assertThat(jobs.name()).isNull();

        assertThat(ApiResources.parse("/api/v1/namespaces/default").resource().kind()).isEqualTo("Namespace");
        assertThat(ApiResources.parse("/api/v1/namespaces/default/status").subresource()).isEqualTo("status");
        assertThat(ApiResources.parse("/api/v1/pods").namespace()).isNull();
        assertThat(ApiResources.parse("/api/v1/watch/namespaces/default/pods").legacyWatch()).isTrue();
    }

    @Test
    void unknownOrMalformedPathsAreNotResources() {
        assertThat(ApiResources.parse("/api/v1/widgets")).isNull();
        assertThat(ApiResources.parse("/api/v1/pods/p1")).isNull();
        assertThat(ApiResources.parse("/api/v1/nodes/n/bogus")).isNull();
        assertThat(ApiResources.parse("/version")).isNull();
    }
}
