package io.k3gpu.core.kube;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.dsl.Informable;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.LogWatch;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.KubernetesClientTimeoutException;
import io.fabric8.kubernetes.client.dsl.internal.OperationSupport;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.impl.KubernetesClientImpl;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.ByteArrayInputStream;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static io.k3gpu.core.kube.Fabric8Models.isReady;
import static io.k3gpu.core.kube.Fabric8Models.jobStatus;
import static io.k3gpu.core.kube.Fabric8Models.kubeObject;
import static io.k3gpu.core.kube.Fabric8Models.outcome;
import static io.k3gpu.core.kube.Fabric8Models.podState;
import static io.k3gpu.core.kube.Fabric8Models.selects;
import static io.k3gpu.core.kube.Fabric8Models.status;
import static io.k3gpu.core.kube.Fabric8Models.summary;

/** {@link ClusterApi} on the fabric8 kubernetes-client. */
public final class Fabric8ClusterApi implements ClusterApi {
    /** Writes of a Node refused as conflicting (409) before one is reported as an error. */
    private static final int CONFLICT_ATTEMPTS = 5;
    private final Config config;
    /** fabric8's HTTP client (TLS, authentication, retries): {@link #nodes} reads through it alone. */
    private final HttpClient http;
    private final String where;
    /** fabric8's client on {@link #http}, built on first use: {@code nodes} never needs it. */
    private KubernetesClient client;

    /** Made {@link #http}: ends its JDK clients' threads on close. */
    private final ClusterConnection.StoppingFactory httpFactory;

    private Fabric8ClusterApi(Config config, HttpClient http, ClusterConnection.StoppingFactory httpFactory) {
        this.config = config;
        this.http = http;
        this.httpFactory = httpFactory;
        this.where = config.getMasterUrl();
    }

    private synchronized KubernetesClient client() {
        if (client == null) {
            // as KubernetesClientBuilder.build makes it: its default executor (a pool) runs informer and watch
            // callbacks; the two-argument constructor runs them on the HTTP client's thread, which deadlocked a
            // waitUntilCondition closing its informer (GpuSchedulingIT)
            client = new KubernetesClientImpl(http, config, null, new KubernetesSerialization());
        }
        return client;
    }

    /**
     * A client for the current context of a kubeconfig given as text (it never touches ~/.kube), for the flows that
     * restart K3s: a request that cannot reach the API server is retried with fabric8's backoff (up to ~19 s), which
     * rides out a server that is coming back.
     */
    public static Fabric8ClusterApi fromKubeconfig(String kubeconfigYaml, String context) {
        return create(kubeconfigYaml, context, null);
    }

    /**
     * As {@link #fromKubeconfig}, for a command a person waits on ({@code nodes}, {@code verify}, {@code stats --all},
     * ...): an API server that does not answer is reported after two quick retries (~0.3 s), as kubectl reports it,
     * rather than after fabric8's backoff.
     */
    public static Fabric8ClusterApi forCommands(String kubeconfigYaml, String context) {
        return create(kubeconfigYaml, context, 2);
    }

    private static Fabric8ClusterApi create(String kubeconfigYaml, String context, Integer retries) {
        Config config = ClusterConnection.config(kubeconfigYaml, context);
        config.setRequestTimeout(15_000);
        config.setConnectionTimeout(10_000);
        if (retries != null) {
            config.setRequestRetryBackoffLimit(retries);
        }
        ClusterConnection.StoppingFactory factory = new ClusterConnection.StoppingFactory();
        return new Fabric8ClusterApi(config, ClusterConnection.httpClient(config, factory), factory);
    }

    @Override
    public String serverVersion() {
        return call("reading the server version", () -> client().getKubernetesVersion().getGitVersion());
    }

    @Override
    public List<NodeStatus> nodes() {
        return call("listing nodes", () -> get("api/v1/nodes", NodeListJson::nodes));
    }

    @Override
    public Optional<NodeStatus> node(String name) {
        return call("reading node " + name, () -> Optional.ofNullable(client().nodes().withName(name).get()).map(Fabric8Models::status));
    }

