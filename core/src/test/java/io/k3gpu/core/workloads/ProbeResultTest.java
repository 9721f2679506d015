package io.k3gpu.core.workloads;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProbeResultTest {

    @Test
    void parsesTheMeasuredH200Line() {
        ProbeResult p = ProbeResult.parse(Golden.line("probe-h200.jsonl", 0));

        assertThat(p.framework()).isEqualTo("torch");
        assertThat(p.hasFramework()).isTrue();
        assertThat(p.frameworkVersion()).isEqualTo("2.11.0+cu130");
        assertThat(p.python()).isEqualTo("3.12.3");
        assertThat(p.cudaVisible()).isTrue();
        assertThat(p.deviceCount()).isEqualTo(1);
        assertThat(p.deviceName()).isEqualTo("NVIDIA H200");
        assertThat(p.computeCapability()).isEqualTo("9.0");
        assertThat(p.multiProcessorCount()).isEqualTo(132);
        assertThat(p.memoryTotalBytes()).isEqualTo(150_109_880_320L);
        assertThat(p.memoryTotalGiB()).hasValueSatisfying(g -> assertThat(g).isBetween(139.7, 139.9));
        assertThat(p.cudaVersion()).isEqualTo("13.0");
        assertThat(p.cudnnVersion()).isEqualTo("9.19.0");
        assertThat(p.driverVersion()).isEqualTo("580.159.04");
        assertThat(p.jetsonRelease()).isNull();
        assertThat(p.libraryNames()).containsExactly("libcublas.so.13", "libcublasLt.so.13",
                "libcuda.so.580.159.04", "libcudart.so.13", "libcudnn.so.9", "libnvrtc.so.13");
        assertThat(p.libraries().get(3).path())
                .isEqualTo("/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcudart.so.13");
        assertThat(p.matmulSize()).isEqualTo(8192);
        assertThat(p.matmulBf16Tflops()).isEqualTo(685.15);
        assertThat(p.matmulFp16Tflops()).isEqualTo(664.39);
        assertThat(p.matmulTf32Tflops()).isEqualTo(362.13);
        assertThat(p.matmulFp32Tflops()).isEqualTo(50.99);
        assertThat(p.copyBytes()).isEqualTo(1L << 30);
        assertThat(p.copyBandwidthGBps()).isEqualTo(4270.3);
        assertThat(p.copyBandwidthCountsReadAndWrite()).isTrue();
        assertThat(p.copyMethod()).isEqualTo("torch.Tensor.copy_");
        assertThat(p.benchmarkDevice()).isEqualTo("cuda:0");
        assertThat(p.durationSeconds()).isEqualTo(6.96);
        assertThat(p.errors()).isEmpty();
        assertThat(p.measured()).isTrue();
    }

    @Test
    void skipBenchmarksReportsFactsWithoutFigures() {
        ProbeResult p = ProbeResult.parse(Golden.line("probe-h200.jsonl", 2));

        assertThat(p.cudaVisible()).isTrue();
        assertThat(p.deviceName()).isEqualTo("NVIDIA H200");
        assertThat(p.matmulSize()).isNull();
        assertThat(p.matmulBf16Tflops()).isNull();
        assertThat(p.copyBandwidthGBps()).isNull();
        assertThat(p.benchmarkDevice()).isNull();
        assertThat(p.measured()).isFalse();
    }

    @Test
    void frameworkWithoutVisibleCuda() {
        // CUDA_VISIBLE_DEVICES= on the H200: PyTorch imports, sees no device
        ProbeResult p = ProbeResult.parse(Golden.line("probe-h200.jsonl", 3));

        assertThat(p.framework()).isEqualTo("torch");
        assertThat(p.cudaVisible()).isFalse();
        assertThat(p.deviceCount()).isZero();
        assertThat(p.deviceName()).isNull();
        assertThat(p.cudaVersion()).isEqualTo("13.0");
        assertThat(p.driverVersion()).isEqualTo("580.159.04");
        assertThat(p.measured()).isFalse();
    }

    @Test
    void noFrameworkAtAll() {
        ProbeResult onH200 = ProbeResult.parse(Golden.line("probe-h200.jsonl", 4));
        ProbeResult local = ProbeResult.parse(Golden.line("probe-local.jsonl", 1));

        for (ProbeResult p : new ProbeResult[] {onH200, local}) {
            assertThat(p.framework()).isNull();
            assertThat(p.hasFramework()).isFalse();
            assertThat(p.cudaVisible()).isFalse();
            assertThat(p.libraries()).isEmpty();
            assertThat(p.errors()).isEmpty();
        }
        assertThat(onH200.driverVersion()).isEqualTo("580.159.04");
        assertThat(local.driverVersion()).isNull();
    }

    @Test
    void tensorflowMeasuredOnTheCpu() {
        ProbeResult p = ProbeResult.parse(Golden.line("probe-local.jsonl", 0));

        assertThat(p.framework()).isEqualTo("tensorflow");
        assertThat(p.frameworkVersion()).isEqualTo("2.21.0");
        assertThat(p.cudaVisible()).isFalse();
        assertThat(p.benchmarkDevice()).isEqualTo("/CPU:0");
        assertThat(p.matmulFp32Tflops()).isPositive();
        assertThat(p.copyMethod()).isEqualTo("tf.raw_ops.DeepCopy");
        assertThat(p.measured()).isFalse(); // not on a CUDA device
    }

    @Test
    void fromLogsTakesTheLastProbeLineAndSkipsOtherOutput() {
        String logs = "gpu-probe: PyTorch 2.11.0+cu130, CUDA 13.0, device 0: NVIDIA H200\n"
                + "{\"event\":\"epoch\",\"epoch\":1,\"epochs\":1}\n"
                + "{not json\n"
                + Golden.line("probe-h200.jsonl", 0) + "\n"
                + "gpu-probe: loaded libcudart.so.13 from /x\n"
                + Golden.line("probe-h200.jsonl", 1) + "\n";

        assertThat(ProbeResult.fromLogs(logs)).hasValueSatisfying(p -> assertThat(p.matmulBf16Tflops()).isEqualTo(686.73));
        assertThat(ProbeResult.fromLogs("Could not load dynamic library 'libcudart.so.10.2'\n")).isEmpty();
        assertThat(ProbeResult.fromLogs(null)).isEmpty();
    }

    @Test
    void rejectsWhatIsNotAProbeLine() {
        assertThatThrownBy(() -> ProbeResult.parse("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ProbeResult.parse("gpu-probe: hello")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> ProbeResult.parse("{\"event\":\"probe\",")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("malformed JSON");
        assertThatThrownBy(() -> ProbeResult.parse(Golden.line("train-h200-torch.jsonl", 0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("event start");
        assertThatThrownBy(() -> ProbeResult.parse("{\"event\":\"probe\",\"cudaVisible\":\"yes\"}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cudaVisible");
        assertThatThrownBy(() -> ProbeResult.parse("{\"event\":\"probe\",\"matmulBf16Tflops\":\"fast\"}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("matmulBf16Tflops");
        assertThat(ProbeResult.tryParse("{\"event\":\"probe\",\"cudaVisible\":\"yes\"}")).isEmpty();
    }

    @Test
    void minimalAndNonFiniteValues() {
        ProbeResult p = ProbeResult.parse("{\"event\":\"probe\",\"cudaVisible\":true,\"matmulFp16Tflops\":NaN}");

        assertThat(p.cudaVisible()).isTrue();
        assertThat(p.deviceCount()).isZero();
        assertThat(p.matmulFp16Tflops()).isNull();
        assertThat(p.libraries()).isEmpty();
        assertThat(p.errors()).isEmpty();
    }

    @Test
    void errorsAreKept() {
        ProbeResult p = ProbeResult.parse(
                "{\"event\":\"probe\",\"framework\":\"torch\",\"errors\":[\"matmul bf16: CUDA error: no kernel image\"]}");

        assertThat(p.errors()).containsExactly("matmul bf16: CUDA error: no kernel image");
    }
}
