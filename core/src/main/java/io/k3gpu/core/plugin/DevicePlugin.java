package io.k3gpu.core.plugin;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.KubeObject;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.PodState;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static io.k3gpu.core.plugin.DevicePluginManifests.HASH;
import static io.k3gpu.core.plugin.DevicePluginManifests.NAMESPACE;
import static io.k3gpu.core.plugin.DevicePluginManifests.SELECTOR;

/**
 * Installs, updates or removes NVIDIA's device plugin in a cluster: the objects of {@link DevicePluginManifests}
 * for the cluster's GPU nodes, compared by their hash annotation with what is there (same settings: nothing
 * changes), then a wait until each GPU node runs the current plugin pod and advertises its {@code nvidia.com/gpu}.
 * Used by {@code k3gpu device-plugin} and by {@code apply} with {@code cluster.devicePlugin}.
 */
public final class DevicePlugin {
    /** Lines of a failing plugin pod's log that a timeout report shows. */
    static final int LOG_TAIL_LINES = 15;
    /** How long the GPU nodes may take to advertise their GPUs, unless told otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);
    private final Events events;

    /**
     * How one GPU node ended up.
     *
     * @param daemonSet  the DaemonSet that serves it
     * @param capacity   its {@code nvidia.com/gpu} capacity, null when absent
     * @param allocatable its allocatable {@code nvidia.com/gpu}, null when absent
     * @param expected   what it should advertise
     * @param pod        its plugin pod, null when there is none
     * @param podState   that pod's status (Running, CrashLoopBackOff, ...), "none" without a pod
     * @param podReady   whether that pod is of the DaemonSet's current template, Running and ready
     * @param logTail    the pod's last log lines, only for a node that was not ready when the wait ended
     */
    public record NodeRow(String node, String daemonSet, String capacity, String allocatable, long expected,
                          String pod, String podState, boolean podReady, String logTail) {
        /** The current plugin runs there and the node advertises what it should. */
        public boolean ok() {
            return podReady && allocatable != null && allocatable.equals(Long.toString(expected));
        }
    }

    /**
     * What {@link #install} did.
     *
     * @param changes   what it created, updated or deleted ("created DaemonSet kube-system/..."); empty: nothing changed
     * @param timedOut  whether some GPU node did not advertise its GPUs in time
     */
    public record Report(String image, int timeSlicing, List<String> daemonSets, List<String> changes,
                         List<String> warnings, List<NodeRow> nodes, boolean timedOut) {
        public Report {
            daemonSets = List.copyOf(daemonSets);
            changes = List.copyOf(changes);
            warnings = List.copyOf(warnings);
            nodes = List.copyOf(nodes);
        }

        public boolean changed() {
            return !changes.isEmpty();
        }
    }

    public DevicePlugin(Events events) {
        this.events = events;
    }

    /** What {@link #install} would render for the cluster as it is. Refuses nothing: see its refusals. */
    public DevicePluginPlan plan(ClusterApi api) {
        return DevicePluginPlan.of(api.nodes());
    }

