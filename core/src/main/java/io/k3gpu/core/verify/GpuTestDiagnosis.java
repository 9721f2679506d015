package io.k3gpu.core.verify;

import io.k3gpu.core.kube.PodOutcome;
import io.k3gpu.core.kube.PodSummary;
import io.k3gpu.core.workloads.ProbeResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads a GPU check's pod and logs as a person would read the seed's gpu-test logs: TensorFlow's
 * "Successfully opened dynamic library libcudart" means the CUDA runtime was reachable from the container;
 * "Could not load dynamic library 'libcudart...'; dlerror" means the container runtime did not bring it in. Pure.
 */
public final class GpuTestDiagnosis {
    private static final Pattern OPENED = Pattern.compile("Successfully opened dynamic library (libcuda\\S*)");
    private static final Pattern NOT_LOADED = Pattern.compile("Could not load dynamic library '(libcuda\\S*?)'");
    private static final Pattern TORCH = Pattern.compile("CUDA available: (True|False)");

    private GpuTestDiagnosis() {
    }

    /**
     * @param node        the node's name
     * @param nodeAddress its address, for the suggested fix
     */
    public static Verdict diagnose(PodOutcome pod, String logs, String node, String nodeAddress, boolean probe) {
        String fixRuntime = "run: k3gpu gpu-runtime --ip " + (nodeAddress == null ? "<node address>" : nodeAddress);
        if (pod.unschedulable() != null) {
            return new Verdict(false, "the pod could not be scheduled on " + node + ": " + pod.unschedulable(),
                    "check the node is Ready and untainted (k3gpu nodes)", List.of());
        }
        if (pod.imagePullFailed()) {
            return new Verdict(false, "the image could not be pulled on " + node + " (" + pod.waitingReason() + ")"
                    + (pod.waitingMessage() == null ? "" : ": " + pod.waitingMessage()),
                    "check the image name with --image, and that the node can reach its registry", List.of());
        }
        if (pod.timedOut() && !pod.finished()) {
            String where = "Pending".equals(pod.phase()) ? "still Pending" + (pod.waitingReason() == null ? "" : " (" + pod.waitingReason() + ")")
                    : "still " + pod.phase();
            return new Verdict(false, "the gpu-test pod on " + node + " was " + where + " when the time ran out",
                    "raise --timeout, or look at it with --keep and kubectl describe pod", tail(logs));
        }
        String text = logs == null ? "" : logs;
        if (probe) {
            Optional<ProbeResult> r = ProbeResult.fromLogs(text);
            if (r.isEmpty()) {
                return new Verdict(false, "the GPU probe on " + node + " printed no result (exit " + pod.exitCode() + ")",
                        "look at the log lines below", tail(text));
            }
            ProbeResult p = r.get();
            if (!p.cudaVisible()) {
                return new Verdict(false, "the GPU probe on " + node + " found no CUDA device"
                        + (p.framework() == null ? " (no PyTorch or TensorFlow in the image)" : " (" + p.framework() + ")"),
                        p.framework() == null ? "use an image with PyTorch or TensorFlow (--image)"
                                : "the container runtime on " + node + " is not NVIDIA-enabled: " + fixRuntime, List.of());
            }
            return new Verdict(true, "the GPU probe on " + node + " sees " + p.deviceName()
                    + (p.matmulFp16Tflops() == null ? "" : String.format(", fp16 matmul %.1f TFLOP/s", p.matmulFp16Tflops()))
                    + (p.copyBandwidthGBps() == null ? "" : String.format(", copy %.0f GB/s", p.copyBandwidthGBps())),
                    null, List.of());
        }
        List<String> failed = matching(text, NOT_LOADED);
        List<String> opened = matching(text, OPENED);
        if (!failed.isEmpty()) {
            return new Verdict(false, "the container runtime on " + node + " is not NVIDIA-enabled: the CUDA libraries"
                    + " could not be loaded in the container", fixRuntime, failed);
        }
        if (!opened.isEmpty()) {
            return new Verdict(true, "CUDA libraries load in containers on " + node, null, opened);
        }
        List<String> torch = matching(text, TORCH);
        if (!torch.isEmpty()) {
            boolean yes = torch.get(0).contains("CUDA available: True");
            return yes ? new Verdict(true, "PyTorch sees the GPU in containers on " + node, null, torch)
                    : new Verdict(false, "the container runtime on " + node + " is not NVIDIA-enabled: PyTorch sees no GPU",
                    fixRuntime, torch);
        }
        return new Verdict(false, "the gpu-test pod on " + node + " ended (" + pod.phase()
                + (pod.exitCode() == null ? "" : ", exit " + pod.exitCode()) + ") without saying whether CUDA works",
                "look at the log lines below; --image picks another image", tail(text));
    }

    // ---- scheduling by nvidia.com/gpu (the device plugin, RuntimeClass): each diagnosis with its fix

    /** How the scheduler says a node has no free GPU (its NodeResourcesFit plugin). */
    static final String INSUFFICIENT_GPU = "Insufficient nvidia.com/gpu";
    /** How K3s releases with RuntimeClasses create the nvidia one, as a command to paste. */
    static final String CREATE_RUNTIME_CLASS = "printf 'apiVersion: node.k8s.io/v1\\nkind: RuntimeClass\\nmetadata:\\n"
            + "  name: nvidia\\nhandler: nvidia\\n' | kubectl apply -f -";

