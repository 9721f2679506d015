package io.k3gpu.lab.k3s.controllers;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import tools.jackson.databind.JsonNode;

/**
 * kube-scheduler's decisions (v1.31 default profile), as pure functions of a pod and the nodes with the pods bound to
 * them: the Filter plugins in their order — NodeUnschedulable, TaintToleration, NodeAffinity (nodeSelector and
 * required node affinity), NodePorts, NodeResourcesFit (pods, cpu, memory, ephemeral-storage and extended resources
 * such as {@code nvidia.com/gpu}), InterPodAffinity (required pod affinity and anti-affinity, and the existing pods'
 * required anti-affinity: {@code plugins/interpodaffinity/filtering.go}) — stopping at a node's first failing plugin; a light Score (node affinity
 * preferences, PreferNoSchedule taints, least allocated), and, when no node fits, the FitError message with
 * DefaultPreemption's part, worded and counted as the scheduler words them:
 * {@code 0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) didn't match Pod's node
 * affinity/selector. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption
 * is not helpful for scheduling.}
 */
final class Scheduling {
    static final String REASON_UNSCHEDULABLE = "node(s) were unschedulable";
    static final String REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
    static final String REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";
    static final String REASON_TOO_MANY_PODS = "Too many pods";
    static final String REASON_POD_AFFINITY = "node(s) didn't match pod affinity rules";
    static final String REASON_POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
    static final String REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
    static final String PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling";
    static final String PREEMPTION_NO_VICTIMS = "No preemption victims found for incoming pod";
    static final String NO_NODES = "no nodes available to schedule pods";
    static final long DEFAULT_MILLI_CPU = 100;
    static final long DEFAULT_MEMORY = 200L * 1024 * 1024;

    private Scheduling() {
    }

    /** A node and the pods the scheduler counts on it: bound to it and not terminal (terminating ones count). */
    record NodeInfo(JsonNode node, List<JsonNode> pods) {
        String name() {
            return J.name(node);
        }
    }

    /**
     * Why a node does not fit: the reasons of its first failing plugin, and whether preemption could help
     * (Unschedulable) or not (UnschedulableAndUnresolvable).
     */
    record Status(List<String> reasons, boolean resolvable) {
        static Status unresolvable(String reason) {
            return new Status(List.of(reason), false);
        }
    }

    /** The scheduler's answer: the node chosen, or the message of PodScheduled=False / FailedScheduling. */
    record Decision(String node, String message) {
        boolean scheduled() {
            return node != null;
        }
    }

    /** Requests as NodeResourcesFit counts them. */
    record Resources(long milliCpu, long memory, long ephemeralStorage, Map<String, Long> scalars) {
        boolean zero() {
            return milliCpu == 0 && memory == 0 && ephemeralStorage == 0 && scalars.values().stream()
                    .allMatch(v -> v == 0);
        }

        long scalar(String name) {
            return scalars.getOrDefault(name, 0L);
        }
    }

    // ---- scheduling one pod

    static Decision schedule(JsonNode pod, List<NodeInfo> nodes) {
        if (nodes.isEmpty()) {
            return new Decision(null, NO_NODES);
        }
        Resources request = requests(pod);
        Map<String, Status> statuses = new LinkedHashMap<>();
        List<NodeInfo> feasible = new ArrayList<>();
        for (NodeInfo n : nodes) {
            Status s = filter(pod, request, n);
            if (s == null) {
                s = interPodAffinity(pod, n, nodes);
            }
            if (s == null) {
                feasible.add(n);
            } else {
                statuses.put(n.name(), s);
            }
        }
        if (!feasible.isEmpty()) {
            return new Decision(best(pod, request, feasible), null);
        }
        return new Decision(null, fitError(nodes.size(), statuses) + " " + preemption(pod, nodes, statuses));
    }

