package io.k3gpu.core.verify;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class GpuTestPodTest {
    @Test
    void seedPodForAJetsonNano() {
        String yaml = GpuTestPod.manifest("k3gpu-verify-jetson", "default", "jetson",
                VerifyImage.forNode("arm64", "32.7.1", null), null);
        assertThat(yaml).isEqualTo("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: k3gpu-verify-jetson
                  labels:
                    app.kubernetes.io/name: gpu-test
                    app.kubernetes.io/managed-by: k3gpu
                  namespace: default
                spec:
                  nodeSelector:
                    kubernetes.io/hostname: jetson
                  restartPolicy: Never
                  containers:
                    - name: gpu-test
                      image: icetekio/jetson-nano-tensorflow
                      command:
                        - /bin/bash
                        - -c
                        - echo 'import tensorflow' | python3
                """);
    }

    @Test
    void probePodMountsTheScriptFromAConfigMap() {
        String yaml = GpuTestPod.manifest("p", "default", "gpu1", VerifyImage.forNode("amd64", null, null), "k3gpu-workloads");
        assertThat(yaml).contains("image: nvcr.io/nvidia/pytorch:24.12-py3")
                .contains("- python3\n        - /opt/k3gpu/gpu_probe.py")
                .contains("configMap:\n        name: k3gpu-workloads");
    }

    @Test
    void imagesFollowTheJetPack() {
        assertThat(VerifyImage.forNode("arm64", "36.4.3", null).image()).isEqualTo("dustynv/l4t-pytorch:r36.4.0");
        assertThat(VerifyImage.forNode("arm64", "35.4.1", null).framework()).isEqualTo(VerifyImage.Framework.PYTORCH);
        assertThat(VerifyImage.forNode("arm64", "32.7.1", "nvcr.io/nvidia/l4t-tensorflow:r32.7.1-tf2.7-py3").framework())
                .isEqualTo(VerifyImage.Framework.TENSORFLOW);
    }
}
