package io.k3gpu.core.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.kube.ClusterApi;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class VerifyRecordTest {
    static final Instant AT = Instant.parse("2026-12-05T16:51:03.123456Z");

    static VerifyGpu.Result result(boolean pass, String reason) {
        return new VerifyGpu.Result("jetson1", pass, reason, "fix it", List.of("evidence"), "k3gpu-verify-jetson1-b2c4d",
                "icetekio/jetson-nano-tensorflow:latest", null, null, null, List.of());
    }

    @Test
    void theAnnotationIsOneCompactJsonObjectWithoutHintOrEvidence() {
        assertThat(VerifyRecord.of(result(true, "the pod saw the GPU (Orin)"), AT).toAnnotation()).isEqualTo(
                "{\"result\":\"PASS\",\"at\":\"2026-12-05T16:51:03Z\",\"reason\":\"the pod saw the GPU (Orin)\","
                        + "\"image\":\"icetekio/jetson-nano-tensorflow:latest\",\"pod\":\"k3gpu-verify-jetson1-b2c4d\"}");
        VerifyGpu.Result noPod = new VerifyGpu.Result("jetson1", false, "RuntimeClass nvidia is missing", null,
                List.of(), null, "img", null, null, null, List.of());
        assertThat(VerifyRecord.of(noPod, AT).toAnnotation()).isEqualTo("{\"result\":\"FAIL\","
                + "\"at\":\"2026-12-05T16:51:03Z\",\"reason\":\"RuntimeClass nvidia is missing\",\"image\":\"img\","
                + "\"pod\":null}");
    }

    @Test
    void aReasonFromTheNodeBecomesOneBoundedPrintableLine() {
        String fromLog = "CUDA error:\n\u001b[31mno device\u001b[0m\r\n\u202Etxt.exe\t" + "x".repeat(1000);
        VerifyRecord r = VerifyRecord.of(result(false, fromLog), AT);
        assertThat(r.reason()).startsWith("CUDA error: [31mno device [0m txt.exe x").endsWith("…")
                .hasSize(VerifyRecord.MAX_REASON).doesNotContain("\n", "\r", "\u001b", "\u202E", "\t");
        // the written value reads back as the same record, and stays far below the annotation's bound
        String value = r.toAnnotation();
        assertThat(value.length()).isLessThan(VerifyRecord.MAX_ANNOTATION);
        assertThat(VerifyRecord.parse(value)).contains(r);
    }

    @Test
    void anAnnotationSomeoneElseWroteIsReadDefensively() {
        assertThat(VerifyRecord.parse(null)).isEmpty();
        assertThat(VerifyRecord.parse("")).isEmpty();
        assertThat(VerifyRecord.parse("PASS")).isEmpty();
        assertThat(VerifyRecord.parse("[\"PASS\"]")).isEmpty();
        assertThat(VerifyRecord.parse("{\"result\":\"OK\"}")).isEmpty();
        assertThat(VerifyRecord.parse("{\"result\":true}")).isEmpty();
        assertThat(VerifyRecord.parse("{\"result\":\"PASS\",")).isEmpty();
        assertThat(VerifyRecord.parse("{\"result\":\"PASS\",\"reason\":\"" + "a".repeat(5000) + "\"}")).isEmpty();
        // wrong types and an unreadable time are unknowns; a long or multi-line reason is cut to one line
        Optional<VerifyRecord> odd = VerifyRecord.parse("{\"result\":\"FAIL\",\"at\":\"yesterday\",\"reason\":"
                + "\"<img src=x onerror=alert(1)>\\n" + "b".repeat(400) + "\",\"image\":{\"a\":1},\"pod\":7,\"x\":1}");
        assertThat(odd).isPresent();
        assertThat(odd.get().pass()).isFalse();
        assertThat(odd.get().at()).isNull();
        assertThat(odd.get().image()).isNull();
        assertThat(odd.get().pod()).isNull();
        // markup stays text: the page inserts it with textContent
        assertThat(odd.get().reason()).startsWith("<img src=x onerror=alert(1)> bbb").hasSize(VerifyRecord.MAX_REASON);
        assertThat(VerifyRecord.parse("{\"result\":\"PASS\",\"at\":\"2026-12-05T16:51:03Z\"}"))
                .contains(new VerifyRecord(true, Instant.parse("2026-12-05T16:51:03Z"), null, null, null));
    }

    @Test
    void theRecordGoesOnTheNodeAndARefusedWriteIsOnlyAWarning() {
        List<Object[]> patches = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        Events events = new Events() {
            @Override
            public void info(String host, String message) {
            }

            @Override
            public void warn(String host, String message) {
                warnings.add(host + ": " + message);
            }
        };
        VerifyGpu verify = new VerifyGpu(events);
        verify.record(api((node, annotations) -> patches.add(new Object[] {node, annotations})), result(true, "ok"), AT);
        assertThat(warnings).isEmpty();
        assertThat(patches).hasSize(1);
        assertThat(patches.get(0)[0]).isEqualTo("jetson1");
        assertThat(patches.get(0)[1]).isEqualTo(Map.of(VerifyRecord.ANNOTATION,
                VerifyRecord.of(result(true, "ok"), AT).toAnnotation()));

        verify.record(api((node, annotations) -> {
            throw new K3gpuException(ExitCode.KUBERNETES, "annotating node jetson1: Forbidden", "check RBAC");
        }), result(false, "no GPU"), AT);
        assertThat(warnings).containsExactly("jetson1: the result is not kept on the node (annotation "
                + "k3gpu.dev/verify): annotating node jetson1: Forbidden");
    }

    /** A cluster that only annotates (everything else is not called by record). */
    static ClusterApi api(java.util.function.BiConsumer<String, Map<String, String>> annotate) {
        return (ClusterApi) Proxy.newProxyInstance(ClusterApi.class.getClassLoader(), new Class<?>[] {ClusterApi.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("annotate")) {
                        @SuppressWarnings("unchecked")
                        Map<String, String> a = (Map<String, String>) args[1];
                        annotate.accept((String) args[0], a);
                        return null;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
