package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.GpuAccess;
import io.k3gpu.core.kube.GpuPodSpec;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.train.RunTraining;
import io.k3gpu.core.train.TrainingJob;
import io.k3gpu.core.verify.VerifyGpu;
import io.k3gpu.core.verify.VerifyImage;
import io.k3gpu.core.workloads.TrainingEvent;
import io.k3gpu.core.workloads.TrainingProgress;
import io.k3gpu.core.workloads.TrainingSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

@Command(name = "train",
        description = {"Train a small CNN on MNIST / Fashion-MNIST on a node as a Kubernetes Job, followed live.",
                "--repo URL --script FILE reproduces the seed (git-clone init container, emptyDir /workspace);",
                "--builtin mounts the shipped trainer from a ConfigMap (works air-gapped). Ctrl-C stops and cleans up."})
final class TrainCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    KubeOptions kube;

    @Option(names = "--node", paramLabel = "NAME", required = true, description = "The node (its Kubernetes name).")
    String node;

    @Option(names = "--builtin", paramLabel = "DATASET", description = "The shipped trainer on mnist or fashion-mnist (default: fashion-mnist).")
    String builtin;

    @Option(names = "--repo", paramLabel = "URL", description = "Git repository with the training script (the seed's way).")
    String repo;

    @Option(names = "--script", paramLabel = "FILE", defaultValue = "mnist.py", description = "Script in the repository (default: ${DEFAULT-VALUE}).")
    String script;

    @Option(names = "--image", paramLabel = "IMAGE", description = "Image to train in (default: as verify picks for the node).")
    String image;

    @Option(names = "--epochs", paramLabel = "N", description = "Epochs (passed as --epochs N).")
    Integer epochs;

    @Option(names = "--gpu", description = {"Ask for the node's GPU: nvidia.com/gpu: 1 (and runtimeClassName nvidia "
            + "where NVIDIA is not the node's default runtime) where the node advertises nvidia.com/gpu (a device "
            + "plugin runs there); elsewhere no request: the pod gets the GPU through the node's default runtime."})
    boolean gpu;

    @Option(names = "--data-dir", paramLabel = "HOSTPATH", description = "Directory on the node with the IDX files, mounted at /data.")
    String dataDir;

    @Option(names = "--follow", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Follow the log live (default: on; --no-follow just waits).")
    boolean follow;

    @Option(names = "--name", paramLabel = "NAME", description = "Job name (default: train-<node>-<random>).")
    String name;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30m", description = "How long training may take (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    TrainCommand(Terminal terminal) {
        this.terminal = terminal;
        this.kube = new KubeOptions(terminal);
    }

    @Override
    public Integer call() {
        if (repo != null && builtin != null) {
            throw new K3gpuException(ExitCode.USAGE, "both --repo and --builtin were given", "pass one of them");
        }
        String dataset = repo == null ? (builtin == null ? "fashion-mnist" : builtin) : null;
        if (dataset != null && !dataset.equals("mnist") && !dataset.equals("fashion-mnist")) {
            throw new K3gpuException(ExitCode.USAGE, "unknown dataset '" + dataset + "'", "use --builtin mnist or --builtin fashion-mnist");
        }
        String job = name != null ? name : VerifyGpu.podName("train-" + node);
        AtomicBoolean done = new AtomicBoolean();
        try (ClusterApi api = kube.api()) {
            NodeStatus n = api.node(node).orElseThrow(() -> new K3gpuException(ExitCode.FAILED,
                    "there is no node named " + node + " in the cluster", "pass a name from: k3gpu nodes"));
            String img = image != null ? image : VerifyImage.forNode(n.architecture(), n.labels().get(GpuLabels.L4T), null).image();
            GpuPodSpec gpuSpec = gpu ? GpuPodSpec.of(GpuAccess.of(n)) : null;
            if (gpuSpec != null) {
                terminal.err().println(node + ": gpu: " + gpuSpec.describe());
            }
            TrainingJob.Spec spec = new TrainingJob.Spec(job, VerifyGpu.NAMESPACE, node, img, repo, script, dataset,
                    epochs, gpuSpec, dataDir, VerifyGpu.WORKLOADS_CONFIGMAP);
            Thread cleanup = new Thread(() -> {
                if (!done.get()) {
                    terminal.err().println("interrupted: deleting job " + job);
                    api.deleteJob(VerifyGpu.NAMESPACE, job);
                }
            });
            Runtime.getRuntime().addShutdownHook(cleanup);
            try {
                RunTraining.Result r = new RunTraining(new ConsoleEvents(terminal.err()))
                        .run(api, spec, timeout, follow ? this::show : null);
                done.set(true);
                TrainingSummary s = r.summary();
                terminal.out().printf("job %s on %s: %s in %ds%s%n", r.job(), r.node(), r.state(), r.duration().toSeconds(),
                        s == null ? "" : String.format(", test accuracy %.4f (%s on %s)", s.testAccuracy(), s.framework(), s.device()));
                if (r.failure() != null) {
                    terminal.out().println("failed: " + r.failure() + "; see: k3gpu logs " + r.job());
                    return 1;
                }
                return 0;
            } finally {
                done.set(true);
                try {
                    Runtime.getRuntime().removeShutdownHook(cleanup);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running: it does the cleanup
                }
            }
        }
    }

    /** A progress line per epoch; other log lines as they are. */
    private void show(String line) {
        var ev = TrainingEvent.tryParse(line);
        if (ev.isPresent() && ev.get() instanceof TrainingProgress p) {
            terminal.err().printf("epoch %d/%d  loss %.4f  accuracy %.4f  %.0f samples/s  %s%n", p.epoch(), p.epochs(),
                    p.loss() == null ? Double.NaN : p.loss(), p.accuracy() == null ? Double.NaN : p.accuracy(),
                    p.samplesPerSecond() == null ? Double.NaN : p.samplesPerSecond(), p.device());
        } else if (ev.isEmpty()) {
            terminal.err().println("| " + line);
        }
        terminal.err().flush();
    }
}
