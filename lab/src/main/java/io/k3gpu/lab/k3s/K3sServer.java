package io.k3gpu.lab.k3s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import io.k3gpu.lab.k3s.controllers.Controllers;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.TrustOptions;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The simulated {@code k3s server}, usable in-process ({@link #start}) and from {@link K3sServerMain}. At start it
 * writes what K3s writes — {@code <data-dir>/server/tls/*} (cluster CA, client CA, admin and serving certificates),
 * {@code <data-dir>/server/token} ({@code K10<CA hash>::server:<password>}, 0600) with {@code node-token} a symlink
 * to it, {@code agent-token} when one is set, and the kubeconfig {@code /etc/rancher/k3s/k3s.yaml} (admin client
 * certificate, mode per --write-kubeconfig-mode) — then serves the Kubernetes API on 6443 and, unless
 * --disable-agent, runs its embedded agent ({@link EmbeddedAgent}: on a lab node, from {@link K3sServerMain}), which
 * registers the server's Node, keeps it Ready and runs the pods bound to it; in-process (tests, no agent program)
 * the server registers its own Node and keeps it Ready with heartbeats itself, and nothing runs its pods (after a
 * restart either takes the existing Node over, keeping the labels, annotations and taints others set).
 * Nothing is removed on close: K3s keeps its data,
 * and a restart reuses the CAs, the token and the cluster's objects ({@link Datastore}: SQLite by default, embedded
 * etcd with --cluster-init; --cluster-init over an existing SQLite datastore migrates it). The control plane (scheduler, Job/TTL/GC/node lifecycle
 * controllers, admission and graceful deletion) is {@link io.k3gpu.lab.k3s.controllers}.
 *
 * <p>With {@code --server URL} it joins the first server as an extra control-plane node: it checks the first
 * server's CA against the token's hash ({@code GET /cacerts}), takes the cluster CAs and passwords from
 * {@code /v1-k3s/server-bootstrap} (HTTP Basic {@code server:<password>}), serves with a certificate of its own from
 * the shared CA, forwards every API request to the first server (one shared store, as with embedded etcd), and
 * registers its own Node there with the control-plane, etcd and master roles. As K3s, a server only lets others join
 * with embedded etcd: on SQLite the bootstrap request is refused (400 "etcd disabled") and the joining server fails
 * with "failed to bootstrap cluster data".
 */
public final class K3sServer implements AutoCloseable {
    private final K3sServerOptions options;
    private final K3sLog log;
    private final Vertx vertx;
    private final ApiListener listener;
    private final ApiClient api;
    private final ScheduledExecutorService timer;
    private final int port;
    private final String url;
    private final Path kubeconfig;
    private final Path dataDir;
    private final String token;
    private final String nodeName;
    private final K3sPki pki;
    private final Datastore datastore;
    private volatile Controllers controllers;
    private volatile MetricsServer metrics;
    private volatile EmbeddedAgent agent;
    private volatile boolean closed;

    /** How the server reaches the API it registers its Node with: its own handler, or the first server. */
    interface ApiClient {
        ApiHandler.Response call(String method, String path, String contentType, String body);
    }

    private K3sServer(K3sServerOptions options, K3sLog log, Vertx vertx, ApiListener listener, ApiClient api,
                      ScheduledExecutorService timer, int port, String url, Path kubeconfig, Path dataDir,
                      String token, String nodeName, K3sPki pki, Datastore datastore) {
        this.options = options;
        this.log = log;
        this.vertx = vertx;
        this.listener = listener;
        this.api = api;
        this.timer = timer;
        this.port = port;
        this.url = url;
        this.kubeconfig = kubeconfig;
        this.dataDir = dataDir;
        this.token = token;
        this.nodeName = nodeName;
        this.pki = pki;
        this.datastore = datastore;
    }

    /** Starts a server; failures K3s would report as fatal are thrown as {@link K3sStartException}. */
    public static K3sServer start(K3sServerOptions o) {
        K3sLog log = new K3sLog(o.logOutput, o.clock, o.debug);
        log.info("Starting k3s " + o.version + " (" + o.commit + ")");
        Path dataDir = o.resolvedDataDir();
        Path serverDir = dataDir.resolve("server");
        Path tlsDir = serverDir.resolve("tls");
        Vertx vertx = null;
        try {
            Files.createDirectories(serverDir);
            K3sPki.setMode(serverDir, "rwx------");
            JoinInfo join = o.serverUrl == null ? null : join(o, tlsDir, log);

            HostFacts host = o.hostFacts != null ? o.hostFacts : HostFacts.probe(dataDir, o.docker);
            String nodeName = o.nodeName != null && !o.nodeName.isBlank() ? o.nodeName : host.hostname();
            Set<InetAddress> addresses = new LinkedHashSet<>();
            addresses.add(InetAddress.getByName("127.0.0.1"));
            addresses.addAll(HostFacts.allAddresses());
            List<String> sans = new ArrayList<>(o.tlsSans);
            sans.addAll(o.nodeIps);
            sans.addAll(o.nodeExternalIps);
            if (o.advertiseAddress != null) {
                sans.add(o.advertiseAddress);
            }
            for (String san : sans) {
                if (K3sPki.isIpLiteral(san)) {
                    addresses.add(InetAddress.getByName(san));
                }
            }
            K3sPki pki = K3sPki.loadOrCreate(tlsDir, K3sPki.dnsNames(host.hostname(), sans), addresses, o.clock);

            Passwords pw = passwords(o, serverDir, pki, join);
            String serverToken = K3sToken.format(pki.serverCaBytes, "server", pw.server);
            Path tokenFile = serverDir.resolve("token");
            writeSecret(tokenFile, serverToken + "\n");
            Path nodeToken = serverDir.resolve("node-token");
            if (!Files.isSymbolicLink(nodeToken)) {
                Files.deleteIfExists(nodeToken);
                Files.createSymbolicLink(nodeToken, tokenFile);
            }
            Path agentTokenFile = serverDir.resolve("agent-token");
            if (pw.agent != null) {
                writeSecret(agentTokenFile, K3sToken.format(pki.serverCaBytes, "node", pw.agent) + "\n");
            }

            Datastore datastore = Datastore.open(dataDir, o.clusterInit, join != null, nodeName, log);
            vertx = Vertx.vertx();
            WatchHub hub = new WatchHub();
            ApiStore store = new ApiStore(hub);
            if (join == null) {
                store.restore(datastore.load());
                datastore.persist(store);
            }
            String platform = "linux/" + host.architecture();
            ApiHandler handler = new ApiHandler(store, o.version, platform, o.clock);
            Map<String, Set<String>> basic = pw.agent == null
                    ? Map.of("server", Set.of(pw.server), "node", Set.of(pw.server))
                    : Map.of("server", Set.of(pw.server), "node", Set.of(pw.agent, pw.server));
            Passwords passwords = pw;
            ApiListener listener = new ApiListener(vertx, pki, handler, hub, log, basic,
                    datastore.kind() == Datastore.Kind.ETCD ? who -> bootstrapDocument(tlsDir, passwords) : null);
            String bind = o.bindAddress == null || o.bindAddress.isBlank() ? "0.0.0.0" : o.bindAddress;
            int port = listener.listen(bind, o.httpsPort);
            String advertise = o.advertiseAddress != null ? o.advertiseAddress
                    : !o.nodeIps.isEmpty() ? o.nodeIps.get(0)
                    : host.internalIp() != null ? host.internalIp() : "127.0.0.1";
            handler.serverAddress(advertise + ":" + port);
            log.info("Running kube-apiserver --advertise-address=" + advertise + " --bind-address=" + bind
                    + " --secure-port=" + port + " --anonymous-auth=false --client-ca-file="
                    + tlsDir.resolve("client-ca.crt") + " --tls-cert-file="
                    + tlsDir.resolve("serving-kube-apiserver.crt"));

            ApiClient client;
            if (join != null) {
                URI first = URI.create(o.serverUrl);
                listener.forwardTo(new ApiListener.Upstream(vertx.createHttpClient(new HttpClientOptions()
                        .setSsl(true).setTrustOptions(TrustOptions.wrap(K3sPki.trust(pki.serverCa.cert())))
                        .setKeyCertOptions(KeyCertOptions.wrap(adminKeys(pki)))), first.getHost(),
                        first.getPort() > 0 ? first.getPort() : 6443));
                client = remote(o.serverUrl, pki);
            } else {
                client = (method, path, ct, body) -> {
                    int q = path.indexOf('?');
                    return handler.handle(new ApiHandler.Request(method, q >= 0 ? path.substring(0, q) : path,
                            q >= 0 ? path.substring(q + 1) : null, ct == null ? Map.of("user-agent", "k3s")
                                    : Map.of("content-type", ct, "user-agent", "k3s"),
                            body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8)));
                };
                for (String ns : List.of("default", "kube-system", "kube-public", "kube-node-lease")) {
                    client.call("POST", "/api/v1/namespaces", ApiHandler.JSON,
                            "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + ns + "\"}}");
                }
            }

            log.info("Node token is available at " + tokenFile);
            log.info("To join server node to cluster: k3s server -s https://" + hostPort(advertise, port)
                    + " -t ${SERVER_NODE_TOKEN}");
            if (pw.agent != null) {
                log.info("Agent token is available at " + agentTokenFile);
            }
            log.info("To join agent node to cluster: k3s agent -s https://" + hostPort(advertise, port)
                    + " -t ${AGENT_NODE_TOKEN}");

            Path kubeconfig = o.resolvedKubeconfig();
            String kubeHost = bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind;
            String url = "https://" + hostPort(kubeHost, port);
            Kubeconfig.write(kubeconfig, url, pki);
            log.info("Wrote kubeconfig " + kubeconfig);
            try {
                Files.setPosixFilePermissions(kubeconfig,
                        Kubeconfig.permissions(Integer.parseInt(o.resolvedKubeconfigMode(), 8)));
            } catch (NumberFormatException e) {
                log.error("Failed to set " + kubeconfig + " to mode " + o.resolvedKubeconfigMode() + ": invalid mode");
            }
            log.info("Run: k3s kubectl");

            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "k3s-kubelet");
                t.setDaemon(true);
                return t;
            });
            K3sServer server = new K3sServer(o, log, vertx, listener, client, timer, port, url, kubeconfig, dataDir,
                    serverToken, nodeName, pki, datastore);
            if (join == null) { // an extra server forwards the API to the first, whose controllers act
                server.controllers = Controllers.start(new ControllerBridge(handler, store, hub), o.clock, log,
                        o.embeddedAgent != null && !o.disableAgent
                                ? Controllers.Options.defaults().localNode(nodeName).localNodeRunsPods()
                                : Controllers.Options.defaults().localNode(o.disableAgent ? null : nodeName));
                handler.hooks(server.controllers);
                if (!o.disabled("metrics-server")) {
                    server.metrics = new MetricsServer(store, o.clock, o.metricResolution);
                    server.metrics.start();
                    handler.metrics(server.metrics);
                }
            }
            if (o.embeddedAgent == null) { // else the embedded agent logs what it found
                for (String runtime : host.nvidiaRuntimes()) { // the embedded agent's containerd configuration
                    log.info("Found " + runtime + " container runtime");
                }
            }
            if (join == null) {
                server.bootstrapPriorityClasses();
                K3sManifests.deployRuntimes(client, o.version, o.disabled("runtimes"), dataDir, log);
                K3sCoreDns.kubernetesService(client, advertise, port);
                K3sCoreDns.deploy(client, o.disabled("coredns"), dataDir, log);
                K3sLocalStorage.deploy(client, o.disabled("local-storage"), dataDir, log);
                server.deployAddons(hub);
            }
            log.info("k3s is up and running");
            if (!o.disableAgent && o.embeddedAgent != null) {
                server.startAgent(bind, port, pw.agent != null ? agentTokenFile : tokenFile, join != null,
                        host.internalIp());
            } else if (!o.disableAgent) {
                server.registerNode(host, join != null);
                long every = Math.max(1, o.heartbeat.toMillis());
                timer.scheduleAtFixedRate(() -> server.heartbeat(host, join != null), every, every,
                        TimeUnit.MILLISECONDS);
            }
            return server;
        } catch (IOException e) {
            closeQuietly(vertx);
            throw new K3sStartException("starting kubernetes: " + e.getMessage(), e);
        } catch (K3sStartException e) {
            closeQuietly(vertx);
            throw e;
        } catch (RuntimeException e) {
            closeQuietly(vertx);
            throw new K3sStartException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
        }
    }

    /**
     * K3s's other packaged components (K3sAddons: metrics-server, traefik) and the controllers that make them run:
     * helm-controller, servicelb (unless --disable servicelb) and the aggregator's availability check. Like K3s's
     * (informers and work queues) they act on changes: a change to what they read marks them due, checked every 2 s,
     * with a full pass every minute besides; an idle cluster costs them nothing.
     */
    private void deployAddons(WatchHub hub) {
        K3sAddons.deploy(api, "metrics-server/metrics-server.yaml", K3sAddons.metricsServer(),
                options.disabled("metrics-server"), dataDir, log, List.of());
        String ns = "/api/v1/namespaces/kube-system/";
        List<String> traefikMade = new ArrayList<>();
        for (String chart : List.of("traefik", "traefik-crd")) { // helm-controller's and the releases' objects
            traefikMade.add("/apis/batch/v1/namespaces/kube-system/jobs/helm-install-" + chart);
            traefikMade.add(ns + "serviceaccounts/helm-" + chart);
            traefikMade.add("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/helm-kube-system-" + chart);
            traefikMade.add(ns + "secrets/chart-values-" + chart);
            traefikMade.add(ns + "configmaps/chart-content-" + chart);
            traefikMade.add(ns + "secrets?labelSelector=owner%3Dhelm,name%3D" + chart);
        }
        traefikMade.add("/apis/apps/v1/namespaces/kube-system/deployments/traefik");
        traefikMade.add(ns + "services/traefik");
        traefikMade.add(ns + "serviceaccounts/traefik");
        traefikMade.add("/apis/rbac.authorization.k8s.io/v1/clusterroles/traefik-kube-system");
        traefikMade.add("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/traefik-kube-system");
        for (String crd : List.of("ingressroutes", "ingressroutetcps", "ingressrouteudps", "middlewares",
                "middlewaretcps", "serverstransports", "serverstransporttcps", "tlsoptions", "tlsstores",
                "traefikservices")) {
            traefikMade.add("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + crd + ".traefik.io");
        }
        K3sAddons.deploy(api, "traefik.yaml", K3sAddons.traefik(), options.disabled("traefik"), dataDir, log,
                traefikMade);
        K3sHelmController helm = options.disableHelmController ? null : new K3sHelmController(api);
        K3sServiceLb serviceLb = options.disabled("servicelb") ? null : new K3sServiceLb(api);
        K3sAggregator aggregator = new K3sAggregator(api, options.clock);
        AtomicBoolean due = new AtomicBoolean(true);
        hub.subscribe(new WatchHub.Subscription(e -> K3sAddons.concerns(e.resource().kind(), e.object(),
                e.previous()) ? e : null, e -> due.set(true)), 0);
        long[] lastPass = {System.nanoTime()};
        timer.scheduleWithFixedDelay(() -> {
            long now = System.nanoTime();
            if (!due.getAndSet(false) && now - lastPass[0] < TimeUnit.MINUTES.toNanos(1)) {
                return;
            }
            lastPass[0] = now;
            try {
                aggregator.sync();
                if (helm != null) {
                    helm.sync();
                }
                if (serviceLb != null) {
                    serviceLb.sync();
                }
            } catch (RuntimeException e) {
                log.error("packaged components: " + e);
            }
        }, 0, 2, TimeUnit.SECONDS);
    }

    /** The API's base URL as the kubeconfig names it, e.g. https://127.0.0.1:6443. */
    public String url() {
        return url;
    }

    public int port() {
        return port;
    }

    public Path kubeconfig() {
        return kubeconfig;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The full server token, K10...::server:... */
    public String token() {
        return token;
    }

    /** The server's own node name (registered unless --disable-agent). */
    public String nodeName() {
        return nodeName;
    }

    /** The cluster CA as /cacerts serves it. */
    public byte[] caCertificate() {
        return pki.serverCaBytes.clone();
    }

    /** Stops serving; keeps every file. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (agent != null) {
            agent.close(); // first: its pods stop while the API still answers
        }
        if (controllers != null) {
            controllers.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        timer.shutdownNow();
        listener.close();
        datastore.close();
        closeQuietly(vertx);
    }

    // ---- the server's own node

    /**
     * The embedded agent (see {@link EmbeddedAgent}) at {@code https://<bind address or 127.0.0.1>:<port>} with the
     * agent token (the server token when none is set); it owns the Node from here on. When it exits by itself the
     * server stops with a fatal line, as K3s does when its agent fails (systemd then restarts it).
     */
    private void startAgent(String bind, int port, Path tokenFile, boolean joined, String internalIp)
            throws IOException {
        String host = bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind;
        List<String> flags = new ArrayList<>(options.agentFlags);
        if (options.nodeIps.isEmpty() && internalIp != null) {
            // the agent takes the address it reaches the server from, here loopback; K3s's embedded agent takes the
            // host's (its default route's), which the server found already
            flags.add("--node-ip=" + internalIp);
        }
        List<String> cmd = EmbeddedAgent.command(options.embeddedAgent, "https://" + hostPort(host, port), tokenFile,
                dataDir, nodeName, options.debug, flags);
        String env = EmbeddedAgent.environment(options.nodeArgs.isEmpty() ? List.of("server") : options.nodeArgs,
                datastore.kind() == Datastore.Kind.ETCD, joined ? null : "10.42.0.0/24");
        agent = EmbeddedAgent.start(cmd, env, options.logOutput, rc -> {
            if (!closed) {
                log.fatal("embedded agent exited: exit status " + rc);
                System.exit(1);
            }
        });
        log.info("Running embedded agent (pid " + agent.pid() + ")");
    }

    private K3sNodeObject.Spec nodeSpec(boolean joined) {
        return new K3sNodeObject.Spec(nodeName, options.version, true, datastore.kind() == Datastore.Kind.ETCD,
                options.docker,
                options.defaultRuntime, options.nodeLabels, options.nodeTaints, options.nodeIps,
                options.nodeExternalIps, options.nodeArgs.isEmpty() ? List.of("server") : options.nodeArgs,
                joined ? null : "10.42.0.0/24");
    }

    private void registerNode(HostFacts host, boolean joined) {
        ObjectNode node = K3sNodeObject.build(nodeSpec(joined), host, options.clock.instant());
        ApiHandler.Response r = api.call("POST", "/api/v1/nodes", ApiHandler.JSON, Json.write(node));
        if (r.status() == 409) {
            // registered before (a restart): the kubelet takes its Node over, keeping what others set on it
            ObjectNode patch = Json.object();
            ObjectNode meta = patch.putObject("metadata");
            meta.set("labels", node.path("metadata").path("labels"));
            meta.set("annotations", node.path("metadata").path("annotations"));
            r = api.call("PATCH", "/api/v1/nodes/" + nodeName, "application/merge-patch+json", Json.write(patch));
            if (r.status() == 200) {
                ObjectNode status = Json.object();
                status.set("status", node.path("status"));
                r = api.call("PATCH", "/api/v1/nodes/" + nodeName + "/status", "application/merge-patch+json",
                        Json.write(status));
            }
        }
        if (r.status() == 201 || r.status() == 200) {
            renewLease(options.clock.instant());
            log.info("Successfully registered node " + nodeName);
            log.info("Control-plane role label has been set successfully on node: " + nodeName);
        } else {
            log.error("Unable to register node " + nodeName + " with API server: " + r.bodyText());
        }
    }

    private void heartbeat(HostFacts host, boolean joined) {
        if (closed) {
            return;
        }
        try {
            ApiHandler.Response current = api.call("GET", "/api/v1/nodes/" + nodeName, null, null);
            if (current.status() == 404) {
                registerNode(host, joined);
                return;
            }
            Instant now = options.clock.instant();
            Instant transition = now;
            JsonNode conds = Json.parse(current.bodyText()).path("status").path("conditions");
            for (JsonNode c : conds) {
                if ("Ready".equals(c.path("type").asString()) && "True".equals(c.path("status").asString())) {
                    transition = Instant.parse(c.path("lastTransitionTime").asString(now.toString()));
                }
            }
            ObjectNode patch = Json.object();
            ArrayNode conditions = K3sNodeObject.conditions(now, transition);
            patch.putObject("status").set("conditions", conditions);
            api.call("PATCH", "/api/v1/nodes/" + nodeName + "/status", "application/merge-patch+json",
                    Json.write(patch));
            renewLease(now);
        } catch (RuntimeException e) {
            log.error("Error updating node status, will retry: " + e.getMessage());
        }
    }

    /** The kubelet's lease in kube-node-lease, renewed with every heartbeat. */
    private void renewLease(Instant now) {
        String path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" + nodeName;
        String renew = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
                .withZone(java.time.ZoneOffset.UTC).format(now);
        ApiHandler.Response r = api.call("PATCH", path, "application/merge-patch+json",
                "{\"spec\":{\"renewTime\":\"" + renew + "\"}}");
        if (r.status() == 404) {
            ObjectNode lease = Json.object();
            lease.put("apiVersion", "coordination.k8s.io/v1");
            lease.put("kind", "Lease");
            lease.putObject("metadata").put("name", nodeName).put("namespace", "kube-node-lease");
            lease.putObject("spec").put("holderIdentity", nodeName).put("leaseDurationSeconds", 40)
                    .put("renewTime", renew);
            api.call("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", ApiHandler.JSON,
                    Json.write(lease));
        }
    }

    /**
     * kube-apiserver's scheduling bootstrap (pkg/registry/scheduling/rest/storage_scheduling.go): the two system
     * PriorityClasses exist in every cluster (the NVIDIA device plugin's pod names system-node-critical).
     */
    private void bootstrapPriorityClasses() {
        String[][] classes = {
            {"system-node-critical", "2000001000", "Used for system critical pods that must not be moved from their "
                    + "current node."},
            {"system-cluster-critical", "2000000000", "Used for system critical pods that must run in the cluster, "
                    + "but can be moved to another node if necessary."}};
        for (String[] c : classes) {
            ObjectNode pc = Json.object();
            pc.put("apiVersion", "scheduling.k8s.io/v1");
            pc.put("kind", "PriorityClass");
            pc.putObject("metadata").put("name", c[0]);
            pc.put("value", Long.parseLong(c[1]));
            pc.put("globalDefault", false);
            pc.put("description", c[2]);
            pc.put("preemptionPolicy", "PreemptLowerPriority");
            api.call("POST", "/apis/scheduling.k8s.io/v1/priorityclasses", ApiHandler.JSON, Json.write(pc));
        }
    }

    // ---- tokens

    private record Passwords(String server, String agent) {
    }

    private static Passwords passwords(K3sServerOptions o, Path serverDir, K3sPki pki, JoinInfo join)
            throws IOException {
        String given = o.token;
        if (given == null && o.tokenFile != null) {
            given = readToken(o.tokenFile);
        }
        String caHash = K3sToken.hashCA(pki.serverCaBytes);
        K3sToken existing = null;
        Path tokenFile = serverDir.resolve("token");
        if (Files.isRegularFile(tokenFile)) {
            existing = K3sToken.parse(Files.readString(tokenFile).strip());
        }
        String server;
        if (join != null) {
            server = join.serverPassword;
        } else if (given != null && !given.isBlank()) {
            K3sToken t = parseServerToken(given);
            checkHash(t, caHash);
            server = t.password();
            if (existing != null && !existing.password().equals(server)) {
                throw new K3sStartException("starting kubernetes: preparing server: bootstrap data already found "
                        + "and encrypted with different token");
            }
        } else if (existing != null) {
            server = existing.password();
        } else {
            byte[] b = new byte[16];
            new SecureRandom().nextBytes(b);
            server = HexFormat.of().formatHex(b);
        }
        String agentGiven = o.agentToken;
        if (agentGiven == null && o.agentTokenFile != null) {
            agentGiven = readToken(o.agentTokenFile);
        }
        String agent = join != null ? join.agentPassword : null;
        if (agentGiven != null && !agentGiven.isBlank()) {
            K3sToken t = parseServerToken(agentGiven);
            checkHash(t, caHash);
            agent = t.password();
        } else if (agent == null && Files.isRegularFile(serverDir.resolve("agent-token"))) {
            agent = K3sToken.parse(Files.readString(serverDir.resolve("agent-token")).strip()).password();
        }
        return new Passwords(server, agent);
    }

    private static K3sToken parseServerToken(String text) {
        try {
            return K3sToken.parse(text);
        } catch (IllegalArgumentException e) {
            throw new K3sStartException("starting kubernetes: preparing server: " + e.getMessage());
        }
    }

    private static void checkHash(K3sToken t, String caHash) {
        if (t.caHash() != null && !t.caHash().equals(caHash)) {
            throw new K3sStartException("starting kubernetes: preparing server: token CA hash does not match the "
                    + "Cluster CA certificate hash: " + t.caHash() + " != " + caHash);
        }
    }

    private static String readToken(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new K3sStartException("failed to read token file " + file + ": " + e.getMessage(), e);
        }
    }

    private static void writeSecret(Path file, String text) throws IOException {
        Files.writeString(file, text);
        K3sPki.setMode(file, "rw-------");
    }

    // ---- joining a first server

    private record JoinInfo(String serverPassword, String agentPassword) {
    }

    private static ObjectNode bootstrapDocument(Path tlsDir, Passwords pw) {
        try {
            ObjectNode b = Json.object();
            for (String[] f : new String[][] {{"ServerCA", "server-ca.crt"}, {"ServerCAKey", "server-ca.key"},
                {"ClientCA", "client-ca.crt"}, {"ClientCAKey", "client-ca.key"}}) {
                b.putObject(f[0]).put("Content", Base64.getEncoder().encodeToString(
                        Files.readAllBytes(tlsDir.resolve(f[1]))));
            }
            ObjectNode passwd = b.putObject("Passwd");
            passwd.put("server", pw.server);
            if (pw.agent != null) {
                passwd.put("node", pw.agent);
            }
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JoinInfo join(K3sServerOptions o, Path tlsDir, K3sLog log) throws IOException {
        String given = o.token;
        if (given == null && o.tokenFile != null) {
            given = readToken(o.tokenFile);
        }
        if (given == null || given.isBlank()) {
            throw new K3sStartException("--token is required when joining a server with --server");
        }
        K3sToken t = parseServerToken(given);
        URI base = URI.create(o.serverUrl.replaceAll("/+$", ""));
        if (!"https".equals(base.getScheme())) {
            throw new K3sStartException("only https:// URLs are supported, invalid scheme: " + o.serverUrl);
        }
        byte[] cacerts;
        try {
            HttpClient insecure = HttpClient.newBuilder().sslContext(trustAll()).connectTimeout(Duration.ofSeconds(30))
                    .build();
            HttpResponse<byte[]> r = insecure.send(HttpRequest.newBuilder(base.resolve("/cacerts")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            cacerts = r.body();
        } catch (IOException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new K3sStartException("failed to get CA certs: Get \"" + base.resolve("/cacerts") + "\": "
                    + e.getMessage(), e);
        }
        String hash = K3sToken.hashCA(cacerts);
        if (t.caHash() != null && !t.caHash().equals(hash)) {
            throw new K3sStartException("token CA hash does not match the Cluster CA certificate hash: " + t.caHash()
                    + " != " + hash);
        }
        JsonNode doc;
        try {
            X509Certificate ca = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(new java.io.ByteArrayInputStream(cacerts));
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, K3sPki.trust(ca).getTrustManagers(), null);
            HttpClient c = HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(10)).build();
            String basic = Base64.getEncoder().encodeToString(("server:" + t.password())
                    .getBytes(StandardCharsets.UTF_8));
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(base.resolve("/v1-k3s/server-bootstrap"))
                    .header("Authorization", "Basic " + basic).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new K3sStartException("starting kubernetes: preparing server: failed to bootstrap cluster data: "
                        + base.resolve("/v1-k3s/server-bootstrap") + ": " + r.statusCode() + " "
                        + reason(r.statusCode()));
            }
            doc = Json.parse(r.body());
        } catch (GeneralSecurityException e) {
            throw new K3sStartException("failed to validate the server's CA: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3sStartException("interrupted while joining " + base, e);
        }
        Files.createDirectories(tlsDir);
        K3sPki.setMode(tlsDir, "rwx------");
        for (String[] f : new String[][] {{"ServerCA", "server-ca.crt"}, {"ServerCAKey", "server-ca.key"},
            {"ClientCA", "client-ca.crt"}, {"ClientCAKey", "client-ca.key"}}) {
            Path p = tlsDir.resolve(f[1]);
            Files.write(p, Base64.getDecoder().decode(doc.path(f[0]).path("Content").asString("")));
            K3sPki.setMode(p, f[1].endsWith(".key") ? "rw-------" : "rw-r--r--");
        }
        log.info("Cluster CA and bootstrap data fetched from " + base);
        return new JoinInfo(doc.path("Passwd").path("server").asString(t.password()),
                doc.path("Passwd").path("node").asString(null));
    }

    /** The reason phrase Go's http.Response.Status carries after the code. */
    private static String reason(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 503 -> "Service Unavailable";
            default -> "Internal Server Error";
        };
    }

    private static KeyManagerFactory adminKeys(K3sPki pki) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] pw = "k3s".toCharArray();
            ks.setKeyEntry("admin", pki.admin.key(), pw, new Certificate[] {pki.admin.cert(), pki.clientCa.cert()});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            return kmf;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ApiClient remote(String serverUrl, K3sPki pki) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(adminKeys(pki).getKeyManagers(), K3sPki.trust(pki.serverCa.cert()).getTrustManagers(), null);
            HttpClient http = HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(10)).build();
            URI base = URI.create(serverUrl.replaceAll("/+$", ""));
            return (method, path, ct, body) -> {
                HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30))
                        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString(body));
                if (ct != null) {
                    b.header("Content-Type", ct);
                }
                try {
                    HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                    return new ApiHandler.Response(r.statusCode(), ApiHandler.JSON, r.body());
                } catch (IOException e) {
                    return ApiHandler.status(503, "ServiceUnavailable", e.getMessage(), null);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return ApiHandler.status(503, "ServiceUnavailable", "interrupted", null);
                }
            };
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static SSLContext trustAll() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new X509TrustManager() {
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                }

                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hostPort(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private static void closeQuietly(Vertx vertx) {
        if (vertx != null) {
            try {
                vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // already stopping
            }
        }
    }
}
