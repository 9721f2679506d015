package io.k3gpu.cli;

import java.io.InputStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * The entry point of the lab's jar (k3gpu-lab.jar): every k3gpu command plus {@code lab} and {@code demo}, which
 * need the simulator and so are not in the user's jar. From a checkout, {@code ./k3gpu lab|demo} runs this.
 */
public final class LabMain {
    static final List<Class<?>> COMMANDS = List.of(LabCommand.class, DemoCommand.class);

    private LabMain() {
    }

    /** Runs k3gpu with the lab's commands; returns the exit code (tests call this). */
    public static int run(String[] args, PrintWriter out, PrintWriter err, InputStream in, Map<String, String> env) {
        return K3gpu.run(args, out, err, in, env, COMMANDS);
    }

    public static void main(String[] args) {
        K3gpu.main(args, COMMANDS);
    }
}
