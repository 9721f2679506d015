package io.k3gpu.core.telemetry;

/** Where a {@link GpuSample} came from. {@link #id()} is the value of the JSON {@code source} key. */
public enum Source {
    /** One line of Jetson {@code tegrastats} output. */
    TEGRASTATS("tegrastats"),
    /** One GPU row of {@code nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]} output. */
    NVIDIA_SMI("nvidia-smi");

    private final String id;

    Source(String id) {
        this.id = id;
    }

    /** The name used in JSON and on the command line: {@code tegrastats} or {@code nvidia-smi}. */
    public String id() {
        return id;
    }
}
