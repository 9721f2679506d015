package io.k3gpu.core.kube;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PodSummaryTest {
    @Test
    void aPodHoldsTheLargerOfItsContainersSumAndItsLargestInitContainer() {
        assertThat(PodSummary.effectiveGpus(List.of(1L, 1L), List.of(1L))).isEqualTo(2);
        assertThat(PodSummary.effectiveGpus(List.of(0L), List.of(3L, 1L))).isEqualTo(3);
        assertThat(PodSummary.effectiveGpus(List.of(), List.of())).isZero();
    }

    @Test
    void aPodAsTheApiGivesItCountsLimitsWhereNoRequestIsWrittenAndTheContainersState() {
        Pod p = Serialization.unmarshal("""
                apiVersion: v1
                kind: Pod
                metadata: {name: nvidia-device-plugin-daemonset-4xq2z, namespace: kube-system}
                spec:
                  nodeName: thor1
                  containers:
                  - name: nvidia-device-plugin-ctr
                    image: nvcr.io/nvidia/k8s-device-plugin:v0.17.4
                  - name: train
                    image: x
                    resources: {limits: {nvidia.com/gpu: "2"}}
                status:
                  phase: Running
                  containerStatuses:
                  - name: nvidia-device-plugin-ctr
                    restartCount: 4
                    state: {waiting: {reason: CrashLoopBackOff, message: back-off 1m20s}}
                  - name: train
                    restartCount: 0
                    state: {running: {startedAt: "2026-12-05T12:00:00Z"}}
                """, Pod.class);
        PodSummary s = Fabric8Models.summary(p);
        assertThat(s.node()).isEqualTo("thor1");
        assertThat(s.gpus()).isEqualTo(2);
        assertThat(s.devicePlugin()).isTrue();
        assertThat(s.running()).isFalse();
        assertThat(s.containers().get(0)).isEqualTo(new PodSummary.Container("nvidia-device-plugin-ctr",
                "nvcr.io/nvidia/k8s-device-plugin:v0.17.4", "Waiting", "CrashLoopBackOff", "back-off 1m20s", 4));
        assertThat(s.containers().get(1).state()).isEqualTo("Running");
    }
}
