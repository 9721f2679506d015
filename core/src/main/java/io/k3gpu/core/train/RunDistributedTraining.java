package io.k3gpu.core.train;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.PodState;
import io.k3gpu.core.workloads.DistributedSummary;
import io.k3gpu.core.workloads.TrainingEvent;
import io.k3gpu.core.workloads.TrainingStart;
import io.k3gpu.core.workloads.TrainingSummary;
import io.k3gpu.core.workloads.Workloads;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Runs a training over N nodes ({@link DistributedTrainingJob}), follows every rank's log, and fails it at once
 * when a worker dies or is evicted, or when the ranks have not met within the rendezvous timeout. A failed run's
 * Job and Service are deleted; a finished run's Service is (the Job stays for {@code jobs} and {@code logs} until
 * its TTL).
 */
public final class RunDistributedTraining {
    static final int TAIL_LINES = 15;
    /** Lines read to tell a rank that lost a peer: the trainer's error comes before torchrun's ~15-line summary. */
    static final int CLASSIFY_LINES = 80;

    /** One log line of one rank. */
    public record RankLine(int rank, String node, String line) {
    }

    /**
     * @param summary     rank 0's done line, when it printed one
     * @param distributed its distributed part
     * @param failure     one line; null when the run completed
     * @param failureLog  the failed rank's log tail (empty when none)
     */
    public record Result(String job, List<String> nodes, String state, Duration duration, TrainingSummary summary,
                         DistributedSummary distributed, String failure, String failureLog) {
    }

    private final Events events;

    public RunDistributedTraining(Events events) {
        this.events = events;
    }

    /** A rank's pod as it is followed. */
    private static final class Worker {
        final int rank;
        String pod;
        PodState state;
        AutoCloseable follow;
        final AtomicInteger shown = new AtomicInteger();
        final AtomicBoolean joined = new AtomicBoolean();

        Worker(int rank) {
            this.rank = rank;
        }

        String node() {
            return state == null || state.node() == null ? "-" : state.node();
        }
    }

    /** @param lines receives each rank's log lines as they arrive (null: do not follow) */
    public Result run(ClusterApi api, DistributedTrainingJob.Spec spec, Duration timeout, Consumer<RankLine> lines) {
        String ns = spec.namespace();
        api.applyConfigMap(ns, spec.workloadsConfigMap(), Workloads.all());
        Instant start = Instant.now();
        events.info(String.join(",", spec.nodes()), "creating indexed job " + spec.name() + " (" + spec.worldSize()
                + " workers, " + spec.backend() + ", " + spec.image() + ") and headless service " + spec.name());
        api.create(ns, DistributedTrainingJob.manifest(spec));
        long rendezvousDeadline = System.nanoTime() + Duration.ofSeconds(spec.rendezvousSeconds()).toNanos();
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<Integer, Worker> workers = new TreeMap<>();
        for (int r = 0; r < spec.worldSize(); r++) {
            workers.put(r, new Worker(r));
        }
        boolean met = false;
        try {
            while (true) {
                List<PodState> pods = api.pods(ns, "job-name=" + spec.name());
                Worker vanished = null;
                boolean failed = false;
                for (Worker w : workers.values()) {
                    Optional<PodState> p = pods.stream().filter(x -> rankOf(x, spec.name()) == w.rank).findFirst();
                    if (p.isEmpty()) {
                        if (w.pod != null && vanished == null) {
                            vanished = w;
                        }
                        continue;
                    }
                    w.pod = p.get().name();
                    w.state = p.get();
                    String phase = w.state.phase();
                    if (lines != null && w.follow == null && !"Pending".equals(phase)) {
                        w.follow = api.followLogs(ns, w.pod, TrainingJob.CONTAINER, line -> {
                            w.shown.incrementAndGet();
                            seen(w, line, lines);
                        });
                    }
                    failed |= "Failed".equals(phase);
                }
                // a failed worker first: the Job controller then deletes the other ranks' pods
                if (failed) {
                    return died(api, spec, start, workers);
                }
                if (vanished != null) {
                    return fail(api, spec, start, workers, "", "rank " + vanished.rank + "'s pod " + vanished.pod
                            + " on " + vanished.node() + " was deleted (evicted or drained)");
                }
                if (workers.values().stream().allMatch(w -> w.state != null && "Succeeded".equals(w.state.phase()))) {
                    break;
                }
                if (!met) {
                    met = workers.values().stream().allMatch(w -> joined(w, spec));
                    if (!met && System.nanoTime() > rendezvousDeadline) {
                        return fail(api, spec, start, workers, "", "the rendezvous did not complete within "
                                + spec.rendezvousSeconds() + "s: " + missing(workers, spec));
                    }
                }
                if (api.job(ns, spec.name()).map(j -> "Failed".equals(j.state())).orElse(false)) {
                    return fail(api, spec, start, workers, "", "job " + spec.name() + " failed");
                }
                if (System.nanoTime() > deadline) {
                    return fail(api, spec, start, workers, "", "still running after " + timeout.toSeconds() + "s");
                }
                Thread.sleep(500);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "interrupted", null, e);
        } finally {
            workers.values().forEach(RunDistributedTraining::stopFollowing);
        }
        String rank0 = "";
        for (Worker w : workers.values()) {
            String logs = api.podLogs(ns, w.pod, TrainingJob.CONTAINER);
            if (lines != null) {
                // the follow may end before its stream is drained: show what it missed
                logs.lines().skip(w.shown.get()).forEach(l -> lines.accept(new RankLine(w.rank, w.node(), l)));
            }
            if (w.rank == 0) {
                rank0 = logs;
            }
        }
        api.delete(ns, "Service", spec.name());
        TrainingSummary summary = TrainingEvent.outcome(rank0).filter(e -> e instanceof TrainingSummary)
                .map(e -> (TrainingSummary) e).orElse(null);
        return new Result(spec.name(), spec.nodes(), "Complete", Duration.between(start, Instant.now()), summary,
                DistributedSummary.fromLogs(rank0).orElse(null), null, "");
    }

