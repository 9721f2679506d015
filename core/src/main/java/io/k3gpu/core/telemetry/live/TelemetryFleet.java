package io.k3gpu.core.telemetry.live;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.NvidiaSmiCsvParser;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.TegrastatsParser;
import io.k3gpu.core.telemetry.TelemetryParseException;

import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Follows the telemetry of many nodes at once: the controller side of {@code k3gpu stats} and
 * {@code k3gpu exporter}. Each node's tool streams on its own connection; its lines are parsed where they arrive
 * (tegrastats by {@link TegrastatsParser}, nvidia-smi by {@link NvidiaSmiCsvParser} for
 * {@link TelemetryCommands#NVIDIA_SMI_FIELDS}) and handed to the listener. A node that cannot be reached, whose tool
 * ends, or that goes silent for {@link FleetOptions#staleAfter()} is reported DOWN and, with
 * {@link FleetOptions#reconnect()}, started again after a growing delay; the other nodes go on undisturbed.
 *
 * <p>Threads: a small pool for the blocking connects, one timer for delays and the silence check; parsing runs on
 * the connections' I/O threads. Nothing is done per node while it is quiet, so a thousand nodes at 1 Hz cost little.
 */
public final class TelemetryFleet implements AutoCloseable {
    private final TelemetryListener listener;
    private final FleetOptions options;
    private final List<Follower> followers = new ArrayList<>();
    private final ExecutorService connects;
    private final ScheduledExecutorService timer;
    private volatile boolean stopped;

    public TelemetryFleet(List<? extends TelemetryLink> links, TelemetryListener listener, FleetOptions options) {
        this.listener = Objects.requireNonNull(listener, "listener");
        this.options = Objects.requireNonNull(options, "options");
        this.connects = Executors.newFixedThreadPool(Math.min(options.connectThreads(), Math.max(1, links.size())),
                daemon("k3gpu-telemetry-connect"));
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("k3gpu-telemetry-timer"));
        for (TelemetryLink link : links) {
            followers.add(new Follower(link));
        }
    }

    /**
     * Starts every node, in parallel, and waits up to {@code timeout} for each one's first attempt. Returns the
     * nodes whose first attempt failed (node &rarr; why; empty when all started); with
     * {@link FleetOptions#reconnect()} they are tried again in the background.
     */
    public Map<String, RuntimeException> start(Duration timeout) throws InterruptedException {
        List<CompletableFuture<Optional<RuntimeException>>> firsts = new ArrayList<>();
        for (Follower f : followers) {
            firsts.add(f.first);
            connects.execute(f::attempt);
        }
        long period = Math.max(250, Math.min(1000, options.staleAfter().toMillis() / 4));
        timer.scheduleAtFixedRate(this::checkSilence, period, period, TimeUnit.MILLISECONDS);
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, RuntimeException> failed = new LinkedHashMap<>();
        for (int i = 0; i < followers.size(); i++) {
            String node = followers.get(i).node();
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                firsts.get(i).get(left, TimeUnit.NANOSECONDS).ifPresent(e -> failed.put(node, e));
            } catch (TimeoutException e) {
                failed.put(node, new K3gpuException(ExitCode.TIMEOUT, node + " did not start within "
                        + timeout.toSeconds() + " s", "check the node and the network"));
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
        return failed;
    }

    /** The current state of every node, in the order of the links. */
    public List<NodeStatus> statuses() {
        List<NodeStatus> out = new ArrayList<>();
        for (Follower f : followers) {
            out.add(f.status);
        }
        return out;
    }

    /**
     * Stops every node's tool (in parallel, each waiting up to {@link FleetOptions#stopGrace()}) and the fleet's
     * threads. Idempotent.
     */
    public void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        timer.shutdownNow();
        List<Thread> stoppers = new ArrayList<>();
        for (Follower f : followers) {
            Thread t = new Thread(f::stop, "k3gpu-telemetry-stop-" + f.node());
            t.setDaemon(true);
            t.start();
            stoppers.add(t);
        }
        long deadline = System.nanoTime() + options.stopGrace().plusSeconds(3).toNanos();
        for (Thread t : stoppers) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        connects.shutdownNow();
    }

    @Override
    public void close() {
        stop();
    }

    private void checkSilence() {
        long now = System.nanoTime();
        for (Follower f : followers) {
            f.checkSilence(now);
        }
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** One node: its attempts, its parser, its state. */
    private final class Follower {
        private final TelemetryLink link;
        private final CompletableFuture<Optional<RuntimeException>> first = new CompletableFuture<>();
        private final Object lock = new Object();
        private volatile NodeStatus status;
        /** Which attempt is current: events of older attempts are ignored. */
        private int generation;
        private TelemetryStream stream;
        private Source source;
        private int failures;
        private int attempts;
        private volatile long lastLine;
        private volatile boolean sampled;

        Follower(TelemetryLink link) {
            this.link = link;
            this.status = new NodeStatus(link.node(), NodeState.CONNECTING, null, null, null, 0);
        }

        String node() {
            return link.node();
        }

        void attempt() {
            int gen;
            synchronized (lock) {
                if (stopped) {
                    first.complete(Optional.empty());
                    return;
                }
                gen = ++generation;
                attempts++;
                sampled = false;
                lastLine = System.nanoTime();
                setStatus(NodeState.CONNECTING, "connecting", null);
            }
            TelemetryStream s;
            try {
                s = link.start(src -> lines(gen, src));
            } catch (RuntimeException e) {
                first.complete(Optional.of(e));
                failed(gen, message(e));
                return;
            }
            boolean kept;
            synchronized (lock) {
                kept = gen == generation && !stopped;
                if (kept) {
                    stream = s;
                    lastLine = System.nanoTime();
                }
            }
            if (!kept) {
                s.stop(options.stopGrace()); // stopped (or given up) while it was starting
                first.complete(Optional.empty());
                return;
            }
            first.complete(Optional.empty());
            s.exit().whenComplete((st, error) -> ended(gen, s, st, error));
        }

        private Consumer<String> lines(int gen, Source src) {
            synchronized (lock) {
                source = src;
            }
            if (src == Source.TEGRASTATS) {
                return line -> {
                    if (!line.isBlank()) {
                        accept(gen, line, () -> Optional.of(TegrastatsParser.parse(line)));
                    }
                };
            }
            NvidiaSmiCsvParser smi = NvidiaSmiCsvParser.forFields(TelemetryCommands.NVIDIA_SMI_FIELDS);
            return line -> {
                if (!line.isBlank()) {
                    accept(gen, line, () -> smi.parseLine(line));
                }
            };
        }

        private void accept(int gen, String line, java.util.function.Supplier<Optional<GpuSample>> parse) {
            lastLine = System.nanoTime();
            Optional<GpuSample> sample;
            try {
                sample = parse.get();
            } catch (TelemetryParseException e) {
                safely(() -> listener.badLine(link.node(), line, e.getMessage()));
                return;
            } catch (RuntimeException e) {
                safely(() -> listener.badLine(link.node(), line, "cannot parse line: " + e));
                return;
            }
            if (sample.isEmpty()) {
                return;
            }
            if (!sampled) {
                synchronized (lock) {
                    if (gen != generation || stopped) {
                        return;
                    }
                    sampled = true;
                    failures = 0;
                    setStatus(NodeState.UP, null, null);
                }
            }
            GpuSample s = sample.get();
            safely(() -> listener.sample(link.node(), LocalDateTime.now(), s));
        }

        private void ended(int gen, TelemetryStream s, Integer exitStatus, Throwable error) {
            String why = error != null ? message(error instanceof java.util.concurrent.CompletionException
                    && error.getCause() != null ? error.getCause() : error)
                    : s.describeExit(exitStatus);
            failed(gen, why);
        }

        private void failed(int gen, String why) {
            synchronized (lock) {
                if (gen != generation || stopped) {
                    return;
                }
                stream = null;
                generation++;
                if (!options.reconnect()) {
                    setStatus(NodeState.DOWN, why, null);
                    return;
                }
                Duration delay = options.backoff().delay(failures++);
                setStatus(NodeState.DOWN, why, delay);
                try {
                    timer.schedule(() -> connects.execute(this::attempt), delay.toMillis(), TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // stopping
                }
            }
        }

        void checkSilence(long now) {
            TelemetryStream s;
            int gen;
            synchronized (lock) {
                s = stream;
                gen = generation;
                if (s == null || stopped || now - lastLine < options.staleAfter().toNanos()) {
                    return;
                }
            }
            failed(gen, "no output for " + options.staleAfter().toSeconds() + " s");
            try {
                connects.execute(() -> {
                    s.stop(Duration.ofSeconds(1));
                    link.reset();
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // stopping: stop() takes care of it
            }
        }

        void stop() {
            TelemetryStream s;
            synchronized (lock) {
                generation++;
                s = stream;
                stream = null;
            }
            if (s != null) {
                s.stop(options.stopGrace());
            }
            first.complete(Optional.empty());
            synchronized (lock) {
                setStatus(NodeState.STOPPED, null, null);
            }
        }

        private void setStatus(NodeState state, String detail, Duration retryIn) {
            NodeStatus next = new NodeStatus(link.node(), state, source, detail, retryIn, Math.max(0, attempts - 1));
            status = next;
            safely(() -> listener.status(next));
        }

        private String message(Throwable e) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }

        private void safely(Runnable r) {
            try {
                r.run();
            } catch (RuntimeException e) {
                // a listener's failure must not stop the stream (nor the other nodes)
            }
        }
    }
}
