package io.k3gpu.cli;

import io.k3gpu.core.facts.L4tRelease;
import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.JobStatus;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.PodState;
import io.k3gpu.core.train.TrainingJob;
import io.k3gpu.core.verify.VerifyGpu;
import io.k3gpu.core.verify.VerifyRecord;
import io.k3gpu.core.workloads.TrainingError;
import io.k3gpu.core.workloads.TrainingEvent;
import io.k3gpu.core.workloads.TrainingProgress;
import io.k3gpu.core.workloads.TrainingStart;
import io.k3gpu.core.workloads.TrainingSummary;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * What the dashboard shows of the cluster, read through the same {@link ClusterApi} as {@code nodes -o wide},
 * {@code jobs} and {@code logs}: plain maps that the server writes as JSON. Only chosen fields go out (no
 * annotations but verify's record, no environment, no secrets). Answers are kept for a moment so that many open pages cost the API
 * server one request per period, not one per page.
 */
final class DashboardCluster {
    static final Duration FRESH = Duration.ofSeconds(2);
    static final int LOG_TAIL = 200;
    /** The completion index Kubernetes writes on each pod of an Indexed Job (rank 0 reports the run). */
    static final String COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";

    private final ClusterApi api;
    private final Cached<List<Map<String, Object>>> nodes;
    private final Cached<List<Map<String, Object>>> jobs;
    private final Cached<List<Map<String, Object>>> verifyResults;

    DashboardCluster(ClusterApi api) {
        this.api = api;
        this.nodes = new Cached<>(this::readNodes);
        this.jobs = new Cached<>(this::readJobs);
        this.verifyResults = new Cached<>(() -> verifyResults(api.nodeAnnotation(VerifyRecord.ANNOTATION)));
    }

    List<Map<String, Object>> nodes() {
        return nodes.get();
    }

    List<Map<String, Object>> jobs() {
        return jobs.get();
    }

    /** The last {@code k3gpu verify} of each node that keeps one. */
    List<Map<String, Object>> verifyResults() {
        return verifyResults.get();
    }

    /**
     * The jobs page's verify table from each Node's {@link VerifyRecord#ANNOTATION}, by node name; an annotation
     * that is not a record k3gpu wrote is left out (anyone who may annotate Nodes can write it). Pure.
     */
    static List<Map<String, Object>> verifyResults(Map<String, String> annotations) {
        List<Map<String, Object>> out = new ArrayList<>();
        new TreeMap<>(annotations).forEach((node, value) -> VerifyRecord.parse(value).ifPresent(v -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("node", node);
            m.put("result", v.pass() ? "PASS" : "FAIL");
            m.put("at", v.at() == null ? null : v.at().toString());
            m.put("reason", v.reason());
            m.put("image", v.image());
            m.put("pod", v.pod());
            out.add(m);
        }));
        return out;
    }

    private List<Map<String, Object>> readNodes() {
        List<NodeStatus> all = api.nodes();
        Map<String, Long> inUse = NodesCommand.gpusInUse(api.activePods(null));
        List<Map<String, Object>> out = new ArrayList<>();
        for (NodeStatus n : all) {
            out.add(node(n, inUse));
        }
        return out;
    }

    /** One row of the cluster page. Pure. */
    static Map<String, Object> node(NodeStatus n, Map<String, Long> inUse) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", n.name());
        m.put("ready", n.ready());
        m.put("roles", n.roles().isEmpty() ? List.of("<none>") : n.roles());
        m.put("version", n.kubeletVersion());
        m.put("internalIp", n.internalIp());
        m.put("architecture", n.architecture());
        m.put("gpu", NodesCommand.gpu(n));
        String l4t = n.labels().get(GpuLabels.L4T);
        m.put("l4t", l4t);
        m.put("jetpack", l4t == null ? null : L4tRelease.parseDpkgVersion(l4t).flatMap(L4tRelease::jetpack)
                .orElse(null));
        m.put("jetsonModel", n.labels().get(GpuLabels.JETSON_MODEL));
        m.put("cuda", n.labels().get(GpuLabels.CUDA));
        m.put("containerRuntime", n.containerRuntime());
        m.put("gpuRuntime", n.labels().get(GpuLabels.RUNTIME));
        m.put("gpuAllocatable", n.gpuAllocatable());
        m.put("gpuInUse", n.gpuAllocatable() == null ? null : inUse.getOrDefault(n.name(), 0L));
        return m;
    }

    private List<Map<String, Object>> readJobs() {
        List<Map<String, Object>> out = new ArrayList<>();
        List<JobStatus> list = new ArrayList<>(api.jobs(VerifyGpu.NAMESPACE, TrainingJob.LABEL + "=true"));
        list.sort(Comparator.comparing((JobStatus j) -> j.started() == null ? Instant.MAX : j.started()).reversed());
        for (JobStatus j : list) {
            out.add(job(j, false));
        }
        return out;
    }

    /** One training run with its epochs, outcome and (with {@code detail}) its log tail; empty if there is none. */
    Optional<Map<String, Object>> job(String name) {
        return api.job(VerifyGpu.NAMESPACE, name)
                .filter(j -> "true".equals(j.labels().get(TrainingJob.LABEL)))
                .map(j -> job(j, true));
    }

    private Map<String, Object> job(JobStatus j, boolean detail) {
        List<PodState> pods = api.pods(VerifyGpu.NAMESPACE, "job-name=" + j.name());
        String reporter = reporter(pods);
        String logs = reporter == null ? "" : api.podLogs(VerifyGpu.NAMESPACE, reporter, TrainingJob.CONTAINER);
        Map<String, Object> m = run(j, pods, TrainingEvent.fromLogs(logs), Instant.now());
        if (detail) {
            m.put("logTail", reporter == null ? "" : api.podLogTail(VerifyGpu.NAMESPACE, reporter,
                    TrainingJob.CONTAINER, LOG_TAIL, false));
        }
        return m;
    }

    /** The pod whose log tells the run: rank 0 of an Indexed Job, else the newest (by name order, as created). */
    static String reporter(List<PodState> pods) {
        for (PodState p : pods) {
            if ("0".equals(p.annotations().get(COMPLETION_INDEX))) {
                return p.name();
            }
        }
        return pods.isEmpty() ? null : pods.get(pods.size() - 1).name();
    }

    /** A run as the jobs page shows it, from the Job, its pods and the trainer's events. Pure. */
    static Map<String, Object> run(JobStatus j, List<PodState> pods, List<TrainingEvent> events, Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", j.name());
        m.put("state", j.state());
        TreeSet<String> nodes = new TreeSet<>();
        pods.forEach(p -> {
            if (p.node() != null) {
                nodes.add(p.node());
            }
        });
        if (nodes.isEmpty() && j.labels().get(TrainingJob.NODE_LABEL) != null) {
            nodes.add(j.labels().get(TrainingJob.NODE_LABEL));
        }
        m.put("nodes", List.copyOf(nodes));
        m.put("worldSize", j.worldSize());
        m.put("started", j.started() == null ? null : j.started().toString());
        Instant end = j.finished() != null ? j.finished() : now;
        m.put("durationSeconds", j.started() == null ? null : Duration.between(j.started(), end).toSeconds());
        Integer planned = null;
        List<Map<String, Object>> epochs = new ArrayList<>();
        TrainingSummary summary = null;
        TrainingError error = null;
        String device = null;
        String dataset = null;
        for (TrainingEvent e : events) {
            if (e instanceof TrainingStart s) {
                planned = s.epochs();
                device = s.device();
                dataset = s.dataset();
            } else if (e instanceof TrainingProgress p) {
                planned = p.epochs();
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("epoch", p.epoch());
                row.put("loss", p.loss());
                row.put("accuracy", p.accuracy());
                row.put("samplesPerSecond", p.samplesPerSecond());
                epochs.add(row);
            } else if (e instanceof TrainingSummary s) {
                summary = s;
            } else if (e instanceof TrainingError err) {
                error = err;
            }
        }
        m.put("dataset", summary != null && summary.dataset() != null ? summary.dataset() : dataset);
        m.put("device", summary != null && summary.device() != null ? summary.device() : device);
        m.put("epochsDone", epochs.size());
        m.put("epochs", planned);
        m.put("testAccuracy", summary == null ? null : summary.testAccuracy());
        m.put("testLoss", summary == null ? null : summary.testLoss());
        m.put("error", error == null ? null : error.message());
        m.put("history", epochs);
        return m;
    }

    /** A value read at most once per {@link #FRESH}; a failed read is thrown to every caller of that moment. */
    private static final class Cached<T> {
        private final Supplier<T> read;
        private T value;
        private RuntimeException failure;
        private long at;

        Cached(Supplier<T> read) {
            this.read = read;
        }

        synchronized T get() {
            long now = System.nanoTime();
            if (at == 0 || now - at > FRESH.toNanos()) {
                try {
                    value = read.get();
                    failure = null;
                } catch (RuntimeException e) {
                    failure = e;
                }
                at = now;
            }
            if (failure != null) {
                throw failure;
            }
            return value;
        }
    }
}
