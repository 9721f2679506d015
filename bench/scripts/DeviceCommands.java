import io.k3gpu.core.facts.FactsScript;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.live.TelemetryCommands;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the exact remote commands k3gpu runs on a discrete-GPU node into a folder, for bench/scripts/device-captures.sh
 * to run on a real GPU machine: {@code java -cp cli/target/k3gpu.jar bench/scripts/DeviceCommands.java devrun}.
 */
public class DeviceCommands {
    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args[0]));
        Files.writeString(dir.resolve("stream.cmd"), TelemetryCommands.streaming(Source.NVIDIA_SMI, 500) + "\n");
        Files.writeString(dir.resolve("probe.cmd"), TelemetryCommands.PROBE + "\n");
        Files.writeString(dir.resolve("facts.sh"), FactsScript.text());
    }
}
