package io.k3gpu.core.kube;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.KubernetesClientTimeoutException;
import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** {@link ClusterApi} on the fabric8 kubernetes-client. */
public final class Fabric8ClusterApi implements ClusterApi {
    private final KubernetesClient client;
    private final String where;

    private Fabric8ClusterApi(KubernetesClient client, String where) {
        this.client = client;
        this.where = where;
    }

    /** A client for the current context of a kubeconfig given as text (it never touches ~/.kube). */
    public static Fabric8ClusterApi fromKubeconfig(String kubeconfigYaml, String context) {
        Config config = Config.fromKubeconfig(context, kubeconfigYaml, null);
        config.setRequestTimeout(15_000);
        config.setConnectionTimeout(10_000);
        return new Fabric8ClusterApi(new KubernetesClientBuilder().withConfig(config).build(), config.getMasterUrl());
    }

    @Override
    public String serverVersion() {
        return call("reading the server version", () -> client.getKubernetesVersion().getGitVersion());
    }

    @Override
    public List<NodeStatus> nodes() {
        return call("listing nodes", () -> client.nodes().list().getItems().stream().map(Fabric8ClusterApi::status).toList());
    }

    @Override
    public Optional<NodeStatus> node(String name) {
        return call("reading node " + name, () -> Optional.ofNullable(client.nodes().withName(name).get()).map(Fabric8ClusterApi::status));
    }

    @Override
    public Optional<NodeStatus> awaitNodeReady(String name, Duration timeout) {
        try {
            Node n = client.nodes().withName(name)
                    .waitUntilCondition(node -> node != null && isReady(node), timeout.toMillis(), TimeUnit.MILLISECONDS);
            return Optional.of(status(n));
        } catch (KubernetesClientTimeoutException e) {
            return Optional.empty();
        } catch (KubernetesClientException e) {
            throw apiError("waiting for node " + name, e);
        }
    }

    @Override
    public Map<String, String> label(String node, Map<String, String> labels) {
        return call("labelling node " + node, () -> {
            Map<String, String> changed = new LinkedHashMap<>();
            Node current = client.nodes().withName(node).get();
            if (current == null) {
                throw new K3gpuException(ExitCode.KUBERNETES, "node " + node + " is not in the cluster at " + where,
                        "check the name with: k3gpu nodes");
            }
            Map<String, String> have = current.getMetadata().getLabels() == null ? Map.of() : current.getMetadata().getLabels();
            labels.forEach((k, v) -> {
                if (!Objects.equals(have.get(k), v)) {
                    changed.put(k, v);
                }
            });
            if (!changed.isEmpty()) {
                client.nodes().withName(node).edit(n -> {
                    Map<String, String> l = n.getMetadata().getLabels() == null ? new LinkedHashMap<>()
                            : new LinkedHashMap<>(n.getMetadata().getLabels());
                    changed.forEach((k, v) -> {
                        if (v == null) {
                            l.remove(k);
                        } else {
                            l.put(k, v);
                        }
                    });
                    n.getMetadata().setLabels(l);
                    return n;
                });
            }
            return changed;
        });
    }

    @Override
    public boolean deleteNode(String name) {
        return call("deleting node " + name, () -> !client.nodes().withName(name).delete().isEmpty());
    }

    static boolean isReady(Node n) {
        if (n.getStatus() == null || n.getStatus().getConditions() == null) {
            return false;
        }
        for (NodeCondition c : n.getStatus().getConditions()) {
            if ("Ready".equals(c.getType())) {
                return "True".equals(c.getStatus());
            }
        }
        return false;
    }

    static NodeStatus status(Node n) {
        Map<String, String> labels = n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
        List<String> roles = new ArrayList<>();
        labels.forEach((k, v) -> {
            if (k.startsWith("node-role.kubernetes.io/")) {
                roles.add(k.substring("node-role.kubernetes.io/".length()));
            }
        });
        roles.sort(String::compareTo);
        String internal = null;
        String external = null;
        var st = n.getStatus();
        if (st != null && st.getAddresses() != null) {
            for (NodeAddress a : st.getAddresses()) {
                if ("InternalIP".equals(a.getType()) && internal == null) {
                    internal = a.getAddress();
                } else if ("ExternalIP".equals(a.getType()) && external == null) {
                    external = a.getAddress();
                }
            }
        }
        var info = st == null ? null : st.getNodeInfo();
        Quantity gpu = st == null || st.getCapacity() == null ? null : st.getCapacity().get("nvidia.com/gpu");
        String created = n.getMetadata().getCreationTimestamp();
        return new NodeStatus(n.getMetadata().getName(), isReady(n), roles,
                created == null ? null : Instant.parse(created),
                info == null ? null : info.getKubeletVersion(), internal, external,
                info == null ? null : info.getOsImage(), info == null ? null : info.getKernelVersion(),
                info == null ? null : info.getContainerRuntimeVersion(),
                info == null ? labels.get("kubernetes.io/arch") : info.getArchitecture(),
                gpu == null ? null : gpu.toString(), labels);
    }

    private <T> T call(String what, java.util.function.Supplier<T> body) {
        try {
            return body.get();
        } catch (KubernetesClientException e) {
            throw apiError(what, e);
        }
    }

    private K3gpuException apiError(String what, KubernetesClientException e) {
        String msg = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage()
                : e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
        String hint = e.getCode() == 401 || e.getCode() == 403
                ? "the kubeconfig's credentials were refused: fetch a fresh one with k3gpu get-config"
                : "check that the K3s server at " + where + " is running (k3gpu ready)";
        return new K3gpuException(ExitCode.KUBERNETES, what + " failed at " + where + ": " + msg, hint, e);
    }

    @Override
    public void close() {
        client.close();
    }
}
