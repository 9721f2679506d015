package io.k3gpu.core.workloads;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * The JSON line that {@code gpu_probe.py} prints on stdout ({@code "event":"probe"}). Absent facts and skipped
 * measurements are {@code null}: no framework, no GPU, bf16/tf32 on GPUs before compute capability 8.0, or a
 * measurement that failed (then {@link #errors()} says why).
 *
 * @param framework                       {@code "torch"}, {@code "tensorflow"}, or {@code null} when neither imports
 * @param frameworkVersion                e.g. {@code "2.11.0+cu130"}
 * @param python                          the interpreter's version
 * @param cudaVisible                     whether the framework sees a CUDA device
 * @param deviceCount                     CUDA devices the framework sees
 * @param deviceName                      e.g. {@code "NVIDIA H200"}
 * @param computeCapability               e.g. {@code "9.0"}
 * @param multiProcessorCount             SMs (PyTorch only)
 * @param memoryTotalBytes                device memory (on a Jetson: the board's shared memory)
 * @param cudaVersion                     the CUDA version the framework was built with
 * @param cudnnVersion                    e.g. {@code "9.10.2"}
 * @param driverVersion                   from {@code /proc/driver/nvidia/version} or {@code nvidia-smi}
 * @param jetsonRelease                   first line of {@code /etc/nv_tegra_release}, on a Jetson
 * @param libraries                       CUDA libraries mapped into the probe process (libcudart, libcublas, ...)
 * @param matmulSize                      n of the n×n×n products timed
 * @param matmulBf16Tflops                dense bf16 matmul throughput, TFLOP/s (2n³ per product)
 * @param matmulFp16Tflops                dense fp16 matmul throughput
 * @param matmulTf32Tflops                fp32 inputs on TF32 tensor cores
 * @param matmulFp32Tflops                strict fp32 (TF32 off)
 * @param copyBytes                       size of the device-to-device copy's source
 * @param copyBandwidthGBps               copy bandwidth in GB/s (10⁹ bytes)
 * @param copyBandwidthCountsReadAndWrite true: bandwidth counts bytes read plus bytes written (2 × size per copy)
 * @param copyMethod                      how the copy was made, e.g. {@code "torch.Tensor.copy_"}
 * @param benchmarkDevice                 where the measurements ran, e.g. {@code "cuda:0"}
 * @param durationSeconds                 the probe's run time, the framework's import included
 * @param errors                          measurements or imports that failed, one line each
 */
public record ProbeResult(
        String framework,
        String frameworkVersion,
        String python,
        boolean cudaVisible,
        int deviceCount,
        String deviceName,
        String computeCapability,
        Integer multiProcessorCount,
        Long memoryTotalBytes,
        String cudaVersion,
        String cudnnVersion,
        String driverVersion,
        String jetsonRelease,
        List<Library> libraries,
        Integer matmulSize,
        Double matmulBf16Tflops,
        Double matmulFp16Tflops,
        Double matmulTf32Tflops,
        Double matmulFp32Tflops,
        Long copyBytes,
        Double copyBandwidthGBps,
        boolean copyBandwidthCountsReadAndWrite,
        String copyMethod,
        String benchmarkDevice,
        Double durationSeconds,
        List<String> errors) {

    /** The {@code "event"} value of a probe line. */
    public static final String EVENT = "probe";

    /** A CUDA library the probe process had mapped, e.g. {@code libcudart.so.13} and its path. */
    public record Library(String name, String path) {
    }

    public ProbeResult {
        libraries = libraries == null ? List.of() : List.copyOf(libraries);
        errors = errors == null ? List.of() : List.copyOf(errors);
    }

    /**
     * Parses the probe's JSON line.
     *
     * @throws IllegalArgumentException if the line is not JSON, or not a probe line, or a member has the wrong type
     */
    public static ProbeResult parse(String jsonLine) {
        JsonNode n = WorkloadJson.object(jsonLine);
        String event = WorkloadJson.event(n);
        if (!EVENT.equals(event)) {
            throw new IllegalArgumentException("not a gpu_probe line (event " + event + ")");
        }
        List<Library> libs = new ArrayList<>();
        JsonNode l = n.get("libraries");
        if (l != null && l.isArray()) {
            for (JsonNode item : l) {
                if (item.isObject()) {
                    libs.add(new Library(WorkloadJson.string(item, "name"), WorkloadJson.string(item, "path")));
                } else if (item.isString()) {
                    libs.add(new Library(item.stringValue(), null));
                }
            }
        }
        Integer deviceCount = WorkloadJson.smallInteger(n, "deviceCount");
        return new ProbeResult(
                WorkloadJson.string(n, "framework"),
                WorkloadJson.string(n, "frameworkVersion"),
                WorkloadJson.string(n, "python"),
                WorkloadJson.bool(n, "cudaVisible"),
                deviceCount == null ? 0 : deviceCount,
                WorkloadJson.string(n, "deviceName"),
                WorkloadJson.string(n, "computeCapability"),
                WorkloadJson.smallInteger(n, "multiProcessorCount"),
                WorkloadJson.integer(n, "memoryTotalBytes"),
                WorkloadJson.string(n, "cudaVersion"),
                WorkloadJson.string(n, "cudnnVersion"),
                WorkloadJson.string(n, "driverVersion"),
                WorkloadJson.string(n, "jetsonRelease"),
                libs,
                WorkloadJson.smallInteger(n, "matmulSize"),
                WorkloadJson.number(n, "matmulBf16Tflops"),
                WorkloadJson.number(n, "matmulFp16Tflops"),
                WorkloadJson.number(n, "matmulTf32Tflops"),
                WorkloadJson.number(n, "matmulFp32Tflops"),
                WorkloadJson.integer(n, "copyBytes"),
                WorkloadJson.number(n, "copyBandwidthGBps"),
                WorkloadJson.bool(n, "copyBandwidthCountsReadAndWrite"),
                WorkloadJson.string(n, "copyMethod"),
                WorkloadJson.string(n, "benchmarkDevice"),
                WorkloadJson.number(n, "durationSeconds"),
                WorkloadJson.strings(n, "errors"));
    }

    /** The line parsed, or empty when it is not a probe line (a log line of the framework, say). */
    public static Optional<ProbeResult> tryParse(String line) {
        if (line == null || !line.strip().startsWith("{")) {
            return Optional.empty();
        }
        try {
            return Optional.of(parse(line));
        } catch (IllegalArgumentException | ArithmeticException e) {
            return Optional.empty();
        }
    }

    /** The last probe line in a pod's logs (stdout and stderr mixed), if any. */
    public static Optional<ProbeResult> fromLogs(String logs) {
        List<ProbeResult> all = WorkloadJson.all(logs, ProbeResult::tryParse);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** Whether a GPU framework was importable. */
    public boolean hasFramework() {
        return framework != null;
    }

    /** Whether the probe measured throughput on a CUDA device (matmul in some precision, or the copy). */
    public boolean measured() {
        return cudaVisible && (matmulFp16Tflops != null || matmulFp32Tflops != null || copyBandwidthGBps != null);
    }

    /** Device memory in GiB, if known. */
    public Optional<Double> memoryTotalGiB() {
        return memoryTotalBytes == null ? Optional.empty() : Optional.of(memoryTotalBytes / (double) (1L << 30));
    }

    /** Names of the CUDA libraries the probe process had loaded, e.g. {@code libcudart.so.13}. */
    public List<String> libraryNames() {
        return libraries.stream().map(Library::name).toList();
    }
}
