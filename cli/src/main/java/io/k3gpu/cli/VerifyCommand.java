package io.k3gpu.cli;

import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.verify.Verdict;
import io.k3gpu.core.verify.VerifyGpu;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "verify",
        description = {"Prove that pods on a node get the GPU: PASS or FAIL, why, and what to run.",
                "Runs the seed's gpu-test pod (or the shipped probe with --probe) and reads its logs. Exit 0 on PASS, 1 on FAIL.",
                "Where the node advertises nvidia.com/gpu (a device plugin runs there), the pod requests nvidia.com/gpu: 1",
                "and names runtimeClassName nvidia unless NVIDIA is the node's default runtime (never on --docker nodes)."})
final class VerifyCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    KubeOptions kube;

    @Mixin
    OutputOptions output;

    @Option(names = "--node", paramLabel = "NAME", required = true, description = "The node (its Kubernetes name).")
    String node;

    @Option(names = "--image", paramLabel = "IMAGE",
            description = "Image to test with (default: the seed's icetekio/jetson-nano-tensorflow on JetPack 4, NVIDIA's PyTorch images elsewhere).")
    String image;

    @Option(names = "--probe", description = "Run the shipped GPU probe: device, CUDA versions, matmul TFLOP/s and copy bandwidth.")
    boolean probe;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "3m", description = "How long the pod may take (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--keep", description = "Keep the pod afterwards (default: delete it).")
    boolean keep;

    VerifyCommand(Terminal terminal) {
        this.terminal = terminal;
        this.kube = new KubeOptions(terminal);
    }

    @Override
    public Integer call() {
        boolean json = output.json();
        try (ClusterApi api = kube.api()) {
            VerifyGpu.Result r = new VerifyGpu(new ConsoleEvents(terminal.err()))
                    .run(api, node, image, probe, timeout, keep);
            if (json) {
                terminal.out().println(Json.pretty(r));
            } else {
                terminal.out().println((r.pass() ? "PASS: " : "FAIL: ") + r.reason());
                for (String e : r.evidence()) {
                    terminal.out().println("  " + e);
                }
                if (r.hint() != null) {
                    terminal.out().println("fix: " + r.hint());
                }
                for (Verdict note : r.notes()) {
                    terminal.out().println("note: " + note.reason());
                    for (String e : note.evidence()) {
                        terminal.out().println("  " + e);
                    }
                    if (note.hint() != null) {
                        terminal.out().println("fix: " + note.hint());
                    }
                }
            }
            return r.pass() ? 0 : 1;
        }
    }
}