    @Override
    public String serverUrl() {
        return where.endsWith("/") ? where.substring(0, where.length() - 1) : where;
    }

    @Override
    public Optional<NodeStatus> awaitNodeReady(String name, Predicate<NodeStatus> which, Duration timeout) {
        try {
            Node n = client().nodes().withName(name).waitUntilCondition(
                    node -> node != null && isReady(node) && which.test(status(node)), timeout.toMillis(), TimeUnit.MILLISECONDS);
            return Optional.of(status(n));
        } catch (KubernetesClientTimeoutException e) {
            return Optional.empty();
        } catch (KubernetesClientException e) {
            throw apiError("waiting for node " + name, e);
        }
    }

    @Override
    public Optional<NodeStatus> awaitNodeReadyAndChanged(String name, String key, String previous, Duration timeout) {
        try {
            Node n = client().nodes().withName(name).waitUntilCondition(node -> node != null && isReady(node)
                            && !Objects.equals(previous, node.getMetadata().getAnnotations() == null ? null
                            : node.getMetadata().getAnnotations().get(key)),
                    timeout.toMillis(), TimeUnit.MILLISECONDS);
            return Optional.of(status(n));
        } catch (KubernetesClientTimeoutException e) {
            return Optional.empty();
        } catch (KubernetesClientException e) {
            throw apiError("waiting for node " + name, e);
        }
    }

