package io.k3gpu.core.verify;

import io.k3gpu.core.kube.PodOutcome;
import io.k3gpu.core.kube.PodSummary;

import org.junit.jupiter.api.Test;

import java.util.List;

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

    // ---- scheduling by nvidia.com/gpu

    private static PodSummary pod(String ns, String name, long gpus, String phase, PodSummary.Container... cs) {
        return new PodSummary(ns, name, "orin1", phase, gpus, List.of(cs));
    }

    @Test
    void allGpusTakenNamesThePodsHoldingThemAndHowToFreeOrShareOne() {
        PodOutcome pending = new PodOutcome("Pending", null, null, null,
                "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn't match Pod's node "
                        + "affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for "
                        + "incoming pod, 2 Preemption is not helpful for scheduling.", false);
        assertThat(GpuTestDiagnosis.gpusTaken(pending)).isTrue();
        assertThat(GpuTestDiagnosis.gpusTaken(new PodOutcome("Pending", null, null, null,
                "0/3 nodes are available: 3 node(s) had untolerated taint", false))).isFalse();
        Verdict v = GpuTestDiagnosis.gpusTaken("orin1", pending.unschedulable(), 1,
                List.of(pod("default", "train-orin1-x7k2p", 1, "Running")));
        assertThat(v.pass()).isFalse();
        assertThat(v.reason()).isEqualTo("all 1 nvidia.com/gpu of orin1 are taken by default/train-orin1-x7k2p; "
                + "the scheduler: " + pending.unschedulable());
        assertThat(v.evidence()).containsExactly("default/train-orin1-x7k2p holds 1 (Running)");
        assertThat(v.hint()).isEqualTo("wait until one ends, or free its GPU: kubectl delete pod -n default "
                + "train-orin1-x7k2p; to share each GPU between pods: k3gpu device-plugin --time-slicing 4");
    }

    @Test
    void aMissingRuntimeClassSaysWhichK3sHasItAndHowToCreateIt() {
        String api = "creating Pod failed at https://10.213.253.2:6443/: pods \"k3gpu-verify-orin1-x7k2p\" is "
                + "forbidden: pod rejected: RuntimeClass \"nvidia\" not found";
        assertThat(GpuTestDiagnosis.runtimeClassMissing(api)).isTrue();
        assertThat(GpuTestDiagnosis.runtimeClassMissing("creating Pod failed: pods \"x\" already exists")).isFalse();
        Verdict v = GpuTestDiagnosis.runtimeClassMissing("orin1", "nvidia", api);
        assertThat(v.reason()).isEqualTo("the API refused the gpu-test pod for orin1: there is no RuntimeClass "
                + "\"nvidia\" (K3s creates it from v1.29.0, v1.28.5, v1.27.9 and v1.26.12 on; an older K3s has none, "
                + "or it was deleted)");
        assertThat(v.hint()).isEqualTo("create it: printf 'apiVersion: node.k8s.io/v1\\nkind: RuntimeClass\\n"
                + "metadata:\\n  name: nvidia\\nhandler: nvidia\\n' | kubectl apply -f -; or upgrade K3s");
        assertThat(v.evidence()).containsExactly(api);
    }

    @Test
    void aGpuNodeWithoutPluginIsToldToRunDevicePlugin() {
        Verdict v = GpuTestDiagnosis.noAllocatableGpu("orin1", List.of(), null);
        assertThat(v.reason()).isEqualTo("orin1 advertises no nvidia.com/gpu, so pods get its GPU only through its "
                + "default runtime, outside the scheduler's count: no NVIDIA device plugin pod runs there");
        assertThat(v.hint()).isEqualTo("run k3gpu device-plugin");
    }

    @Test
    void aCrashLoopingPluginShowsItsStateAndLogTail() {
        PodSummary crashing = pod("kube-system", "nvidia-device-plugin-daemonset-4xq2z", 0, "Running",
                new PodSummary.Container("nvidia-device-plugin-ctr", "nvcr.io/nvidia/k8s-device-plugin:v0.17.4",
                        "Waiting", "CrashLoopBackOff", "back-off 40s restarting failed container", 3));
        assertThat(crashing.devicePlugin()).isTrue();
        String log = """
                I1205 12:00:01.000000       1 main.go:356] Retrieving plugins.
                E1205 12:00:01.000100       1 factory.go:112] Incompatible strategy detected unknown
                E1205 12:00:01.000200       1 factory.go:113] If this is a GPU node, did you configure the NVIDIA Container Toolkit?
                E1205 12:00:01.000300       1 main.go:177] error starting plugins: error creating plugin manager: invalid device discovery strategy
                """;
        Verdict v = GpuTestDiagnosis.noAllocatableGpu("thor1", List.of(crashing), log);
        assertThat(v.reason()).endsWith("the device plugin pod kube-system/nvidia-device-plugin-daemonset-4xq2z is "
                + "CrashLoopBackOff, restarted 3 times; its log ends with the lines below");
        assertThat(v.evidence()).hasSize(4).last().asString().endsWith("invalid device discovery strategy");
        assertThat(v.hint()).isEqualTo("fix what its log says (kubectl logs -n kube-system "
                + "nvidia-device-plugin-daemonset-4xq2z --previous), then re-run k3gpu device-plugin");
    }

    @Test
    void aRunningPluginThatRegisteredNothingIsNamed() {
        PodSummary running = pod("kube-system", "nvidia-device-plugin-daemonset-8p2kd", 0, "Running",
                new PodSummary.Container("nvidia-device-plugin-ctr", "nvcr.io/nvidia/k8s-device-plugin:v0.17.4",
                        "Running", null, null, 0));
        Verdict v = GpuTestDiagnosis.noAllocatableGpu("orin1", List.of(running), null);
        assertThat(v.reason()).endsWith("the device plugin pod kube-system/nvidia-device-plugin-daemonset-8p2kd runs "
                + "but has not registered nvidia.com/gpu with the kubelet");
        assertThat(pod("default", "x", 0, "Running", new PodSummary.Container("c",
                "nvcr.io/nvidia/k8s-device-plugin:v0.17.4", "Running", null, null, 0)).devicePlugin())
                .as("only kube-system's pods are the plugin's").isFalse();
    }
}
