package io.k3gpu.core.kube;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The Kubernetes API of one cluster, as far as k3gpu needs it. */
public interface ClusterApi extends AutoCloseable {

    /** The API server's version (gitVersion, e.g. v1.31.4+k3s1). */
    String serverVersion();

    List<NodeStatus> nodes();

    Optional<NodeStatus> node(String name);

    /**
     * Waits (watching, not polling) until the Node exists and is Ready.
     *
     * @return the Ready node, or empty when {@code timeout} passed first
     */
    Optional<NodeStatus> awaitNodeReady(String name, Duration timeout);

    /** Sets these labels on the node (a null value removes the label); returns the labels that changed. */
    Map<String, String> label(String node, Map<String, String> labels);

    /** Deletes the Node object; false when there was none. */
    boolean deleteNode(String name);

    @Override
    void close();
}
