package io.k3gpu.core.kube;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/** The Kubernetes API of one cluster, as far as k3gpu needs it. */
public interface ClusterApi extends AutoCloseable {

    /** The API server's URL, as the kubeconfig gives it. */
    default String serverUrl() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not know its server's URL");
    }

    /** The API server's version (gitVersion, e.g. v1.31.4+k3s1). */
    String serverVersion();

    List<NodeStatus> nodes();

    Optional<NodeStatus> node(String name);

    /**
     * Waits (watching, not polling) until the Node exists and is Ready.
     *
     * @return the Ready node, or empty when {@code timeout} passed first
     */
    default Optional<NodeStatus> awaitNodeReady(String name, Duration timeout) {
        return awaitNodeReady(name, n -> true, timeout);
    }

    /**
     * Waits (watching) until the Node exists, is Ready and is {@code which} one (a Node's name is only a hostname:
     * the caller tells its machine by its address).
     *
     * @return the Ready node, or empty when {@code timeout} passed first
     */
    Optional<NodeStatus> awaitNodeReady(String name, Predicate<NodeStatus> which, Duration timeout);

    /**
     * Waits (watching) until the Node is Ready and its annotation {@code key} no longer holds {@code previous} (null:
     * absent): for a node that restarts with another configuration, that it came back with the new one.
     *
     * @return the Ready node, or empty when {@code timeout} passed first
     */
    default Optional<NodeStatus> awaitNodeReadyAndChanged(String name, String key, String previous, Duration timeout) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot watch node annotations");
    }

    /** Sets these labels on the node (a null value removes the label); returns the labels that changed. */
    Map<String, String> label(String node, Map<String, String> labels);

    /** Deletes the Node object; false when there was none. */
    boolean deleteNode(String name);

    /** Creates or replaces a ConfigMap (the shipped workloads travel this way, so they work air-gapped). */
    void applyConfigMap(String namespace, String name, Map<String, String> data);

    /** Creates the object(s) in a YAML manifest (a Pod or a Job) in {@code namespace}. */
    void create(String namespace, String yaml);

    /**
     * Watches the pod until it has finished, cannot pull its image, cannot be scheduled, or {@code timeout} passes.
     * With {@code untilRunning} it also returns as soon as the pod runs (to follow its logs).
     */
    PodOutcome awaitPod(String namespace, String pod, Duration timeout, boolean untilRunning);

    /** The container's log so far. */
    String podLogs(String namespace, String pod, String container);

    /** Follows the container's log, line by line, until it ends or the returned handle is closed. */
    AutoCloseable followLogs(String namespace, String pod, String container, java.util.function.Consumer<String> lines);

    void deletePod(String namespace, String name);

    /** Deletes the Job and its pods. */
    void deleteJob(String namespace, String name);

    List<JobStatus> jobs(String namespace, String labelSelector);

    Optional<JobStatus> job(String namespace, String name);

    /** The newest pod a Job made, if any yet. */
    Optional<String> podOfJob(String namespace, String job);

    /** The Node's labels, annotations and taints in one request; empty when there is no such Node. */
    default Optional<NodeMeta> meta(String node) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot read node metadata");
    }

    /**
     * Changes the Node in one update: these labels and annotations (a null value removes one) and, when
     * {@code taints} is not null, exactly these taints.
     */
    default void update(String node, Map<String, String> labels, Map<String, String> annotations, List<Taint> taints) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot update nodes");
    }

    /**
     * Sets these annotations on the Node (a null value removes one) with one JSON merge patch of
     * metadata.annotations (RFC 7386): no read, so no conflict with the node's agent writing its status.
     */
    default void annotate(String node, Map<String, String> annotations) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot annotate nodes");
    }

    /** The value of annotation {@code key} on each Node that has it, by Node name, in one list request. */
    default Map<String, String> nodeAnnotation(String key) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot read node annotations");
    }

    // --- objects that k3gpu installs and reconciles (k3gpu device-plugin) ---

    /** The DaemonSets and ConfigMaps in {@code namespace} that match {@code labelSelector}. */
    default List<KubeObject> objects(String namespace, String labelSelector) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot list objects");
    }

    /** Creates the objects of a YAML manifest in {@code namespace}, or replaces those that exist. */
    default void apply(String namespace, String yaml) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot apply objects");
    }

    /** Deletes a DaemonSet, ConfigMap or Service; false when there was none. */
    default boolean delete(String namespace, String kind, String name) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot delete objects");
    }

    /** The pods in {@code namespace} that match {@code labelSelector}. */
    default List<PodState> pods(String namespace, String labelSelector) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot list pods");
    }

    /**
     * Waits (watching) until {@code done} holds for the cluster's Nodes.
     *
     * @return the Nodes that satisfied it, or empty when {@code timeout} passed first
     */
    default Optional<List<NodeStatus>> awaitNodes(Predicate<List<NodeStatus>> done, Duration timeout) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot watch nodes");
    }

    /**
     * Waits (watching) until {@code done} holds for the pods in {@code namespace} that match {@code labelSelector}.
     *
     * @return the pods that satisfied it, or empty when {@code timeout} passed first
     */
    default Optional<List<PodState>> awaitPods(String namespace, String labelSelector, Predicate<List<PodState>> done,
                                               Duration timeout) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot watch pods");
    }

    // ---- GPU scheduling (issue 11): who holds a node's GPUs, and the device plugin's pods

    /**
     * The pods bound to a node that have not finished (Succeeded, Failed), in every namespace: what holds the
     * node's resources for the scheduler.
     *
     * @param node a node's name, or null for the pods of every node
     */
    default List<PodSummary> activePods(String node) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot list pods");
    }

    /** The last {@code lines} lines of a container's log; of its previous run with {@code previous}. */
    default String podLogTail(String namespace, String pod, String container, int lines, boolean previous) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot read logs");
    }

    // ---- rolling upgrades (issue 14): cordon, drain through the Eviction API, Events

    /** Marks the Node unschedulable (kubectl cordon) or schedulable again (uncordon). */
    default void cordon(String node, boolean unschedulable) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot cordon nodes");
    }

    /** The pods bound to the node, in every namespace. */
    default List<DrainPod> podsOn(String node) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot list pods");
    }

    /**
     * Asks the Eviction API (policy/v1) to evict the pod.
     *
     * @return true when the API accepted it (the pod is being deleted), false when it answered 429: a
     *         PodDisruptionBudget forbids it now
     */
    default boolean evict(String namespace, String name) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot evict pods");
    }

    /** Whether the pod of this uid still exists (it may be terminating). */
    default boolean podExists(String namespace, String name, String uid) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot read pods");
    }

    /**
     * The PodDisruptionBudgets of the namespace that select the pod, each as "NAME (allows N disruptions: H healthy, D
     * desired)".
     */
    default List<String> budgetsOf(String namespace, String pod) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot read disruption budgets");
    }

    /** Records a core/v1 Event on the Node, from k3gpu (what a rollout did there, step by step). */
    default void nodeEvent(String node, String type, String reason, String message) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot record events");
    }

    @Override
    void close();
}
