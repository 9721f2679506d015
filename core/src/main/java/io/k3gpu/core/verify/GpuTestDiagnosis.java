package io.k3gpu.core.verify;

import io.k3gpu.core.kube.PodOutcome;
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