    private static void seen(Worker w, String line, Consumer<RankLine> lines) {
        if (TrainingEvent.tryParse(line).filter(e -> e instanceof TrainingStart).isPresent()) {
            w.joined.set(true);
        }
        lines.accept(new RankLine(w.rank, w.node(), line));
    }

    /**
     * Whether a rank has met the others: the shipped trainer says so with its start line (written after
     * init_process_group); a user's script is taken to have met them once every pod runs.
     */
    private static boolean joined(Worker w, DistributedTrainingJob.Spec spec) {
        if (w.state == null) {
            return false;
        }
        if ("Succeeded".equals(w.state.phase())) {
            return true;
        }
        return spec.repo() == null && w.follow != null ? w.joined.get() : "Running".equals(w.state.phase());
    }

    /** Which ranks never arrived (no pod, or one that never ran) and which ran but did not join. */
    static String missing(Map<Integer, Worker> workers, DistributedTrainingJob.Spec spec) {
        List<String> absent = new ArrayList<>();
        List<String> stuck = new ArrayList<>();
        for (Worker w : workers.values()) {
            if (w.state == null) {
                absent.add("rank " + w.rank + " (no pod)");
            } else if ("Pending".equals(w.state.phase())) {
                absent.add("rank " + w.rank + " (pod " + w.pod + (w.state.node() == null ? "" : " on " + w.state.node())
                        + ": " + w.state.status() + ")");
            } else if (!joined(w, spec)) {
                stuck.add("rank " + w.rank + " on " + w.node());
            }
        }
        StringBuilder sb = new StringBuilder();
        if (!absent.isEmpty()) {
            sb.append(String.join(", ", absent)).append(absent.size() == 1 ? " never arrived" : " never arrived");
        }
        if (!stuck.isEmpty()) {
            sb.append(sb.isEmpty() ? "" : "; ").append(String.join(", ", stuck))
                    .append(stuck.size() == 1 ? " was" : " were").append(" waiting at the rendezvous (")
                    .append(spec.master()).append(':').append(DistributedTrainingJob.PORT).append(')');
        }
        return sb.toString();
    }

    /** How gloo and NCCL say that the other end went away: a rank that failed so is not the one that died. */
    static final java.util.regex.Pattern PEER_LOST = java.util.regex.Pattern.compile(
            "(?i)connection (closed|reset) by peer|broken pipe|NCCL.*remote process exited|ProcessGroupGloo.*(timed out|connection)");

    /** How long a failure waits for the rank that caused it: torchrun's agent notices a dead child every 5 s. */
    static final Duration CULPRIT_WAIT = Duration.ofSeconds(15);

