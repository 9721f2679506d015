package io.k3gpu.core.k3s;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class NvidiaDefaultRouteTest {
    @Test
    void agentsHaveTheFlagFromV129AndTheDecember2023Backports() {
        assertThat(NvidiaDefaultRoute.supports("v1.29.0+k3s1", false)).isTrue();
        assertThat(NvidiaDefaultRoute.supports("v1.31.4+k3s1", false)).isTrue();
        assertThat(NvidiaDefaultRoute.supports("v1.28.5+k3s1", false)).isTrue();
        assertThat(NvidiaDefaultRoute.supports("v1.28.4+k3s2", false)).isFalse();
        assertThat(NvidiaDefaultRoute.supports("v1.27.9+k3s1", false)).isTrue();
        assertThat(NvidiaDefaultRoute.supports("v1.27.8+k3s2", false)).isFalse();
        assertThat(NvidiaDefaultRoute.supports("v1.26.12+k3s1", false)).isTrue();
        assertThat(NvidiaDefaultRoute.supports("v1.26.11+k3s2", false)).isFalse();
        assertThat(NvidiaDefaultRoute.supports("v1.25.16+k3s4", false)).isFalse();
        assertThat(NvidiaDefaultRoute.supports("v1.24.3+k3s1", false)).isFalse();
        assertThat(NvidiaDefaultRoute.supports("v2.0.0+k3s1", false)).isTrue();
    }

    @Test
    void serversHaveTheFlagOnlyFromV129() {
        assertThat(NvidiaDefaultRoute.supports("v1.29.0+k3s1", true)).isTrue();
        assertThat(NvidiaDefaultRoute.supports("v1.28.15+k3s1", true)).isFalse();
        assertThat(NvidiaDefaultRoute.supports("v1.26.12+k3s1", true)).isFalse();
    }

    @Test
    void aVersionItCannotReadHasNoFlag() {
        assertThat(NvidiaDefaultRoute.supports(null, false)).isFalse();
        assertThat(NvidiaDefaultRoute.supports("stable", false)).isFalse();
        assertThat(NvidiaDefaultRoute.supports("1.31.4", false)).isTrue();
    }

    @Test
    void planSaysWhichRouteAndWhy() {
        assertThat(NvidiaDefaultRoute.forVersion("v1.31.4+k3s1", false).describe())
                .isEqualTo("--default-runtime nvidia (K3s v1.31.4+k3s1)");
        assertThat(NvidiaDefaultRoute.forVersion("v1.24.3+k3s1", false).describe())
                .isEqualTo("containerd config.toml.tmpl (K3s v1.24.3+k3s1 has no --default-runtime)");
        assertThat(NvidiaDefaultRoute.forVersion("v1.28.5+k3s1", true).describe())
                .isEqualTo("containerd config.toml.tmpl (K3s v1.28.5+k3s1 has no --default-runtime for servers "
                        + "(it came to the server CLI in v1.29.0))");
        assertThat(NvidiaDefaultRoute.forVersion("v1.28.5+k3s1", false).flag()).isTrue();
    }

    @Test
    void aChannelIsJudgedByWhatItResolvesTo() {
        assertThat(NvidiaDefaultRoute.forChannel(null, false).describe())
                .isEqualTo("--default-runtime nvidia (channel stable)");
        assertThat(NvidiaDefaultRoute.forChannel("latest", true).flag()).isTrue();
        assertThat(NvidiaDefaultRoute.forChannel("v1.28", false).flag()).isTrue();
        assertThat(NvidiaDefaultRoute.forChannel("v1.28", true).flag()).isFalse();
        assertThat(NvidiaDefaultRoute.forChannel("v1.24", false).describe())
                .isEqualTo("containerd config.toml.tmpl (channel v1.24 gives a release without --default-runtime)");
    }
}