    /** The Filter plugins in order; null when the node fits. */
    static Status filter(JsonNode pod, Resources request, NodeInfo n) {
        JsonNode node = n.node();
        JsonNode spec = pod.path("spec");
        // NodeUnschedulable
        if (node.path("spec").path("unschedulable").asBoolean(false)
                && !tolerated(spec.path("tolerations"), "node.kubernetes.io/unschedulable", "", "NoSchedule")) {
            return Status.unresolvable(REASON_UNSCHEDULABLE);
        }
        // TaintToleration
        for (JsonNode taint : node.path("spec").path("taints")) {
            String effect = taint.path("effect").asString("");
            if (!effect.equals("NoSchedule") && !effect.equals("NoExecute")) {
                continue;
            }
            String key = taint.path("key").asString("");
            String value = taint.path("value").asString("");
            if (!tolerated(spec.path("tolerations"), key, value, effect)) {
                return Status.unresolvable("node(s) had untolerated taint {" + key + ": " + value + "}");
            }
        }
        // NodeAffinity
        if (!matchesNodeSelector(pod, node) || !matchesRequiredAffinity(pod, node)) {
            return Status.unresolvable(REASON_AFFINITY);
        }
        // NodePorts
        if (portsConflict(pod, n.pods())) {
            return new Status(List.of(REASON_PORTS), true);
        }
        // NodeResourcesFit
        List<String> insufficient = insufficient(request, n);
        if (!insufficient.isEmpty()) {
            return new Status(insufficient, true);
        }
        return null;
    }

    /** NodeResourcesFit's reasons, in its order: pods, cpu, memory, ephemeral-storage, then extended resources. */
    static List<String> insufficient(Resources request, NodeInfo n) {
        List<String> out = new ArrayList<>();
        JsonNode alloc = n.node().path("status").path("allocatable");
        long allowedPods = Quantity.value(alloc.path("pods").asString("0"));
        if (n.pods().size() + 1 > allowedPods) {
            out.add(REASON_TOO_MANY_PODS);
        }
        if (request.zero()) {
            return out;
        }
        Resources used = sum(n.pods());
        if (request.milliCpu() > 0
                && request.milliCpu() > Quantity.milli(alloc.path("cpu").asString("0")) - used.milliCpu()) {
            out.add("Insufficient cpu");
        }
        if (request.memory() > 0
                && request.memory() > Quantity.value(alloc.path("memory").asString("0")) - used.memory()) {
            out.add("Insufficient memory");
        }
        if (request.ephemeralStorage() > 0 && request.ephemeralStorage()
                > Quantity.value(alloc.path("ephemeral-storage").asString("0")) - used.ephemeralStorage()) {
            out.add("Insufficient ephemeral-storage");
        }
        for (Map.Entry<String, Long> e : request.scalars().entrySet()) {
            if (e.getValue() == 0) {
                continue;
            }
            long capacity = Quantity.value(alloc.path(e.getKey()).asString("0"));
            if (e.getValue() > capacity - used.scalar(e.getKey())) {
                out.add("Insufficient " + e.getKey());
            }
        }
        return out;
    }

    // ---- messages

    /** FitError.Error(): {@code 0/N nodes are available: <sorted histogram of reasons>.} */
    static String fitError(int numNodes, Map<String, Status> statuses) {
        Map<String, Integer> histogram = new HashMap<>();
        for (Status s : statuses.values()) {
            for (String r : s.reasons()) {
                histogram.merge(r, 1, Integer::sum);
            }
        }
        List<String> parts = new ArrayList<>();
        histogram.forEach((reason, count) -> parts.add(count + " " + reason));
        Collections.sort(parts); // Go's sort.Strings: byte order of the whole "<count> <reason>" strings
        String msg = "0/" + numNodes + " nodes are available:";
        if (!parts.isEmpty()) {
            msg += " " + String.join(", ", parts) + ".";
        }
        return msg;
    }

    /**
     * DefaultPreemption's PostFilter message. Nodes that failed an UnschedulableAndUnresolvable plugin cannot be
     * helped; on the others, preemption would evict pods of lower priority, and without any there are no victims.
     * (The simulation never evicts: a node that lower-priority victims would free counts as without victims.)
     */
    static String preemption(JsonNode pod, List<NodeInfo> nodes, Map<String, Status> statuses) {
        if ("Never".equals(J.text(pod, "spec.preemptionPolicy"))) {
            return "preemption: not eligible due to preemptionPolicy=Never.";
        }
        int priority = pod.path("spec").path("priority").asInt(0);
        Map<String, Status> after = new LinkedHashMap<>();
        for (NodeInfo n : nodes) {
            Status s = statuses.get(n.name());
            if (s == null) {
                continue;
            }
            if (!s.resolvable()) {
                after.put(n.name(), Status.unresolvable(PREEMPTION_NOT_HELPFUL));
                continue;
            }
            List<JsonNode> remaining = new ArrayList<>();
            for (JsonNode p : n.pods()) {
                if (p.path("spec").path("priority").asInt(0) >= priority) {
                    remaining.add(p);
                }
            }
            if (remaining.size() == n.pods().size()) {
                after.put(n.name(), Status.unresolvable(PREEMPTION_NO_VICTIMS));
                continue;
            }
            NodeInfo without = new NodeInfo(n.node(), remaining);
            Status again = filter(pod, requests(pod), without);
            if (again == null) {
                List<NodeInfo> others = new ArrayList<>(nodes);
                others.replaceAll(o -> o.name().equals(n.name()) ? without : o);
                again = interPodAffinity(pod, without, others);
            }
            after.put(n.name(), again != null ? again : Status.unresolvable(PREEMPTION_NO_VICTIMS));
        }
        return "preemption: " + fitError(nodes.size(), after);
    }