    @Override
    public Map<String, String> label(String node, Map<String, String> labels) {
        return callRetryingConflicts("labelling node " + node, () -> {
            Map<String, String> changed = new LinkedHashMap<>();
            Node current = client().nodes().withName(node).get();
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
                client().nodes().withName(node).edit(n -> {
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
    public Optional<NodeMeta> meta(String node) {
        return call("reading node " + node, () -> Optional.ofNullable(client().nodes().withName(node).get()).map(n -> {
            List<Taint> taints = new ArrayList<>();
            if (n.getSpec() != null && n.getSpec().getTaints() != null) {
                for (io.fabric8.kubernetes.api.model.Taint t : n.getSpec().getTaints()) {
                    taints.add(new Taint(t.getKey(), t.getValue() == null || t.getValue().isEmpty() ? null : t.getValue(),
                            t.getEffect()));
                }
            }
            Map<String, String> labels = n.getMetadata().getLabels();
            Map<String, String> annotations = n.getMetadata().getAnnotations();
            return new NodeMeta(labels == null ? Map.of() : labels, annotations == null ? Map.of() : annotations, taints);
        }));
    }

    @Override
    public void update(String node, Map<String, String> labels, Map<String, String> annotations, List<Taint> taints) {
        callRetryingConflicts("updating node " + node, () -> client().nodes().withName(node).edit(n -> {
                n.getMetadata().setLabels(merged(n.getMetadata().getLabels(), labels));
                n.getMetadata().setAnnotations(merged(n.getMetadata().getAnnotations(), annotations));
                if (taints != null) {
                    n.getSpec().setTaints(new ArrayList<>(taints.stream().map(t -> {
                        io.fabric8.kubernetes.api.model.Taint k = new io.fabric8.kubernetes.api.model.Taint();
                        k.setKey(t.key());
                        k.setValue(t.value());
                        k.setEffect(t.effect());
                        return k;
                    }).toList()));
                }
                return n;
            }));
    }

    @Override
    public void annotate(String node, Map<String, String> annotations) {
        // a merge patch of the annotations map only: lists would be replaced whole (RFC 7386), so none is sent
        // a mapper of its own: a static one was Jackson's first use at class load, for every command (issue 16)
        JsonMapper json = JsonMapper.builder().build();
        ObjectNode patch = json.createObjectNode();
        ObjectNode a = patch.putObject("metadata").putObject("annotations");
        annotations.forEach((k, v) -> {
            if (v == null) {
                a.putNull(k);
            } else {
                a.put(k, v);
            }
        });
        call("annotating node " + node, () -> client().nodes().withName(node)
                .patch(PatchContext.of(PatchType.JSON_MERGE), json.writeValueAsString(patch)));
    }

    @Override
    public Map<String, String> nodeAnnotation(String key) {
        return call("listing nodes", () -> {
            Map<String, String> out = new LinkedHashMap<>();
            for (Node n : client().nodes().list().getItems()) {
                Map<String, String> a = n.getMetadata().getAnnotations();
                if (a != null && a.get(key) != null) {
                    out.put(n.getMetadata().getName(), a.get(key));
                }
            }
            return out;
        });
    }

    /** {@code have} with {@code changes} applied (a null value removes the key). */
    private static Map<String, String> merged(Map<String, String> have, Map<String, String> changes) {
        Map<String, String> m = have == null ? new LinkedHashMap<>() : new LinkedHashMap<>(have);
        changes.forEach((k, v) -> {
            if (v == null) {
                m.remove(k);
            } else {
                m.put(k, v);
            }
        });
        return m;
    }

    @Override
    public boolean deleteNode(String name) {
        return call("deleting node " + name, () -> !client().nodes().withName(name).delete().isEmpty());
    }

    @Override
    public void applyConfigMap(String namespace, String name, Map<String, String> data) {
        call("writing ConfigMap " + name, () -> client().configMaps().inNamespace(namespace).resource(
                new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace(namespace)
                        .addToLabels("app.kubernetes.io/managed-by", "k3gpu").endMetadata().withData(data).build())
                .createOr(r -> r.update()));
    }

    @Override
    public void create(String namespace, String yaml) {
        call("creating " + firstLine(yaml), () -> {
            for (HasMetadata item : client().load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items()) {
                client().resource(item).inNamespace(namespace).create();
            }
            return null;
        });
    }

    @Override
    public PodOutcome awaitPod(String namespace, String pod, Duration timeout, boolean untilRunning) {
        try {
            Pod p = client().pods().inNamespace(namespace).withName(pod).waitUntilCondition(
                    x -> x != null && (outcome(x, false).finished() || outcome(x, false).imagePullFailed()
                            || outcome(x, false).unschedulable() != null
                            || (untilRunning && "Running".equals(x.getStatus() == null ? null : x.getStatus().getPhase()))),
                    timeout.toMillis(), TimeUnit.MILLISECONDS);
            return outcome(p, false);
        } catch (KubernetesClientTimeoutException e) {
            Pod p = client().pods().inNamespace(namespace).withName(pod).get();
            return p == null ? new PodOutcome("Unknown", null, null, null, null, true) : outcome(p, true);
        } catch (KubernetesClientException e) {
            throw apiError("waiting for pod " + pod, e);
        }
    }

    @Override
    public String podLogs(String namespace, String pod, String container) {
        return call("reading the log of pod " + pod, () -> client().pods().inNamespace(namespace).withName(pod)
                .inContainer(container).getLog());
    }

    @Override
    public AutoCloseable followLogs(String namespace, String pod, String container, Consumer<String> lines) {
        LineOutput out = new LineOutput(lines);
        LogWatch watch = call("following the log of pod " + pod, () -> client().pods().inNamespace(namespace)
                .withName(pod).inContainer(container).watchLog(out));
        return () -> {
            watch.close();
            out.flushLine();
        };
    }

    @Override
    public void deletePod(String namespace, String name) {
        call("deleting pod " + name, () -> client().pods().inNamespace(namespace).withName(name).delete());
    }

    // ---- rolling upgrades (issue 14)

    @Override
    public void cordon(String node, boolean unschedulable) {
        // kubectl cordon's patch: spec.unschedulable true, or the field removed (false is its default).
        String patch = "{\"spec\":{\"unschedulable\":" + (unschedulable ? "true" : "null") + "}}";
        call((unschedulable ? "cordoning" : "uncordoning") + " node " + node, () -> client().nodes().withName(node)
                .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                        io.fabric8.kubernetes.client.dsl.base.PatchType.STRATEGIC_MERGE), patch));
    }

    @Override
    public List<DrainPod> podsOn(String node) {
        return call("listing the pods of node " + node, () -> client().pods().inAnyNamespace().list().getItems().stream()
                .filter(p -> p.getSpec() != null && node.equals(p.getSpec().getNodeName()))
                .map(p -> {
                    var meta = p.getMetadata();
                    boolean ds = meta.getOwnerReferences() != null && meta.getOwnerReferences().stream()
                            .anyMatch(o -> Boolean.TRUE.equals(o.getController()) && "DaemonSet".equals(o.getKind()));
                    boolean mirror = meta.getAnnotations() != null
                            && meta.getAnnotations().containsKey("kubernetes.io/config.mirror");
                    return new DrainPod(meta.getNamespace(), meta.getName(), meta.getUid(), ds, mirror);
                }).toList());
    }

    @Override
    public boolean evict(String namespace, String name) {
        var eviction = new io.fabric8.kubernetes.api.model.policy.v1.EvictionBuilder()
                .withNewMetadata().withName(name).withNamespace(namespace).endMetadata().build();
        try {
            return client().pods().inNamespace(namespace).withName(name).evict(eviction);
        } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
                return true; // gone already: nothing left to evict
            }
            throw apiError("evicting pod " + namespace + "/" + name, e);
        }
    }

    @Override
    public boolean podExists(String namespace, String name, String uid) {
        Pod p = call("reading pod " + name, () -> client().pods().inNamespace(namespace).withName(name).get());
        return p != null && (uid == null || uid.equals(p.getMetadata().getUid()));
    }

    @Override
    public List<String> budgetsOf(String namespace, String pod) {
        return call("reading the disruption budgets of " + namespace, () -> {
            Pod p = client().pods().inNamespace(namespace).withName(pod).get();
            Map<String, String> labels = p == null || p.getMetadata().getLabels() == null ? Map.of()
                    : p.getMetadata().getLabels();
            List<String> out = new ArrayList<>();
            for (var b : client().policy().v1().podDisruptionBudget().inNamespace(namespace).list().getItems()) {
                var sel = b.getSpec() == null ? null : b.getSpec().getSelector();
                if (sel == null || !selects(sel, labels)) {
                    continue;
                }
                var st = b.getStatus();
                out.add(b.getMetadata().getName() + (st == null ? "" : " (allows " + st.getDisruptionsAllowed()
                        + " disruptions: " + st.getCurrentHealthy() + " healthy, " + st.getDesiredHealthy()
                        + " desired)"));
            }
            return out;
        });
    }

    @Override
    public void nodeEvent(String node, String type, String reason, String message) {
        String now = Instant.now().toString();
        var event = new io.fabric8.kubernetes.api.model.EventBuilder()
                .withNewMetadata().withName(node + "." + Long.toHexString(System.nanoTime())).withNamespace("default")
                .endMetadata()
                .withNewInvolvedObject().withKind("Node").withName(node).withApiVersion("v1").endInvolvedObject()
                .withType(type).withReason(reason).withMessage(message)
                .withNewSource().withComponent("k3gpu").endSource().withReportingComponent("k3gpu")
                .withFirstTimestamp(now).withLastTimestamp(now).withCount(1).build();
        call("recording an event on node " + node, () -> client().v1().events().inNamespace("default").resource(event)
                .create());
    }

    @Override
    public void deleteJob(String namespace, String name) {
        call("deleting job " + name, () -> client().batch().v1().jobs().inNamespace(namespace).withName(name)
                .withPropagationPolicy(DeletionPropagation.BACKGROUND).delete());
        call("deleting the pods of job " + name, () -> client().pods().inNamespace(namespace)
                .withLabel("job-name", name).delete());
    }

    @Override
    public List<JobStatus> jobs(String namespace, String labelSelector) {
        return call("listing jobs", () -> client().batch().v1().jobs().inNamespace(namespace)
                .withLabelSelector(labelSelector).list().getItems().stream().map(Fabric8Models::jobStatus).toList());
    }

    @Override
    public Optional<JobStatus> job(String namespace, String name) {
        return call("reading job " + name, () -> Optional.ofNullable(client().batch().v1().jobs().inNamespace(namespace)
                .withName(name).get()).map(Fabric8Models::jobStatus));
    }

    @Override
    public Optional<String> podOfJob(String namespace, String job) {
        return call("finding the pod of job " + job, () -> client().pods().inNamespace(namespace)
                .withLabel("job-name", job).list().getItems().stream()
                .max(java.util.Comparator.comparing(p -> p.getMetadata().getCreationTimestamp() == null ? ""
                        : p.getMetadata().getCreationTimestamp()))
                .map(p -> p.getMetadata().getName()));
    }

    private static String firstLine(String yaml) {
        for (String l : yaml.split("\\R")) {
            if (l.startsWith("kind:")) {
                return l.substring(5).strip();
            }
        }
        return "objects";
    }

    /** Splits a log stream into lines for a consumer. */
    private static final class LineOutput extends java.io.OutputStream {
        private final Consumer<String> lines;
        private final java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();

        LineOutput(Consumer<String> lines) {
            this.lines = lines;
        }

        @Override
        public synchronized void write(int b) {
            if (b == '\n') {
                flushLine();
            } else {
                buf.write(b);
            }
        }

        synchronized void flushLine() {
            if (buf.size() > 0) {
                lines.accept(buf.toString(StandardCharsets.UTF_8));
                buf.reset();
            }
        }
    }

    // ---- GPU scheduling (issue 11)

    @Override
    public List<PodSummary> activePods(String node) {
        // Filtered here rather than with a field selector: one list serves every node (nodes -o wide).
        return call("listing pods", () -> client().pods().inAnyNamespace().list().getItems().stream()
                .map(Fabric8Models::summary)
                .filter(p -> p.node() != null && !p.finished() && (node == null || node.equals(p.node())))
                .toList());
    }

    @Override
    public String podLogTail(String namespace, String pod, String container, int lines, boolean previous) {
        return call("reading the log of pod " + pod, () -> {
            var logs = client().pods().inNamespace(namespace).withName(pod).inContainer(container);
            return previous ? logs.terminated().tailingLines(lines).getLog() : logs.tailingLines(lines).getLog();
        });
    }

    private <T> T call(String what, java.util.function.Supplier<T> body) {
        try {
            return body.get();
        } catch (KubernetesClientException e) {
            throw apiError(what, e);
        }
    }

    /**
     * As {@link #call}, for a read, change and write of a Node: its agent writes the Node too (status, heartbeats,
     * its own labels when it starts), and a write based on an older read is refused with 409 Conflict. Read and
     * write again then, as client-go's RetryOnConflict does.
     */
    private <T> T callRetryingConflicts(String what, java.util.function.Supplier<T> body) {
        for (int attempt = 1; ; attempt++) {
            try {
                return body.get();
            } catch (KubernetesClientException e) {
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT || attempt == CONFLICT_ATTEMPTS) {
                    throw apiError(what, e);
                }
            }
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

    // --- objects that k3gpu installs and reconciles (k3gpu device-plugin) ---

    @Override
    public List<KubeObject> objects(String namespace, String labelSelector) {
        return call("listing the objects labelled " + labelSelector, () -> {
            List<KubeObject> out = new ArrayList<>();
            for (HasMetadata o : client().configMaps().inNamespace(namespace).withLabelSelector(labelSelector).list()
                    .getItems()) {
                out.add(kubeObject("ConfigMap", o));
            }
            for (HasMetadata o : client().apps().daemonSets().inNamespace(namespace).withLabelSelector(labelSelector)
                    .list().getItems()) {
                out.add(kubeObject("DaemonSet", o));
            }
            return out;
        });
    }

    @Override
    public void apply(String namespace, String yaml) {
        call("applying " + firstLine(yaml), () -> {
            for (HasMetadata item : client().load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items()) {
                HasMetadata have = client().resource(item).inNamespace(namespace).get();
                if (have == null) {
                    client().resource(item).inNamespace(namespace).create();
                } else {
                    // a replace of what is there (PUT with its resourceVersion), as kubectl replace does
                    item.getMetadata().setResourceVersion(have.getMetadata().getResourceVersion());
                    client().resource(item).inNamespace(namespace).update();
                }
            }
            return null;
        });
    }

    @Override
    public boolean delete(String namespace, String kind, String name) {
        return call("deleting " + kind + " " + name, () -> switch (kind) {
            case "DaemonSet" -> !client().apps().daemonSets().inNamespace(namespace).withName(name).delete().isEmpty();
            case "ConfigMap" -> !client().configMaps().inNamespace(namespace).withName(name).delete().isEmpty();
            case "Service" -> !client().services().inNamespace(namespace).withName(name).delete().isEmpty();
            default -> throw new IllegalArgumentException("cannot delete a " + kind);
        });
    }

    @Override
    public List<PodState> pods(String namespace, String labelSelector) {
        return call("listing the pods labelled " + labelSelector, () -> client().pods().inNamespace(namespace)
                .withLabelSelector(labelSelector).list().getItems().stream().map(Fabric8Models::podState).toList());
    }

    @Override
    public Optional<List<NodeStatus>> awaitNodes(Predicate<List<NodeStatus>> done, Duration timeout) {
        return await(client().nodes(), Fabric8Models::status, done, timeout, "watching nodes");
    }

    @Override
    public Optional<List<PodState>> awaitPods(String namespace, String labelSelector, Predicate<List<PodState>> done,
                                              Duration timeout) {
        return await(client().pods().inNamespace(namespace).withLabelSelector(labelSelector), Fabric8Models::podState,
                done, timeout, "watching the pods labelled " + labelSelector);
    }

    /** Runs an informer (list, then watch) and tests {@code done} on its cache after every event. */
    private <T extends HasMetadata, R> Optional<List<R>> await(Informable<T> source, Function<T, R> map,
                                                               Predicate<List<R>> done, Duration timeout, String what) {
        CompletableFuture<List<R>> result = new CompletableFuture<>();
        SharedIndexInformer<T> informer = source.runnableInformer(0);
        Runnable check = () -> {
            List<R> items = informer.getStore().list().stream().map(map).toList();
            if (done.test(items)) {
                result.complete(items);
            }
        };
        informer.addEventHandler(new ResourceEventHandler<T>() {
            @Override
            public void onAdd(T obj) {
                check.run();
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                check.run();
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                check.run();
            }
        });
        try {
            informer.run();
            check.run();
            return Optional.of(result.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "interrupted while " + what, null, e);
        } catch (ExecutionException e) {
            throw new K3gpuException(ExitCode.KUBERNETES, what + " failed at " + where + ": " + e.getCause(),
                    "check that the K3s server at " + where + " is running (k3gpu ready)", e);
        } catch (KubernetesClientException e) {
            throw apiError(what, e);
        } finally {
            informer.close();
        }
    }

    /**
     * A GET of {@code path} (under the server's URL) through fabric8's HTTP client, its body read by {@code parse}:
     * what fabric8's own list does (the request timeout, its retries and interceptors; a refusal is the same
     * KubernetesClientException with the server's Status) without its model of the resource.
     */
    private <T> T get(String path, Function<byte[], T> parse) {
        HttpRequest request = http.newHttpRequestBuilder().uri(serverUrl() + "/" + path)
                .timeout(config.getRequestTimeout(), TimeUnit.MILLISECONDS).build();
        HttpResponse<byte[]> response;
        try {
            response = http.sendAsync(request, byte[].class).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "interrupted while reading " + path, null, e);
        } catch (ExecutionException e) {
            Throwable t = e.getCause() == null ? e : e.getCause();
            if (t instanceof KubernetesClientException k) {
                throw k;
            }
            // as fabric8's OperationSupport.waitForResult and list: the cause's message is what apiError shows
            throw new KubernetesClientException(t.getMessage(), new java.io.IOException(t.getMessage(), t));
        }
        if (!response.isSuccessful()) {
            throw OperationSupport.requestFailure(request, OperationSupport.createStatus(response,
                    new KubernetesSerialization(JsonMapper.builder().build(), false)));
        }
        try {
            return parse.apply(response.body());
        } catch (RuntimeException e) {
            throw OperationSupport.requestException(request, e);
        }
    }

    @Override
    public void close() {
        KubernetesClient c;
        synchronized (this) {
            c = client;
        }
        try {
            if (c != null) {
                c.close(); // closes http too
            } else {
                http.close();
            }
        } finally {
            httpFactory.stop();
        }
    }
}
