package io.k3gpu.core.k3s;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class K3sVersionTest {
    @Test
    void releasesOrderByKubernetesVersionThenK3sBuild() {
        K3sVersion a = K3sVersion.parse("v1.30.8+k3s1").orElseThrow();
        K3sVersion b = K3sVersion.parse("v1.31.4+k3s1").orElseThrow();
        K3sVersion c = K3sVersion.parse("v1.31.4+k3s2").orElseThrow();
        K3sVersion rc = K3sVersion.parse("v1.31.4-rc1+k3s1").orElseThrow();
        assertThat(a).isLessThan(b);
        assertThat(b).isLessThan(c);
        assertThat(rc.build()).isEqualTo(1);
        assertThat(b.line()).isEqualTo("v1.31");
        assertThat(K3sVersion.parse("stable")).isEmpty();
        assertThat(K3sVersion.parse(null)).isEmpty();
    }
}