    // ---- InterPodAffinity

    /**
     * The InterPodAffinity filter for one node, against the pods on all nodes: the pod's required affinity terms
     * (each needs a matching pod in the node's topology domain; when no pod anywhere matches and the pod matches its
     * own terms, the first pod of a group may go anywhere the topology key exists), its required anti-affinity terms
     * (no matching pod in the domain) and the existing pods' required anti-affinity terms against this pod.
     */
    static Status interPodAffinity(JsonNode pod, NodeInfo n, List<NodeInfo> all) {
        JsonNode affinity = pod.path("spec").path("affinity");
        JsonNode labels = n.node().path("metadata").path("labels");
        List<JsonNode> required = list(affinity.path("podAffinity").path("requiredDuringSchedulingIgnoredDuringExecution"));
        if (!required.isEmpty()) {
            boolean allMatch = true;
            boolean anyMatchAnywhere = false;
            for (JsonNode term : required) {
                boolean here = false;
                for (NodeInfo other : all) {
                    for (JsonNode p : other.pods()) {
                        if (termMatchesPod(term, pod, p)) {
                            anyMatchAnywhere = true;
                            here |= sameDomain(term, labels, other.node());
                        }
                    }
                }
                allMatch &= here;
            }
            if (!allMatch) {
                boolean selfMatch = !anyMatchAnywhere;
                for (JsonNode term : required) {
                    selfMatch &= termMatchesPod(term, pod, pod) && labels.has(term.path("topologyKey").asString(""));
                }
                if (!selfMatch) {
                    return Status.unresolvable(REASON_POD_AFFINITY);
                }
            }
        }
        for (JsonNode term : list(affinity.path("podAntiAffinity").path("requiredDuringSchedulingIgnoredDuringExecution"))) {
            for (NodeInfo other : all) {
                for (JsonNode p : other.pods()) {
                    if (termMatchesPod(term, pod, p) && sameDomain(term, labels, other.node())) {
                        return new Status(List.of(REASON_POD_ANTI_AFFINITY), true);
                    }
                }
            }
        }
        for (NodeInfo other : all) {
            for (JsonNode p : other.pods()) {
                for (JsonNode term : list(p.path("spec").path("affinity").path("podAntiAffinity")
                        .path("requiredDuringSchedulingIgnoredDuringExecution"))) {
                    if (termMatchesPod(term, p, pod) && sameDomain(term, labels, other.node())) {
                        return new Status(List.of(REASON_EXISTING_ANTI_AFFINITY), true);
                    }
                }
            }
        }
        return null;
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    /** Both nodes have the term's topology key with the same value (a node without the key is in no domain). */
    private static boolean sameDomain(JsonNode term, JsonNode labels, JsonNode other) {
        String key = term.path("topologyKey").asString("");
        JsonNode mine = labels.get(key);
        JsonNode theirs = other.path("metadata").path("labels").get(key);
        return mine != null && theirs != null && mine.asString("").equals(theirs.asString(""));
    }

    /**
     * A PodAffinityTerm of {@code owner} against {@code candidate}: the namespaces (the listed ones; none listed and no
     * namespaceSelector: the owner's; an empty namespaceSelector: all) and the labelSelector (absent: nothing).
     */
    static boolean termMatchesPod(JsonNode term, JsonNode owner, JsonNode candidate) {
        String ns = J.namespace(candidate);
        List<String> namespaces = new ArrayList<>();
        term.path("namespaces").forEach(v -> namespaces.add(v.asString("")));
        JsonNode nsSelector = term.path("namespaceSelector");
        boolean nsOk = namespaces.contains(ns)
                || (nsSelector.isObject() && nsSelector.size() == 0)
                || (namespaces.isEmpty() && !nsSelector.isObject() && java.util.Objects.equals(ns, J.namespace(owner)));
        return nsOk && labelSelectorMatches(term.path("labelSelector"), candidate.path("metadata").path("labels"));
    }

    /** metav1.LabelSelectorAsSelector: matchLabels and matchExpressions ANDed; a missing selector matches nothing. */
    static boolean labelSelectorMatches(JsonNode selector, JsonNode labels) {
        if (!selector.isObject()) {
            return false;
        }
        for (Map.Entry<String, JsonNode> e : selector.path("matchLabels").properties()) {
            JsonNode v = labels.get(e.getKey());
            if (v == null || !v.asString("").equals(e.getValue().asString(""))) {
                return false;
            }
        }
        for (JsonNode e : selector.path("matchExpressions")) {
            JsonNode v = labels.get(e.path("key").asString(""));
            if (!requirement(e, v == null || v.isNull() ? null : v.asString(""))) {
                return false;
            }
        }
        return true;
    }

    // ---- predicates

    /** v1helper.ToleratesTaint over a pod's tolerations. */
    static boolean tolerated(JsonNode tolerations, String key, String value, String effect) {
        for (JsonNode t : tolerations) {
            String te = t.path("effect").asString("");
            if (!te.isEmpty() && !te.equals(effect)) {
                continue;
            }
            String tk = t.path("key").asString("");
            if (!tk.isEmpty() && !tk.equals(key)) {
                continue;
            }
            String op = t.path("operator").asString("");
            if (op.equals("Exists")) {
                return true;
            }
            if ((op.isEmpty() || op.equals("Equal")) && t.path("value").asString("").equals(value)) {
                return true;
            }
        }
        return false;
    }

    static boolean matchesNodeSelector(JsonNode pod, JsonNode node) {
        JsonNode labels = node.path("metadata").path("labels");
        for (Map.Entry<String, JsonNode> e : pod.path("spec").path("nodeSelector").properties()) {
            JsonNode v = labels.get(e.getKey());
            if (v == null || !v.asString("").equals(e.getValue().asString(""))) {
                return false;
            }
        }
        return true;
    }

    /** requiredDuringSchedulingIgnoredDuringExecution: terms ORed, expressions and fields of a term ANDed. */
    static boolean matchesRequiredAffinity(JsonNode pod, JsonNode node) {
        JsonNode required = pod.path("spec").path("affinity").path("nodeAffinity")
                .path("requiredDuringSchedulingIgnoredDuringExecution");
        if (required.isMissingNode() || required.isNull()) {
            return true;
        }
        for (JsonNode term : required.path("nodeSelectorTerms")) {
            if (termMatches(term, node)) {
                return true;
            }
        }
        return false;
    }

    static boolean termMatches(JsonNode term, JsonNode node) {
        JsonNode exprs = term.path("matchExpressions");
        JsonNode fields = term.path("matchFields");
        if (exprs.size() == 0 && fields.size() == 0) {
            return false; // an empty term matches no objects
        }
        JsonNode labels = node.path("metadata").path("labels");
        for (JsonNode e : exprs) {
            JsonNode v = labels.get(e.path("key").asString(""));
            if (!requirement(e, v == null || v.isNull() ? null : v.asString(""))) {
                return false;
            }
        }
        for (JsonNode f : fields) {
            String key = f.path("key").asString("");
            String value = key.equals("metadata.name") ? J.name(node) : null;
            if (!requirement(f, value)) {
                return false;
            }
        }
        return true;
    }

    private static boolean requirement(JsonNode expr, String actual) {
        List<String> values = new ArrayList<>();
        expr.path("values").forEach(v -> values.add(v.asString("")));
        switch (expr.path("operator").asString("")) {
            case "In":
                return actual != null && values.contains(actual);
            case "NotIn":
                return actual == null || !values.contains(actual);
            case "Exists":
                return actual != null;
            case "DoesNotExist":
                return actual == null;
            case "Gt":
            case "Lt":
                if (actual == null || values.size() != 1) {
                    return false;
                }
                try {
                    long a = Long.parseLong(actual);
                    long b = Long.parseLong(values.get(0));
                    return expr.path("operator").asString("").equals("Gt") ? a > b : a < b;
                } catch (NumberFormatException e) {
                    return false;
                }
            default:
                return false;
        }
    }

    static boolean portsConflict(JsonNode pod, List<JsonNode> others) {
        List<String[]> wanted = hostPorts(pod);
        if (wanted.isEmpty()) {
            return false;
        }
        for (JsonNode other : others) {
            for (String[] used : hostPorts(other)) {
                for (String[] w : wanted) {
                    boolean sameIp = w[0].equals(used[0]) || w[0].equals("0.0.0.0") || used[0].equals("0.0.0.0");
                    if (sameIp && w[1].equals(used[1]) && w[2].equals(used[2])) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static List<String[]> hostPorts(JsonNode pod) {
        List<String[]> out = new ArrayList<>();
        for (String list : List.of("initContainers", "containers")) {
            for (JsonNode c : pod.path("spec").path(list)) {
                for (JsonNode p : c.path("ports")) {
                    int hostPort = p.path("hostPort").asInt(0);
                    if (hostPort > 0) {
                        out.add(new String[] {p.path("hostIP").asString("0.0.0.0").isEmpty() ? "0.0.0.0"
                                : p.path("hostIP").asString("0.0.0.0"), p.path("protocol").asString("TCP"),
                            String.valueOf(hostPort)});
                    }
                }
            }
        }
        return out;
    }

    // ---- resources

    /**
     * resource.PodRequests: containers summed, each init container's requests (plus the restartable ones started
     * before it) as a floor, restartable init containers added, overhead added. A missing request takes the limit,
     * as the API server's defaulting does.
     */
    static Resources requests(JsonNode pod) {
        Map<String, BigDecimal> reqs = new TreeMap<>();
        JsonNode spec = pod.path("spec");
        for (JsonNode c : spec.path("containers")) {
            add(reqs, containerRequests(c));
        }
        Map<String, BigDecimal> restartable = new TreeMap<>();
        Map<String, BigDecimal> initMax = new TreeMap<>();
        for (JsonNode c : spec.path("initContainers")) {
            Map<String, BigDecimal> cr = containerRequests(c);
            Map<String, BigDecimal> effective;
            if ("Always".equals(c.path("restartPolicy").asString(""))) {
                add(reqs, cr);
                add(restartable, cr);
                effective = new TreeMap<>(restartable);
            } else {
                effective = new TreeMap<>(cr);
                add(effective, restartable);
            }
            effective.forEach((k, v) -> initMax.merge(k, v, BigDecimal::max));
        }
        initMax.forEach((k, v) -> reqs.merge(k, v, BigDecimal::max));
        Map<String, BigDecimal> overhead = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : spec.path("overhead").properties()) {
            overhead.put(e.getKey(), Quantity.parse(e.getValue().asString("0")));
        }
        add(reqs, overhead);
        return toResources(reqs);
    }

    private static Map<String, BigDecimal> containerRequests(JsonNode c) {
        Map<String, BigDecimal> out = new TreeMap<>();
        JsonNode res = c.path("resources");
        for (Map.Entry<String, JsonNode> e : res.path("limits").properties()) {
            out.put(e.getKey(), Quantity.parse(e.getValue().asString("0")));
        }
        for (Map.Entry<String, JsonNode> e : res.path("requests").properties()) {
            out.put(e.getKey(), Quantity.parse(e.getValue().asString("0")));
        }
        return out;
    }

    private static void add(Map<String, BigDecimal> into, Map<String, BigDecimal> more) {
        more.forEach((k, v) -> into.merge(k, v, BigDecimal::add));
    }

    private static Resources toResources(Map<String, BigDecimal> m) {
        long cpu = 0;
        long memory = 0;
        long ephemeral = 0;
        Map<String, Long> scalars = new TreeMap<>();
        for (Map.Entry<String, BigDecimal> e : m.entrySet()) {
            String q = e.getValue().toPlainString();
            switch (e.getKey()) {
                case "cpu" -> cpu = Quantity.milli(q);
                case "memory" -> memory = Quantity.value(q);
                case "ephemeral-storage" -> ephemeral = Quantity.value(q);
                case "pods" -> {
                }
                default -> scalars.put(e.getKey(), Quantity.value(q));
            }
        }
        return new Resources(cpu, memory, ephemeral, scalars);
    }

    static Resources sum(List<JsonNode> pods) {
        long cpu = 0;
        long memory = 0;
        long ephemeral = 0;
        Map<String, Long> scalars = new TreeMap<>();
        for (JsonNode p : pods) {
            Resources r = requests(p);
            cpu += r.milliCpu();
            memory += r.memory();
            ephemeral += r.ephemeralStorage();
            r.scalars().forEach((k, v) -> scalars.merge(k, v, Long::sum));
        }
        return new Resources(cpu, memory, ephemeral, scalars);
    }

    // ---- scoring

    /**
     * The feasible node with the best score: preferred node affinity (weight 2), PreferNoSchedule taints tolerated
     * (weight 3), least allocated cpu and memory with the scheduler's non-zero defaults (weight 1); ties by name.
     */
    static String best(JsonNode pod, Resources request, List<NodeInfo> feasible) {
        String best = null;
        double bestScore = -1;
        int maxAffinity = 0;
        int maxTaints = 0;
        Map<String, int[]> raw = new HashMap<>();
        for (NodeInfo n : feasible) {
            int affinity = preferredAffinity(pod, n.node());
            int taints = intolerablePreferNoSchedule(pod, n.node());
            raw.put(n.name(), new int[] {affinity, taints});
            maxAffinity = Math.max(maxAffinity, affinity);
            maxTaints = Math.max(maxTaints, taints);
        }
        List<NodeInfo> sorted = new ArrayList<>(feasible);
        sorted.sort((a, b) -> a.name().compareTo(b.name()));
        for (NodeInfo n : sorted) {
            int[] r = raw.get(n.name());
            double affinity = maxAffinity == 0 ? 0 : 100.0 * r[0] / maxAffinity;
            double taints = maxTaints == 0 ? 100 : 100.0 * (maxTaints - r[1]) / maxTaints;
            double score = 2 * affinity + 3 * taints + leastAllocated(pod, n);
            if (score > bestScore) {
                bestScore = score;
                best = n.name();
            }
        }
        return best;
    }

    private static int preferredAffinity(JsonNode pod, JsonNode node) {
        int sum = 0;
        for (JsonNode t : pod.path("spec").path("affinity").path("nodeAffinity")
                .path("preferredDuringSchedulingIgnoredDuringExecution")) {
            if (termMatches(t.path("preference"), node)) {
                sum += t.path("weight").asInt(0);
            }
        }
        return sum;
    }

    private static int intolerablePreferNoSchedule(JsonNode pod, JsonNode node) {
        int count = 0;
        for (JsonNode taint : node.path("spec").path("taints")) {
            if ("PreferNoSchedule".equals(taint.path("effect").asString(""))
                    && !tolerated(pod.path("spec").path("tolerations"), taint.path("key").asString(""),
                    taint.path("value").asString(""), "PreferNoSchedule")) {
                count++;
            }
        }
        return count;
    }

    private static double leastAllocated(JsonNode pod, NodeInfo n) {
        JsonNode alloc = n.node().path("status").path("allocatable");
        long cpu = Quantity.milli(alloc.path("cpu").asString("0"));
        long memory = Quantity.value(alloc.path("memory").asString("0"));
        long usedCpu = nonZeroCpu(pod);
        long usedMemory = nonZeroMemory(pod);
        for (JsonNode p : n.pods()) {
            usedCpu += nonZeroCpu(p);
            usedMemory += nonZeroMemory(p);
        }
        double c = cpu <= 0 ? 0 : Math.max(0, 100.0 * (cpu - usedCpu) / cpu);
        double m = memory <= 0 ? 0 : Math.max(0, 100.0 * (memory - usedMemory) / memory);
        return (c + m) / 2;
    }

    private static long nonZeroCpu(JsonNode pod) {
        long sum = 0;
        for (JsonNode c : pod.path("spec").path("containers")) {
            JsonNode r = c.path("resources").path("requests").path("cpu");
            sum += r.isMissingNode() ? DEFAULT_MILLI_CPU : Quantity.milli(r.asString("0"));
        }
        return sum;
    }

    private static long nonZeroMemory(JsonNode pod) {
        long sum = 0;
        for (JsonNode c : pod.path("spec").path("containers")) {
            JsonNode r = c.path("resources").path("requests").path("memory");
            sum += r.isMissingNode() ? DEFAULT_MEMORY : Quantity.value(r.asString("0"));
        }
        return sum;
    }

    /** Whether the scheduler should place this pod: unbound, for the default scheduler, alive, not gated. */
    static boolean needsScheduling(JsonNode pod) {
        String node = J.text(pod, "spec.nodeName");
        String scheduler = J.text(pod, "spec.schedulerName", "default-scheduler");
        String phase = J.text(pod, "status.phase", "Pending");
        return (node == null || node.isEmpty()) && scheduler.equals("default-scheduler") && !J.deleting(pod)
                && !phase.equals("Succeeded") && !phase.equals("Failed");
    }

    static boolean gated(JsonNode pod) {
        return pod.path("spec").path("schedulingGates").size() > 0;
    }

    static final Set<String> TERMINAL = Set.of("Succeeded", "Failed");
}