    /** Whether the scheduler left the pod Pending because every GPU of the node is requested already. */
    public static boolean gpusTaken(PodOutcome pod) {
        return pod.unschedulable() != null && pod.unschedulable().contains(INSUFFICIENT_GPU);
    }

    /**
     * Every GPU of the node is held: the scheduler's message, and the pods holding them.
     *
     * @param holders the node's unfinished pods that request nvidia.com/gpu
     */
    public static Verdict gpusTaken(String node, String schedulerMessage, long allocatable, List<PodSummary> holders) {
        List<String> evidence = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (PodSummary p : holders) {
            evidence.add(p.id() + " holds " + p.gpus() + " (" + p.phase() + ")");
            names.add(p.id());
        }
        String reason = "all " + allocatable + " nvidia.com/gpu of " + node + " are taken"
                + (names.isEmpty() ? "" : " by " + String.join(", ", names)) + "; the scheduler: " + schedulerMessage;
        PodSummary first = holders.isEmpty() ? null : holders.get(0);
        String hint = (first == null ? "wait until a GPU is free (k3gpu nodes -o wide shows them in use)"
                : "wait until one ends, or free its GPU: kubectl delete pod -n " + first.namespace() + " " + first.name())
                + "; to share each GPU between pods: k3gpu device-plugin --time-slicing 4";
        return new Verdict(false, reason, hint, evidence);
    }

    /** Whether the API refused the pod because its RuntimeClass does not exist (the RuntimeClass admission plugin). */
    public static boolean runtimeClassMissing(String apiMessage) {
        return apiMessage != null && apiMessage.contains("RuntimeClass \"") && apiMessage.contains("not found");
    }

    /** The pod named a RuntimeClass the cluster does not have: what K3s does, and how to create it. */
    public static Verdict runtimeClassMissing(String node, String runtimeClass, String apiMessage) {
        return new Verdict(false, "the API refused the gpu-test pod for " + node + ": there is no RuntimeClass \""
                + runtimeClass + "\" (K3s creates it from v1.29.0, v1.28.5, v1.27.9 and v1.26.12 on; an older K3s "
                + "has none, or it was deleted)", "create it: " + CREATE_RUNTIME_CLASS + "; or upgrade K3s",
                List.of(apiMessage.strip()));
    }

    /**
     * A GPU node that advertises no nvidia.com/gpu: no device plugin pod runs there, or it does not work (its state
     * and the end of its log). Pods still get the GPU through the node's default runtime, unscheduled.
     *
     * @param pluginPods the device plugin's pods on the node
     * @param logTail    the last lines of the log of the first plugin pod that is not running, or null
     */
    public static Verdict noAllocatableGpu(String node, List<PodSummary> pluginPods, String logTail) {
        String prefix = node + " advertises no nvidia.com/gpu, so pods get its GPU only through its default runtime, "
                + "outside the scheduler's count: ";
        if (pluginPods.isEmpty()) {
            return new Verdict(false, prefix + "no NVIDIA device plugin pod runs there", "run k3gpu device-plugin",
                    List.of());
        }
        PodSummary broken = pluginPods.stream().filter(p -> !p.running()).findFirst().orElse(null);
        List<String> evidence = new ArrayList<>();
        if (logTail != null) {
            tail(logTail).forEach(evidence::add);
        }
        if (broken == null) {
            PodSummary p = pluginPods.get(0);
            return new Verdict(false, prefix + "the device plugin pod " + p.id() + " runs but has not registered "
                    + "nvidia.com/gpu with the kubelet", "look at its log: kubectl logs -n " + p.namespace() + " "
                    + p.name(), evidence);
        }
        PodSummary.Container c = broken.containers().stream().filter(x -> !"Running".equals(x.state())).findFirst()
                .orElse(broken.containers().isEmpty() ? null : broken.containers().get(0));
        String state = c == null ? broken.phase() : (c.reason() != null ? c.reason() : c.state() == null
                ? broken.phase() : c.state()) + (c.restarts() > 0 ? ", restarted " + c.restarts()
                + (c.restarts() == 1 ? " time" : " times") : "");
        return new Verdict(false, prefix + "the device plugin pod " + broken.id() + " is " + state
                + (logTail == null || logTail.isBlank() ? "" : "; its log ends with the lines below"),
                "fix what its log says (kubectl logs -n " + broken.namespace() + " " + broken.name()
                        + (c != null && c.restarts() > 0 ? " --previous" : "") + "), then re-run k3gpu device-plugin",
                evidence);
    }

    private static List<String> matching(String text, Pattern p) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\\R")) {
            if (p.matcher(line).find()) {
                out.add(line.strip());
            }
        }
        return out;
    }

    private static List<String> tail(String text) {
        if (text == null || text.isBlank()) {
            return List.of();
        }
        String[] lines = text.strip().split("\\R");
        return List.of(lines).subList(Math.max(0, lines.length - 5), lines.length);
    }
}
