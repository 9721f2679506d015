package io.k3gpu.core.plugin;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ToolkitVersionTest {
    @Test
    void jetsonNeedsToolkit111OrLater() {
        assertThat(ToolkitVersion.supportsJetson("1.7.0")).contains(false);
        assertThat(ToolkitVersion.supportsJetson("1.10.99")).contains(false);
        assertThat(ToolkitVersion.supportsJetson("1.11.0")).contains(true);
        assertThat(ToolkitVersion.supportsJetson("1.16.2")).contains(true);
        assertThat(ToolkitVersion.supportsJetson("1.13.0-rc.1")).contains(true);
        assertThat(ToolkitVersion.supportsJetson("2.0.0")).contains(true);
        assertThat(ToolkitVersion.supportsJetson("0.99")).contains(false);
    }

    @Test
    void aVersionThatCannotBeReadIsNotJudged() {
        assertThat(ToolkitVersion.supportsJetson(null)).isEmpty();
        assertThat(ToolkitVersion.supportsJetson("unknown")).isEmpty();
        assertThat(ToolkitVersion.supportsJetson("1")).isEmpty();
        assertThat(ToolkitVersion.supportsJetson("99999999999.1")).isEmpty();
    }
}
