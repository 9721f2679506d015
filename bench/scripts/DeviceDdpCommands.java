import io.k3gpu.core.train.DistributedTrainingJob;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the worker command k3gpu's multi-node train gives every rank (DistributedTrainingJob.workerCommand, the
 * shell script of its {@code sh -c}) for gloo and for NCCL into a folder, for a run on a GPU machine through the
 * device tool (docs/benchmarks.md, "Distributed training on the device machine"):
 * {@code java -cp cli/target/k3gpu.jar bench/scripts/DeviceDdpCommands.java devrun}.
 */
public class DeviceDdpCommands {
    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args[0]));
        for (String backend : List.of("gloo", "nccl")) {
            DistributedTrainingJob.Spec spec = new DistributedTrainingJob.Spec("ddp", "default", List.of("a", "b"),
                    "pytorch/pytorch", null, null, "fashion-mnist", 5, null, backend, 300, null, "/data", null);
            List<String> cmd = DistributedTrainingJob.workerCommand(spec);
            Files.writeString(dir.resolve("worker-" + backend + ".sh"), cmd.get(2) + "\n");
        }
    }
}
