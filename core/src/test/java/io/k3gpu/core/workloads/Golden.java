package io.k3gpu.core.workloads;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Lines the workloads really printed, under src/test/resources/workloads: {@code *-h200.*} on the NVIDIA H200 of the
 * device tool (PyTorch 2.11, CUDA 13.0; scripts/device_workloads.sh), {@code *-local-*} on a 2-core CPU-only
 * development machine (Debian's numpy; TensorFlow 2.21 CPU). See docs/benchmarks.md, "GPU workloads".
 */
final class Golden {
    private Golden() {
    }

    static String text(String name) {
        try (InputStream in = Golden.class.getResourceAsStream("/workloads/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource workloads/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> lines(String name) {
        return text(name).lines().filter(l -> !l.isBlank()).toList();
    }

    static String line(String name, int index) {
        return lines(name).get(index);
    }
}
