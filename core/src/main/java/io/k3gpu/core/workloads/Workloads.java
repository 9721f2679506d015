package io.k3gpu.core.workloads;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Python workloads shipped in the jar (resources under {@code io/k3gpu/workloads/}), to be mounted into pods
 * through a ConfigMap so they run air-gapped:
 * <ul>
 * <li>{@value #GPU_PROBE}: one JSON line describing the GPU the container sees, with measured matmul throughput and
 * copy bandwidth; parsed by {@link ProbeResult#parse(String)};</li>
 * <li>{@value #MNIST_TRAIN}: trains a small CNN on (Fashion-)MNIST with TensorFlow/Keras, PyTorch or NumPy; one JSON
 * line per event, parsed by {@link TrainingEvent#parse(String)}.</li>
 * </ul>
 */
public final class Workloads {
    public static final String GPU_PROBE = "gpu_probe.py";
    public static final String MNIST_TRAIN = "mnist_train.py";
    /** A distributed-training worker's launcher: rank 0's interface, then torchrun (issue 13). */
    public static final String DIST_WORKER = "dist_worker.py";
    /** Every shipped workload's file name, in a stable order. */
    public static final List<String> NAMES = List.of(GPU_PROBE, MNIST_TRAIN, DIST_WORKER);

    private static final String BASE = "/io/k3gpu/workloads/";

    private Workloads() {
    }

    public static String gpuProbe() {
        return load(GPU_PROBE);
    }

    public static String mnistTrain() {
        return load(MNIST_TRAIN);
    }

    /** The classpath resource path of a workload, e.g. {@code /io/k3gpu/workloads/gpu_probe.py}. */
    public static String resourcePath(String name) {
        return BASE + name;
    }

    /** A shipped workload's source text (UTF-8). */
    public static String load(String name) {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown workload: " + name + " (known: " + NAMES + ")");
        }
        try (InputStream in = Workloads.class.getResourceAsStream(resourcePath(name))) {
            if (in == null) {
                throw new IllegalStateException("workload resource missing from the classpath: " + resourcePath(name));
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read workload " + name, e);
        }
    }

    /** File name to source text for every shipped workload: the data of a ConfigMap that mounts them all. */
    public static Map<String, String> all() {
        Map<String, String> files = new LinkedHashMap<>();
        for (String name : NAMES) {
            files.put(name, load(name));
        }
        return files;
    }
}