    /**
     * A worker failed. Its peers fail right after it (their all-reduce loses it), and which pod fails first is a race:
     * torchrun's agent on the dead rank notices within its 5 s monitor interval, gloo on the others at once. So the
     * culprit is the failed rank whose log does not say it lost a peer, waited for a while; if every failed rank
     * lost a peer, it is a rank whose pod went away without failing (the Job controller deletes the other pods once
     * the Job has failed).
     */
    private Result died(ClusterApi api, DistributedTrainingJob.Spec spec, Instant start, Map<Integer, Worker> workers)
            throws InterruptedException {
        long until = System.nanoTime() + CULPRIT_WAIT.toNanos();
        Map<Integer, String> tails = new TreeMap<>();
        Worker culprit = null;
        List<Worker> gone = new ArrayList<>();
        while (true) {
            Thread.sleep(1000);
            List<PodState> pods = api.pods(spec.namespace(), "job-name=" + spec.name());
            gone.clear();
            for (Worker w : workers.values()) {
                Optional<PodState> p = pods.stream().filter(x -> rankOf(x, spec.name()) == w.rank).findFirst();
                if (p.isPresent()) {
                    w.state = p.get();
                } else if (w.state != null && !"Failed".equals(w.state.phase())) {
                    gone.add(w);
                }
            }
            for (Worker w : workers.values()) {
                if (w.state == null || !"Failed".equals(w.state.phase()) || tails.containsKey(w.rank)) {
                    continue;
                }
                tails.put(w.rank, tail(api, spec, w, CLASSIFY_LINES));
            }
            culprit = workers.values().stream().filter(w -> tails.containsKey(w.rank)
                    && !PEER_LOST.matcher(tails.get(w.rank)).find()).findFirst().orElse(null);
            boolean anyLeft = workers.values().stream().anyMatch(w -> !tails.containsKey(w.rank) && !gone.contains(w));
            if (culprit != null || !anyLeft || System.nanoTime() > until) {
                break;
            }
        }
        String how;
        if (culprit != null) {
            how = "failed (" + culprit.state.status() + ")";
        } else if (!gone.isEmpty()) {
            culprit = gone.get(0);
            how = "failed (its pod ended without a result: deleted as the Job failed)";
        } else {
            culprit = workers.values().stream().filter(w -> tails.containsKey(w.rank)).findFirst().orElseThrow();
            how = "failed (" + culprit.state.status() + ")";
        }
        Worker c = culprit;
        List<String> victims = workers.values().stream().filter(w -> w != c && tails.containsKey(w.rank))
                .map(w -> "rank " + w.rank).toList();
        // the culprit's own log, else (its pod is gone) what the first rank that lost it printed
        String culpritTail = tails.containsKey(c.rank) ? lastLines(tails.get(c.rank), TAIL_LINES)
                : tails.values().stream().findFirst().map(t -> lastLines(t, TAIL_LINES)).orElse("");
        String failure = "rank " + c.rank + " on " + c.node() + " " + how
                + (victims.isEmpty() ? "" : "; " + String.join(", ", victims) + " then lost " + (victims.size() == 1
                ? "its peer" : "their peer"));
        return fail(api, spec, start, workers, culpritTail, failure);
    }

    static String lastLines(String text, int n) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    private static String tail(ClusterApi api, DistributedTrainingJob.Spec spec, Worker w, int lines) {
        try {
            String t = api.podLogTail(spec.namespace(), w.pod, TrainingJob.CONTAINER, lines, false);
            return t == null ? "" : t;
        } catch (K3gpuException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private Result fail(ClusterApi api, DistributedTrainingJob.Spec spec, Instant start, Map<Integer, Worker> workers,
                        String tail, String failure) {
        workers.values().forEach(RunDistributedTraining::stopFollowing);
        events.info(String.join(",", spec.nodes()), "deleting job " + spec.name() + " and service " + spec.name());
        api.deleteJob(spec.namespace(), spec.name());
        api.delete(spec.namespace(), "Service", spec.name());
        return new Result(spec.name(), spec.nodes(), "Failed", Duration.between(start, Instant.now()), null, null,
                failure, tail == null ? "" : tail.strip());
    }

    private static void stopFollowing(Worker w) {
        if (w.follow != null) {
            try {
                w.follow.close();
            } catch (Exception ignored) {
                // the stream is gone with its pod
            }
        }
    }

    /** The pod's completion index (Kubernetes' annotation; else its name, {@code <job>-<index>-<suffix>}). */
    static int rankOf(PodState p, String job) {
        String index = p.annotations().get(DistributedTrainingJob.INDEX_ANNOTATION);
        if (index == null && p.name().startsWith(job + "-")) {
            String rest = p.name().substring(job.length() + 1);
            int dash = rest.indexOf('-');
            index = dash < 0 ? rest : rest.substring(0, dash);
        }
        try {
            return index == null ? -1 : Integer.parseInt(index);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