    /**
     * Installs or updates the plugin, then waits up to {@code timeout}.
     *
     * @throws K3gpuException ({@link ExitCode#FAILED}) before any change when a Jetson's container toolkit is too
     *         old
     */
    public Report install(ClusterApi api, DevicePluginSettings settings, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        DevicePluginPlan plan = plan(api);
        if (!plan.refusals().isEmpty()) {
            throw new K3gpuException(ExitCode.FAILED, String.join("; and ", plan.refusals()), null);
        }
        plan.warnings().forEach(w -> events.warn(null, w));

        List<DevicePluginManifests.Rendered> desired = DevicePluginManifests.render(plan, settings);
        List<String> changes = new ArrayList<>();
        for (Change c : diff(desired, api.objects(NAMESPACE, SELECTOR))) {
            events.info(null, c.verb().substring(0, c.verb().length() - 2) + "ing " + c.kind() + " " + c.name());
            if (c.rendered() != null) {
                api.apply(NAMESPACE, c.rendered().yaml());
                changes.add(c.toString());
            } else if (api.delete(NAMESPACE, c.kind(), c.name())) {
                changes.add(c.toString());
            }
        }

        Map<String, String> hashOfGroup = new HashMap<>();
        desired.stream().filter(r -> r.kind().equals("DaemonSet")).forEach(r -> hashOfGroup.put(r.name(), r.hash()));
        events.info(null, "waiting for the plugin on " + plan.gpuNodes().size() + " GPU node(s)");
        Optional<List<PodState>> pods = api.awaitPods(NAMESPACE, SELECTOR,
                p -> podsReady(plan, hashOfGroup, p), remaining(deadline));
        Optional<List<NodeStatus>> nodes = pods.isEmpty() ? Optional.empty()
                : api.awaitNodes(n -> gpusAdvertised(plan, settings, n), remaining(deadline));
        boolean timedOut = nodes.isEmpty();
        List<NodeStatus> finalNodes = nodes.orElseGet(api::nodes);
        List<PodState> finalPods = pods.isPresent() && nodes.isPresent() ? pods.get() : api.pods(NAMESPACE, SELECTOR);
        List<NodeRow> rows = rows(plan, settings, hashOfGroup, finalNodes, finalPods);
        if (timedOut) {
            rows = rows.stream().map(r -> r.ok() ? r : withLog(api, r)).toList();
        }
        return new Report(settings.image(), settings.timeSlicing(), hashOfGroup.keySet().stream().sorted().toList(),
                changes, plan.warnings(), rows, timedOut);
    }

    /** One object to create, update (with {@code rendered}) or delete (without). */
    record Change(String verb, String kind, String name, DevicePluginManifests.Rendered rendered) {
        @Override
        public String toString() {
            return verb + " " + kind + " " + NAMESPACE + "/" + name;
        }
    }

    /** What turns {@code have} into {@code desired}: objects missing or with another hash, and objects left over. */
    static List<Change> diff(List<DevicePluginManifests.Rendered> desired, List<KubeObject> have) {
        Map<String, String> hashes = new HashMap<>();
        have.forEach(o -> hashes.put(o.key(), o.annotations().get(HASH)));
        List<Change> changes = new ArrayList<>();
        Set<String> keep = new LinkedHashSet<>();
        for (DevicePluginManifests.Rendered r : desired) {
            keep.add(r.key());
            if (!hashes.containsKey(r.key())) {
                changes.add(new Change("created", r.kind(), r.name(), r));
            } else if (!r.hash().equals(hashes.get(r.key()))) {
                changes.add(new Change("updated", r.kind(), r.name(), r));
            }
        }
        for (KubeObject o : have.stream().sorted(java.util.Comparator.comparing(KubeObject::key)).toList()) {
            if (!keep.contains(o.key())) {
                changes.add(new Change("deleted", o.kind(), o.name(), null));
            }
        }
        return changes;
    }

    /**
     * What {@link #install} would change in the cluster as it is now (for plan), without changing anything: lines
     * such as "create DaemonSet kube-system/...", empty when nothing; the refusals and warnings come first, each
     * starting with "refused: " or "warning: ".
     */
    public List<String> preview(ClusterApi api, DevicePluginSettings settings) {
        DevicePluginPlan plan = plan(api);
        List<String> out = new ArrayList<>();
        plan.refusals().forEach(r -> out.add("refused: " + r));
        plan.warnings().forEach(w -> out.add("warning: " + w));
        for (Change c : diff(DevicePluginManifests.render(plan, settings), api.objects(NAMESPACE, SELECTOR))) {
            out.add(c.verb().substring(0, c.verb().length() - 1) + " " + c.kind() + " " + NAMESPACE + "/" + c.name());
        }
        return out;
    }

