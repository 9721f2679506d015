package io.k3gpu.core.train;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DistributedTrainingJobTest {
    static DistributedTrainingJob.Spec builtin() {
        return new DistributedTrainingJob.Spec("train-2n-bcdfg", "default", List.of("jetson1", "node2"),
                "nvcr.io/nvidia/l4t-pytorch:r32.7.1-pth1.10-py3", null, "mnist.py", "fashion-mnist", 1, 12000, "gloo",
                300, null, null, "k3gpu-workloads");
    }

    /** The Service and the Indexed Job: one pod per chosen node, rank 0 at train-2n-bcdfg-0.train-2n-bcdfg. */
    @Test
    void builtinTrainerOverTwoNodes() {
        assertThat(DistributedTrainingJob.manifest(builtin())).isEqualTo("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: train-2n-bcdfg
                  namespace: default
                  labels:
                    app.kubernetes.io/name: training
                    app.kubernetes.io/managed-by: k3gpu
                    k3gpu.dev/training: 'true'
                    k3gpu.dev/world-size: '2'
                spec:
                  clusterIP: None
                  publishNotReadyAddresses: true
                  selector:
                    k3gpu.dev/job: train-2n-bcdfg
                  ports:
                    - name: rendezvous
                      port: 29500
                      targetPort: 29500
                ---
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: train-2n-bcdfg
                  namespace: default
                  labels:
                    app.kubernetes.io/name: training
                    app.kubernetes.io/managed-by: k3gpu
                    k3gpu.dev/training: 'true'
                    k3gpu.dev/world-size: '2'
                  annotations:
                    k3gpu.dev/nodes: jetson1,node2
                spec:
                  completionMode: Indexed
                  completions: 2
                  parallelism: 2
                  backoffLimit: 0
                  ttlSecondsAfterFinished: 600
                  template:
                    metadata:
                      labels:
                        app.kubernetes.io/name: training
                        app.kubernetes.io/managed-by: k3gpu
                        k3gpu.dev/training: 'true'
                        k3gpu.dev/job: train-2n-bcdfg
                    spec:
                      restartPolicy: Never
                      subdomain: train-2n-bcdfg
                      affinity:
                        nodeAffinity:
                          requiredDuringSchedulingIgnoredDuringExecution:
                            nodeSelectorTerms:
                              - matchExpressions:
                                  - key: kubernetes.io/hostname
                                    operator: In
                                    values:
                                      - jetson1
                                      - node2
                        podAntiAffinity:
                          requiredDuringSchedulingIgnoredDuringExecution:
                            - labelSelector:
                                matchLabels:
                                  k3gpu.dev/job: train-2n-bcdfg
                              topologyKey: kubernetes.io/hostname
                      containers:
                        - name: train
                          image: nvcr.io/nvidia/l4t-pytorch:r32.7.1-pth1.10-py3
                          command:
                            - sh
                            - -c
                            - export NODE_RANK="$JOB_COMPLETION_INDEX"; exec python3 /opt/k3gpu/dist_worker.py --master train-2n-bcdfg-0.train-2n-bcdfg --timeout 300 -- torchrun --nnodes 2 --nproc_per_node 1 --node_rank "$JOB_COMPLETION_INDEX" --master_addr train-2n-bcdfg-0.train-2n-bcdfg --master_port 29500 --max_restarts 0 --rdzv_conf timeout=300 /opt/k3gpu/mnist_train.py --dataset fashion-mnist --backend gloo --rendezvous-timeout 300 --limit-train 12000 --epochs 1
                          env:
                            - name: K3GPU_NODE
                              valueFrom:
                                fieldRef:
                                  fieldPath: spec.nodeName
                            - name: MASTER_ADDR
                              value: train-2n-bcdfg-0.train-2n-bcdfg
                            - name: MASTER_PORT
                              value: '29500'
                            - name: NNODES
                              value: '2'
                            - name: K3GPU_BACKEND
                              value: gloo
                          ports:
                            - name: rendezvous
                              containerPort: 29500
                          volumeMounts:
                            - name: k3gpu
                              mountPath: /opt/k3gpu
                      volumes:
                        - name: k3gpu
                          configMap:
                            name: k3gpu-workloads
                """);
    }

    @Test
    void repoScriptRunsUnderTorchrunWithItsArgumentsQuoted() {
        var s = new DistributedTrainingJob.Spec("ddp", "ml", List.of("a", "b", "c"),
                "pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime", "https://example.com/x.git", "train it.py", null, 3,
                null, "nccl", 60, null, "/srv/data", "k3gpu-workloads");
        assertThat(DistributedTrainingJob.workerCommand(s)).containsExactly("sh", "-c",
                "export NODE_RANK=\"$JOB_COMPLETION_INDEX\"; exec python3 /opt/k3gpu/dist_worker.py --master ddp-0.ddp"
                        + " --timeout 60 -- torchrun --nnodes 3 --nproc_per_node 1 --node_rank \"$JOB_COMPLETION_INDEX\""
                        + " --master_addr ddp-0.ddp --master_port 29500 --max_restarts 0 --rdzv_conf timeout=60"
                        + " '/workspace/train it.py' --epochs 3 --data-dir /data");
        assertThat(DistributedTrainingJob.manifest(s)).contains("initContainers:", "- git", "emptyDir: {}",
                "path: /srv/data", "value: nccl", "- c\n");
    }

    @Test
    void aScriptThatIsNotPythonIsItsOwnLauncher() {
        var s = new DistributedTrainingJob.Spec("ddp", "ml", List.of("a", "b"), "img", "https://example.com/x.git",
                "launch.sh", null, 3, null, "gloo", 60, null, null, "k3gpu-workloads");
        assertThat(DistributedTrainingJob.workerCommand(s)).containsExactly("sh", "-c",
                "export NODE_RANK=\"$JOB_COMPLETION_INDEX\"; exec python3 /opt/k3gpu/dist_worker.py --master ddp-0.ddp"
                        + " --timeout 60 -- sh /workspace/launch.sh");
    }

    @Test
    void shellQuoting() {
        assertThat(DistributedTrainingJob.quote("a/b.py")).isEqualTo("a/b.py");
        assertThat(DistributedTrainingJob.quote("it's; rm -rf /")).isEqualTo("'it'\\''s; rm -rf /'");
    }
}
