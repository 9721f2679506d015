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
import io.k3gpu.core.train.DistributedPlan;
import io.k3gpu.core.train.DistributedTrainingJob;
import io.k3gpu.core.train.RunDistributedTraining;
import io.k3gpu.core.workloads.DistributedSummary;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

@Command(name = "train",
        description = {"Train a small CNN on MNIST / Fashion-MNIST on a node as a Kubernetes Job, followed live.",
                "--repo URL --script FILE reproduces the seed (git-clone init container, emptyDir /workspace);",
                "--builtin mounts the shipped trainer from a ConfigMap (works air-gapped). Ctrl-C stops and cleans up.",
                "Over several nodes (--node a,b | --nodes N | --all-gpu-nodes): an Indexed Job, one worker per node,",
                "a headless Service for rank 0, torchrun and DistributedDataParallel over gloo or NCCL."})
final class TrainCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    KubeOptions kube;

    /** Where to train: exactly one of these. */
    static final class Where {
        @Option(names = "--node", paramLabel = "NAME", split = ",", required = true,
                description = "The node (its Kubernetes name), or several: a,b,c (one worker each).")
        List<String> nodes;

        @Option(names = "--nodes", paramLabel = "N", required = true,
                description = "N of the cluster's Ready GPU nodes (by name).")
        Integer count;

        @Option(names = "--all-gpu-nodes", required = true, description = "Every Ready GPU node of the cluster.")
        boolean all;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Where where;

    @Mixin
    OutputOptions output;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto",
            description = "Over several nodes: auto (default: NCCL only when every worker is a discrete GPU, else gloo), gloo or nccl.")
    String backend;

    @Option(names = "--rendezvous-timeout", paramLabel = "DURATION", defaultValue = "5m",
            description = "Over several nodes: how long the workers may take to find each other (default: ${DEFAULT-VALUE}).")
    Duration rendezvousTimeout;

    @Option(names = "--train-samples", paramLabel = "N",
            description = "The shipped trainer: train on the first N images only (default: all).")
    Integer trainSamples;

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
        boolean json = output.json();
        if (trainSamples != null && (trainSamples < 1 || repo != null)) {
            throw new K3gpuException(ExitCode.USAGE, "--train-samples needs a positive count and the shipped trainer",
                    "pass --train-samples N with --builtin");
        }
        if (where.nodes == null || where.nodes.size() != 1) {
            // usage errors before the cluster is contacted
            DistributedPlan.backend(backend, List.of());
            Integer exit = distributed(dataset, json);
            if (exit != null) {
                return exit;
            }
        } else {
            node = where.nodes.get(0);
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
                    epochs, gpuSpec, dataDir, VerifyGpu.WORKLOADS_CONFIGMAP, trainSamples);
            Thread cleanup = new Thread(() -> {
                if (!done.get()) {
                    terminal.err().println("interrupted: deleting job " + job);
                    terminal.err().flush(); // a shutdown hook: nothing flushes it later
                    api.deleteJob(VerifyGpu.NAMESPACE, job);
                }
            });
            Runtime.getRuntime().addShutdownHook(cleanup);
            try {
                RunTraining.Result r = new RunTraining(new ConsoleEvents(terminal.err()))
                        .run(api, spec, timeout, follow ? this::show : null);
                done.set(true);
                TrainingSummary s = r.summary();
                if (json) {
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("job", r.job());
                    out.put("nodes", List.of(r.node()));
                    out.put("state", r.state());
                    out.put("durationSeconds", r.duration().toMillis() / 1000.0);
                    out.put("summary", s);
                    out.put("failure", r.failure());
                    terminal.out().println(Json.pretty(out));
                    return r.failure() == null ? 0 : 1;
                }
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

    /**
     * Several nodes: an Indexed Job and a headless Service, every rank followed, one summary; null when the choice
     * is one node ({@link #node} set): the single-node Job then.
     */
    private Integer distributed(String dataset, boolean json) {
        try (ClusterApi api = kube.api()) {
            List<NodeStatus> chosen = DistributedPlan.choose(api.nodes(), where.nodes, where.count, where.all);
            if (chosen.size() == 1) {
                node = chosen.get(0).name();
                return null;
            }
            String img = DistributedPlan.image(chosen, image);
            String be = DistributedPlan.backend(backend, chosen);
            GpuPodSpec gpuSpec = null;
            if (gpu) {
                List<GpuPodSpec> specs = chosen.stream().map(n -> GpuPodSpec.of(GpuAccess.of(n))).distinct().toList();
                if (specs.size() > 1) {
                    throw new K3gpuException(ExitCode.USAGE, "the chosen nodes get their GPU in different ways ("
                            + String.join("; ", specs.stream().map(GpuPodSpec::describe).toList()) + ")",
                            "choose nodes with the same GPU setup (k3gpu nodes -o wide)");
                }
                gpuSpec = specs.get(0);
                terminal.err().println("gpu: " + gpuSpec.describe());
            }
            List<String> names = chosen.stream().map(NodeStatus::name).toList();
            String job = name != null ? name : VerifyGpu.podName("train-" + names.size() + "n");
            long rendezvous = rendezvousTimeout.toSeconds();
            DistributedTrainingJob.Spec spec = new DistributedTrainingJob.Spec(job, VerifyGpu.NAMESPACE, names, img,
                    repo, script, dataset, epochs, trainSamples, be, Math.max(1, rendezvous), gpuSpec, dataDir,
                    VerifyGpu.WORKLOADS_CONFIGMAP);
            AtomicBoolean done = new AtomicBoolean();
            Thread cleanup = new Thread(() -> {
                if (!done.get()) {
                    terminal.err().println("interrupted: deleting job " + job + " and service " + job);
                    terminal.err().flush(); // a shutdown hook: nothing flushes it later
                    api.deleteJob(VerifyGpu.NAMESPACE, job);
                    api.delete(VerifyGpu.NAMESPACE, "Service", job);
                }
            });
            Runtime.getRuntime().addShutdownHook(cleanup);
            try {
                RunDistributedTraining.Result r = new RunDistributedTraining(new ConsoleEvents(terminal.err()))
                        .run(api, spec, timeout, follow ? this::showRank : null);
                done.set(true);
                if (json) {
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("job", r.job());
                    out.put("nodes", r.nodes());
                    out.put("state", r.state());
                    out.put("durationSeconds", r.duration().toMillis() / 1000.0);
                    out.put("worldSize", names.size());
                    out.put("backend", be);
                    out.put("summary", r.summary());
                    out.put("distributed", r.distributed());
                    out.put("failure", r.failure());
                    out.put("failureLog", r.failureLog());
                    terminal.out().println(Json.pretty(out));
                } else {
                    summary(r, names.size(), be);
                }
                return r.failure() == null ? 0 : 1;
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

    private void summary(RunDistributedTraining.Result r, int world, String be) {
        TrainingSummary s = r.summary();
        DistributedSummary d = r.distributed();
        terminal.out().printf("job %s on %s: %s in %ds, world size %d, backend %s%s%n", r.job(), String.join(",", r.nodes()),
                r.state(), r.duration().toSeconds(), world, be,
                s == null ? "" : String.format(", test accuracy %.4f (%s on %s)", s.testAccuracy(), s.framework(), s.device()));
        if (d != null) {
            StringBuilder per = new StringBuilder();
            for (DistributedSummary.Rank k : d.ranks()) {
                per.append(per.isEmpty() ? "" : ", ").append(String.format("rank %d %s %.0f", k.rank(), k.node(),
                        k.samplesPerSecond() == null ? Double.NaN : k.samplesPerSecond()));
            }
            terminal.out().printf("samples/s: %.0f overall; %s%n", d.samplesPerSecond() == null ? Double.NaN
                    : d.samplesPerSecond(), per);
            if (d.communicationShare() != null) {
                terminal.out().printf("all-reduce: %.3f s of a %.3f s step (%.0f%%)%n", d.allreduceSecondsPerStep(),
                        d.stepSeconds(), 100 * d.communicationShare());
            }
        }
        if (r.failure() != null) {
            terminal.out().println("failed: " + r.failure());
            r.failureLog().lines().forEach(l -> terminal.out().println("  | " + l));
        }
    }

    /** Every rank's epochs and log lines, prefixed by rank and node. */
    private void showRank(RunDistributedTraining.RankLine l) {
        String prefix = "[" + l.rank() + " " + l.node() + "] ";
        var ev = TrainingEvent.tryParse(l.line());
        if (ev.isPresent() && ev.get() instanceof TrainingProgress p) {
            terminal.err().printf("%sepoch %d/%d  loss %.4f  accuracy %.4f  %.0f samples/s  %s%n", prefix, p.epoch(),
                    p.epochs(), p.loss() == null ? Double.NaN : p.loss(), p.accuracy() == null ? Double.NaN : p.accuracy(),
                    p.samplesPerSecond() == null ? Double.NaN : p.samplesPerSecond(), p.device());
        } else if (ev.isEmpty()) {
            terminal.err().println(prefix + "| " + l.line());
        }
        terminal.err().flush();
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
