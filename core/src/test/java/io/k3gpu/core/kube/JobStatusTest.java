package io.k3gpu.core.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class JobStatusTest {
    private static JobStatus job(Integer completions, Integer parallelism) {
        return new JobStatus("j", "default", "Running", null, null, Map.of(), completions, parallelism);
    }

    @Test
    void theWorldSizeIsTheLargerOfCompletionsAndParallelismAndOneWhenUnset() {
        assertThat(new JobStatus("j", "default", "Running", null, null, Map.of()).worldSize()).isEqualTo(1);
        assertThat(job(null, null).worldSize()).isEqualTo(1);
        assertThat(job(1, 1).worldSize()).isEqualTo(1);
        // an Indexed Job of a 4-node run: completions = parallelism = 4
        assertThat(job(4, 4).worldSize()).isEqualTo(4);
        assertThat(job(null, 3).worldSize()).isEqualTo(3);
        assertThat(job(2, null).worldSize()).isEqualTo(2);
        assertThat(job(0, 0).worldSize()).isEqualTo(1);
    }
}
