package io.k3gpu.core.verify;

import io.k3gpu.core.kube.GpuAccess;
import io.k3gpu.core.kube.GpuPodSpec;
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
    void whereAPluginAdvertisesGpusThePodRequestsOneAndNamesTheRuntimeClassOnContainerd() {
        String yaml = GpuTestPod.manifest("k3gpu-verify-orin1-x7k2p", "default", "orin1",
                VerifyImage.forNode("arm64", "36.4.3", null), null, GpuPodSpec.of(new GpuAccess(false, false, 1)));
        assertThat(yaml).isEqualTo("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: k3gpu-verify-orin1-x7k2p
                  labels:
                    app.kubernetes.io/name: gpu-test
                    app.kubernetes.io/managed-by: k3gpu
                  namespace: default
                spec:
                  nodeSelector:
                    kubernetes.io/hostname: orin1
                  restartPolicy: Never
                  containers:
                    - name: gpu-test
                      image: dustynv/l4t-pytorch:r36.4.0
                      command:
                        - python3
                        - -c
                        - import torch; print('CUDA available:', torch.cuda.is_available(), torch.cuda.device_count(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')
                      resources:
                        limits:
                          nvidia.com/gpu: 1
                  runtimeClassName: nvidia
                """);
    }

    @Test
    void onDockerOrWhereNvidiaIsTheDefaultThePodRequestsTheGpuWithoutARuntimeClass() {
        VerifyImage nano = VerifyImage.forNode("arm64", "32.7.1", null);
        String docker = GpuTestPod.manifest("p", "default", "nano1", nano, null,
                GpuPodSpec.of(new GpuAccess(true, true, 1)));
        assertThat(docker).contains("      resources:\n        limits:\n          nvidia.com/gpu: 1\n")
                .doesNotContain("runtimeClassName");
        String flag = GpuTestPod.manifest("p", "default", "orin1", nano, null,
                GpuPodSpec.of(new GpuAccess(false, true, 4)));
        assertThat(flag).contains("nvidia.com/gpu: 1").doesNotContain("runtimeClassName");
    }

    @Test
    void withoutAPluginItStaysTheSeedsPod() {
        VerifyImage nano = VerifyImage.forNode("arm64", "32.7.1", null);
        assertThat(GpuTestPod.manifest("p", "default", "orin1", nano, null,
                GpuPodSpec.of(new GpuAccess(false, false, 0))))
                .isEqualTo(GpuTestPod.manifest("p", "default", "orin1", nano, null));
        assertThat(GpuPodSpec.of(new GpuAccess(false, false, 0)).describe())
                .isEqualTo("no nvidia.com/gpu request (the node advertises none): the node's default runtime");
        assertThat(GpuPodSpec.of(new GpuAccess(false, false, 1)).describe())
                .isEqualTo("nvidia.com/gpu: 1, runtimeClassName nvidia");
    }

    @Test
    void imagesFollowTheJetPack() {
        assertThat(VerifyImage.forNode("arm64", "36.4.3", null).image()).isEqualTo("dustynv/l4t-pytorch:r36.4.0");
        assertThat(VerifyImage.forNode("arm64", "35.4.1", null).framework()).isEqualTo(VerifyImage.Framework.PYTORCH);
        assertThat(VerifyImage.forNode("arm64", "32.7.1", "nvcr.io/nvidia/l4t-tensorflow:r32.7.1-tf2.7-py3").framework())
                .isEqualTo(VerifyImage.Framework.TENSORFLOW);
    }
}
