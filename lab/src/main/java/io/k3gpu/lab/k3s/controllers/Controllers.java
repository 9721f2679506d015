package io.k3gpu.lab.k3s.controllers;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.k3gpu.lab.k3s.K3sLog;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The control plane of the simulated K3s server: kube-scheduler ({@link Scheduler}), the Job and TTL controllers
 * ({@link JobController}), the DaemonSet controller ({@link DaemonSetController}), the Deployment and ReplicaSet
 * controllers ({@link DeploymentController}, {@link ReplicaSetController}), the garbage collector ({@link GarbageCollector}), the node lifecycle and taint eviction
 * controllers ({@link NodeLifecycle}), and the API server's admission and deletion semantics ({@link Admission},
 * {@link Deletion}) through {@link ApiHooks}. The controllers share one thread: changes reach them through the store's
 * watch and are handled in order, and a tick retries what waits (unschedulable pods, back-offs, deadlines, TTLs).
 */
public final class Controllers implements ApiHooks, AutoCloseable {
    /**
     * @param localNode               the server's own node, whose kubelet runs no pods (deletions there are confirmed
     *                                at once); null with --disable-agent or an embedded agent
     * @param host                    the server's host name (scheduler's reportingInstance)
     * @param tick                    how often waiting work is retried
     * @param nodeMonitorPeriod       how often node heartbeats are checked
     * @param nodeMonitorGracePeriod  silence after which a node is Unknown
     * @param nodeStartupGracePeriod  the same for a node that never posted Ready
     * @param eventTtl                how long events live
     */
    public record Options(String localNode, String host, Duration tick, Duration nodeMonitorPeriod,
                          Duration nodeMonitorGracePeriod, Duration nodeStartupGracePeriod, Duration eventTtl) {
        public static Options defaults() {
            return new Options(null, "k3s", Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(40),
                    Duration.ofSeconds(60), Duration.ofHours(1));
        }

        public Options localNode(String node) {
            return new Options(node, node == null ? host : node, tick, nodeMonitorPeriod, nodeMonitorGracePeriod,
                    nodeStartupGracePeriod, eventTtl);
        }

        /** The server's node has a kubelet (the embedded agent), which confirms deletions there itself. */
        public Options localNodeRunsPods() {
            return new Options(null, host, tick, nodeMonitorPeriod, nodeMonitorGracePeriod, nodeStartupGracePeriod,
                    eventTtl);
        }

        public Options nodeMonitorGracePeriod(Duration d) {
            return new Options(localNode, host, tick, nodeMonitorPeriod, d, nodeStartupGracePeriod, eventTtl);
        }
    }

    private final K3sLog log;
    private final Options options;
    private final Clock clock;
    private final ScheduledExecutorService loop;
    private final Admission admission;
    private final Deletion deletion;
    private final Scheduler scheduler;
    private final JobController jobs;
    private final EndpointsController endpoints;
    private boolean endpointsRequested;
    private final DaemonSetController daemonSets;
    private final ReplicaSetController replicaSets;
    private final DeploymentController deployments;
    private final GarbageCollector gc;
    private final NodeLifecycle nodes;
    private final Disruption disruption;
    private final Set<String> budgetsToSync = new LinkedHashSet<>();
    private final Set<String> jobsToSync = new LinkedHashSet<>();
    private final Set<String> daemonSetsToSync = new LinkedHashSet<>();
    private final Set<String> replicaSetsToSync = new LinkedHashSet<>();
    private final Set<String> deploymentsToSync = new LinkedHashSet<>();
    private boolean allDaemonSetsRequested;
    private boolean schedulingRequested;
    private Instant lastNodeMonitor = Instant.EPOCH;
    private Instant lastEventExpiry = Instant.EPOCH;
    private volatile AutoCloseable watch;
    private volatile boolean closed;

