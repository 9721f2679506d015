package io.k3gpu.core.kube;

/**
 * A pod bound to a node, as a drain sees it.
 *
 * @param uid       tells the pod from a new one of the same name (a StatefulSet's)
 * @param daemonSet managed by a DaemonSet: a drain leaves it (its controller would put it back at once)
 * @param mirror    a static pod's mirror: the API cannot remove it
 */
public record DrainPod(String namespace, String name, String uid, boolean daemonSet, boolean mirror) {
    public String id() {
        return namespace + "/" + name;
    }
}