    /** Deletes what k3gpu installed (only objects with its labels); returns what went. */
    public List<String> remove(ClusterApi api) {
        List<String> removed = new ArrayList<>();
        for (KubeObject o : api.objects(NAMESPACE, SELECTOR)) {
            if (api.delete(NAMESPACE, o.kind(), o.name())) {
                removed.add(o.kind() + " " + NAMESPACE + "/" + o.name());
            }
        }
        return removed;
    }

    /** Every GPU node runs a ready plugin pod of its DaemonSet's current template. */
    static boolean podsReady(DevicePluginPlan plan, Map<String, String> hashOfGroup, List<PodState> pods) {
        for (NodeStatus n : plan.gpuNodes()) {
            String hash = plan.groupOf(n.name()).map(g -> hashOfGroup.get(g.name())).orElse(null);
            boolean ready = pods.stream().anyMatch(p -> n.name().equals(p.node()) && p.ready()
                    && "Running".equals(p.phase()) && hash != null && hash.equals(p.annotations().get(HASH)));
            if (!ready) {
                return false;
            }
        }
        return true;
    }

    /** Every GPU node advertises the {@code nvidia.com/gpu} it should. */
    static boolean gpusAdvertised(DevicePluginPlan plan, DevicePluginSettings settings, List<NodeStatus> nodes) {
        for (NodeStatus planned : plan.gpuNodes()) {
            long expected = DevicePluginPlan.expectedGpus(planned, settings);
            boolean ok = nodes.stream().anyMatch(n -> n.name().equals(planned.name())
                    && Long.toString(expected).equals(n.gpuAllocatable()));
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    static List<NodeRow> rows(DevicePluginPlan plan, DevicePluginSettings settings, Map<String, String> hashOfGroup,
                              List<NodeStatus> nodes, List<PodState> pods) {
        List<NodeRow> rows = new ArrayList<>();
        for (NodeStatus planned : plan.gpuNodes()) {
            NodeStatus now = nodes.stream().filter(n -> n.name().equals(planned.name())).findFirst().orElse(planned);
            String group = plan.groupOf(planned.name()).map(PluginGroup::name).orElse(null);
            String hash = group == null ? null : hashOfGroup.get(group);
            // the current template's pod first, else whatever plugin pod is there (an old one still terminating)
            Optional<PodState> pod = pods.stream().filter(p -> planned.name().equals(p.node()))
                    .sorted((a, b) -> Boolean.compare(hash != null && hash.equals(b.annotations().get(HASH)),
                            hash != null && hash.equals(a.annotations().get(HASH))))
                    .findFirst();
            String state = pod.map(p -> p.status() + (p.ready() ? "" : " (not ready)")
                    + (p.restarts() > 0 ? ", " + p.restarts() + " restarts" : "")).orElse("none");
            boolean ready = pod.filter(p -> p.ready() && "Running".equals(p.phase()) && hash != null
                    && hash.equals(p.annotations().get(HASH))).isPresent();
            rows.add(new NodeRow(planned.name(), group, now.gpuCapacity(), now.gpuAllocatable(),
                    DevicePluginPlan.expectedGpus(planned, settings), pod.map(PodState::name).orElse(null), state,
                    ready, null));
        }
        return rows;
    }

    private NodeRow withLog(ClusterApi api, NodeRow r) {
        if (r.pod() == null) {
            return r;
        }
        String log;
        try {
            log = tail(api.podLogs(NAMESPACE, r.pod(), DevicePluginManifests.CONTAINER), LOG_TAIL_LINES);
        } catch (K3gpuException e) {
            log = "(no log: " + e.getMessage() + ")";
        }
        return new NodeRow(r.node(), r.daemonSet(), r.capacity(), r.allocatable(), r.expected(), r.pod(), r.podState(),
                r.podReady(), log);
    }

    static String tail(String text, int lines) {
        if (text == null) {
            return "";
        }
        String[] all = text.strip().split("\n");
        return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
    }

    private static Duration remaining(Instant deadline) {
        Duration left = Duration.between(Instant.now(), deadline);
        return left.isNegative() ? Duration.ZERO : left;
    }
}
