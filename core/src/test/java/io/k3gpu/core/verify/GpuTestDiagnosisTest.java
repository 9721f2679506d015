package io.k3gpu.core.verify;

import io.k3gpu.core.kube.PodOutcome;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class GpuTestDiagnosisTest {
    /** The seed article's logs when the NVIDIA runtime is the default. */
    static final String SEED_PASS = """
            2021-01-06 13:01:17.066446: I tensorflow/stream_executor/platform/default/dso_loader.cc:49] Successfully opened dynamic library libcudart.so.10.2
            """;
    /** ... and when it is not. */
    static final String SEED_FAIL = """
            2021-01-06 12:42:48.440826: W tensorflow/stream_executor/platform/default/dso_loader.cc:60] Could not load dynamic library 'libcudart.so.10.2'; dlerror: libcudart.so.10.2: cannot open shared object file: No such file or directory; LD_LIBRARY_PATH: /usr/local/cuda-10.2/targets/aarch64-linux/lib:
            2021-01-06 12:42:48.440906: I tensorflow/stream_executor/cuda/cudart_stub.cc:29] Ignore above cudart dlerror if you do not have a GPU set up on your machine.
            """;
    private static final PodOutcome SUCCEEDED = new PodOutcome("Succeeded", 0, null, null, null, false);

    @Test
    void seedSuccessLinePasses() {
        Verdict v = GpuTestDiagnosis.diagnose(SUCCEEDED, SEED_PASS, "jetson", "192.168.0.40", false);
        assertThat(v.pass()).isTrue();
        assertThat(v.reason()).isEqualTo("CUDA libraries load in containers on jetson");
        assertThat(v.evidence()).singleElement().asString().endsWith("Successfully opened dynamic library libcudart.so.10.2");
    }

    @Test
    void seedDlerrorFailsAndNamesTheFix() {
        Verdict v = GpuTestDiagnosis.diagnose(SUCCEEDED, SEED_FAIL, "jetson", "192.168.0.40", false);
        assertThat(v.pass()).isFalse();
        assertThat(v.reason()).isEqualTo("the container runtime on jetson is not NVIDIA-enabled: the CUDA libraries"
                + " could not be loaded in the container");
        assertThat(v.hint()).isEqualTo("run: k3gpu gpu-runtime --ip 192.168.0.40");
        assertThat(v.evidence()).singleElement().asString().contains("Could not load dynamic library 'libcudart.so.10.2'");
    }

    @Test
    void imagePullFailureIsReportedAsSuch() {
        PodOutcome pull = new PodOutcome("Pending", null, "ImagePullBackOff", "Back-off pulling image \"nope/nope\"", null, true);
        Verdict v = GpuTestDiagnosis.diagnose(pull, "", "jetson", null, false);
        assertThat(v.pass()).isFalse();
        assertThat(v.reason()).startsWith("the image could not be pulled on jetson (ImagePullBackOff)");
    }

    @Test
    void unschedulablePodSaysWhy() {
        PodOutcome p = new PodOutcome("Pending", null, null, null,
                "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.", true);
        Verdict v = GpuTestDiagnosis.diagnose(p, null, "ghost", null, false);
        assertThat(v.reason()).isEqualTo("the pod could not be scheduled on ghost: 0/2 nodes are available: "
                + "2 node(s) didn't match Pod's node affinity/selector.");
    }

    @Test
    void pytorchImagesAreReadToo() {
        assertThat(GpuTestDiagnosis.diagnose(SUCCEEDED, "CUDA available: True 1 NVIDIA H200\n", "gpu1", "10.0.0.3", false).pass()).isTrue();
        Verdict no = GpuTestDiagnosis.diagnose(SUCCEEDED, "CUDA available: False 0 \n", "gpu1", "10.0.0.3", false);
        assertThat(no.pass()).isFalse();
        assertThat(no.hint()).isEqualTo("run: k3gpu gpu-runtime --ip 10.0.0.3");
    }

    @Test
    void silentFailureShowsTheLogTail() {
        Verdict v = GpuTestDiagnosis.diagnose(new PodOutcome("Failed", 1, null, null, null, false),
                "Traceback (most recent call last):\nImportError: no module named tensorflow\n", "jetson", null, false);
        assertThat(v.pass()).isFalse();
        assertThat(v.reason()).contains("(Failed, exit 1)");
        assertThat(v.evidence()).contains("ImportError: no module named tensorflow");
    }
}
