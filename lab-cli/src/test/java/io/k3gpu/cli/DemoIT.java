package io.k3gpu.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** `k3gpu demo` runs in CI: the seed's story end to end on the lab, the failing verify included. */
class DemoIT {
    @Test
    void theWholeStoryDoesWhatItShould() {
        Cli.Result r = Cli.lab("demo");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out())
                .contains("FAIL: the container runtime on jetson1 is not NVIDIA-enabled")
                .contains("fix: run: k3gpu gpu-runtime --ip ")
                .contains("PASS: CUDA libraries load in containers on jetson1")
                .contains("Complete in").contains("test accuracy")
                .contains("demo: every step did what it should")
                .doesNotContain("NOT as expected");
    }
}