    private Controllers(KubeApi api, Clock clock, K3sLog log, Options options) {
        this.clock = clock;
        this.log = log;
        this.options = options;
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "k3s-controllers");
            t.setDaemon(true);
            return t;
        });
        Events events = new Events(api, clock, options.host());
        this.admission = new Admission(api);
        this.deletion = new Deletion(api, clock, options.localNode());
        this.scheduler = new Scheduler(api, events, clock, log);
        this.jobs = new JobController(api, events, clock, log);
        this.endpoints = new EndpointsController(api);
        this.daemonSets = new DaemonSetController(api, events, clock, log);
        this.replicaSets = new ReplicaSetController(api, events, clock, log);
        this.deployments = new DeploymentController(api, events, clock, log);
        this.gc = new GarbageCollector(api, deletion, events, clock, options.eventTtl(), log);
        this.disruption = new Disruption(api, events, clock, log);
        this.nodes = new NodeLifecycle(api, events, clock, options.nodeMonitorGracePeriod(),
                options.nodeStartupGracePeriod(), log);
    }

    /** Starts the controllers; install {@code this} as the API's hooks. */
    public static Controllers start(KubeApi api, Clock clock, K3sLog log, Options options) {
        Controllers c = new Controllers(api, clock, log, options);
        c.watch = api.watch(change -> c.submit(() -> c.dispatch(change)));
        long tick = Math.max(100, options.tick().toMillis());
        c.loop.scheduleWithFixedDelay(c::tick, tick, tick, TimeUnit.MILLISECONDS);
        c.submit(c::tick);
        return c;
    }

    @Override
    public void close() {
        closed = true;
        AutoCloseable w = watch;
        if (w != null) {
            try {
                w.close();
            } catch (Exception e) {
                // closing anyway
            }
        }
        loop.shutdownNow();
    }

    // ---- hooks (request threads)

    @Override
    public Reply admit(String apiVersion, String kind, String namespace, ObjectNode object) {
        return admission.admit(apiVersion, kind, namespace, object);
    }

    @Override
    public void beforeUpdate(String apiVersion, String kind, ObjectNode current, ObjectNode incoming) {
        if (current == null || !J.deleting(current)) {
            return;
        }
        ObjectNode meta = J.objectAt(incoming, "metadata");
        // deletionTimestamp and deletionGracePeriodSeconds are the server's; so is its finalizer
        meta.set("deletionTimestamp", current.path("metadata").path("deletionTimestamp").deepCopy());
        if (current.path("metadata").has("deletionGracePeriodSeconds")) {
            meta.set("deletionGracePeriodSeconds", current.path("metadata").path("deletionGracePeriodSeconds")
                    .deepCopy());
        }
        if (Deletion.hasFinalizer(current, GRACEFUL_DELETION_FINALIZER)
                && !Deletion.hasFinalizer(incoming, GRACEFUL_DELETION_FINALIZER)) {
            ArrayNode f = J.arrayAt(meta, "finalizers");
            f.add(GRACEFUL_DELETION_FINALIZER);
        }
    }

    @Override
    public Reply evict(String namespace, String name, String body) {
        return disruption.evict(namespace, name, body);
    }

    @Override
    public Reply delete(String apiVersion, String kind, String namespace, String name, Map<String, String> params,
                        String body) {
        return deletion.delete(apiVersion, kind, namespace, name, Deletion.Options.parse(params, body));
    }

    // ---- the loop

    private void submit(Runnable r) {
        if (closed) {
            return;
        }
        try {
            loop.execute(() -> {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    log.error("controllers: " + e);
                }
            });
        } catch (RejectedExecutionException e) {
            // shutting down
        }
    }

    private void dispatch(KubeApi.Change c) {
        ObjectNode o = c.object();
        switch (c.kind()) {
            case "Pod" -> {
                requestEndpoints();
                requestBudgets(J.namespace(o));
                JsonNode owner = JobController.controllerOf(o);
                if (c.type().equals("DELETED")) {
                    jobs.podDeleted(o);
                    requestScheduling();
                } else {
                    if (Scheduling.needsScheduling(o)) {
                        requestScheduling();
                    }
                    if (J.deleting(o)) {
                        gc.podChanged(o);
                    }
                }
                if (owner != null) {
                    requestJobSync(J.namespace(o), owner.path("name").asString(""));
                }
                JsonNode daemonSet = DaemonSetController.controllerOf(o);
                if (daemonSet != null) {
                    requestDaemonSetSync(J.namespace(o), daemonSet.path("name").asString(""));
                }
                JsonNode replicaSet = ReplicaSetController.controllerOf(o);
                if (replicaSet != null) {
                    requestSync(replicaSetsToSync, J.namespace(o), replicaSet.path("name").asString(""),
                            replicaSets::sync);
                }
            }
            case "ReplicaSet", "Deployment" -> {
                boolean rs = c.kind().equals("ReplicaSet");
                if (c.type().equals("DELETED")) {
                    gc.ownerDeleted(o);
                } else if (J.deleting(o) && Deletion.hasFinalizer(o, Deletion.FOREGROUND)) {
                    gc.foreground(o);
                } else if (rs) {
                    requestSync(replicaSetsToSync, J.namespace(o), J.name(o), replicaSets::sync);
                } else {
                    requestSync(deploymentsToSync, J.namespace(o), J.name(o), deployments::sync);
                }
                JsonNode deployment = rs ? ReplicaSetController.controllerRef(o, "Deployment") : null;
                if (deployment != null) {
                    requestSync(deploymentsToSync, J.namespace(o), deployment.path("name").asString(""),
                            deployments::sync);
                }
            }
            case "Node" -> {
                if (!c.type().equals("DELETED")) {
                    nodes.nodeChanged(o);
                }
                requestScheduling(); // capacity or labels changed: pending pods may fit now
                requestAllDaemonSets();
            }
            case "DaemonSet" -> {
                if (c.type().equals("DELETED")) {
                    gc.ownerDeleted(o);
                } else if (J.deleting(o) && Deletion.hasFinalizer(o, Deletion.FOREGROUND)) {
                    gc.foreground(o);
                } else {
                    requestDaemonSetSync(J.namespace(o), J.name(o));
                }
            }
            case "Job" -> {
                if (c.type().equals("DELETED")) {
                    gc.ownerDeleted(o);
                } else if (J.deleting(o) && Deletion.hasFinalizer(o, Deletion.FOREGROUND)) {
                    gc.foreground(o);
                } else {
                    requestJobSync(J.namespace(o), J.name(o));
                }
            }
            case "PodDisruptionBudget" -> {
                if (!c.type().equals("DELETED")) {
                    requestBudgets(J.namespace(o));
                }
            }
            case "Event", "Lease" -> {
            }
            case "Service" -> {
                if (c.type().equals("DELETED")) {
                    gc.ownerDeleted(o);
                }
                requestEndpoints();
            }
            default -> {
                if (c.type().equals("DELETED")) {
                    gc.ownerDeleted(o);
                }
            }
        }
    }

    private void requestEndpoints() {
        if (!endpointsRequested) {
            endpointsRequested = true;
            submit(() -> {
                endpointsRequested = false;
                endpoints.syncAll();
            });
        }
    }

    private void requestBudgets(String namespace) {
        if (budgetsToSync.add(namespace)) {
            submit(() -> {
                budgetsToSync.remove(namespace);
                disruption.sync(namespace);
            });
        }
    }

    private void requestScheduling() {
        if (!schedulingRequested) {
            schedulingRequested = true;
            submit(() -> {
                schedulingRequested = false;
                scheduler.pass();
            });
        }
    }

    private void requestJobSync(String namespace, String name) {
        String key = namespace + "/" + name;
        if (jobsToSync.add(key)) {
            submit(() -> {
                jobsToSync.remove(key);
                jobs.sync(namespace, name);
            });
        }
    }

    private void requestDaemonSetSync(String namespace, String name) {
        String key = namespace + "/" + name;
        if (daemonSetsToSync.add(key)) {
            submit(() -> {
                daemonSetsToSync.remove(key);
                daemonSets.sync(namespace, name);
            });
        }
    }

    private void requestSync(Set<String> pending, String namespace, String name,
                             java.util.function.BiConsumer<String, String> sync) {
        String key = namespace + "/" + name;
        if (pending.add(key)) {
            submit(() -> {
                pending.remove(key);
                sync.accept(namespace, name);
            });
        }
    }

    private void requestAllDaemonSets() {
        if (!allDaemonSetsRequested) {
            allDaemonSetsRequested = true;
            submit(() -> {
                allDaemonSetsRequested = false;
                daemonSets.syncAll();
            });
        }
    }

    private void tick() {
        if (closed) {
            return;
        }
        Instant now = clock.instant();
        step("node lifecycle", () -> {
            if (!now.isBefore(lastNodeMonitor.plus(options.nodeMonitorPeriod()))) {
                lastNodeMonitor = now;
                nodes.monitor();
            }
        });
        step("scheduler", scheduler::pass);
        step("job controller", jobs::syncAll);
        step("endpoints controller", endpoints::syncAll);
        step("daemonset controller", daemonSets::syncAll);
        step("deployment controller", deployments::syncAll);
        step("replicaset controller", replicaSets::syncAll);
        step("garbage collector", gc::sweep);
        step("disruption controller", disruption::syncAll);
        step("event expiry", () -> {
            if (!now.isBefore(lastEventExpiry.plus(Duration.ofMinutes(1)))) {
                lastEventExpiry = now;
                gc.expireEvents();
            }
        });
    }

    private void step(String what, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.error("controllers: " + what + ": " + e);
        }
    }
}
