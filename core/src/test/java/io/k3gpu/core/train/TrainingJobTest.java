package io.k3gpu.core.train;

import io.k3gpu.core.kube.GpuAccess;
import io.k3gpu.core.kube.GpuPodSpec;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TrainingJobTest {
    @Test
    void seedRepoFlowClonesIntoAnEmptyDirAndRunsTheScript() {
        String yaml = TrainingJob.manifest(new TrainingJob.Spec("mnist-training", "default", "jetson",
                "icetekio/jetson-nano-tensorflow", "https://github.com/IceCI/example-mnist-training.git", "mnist.py",
                null, null, null, null, null));
        assertThat(yaml).isEqualTo("""
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: mnist-training
                  labels:
                    app.kubernetes.io/name: training
                    app.kubernetes.io/managed-by: k3gpu
                    k3gpu.dev/training: 'true'
                    k3gpu.dev/node: jetson
                  namespace: default
                spec:
                  backoffLimit: 0
                  ttlSecondsAfterFinished: 600
                  template:
                    metadata:
                      labels:
                        app.kubernetes.io/name: training
                        app.kubernetes.io/managed-by: k3gpu
                        k3gpu.dev/training: 'true'
                    spec:
                      nodeSelector:
                        kubernetes.io/hostname: jetson
                      restartPolicy: Never
                      initContainers:
                        - name: git-clone
                          image: iceci/utils
                          command:
                            - git
                            - clone
                            - https://github.com/IceCI/example-mnist-training.git
                            - /workspace
                          volumeMounts:
                            - mountPath: /workspace
                              name: workspace
                      containers:
                        - name: train
                          image: icetekio/jetson-nano-tensorflow
                          command:
                            - python3
                            - /workspace/mnist.py
                          volumeMounts:
                            - mountPath: /workspace
                              name: workspace
                      volumes:
                        - name: workspace
                          emptyDir: {}
                """);
    }

    @Test
    void builtinTrainerComesFromTheConfigMapWithDataEpochsAndGpu() {
        String yaml = TrainingJob.manifest(new TrainingJob.Spec("t", "default", "gpu1", "nvcr.io/nvidia/pytorch:24.12-py3",
                null, null, "fashion-mnist", 5, GPU_PLUGIN_CONTAINERD, "/usr/share/datasets/fashion-mnist",
                "k3gpu-workloads"));
        assertThat(yaml).doesNotContain("initContainers").doesNotContain("emptyDir")
                .contains("- /opt/k3gpu/mnist_train.py\n            - --dataset\n            - fashion-mnist\n"
                        + "            - --epochs\n            - '5'\n            - --data-dir\n            - /data\n")
                .contains("          resources:\n            limits:\n              nvidia.com/gpu: 1\n")
                .contains("      runtimeClassName: nvidia\n")
                .contains("path: /usr/share/datasets/fashion-mnist")
                .contains("name: k3gpu-workloads");
    }

    private static final GpuPodSpec GPU_PLUGIN_CONTAINERD = GpuPodSpec.of(new GpuAccess(false, false, 1));

    @Test
    void gpuFollowsTheNodeNoRequestWithoutAPluginNoRuntimeClassOnDockerOrWhereNvidiaIsTheDefault() {
        String none = TrainingJob.manifest(spec(GpuPodSpec.of(new GpuAccess(false, false, 0))));
        assertThat(none).doesNotContain("nvidia.com/gpu").doesNotContain("runtimeClassName").doesNotContain("resources");
        String docker = TrainingJob.manifest(spec(GpuPodSpec.of(new GpuAccess(true, true, 1))));
        assertThat(docker).contains("nvidia.com/gpu: 1").doesNotContain("runtimeClassName");
        String nvidiaDefault = TrainingJob.manifest(spec(GpuPodSpec.of(new GpuAccess(false, true, 2))));
        assertThat(nvidiaDefault).contains("nvidia.com/gpu: 1").doesNotContain("runtimeClassName");
        assertThat(TrainingJob.manifest(spec(null))).doesNotContain("nvidia.com/gpu");
    }

    @Test
    void aSampleLimitIsPassedToTheBuiltinTrainerOnly() {
        String yaml = TrainingJob.manifest(new TrainingJob.Spec("t", "default", "orin1", "img", null, null, "mnist", 1,
                null, null, "k3gpu-workloads", 20000));
        assertThat(yaml).contains("            - --dataset\n            - mnist\n            - --limit-train\n"
                + "            - '20000'\n            - --epochs\n");
    }

    private static TrainingJob.Spec spec(GpuPodSpec gpu) {
        return new TrainingJob.Spec("t", "default", "orin1", "dustynv/l4t-pytorch:r36.4.0", null, null, "mnist", null,
                gpu, null, "k3gpu-workloads");
    }
}
