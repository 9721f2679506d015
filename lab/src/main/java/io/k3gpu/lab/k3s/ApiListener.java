package io.k3gpu.lab.k3s;

import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.TrustOptions;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The HTTPS listener of the simulated K3s (port 6443): TLS with the cluster's serving certificate, client
 * certificates from the client CA requested (not required, as kube-apiserver), K3s's open endpoints
 * ({@code /cacerts}, {@code /ping}), authentication (client certificate, or HTTP Basic {@code node:<password>} /
 * {@code server:<password>} from the join token, else 401), then the API: plain requests through
 * {@link ApiHandler}, watches streamed over HTTP (JSON lines) or WebSocket from the {@link WatchHub}, pod logs
 * proxied to the kubelet of the pod's node, exec / attach / port-forward through {@link PodStreams}, and on an
 * extra server every API request forwarded to the first one.
 */
final class ApiListener {
    /** Who made a request. */
    record Principal(String user, List<String> groups) {
    }

    private final Vertx vertx;
    private final K3sPki pki;
    private final ApiHandler api;
    private final WatchHub hub;
    private final K3sLog log;
    private final Map<String, Set<String>> basicPasswords;
    private final ServiceAccountTokens tokens;
    /** The bootstrap document for a joining server; null without embedded etcd (a join is then refused). */
    private final Function<Principal, ObjectNode> bootstrap;
    private final HttpClient kubelets;
    private final PodStreams streams;
    private volatile Upstream upstream;
    private HttpServer server;

    /** The first server an extra server forwards the API to. */
    record Upstream(HttpClient client, String host, int port) {
    }

    ApiListener(Vertx vertx, K3sPki pki, ApiHandler api, WatchHub hub, K3sLog log,
                Map<String, Set<String>> basicPasswords, Function<Principal, ObjectNode> bootstrap) {
        this.vertx = vertx;
        this.pki = pki;
        this.api = api;
        this.hub = hub;
        this.log = log;
        this.basicPasswords = basicPasswords;
        this.bootstrap = bootstrap;
        this.tokens = new ServiceAccountTokens(pki.clientCa.key().getEncoded());
        // The Python agent's kubelet endpoint serves a self-signed certificate: like K3s's apiserver without
        // --kubelet-certificate-authority, the proxy does not verify it.
        this.kubelets = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setTrustAll(true)
                .setVerifyHost(false).setConnectTimeout(5000));
        this.streams = new PodStreams(vertx, api, log);
    }

    void forwardTo(Upstream upstream) {
        this.upstream = upstream;
    }

    int listen(String host, int port) {
        HttpServerOptions o = new HttpServerOptions().setHost(host).setPort(port).setSsl(true)
                .setKeyCertOptions(KeyCertOptions.wrap(pki.servingKeyManager()))
                .setTrustOptions(TrustOptions.wrap(pki.clientTrust()))
                .setClientAuth(ClientAuth.REQUEST)
                .setWebSocketSubProtocols(java.util.stream.Stream.concat(PodStreams.SUBPROTOCOLS.stream(),
                        java.util.stream.Stream.of("v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"))
                        .distinct().toList())
                .setHandle100ContinueAutomatically(true);
        server = vertx.createHttpServer(o).requestHandler(this::onRequest);
        try {
            server.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IllegalStateException("cannot listen on " + host + ":" + port + ": " + cause.getMessage(),
                    cause);
        }
        return server.actualPort();
    }

    void close() {
        if (server != null) {
            try {
                server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // closing anyway: the Vert.x instance goes next
            }
        }
    }

    private void onRequest(HttpServerRequest req) {
        String path = req.path();
        log.debug("request " + req.method() + " " + req.uri());
        try {
            if (path.equals("/cacerts")) {
                reply(req, 200, "text/plain", pki.serverCaBytes);
                return;
            }
            if (path.equals("/ping")) {
                reply(req, 200, "text/plain", "pong".getBytes(StandardCharsets.UTF_8));
                return;
            }
            Principal who = authenticate(req);
            if (who == null) {
                reply(req, ApiHandler.status(401, "Unauthorized", "Unauthorized", null));
                return;
            }
            if (req.method() == HttpMethod.POST && ServiceAccountTokens.TOKEN_PATH.matcher(path).matches()) {
                req.body().onSuccess(body -> reply(req, tokens.answer(path, body.toString(StandardCharsets.UTF_8),
                        java.time.Instant.now()))).onFailure(e -> req.response().setStatusCode(400).end());
                return;
            }
            if (path.startsWith("/v1-k3s/")) {
                supervisor(req, who);
                return;
            }
            Upstream up = upstream;
            if (up != null) {
                forward(req, up);
                return;
            }
            ApiResources.ApiPath stream = ApiResources.parse(path);
            if (PodStreams.handles(stream)) {
                streams.serve(req, stream, r -> reply(req, r));
                return;
            }
            ApiResources.ApiPath p = req.method() == HttpMethod.GET ? stream : null;
            Map<String, String> params = ApiHandler.params(req.query());
            if (p != null && (p.legacyWatch() || "true".equals(params.get("watch")) || "1".equals(params.get("watch")))
                    && p.subresource() == null) {
                watch(req, p, params);
                return;
            }
            if (p != null && "log".equals(p.subresource())) {
                logs(req, p, params);
                return;
            }
            if (Reviews.handles(req.method().name(), path)) {
                req.body().onSuccess(body -> reply(req, Reviews.answer(path, body.toString(StandardCharsets.UTF_8),
                        who.user(), who.groups()))).onFailure(e -> req.response().setStatusCode(400).end());
                return;
            }
            req.body().onSuccess(body -> {
                Map<String, String> headers = new HashMap<>();
                req.headers().forEach(h -> headers.put(h.getKey().toLowerCase(Locale.ROOT), h.getValue()));
                ApiHandler.Response resp = api.handle(new ApiHandler.Request(req.method().name(), path, req.query(),
                        headers, body.getBytes()));
                reply(req, resp);
            }).onFailure(e -> req.response().setStatusCode(400).end());
        } catch (RuntimeException e) {
            log.error("error serving " + req.method() + " " + req.uri() + ": " + e);
            reply(req, ApiHandler.status(500, "InternalError", "Internal error occurred: " + e.getMessage(), null));
        }
    }

    private Principal authenticate(HttpServerRequest req) {
        try {
            List<Certificate> certs = req.connection().peerCertificates();
            if (certs != null && !certs.isEmpty() && certs.get(0) instanceof X509Certificate c) {
                return fromCertificate(c);
            }
        } catch (SSLPeerUnverifiedException e) {
            // no client certificate: other credentials below
        }
        String auth = req.getHeader(HttpHeaders.AUTHORIZATION);
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return tokens.verify(auth.substring(7).strip(), java.time.Instant.now());
        }
        if (auth != null && auth.regionMatches(true, 0, "Basic ", 0, 6)) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(auth.substring(6).strip()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return null;
            }
            int colon = decoded.indexOf(':');
            if (colon > 0) {
                String user = decoded.substring(0, colon);
                Set<String> ok = basicPasswords.get(user);
                if (ok != null && ok.contains(decoded.substring(colon + 1))) {
                    return new Principal(user, List.of(user.equals("server") ? "k3s:server" : "k3s:agent"));
                }
            }
        }
        return null;
    }

    private static Principal fromCertificate(X509Certificate c) {
        String cn = null;
        List<String> groups = new ArrayList<>();
        try {
            for (Rdn rdn : new LdapName(c.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    cn = String.valueOf(rdn.getValue());
                } else if (rdn.getType().equalsIgnoreCase("O")) {
                    groups.add(String.valueOf(rdn.getValue()));
                }
            }
        } catch (javax.naming.InvalidNameException e) {
            return null;
        }
        return new Principal(cn, groups);
    }

    /** K3s's supervisor paths: what an extra server needs to join. */
    private void supervisor(HttpServerRequest req, Principal who) {
        switch (req.path()) {
            case "/v1-k3s/readyz" -> reply(req, 200, "text/plain", "ok".getBytes(StandardCharsets.UTF_8));
            case "/v1-k3s/server-bootstrap" -> {
                if (bootstrap == null) {
                    // K3s bootstraps joining servers over HTTP only with embedded etcd (runtime.HTTPBootstrap)
                    log.warn("Received HTTP bootstrap request from " + req.remoteAddress()
                            + ", but embedded etcd is not enabled.");
                    reply(req, ApiHandler.status(400, "BadRequest", "etcd disabled", null));
                    return;
                }
                ObjectNode b = who.groups().contains("k3s:server") ? bootstrap.apply(who) : null;
                if (b == null) {
                    reply(req, ApiHandler.status(403, "Forbidden", "forbidden: only servers may bootstrap", null));
                } else {
                    reply(req, ApiHandler.Response.json(200, b));
                }
            }
            default -> reply(req, ApiHandler.notFoundPath());
        }
    }

    // ---- watch

    private void watch(HttpServerRequest req, ApiResources.ApiPath p, Map<String, String> params) {
        Predicate<JsonNode> labels;
        Predicate<JsonNode> fields;
        try {
            labels = Selectors.labels(params.get("labelSelector"));
            fields = Selectors.fields(params.get("fieldSelector"));
        } catch (IllegalArgumentException e) {
            reply(req, ApiHandler.status(400, "BadRequest", e.getMessage(), null));
            return;
        }
        Predicate<JsonNode> matches = o -> (p.namespace() == null
                || p.namespace().equals(Json.text(o, "metadata.namespace")))
                && (p.name() == null || p.name().equals(Json.text(o, "metadata.name")))
                && labels.test(o) && fields.test(o);
        Function<WatchHub.Event, WatchHub.Event> view = e -> {
            if (e.resource() != p.resource()) {
                return null;
            }
            boolean now = matches.test(e.object());
            boolean before = e.previous() != null && matches.test(e.previous());
            return switch (e.type()) {
                case "MODIFIED" -> now && before ? e : now ? retype(e, "ADDED") : before ? retype(e, "DELETED")
                        : null;
                default -> now ? e : null;
            };
        };
        long from = ApiStore.parseVersion(params.get("resourceVersion"));
        List<JsonNode> initial = new ArrayList<>();
        if (from == 0) {
            ApiHandler.Listing l = api.listing(new ApiResources.ApiPath(p.resource(), p.namespace(), null, null,
                    false), params);
            for (JsonNode o : l.items()) {
                if (matches.test(o)) {
                    initial.add(o);
                }
            }
            from = ApiStore.parseVersion(l.resourceVersion());
        }
        long timeout = ApiStore.parseVersion(params.get("timeoutSeconds"));
        Context ctx = vertx.getOrCreateContext();
        boolean ws = "websocket".equalsIgnoreCase(req.getHeader(HttpHeaders.UPGRADE));
        long fromVersion = from;
        WatchBookmarks bookmarks = "true".equals(params.get("allowWatchBookmarks"))
                ? new WatchBookmarks(p.resource()) : null;
        if (ws) {
            req.toWebSocket().onSuccess(socket -> stream(ctx, new Sink() {
                public boolean write(String line) {
                    if (socket.isClosed()) {
                        return false;
                    }
                    socket.writeTextMessage(line);
                    return true;
                }

                public void end() {
                    if (!socket.isClosed()) {
                        socket.close();
                    }
                }

                public void onClose(Runnable r) {
                    socket.closeHandler(v -> r.run());
                }
            }, view, initial, fromVersion, timeout, bookmarks));
            return;
        }
        HttpServerResponse resp = req.response();
        resp.setStatusCode(200).setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .putHeader("Cache-Control", "no-cache, private");
        resp.writeHead(); // clients wait for the headers before they count a watch as started
        stream(ctx, new Sink() {
            public boolean write(String line) {
                if (resp.ended() || resp.closed()) {
                    return false;
                }
                resp.write(line + "\n");
                return true;
            }

            public void end() {
                if (!resp.ended() && !resp.closed()) {
                    resp.end();
                }
            }

            public void onClose(Runnable r) {
                resp.closeHandler(v -> r.run());
            }
        }, view, initial, fromVersion, timeout, bookmarks);
    }

    private interface Sink {
        boolean write(String line);

        void end();

        void onClose(Runnable r);
    }

    /** What a watch that allows bookmarks is sent them for: its resource's kind. */
    private record WatchBookmarks(ApiResources.Resource resource) {
    }

    private void stream(Context ctx, Sink sink, Function<WatchHub.Event, WatchHub.Event> view, List<JsonNode> initial,
                        long fromVersion, long timeoutSeconds, WatchBookmarks bookmarks) {
        for (JsonNode o : initial) {
            sink.write(eventLine("ADDED", o));
        }
        WatchHub.Subscription[] sub = new WatchHub.Subscription[1];
        sub[0] = new WatchHub.Subscription(view, e -> ctx.runOnContext(v -> {
            if (!sink.write(eventLine(e.type(), e.object()))) {
                hub.unsubscribe(sub[0]);
            }
        }));
        try {
            for (WatchHub.Event e : hub.subscribe(sub[0], fromVersion)) {
                sink.write(eventLine(e.type(), e.object()));
            }
        } catch (WatchHub.TooOldException e) {
            sink.write(eventLine("ERROR", ApiHandler.statusBody(410, "Expired", e.getMessage(), null)));
            sink.end();
            return;
        }
        sink.onClose(() -> hub.unsubscribe(sub[0]));
        long deadline = timeoutSeconds > 0 ? System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(timeoutSeconds)
                : 0;
        if (timeoutSeconds > 0) {
            vertx.setTimer(TimeUnit.SECONDS.toMillis(timeoutSeconds), t -> {
                hub.unsubscribe(sub[0]);
                sink.end();
            });
        }
        if (bookmarks != null) {
            scheduleBookmark(ctx, sink, sub[0], bookmarks, deadline, fromVersion);
        }
    }

    /**
     * The watch cache's bookmarks (staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go nextBookmarkTime,
     * v1.31): one a minute, and one 2 s before the watch's timeout when that comes first; the object is the
     * resource's kind with only {@code metadata.resourceVersion}, the newest version the server has.
     */
    private void scheduleBookmark(Context ctx, Sink sink, WatchHub.Subscription sub, WatchBookmarks b, long deadline,
                                  long fromVersion) {
        long now = System.currentTimeMillis();
        long next = now + TimeUnit.MINUTES.toMillis(1);
        if (deadline > 0 && deadline - 2000 < next) {
            next = deadline - 2000;
        }
        if (next <= now) {
            return;
        }
        vertx.setTimer(next - now, t -> ctx.runOnContext(v -> {
            ObjectNode o = Json.object();
            o.put("kind", b.resource().kind());
            o.put("apiVersion", b.resource().groupVersion());
            o.putObject("metadata").put("resourceVersion", String.valueOf(Math.max(hub.latest(), fromVersion)))
                    .putNull("creationTimestamp");
            if (sink.write(eventLine("BOOKMARK", o))) {
                scheduleBookmark(ctx, sink, sub, b, deadline, fromVersion);
            } else {
                hub.unsubscribe(sub);
            }
        }));
    }

    private static WatchHub.Event retype(WatchHub.Event e, String type) {
        return new WatchHub.Event(e.resourceVersion(), type, e.resource(), e.object(), e.previous());
    }

    private static String eventLine(String type, JsonNode object) {
        ObjectNode ev = Json.object();
        ev.put("type", type);
        ev.set("object", object);
        return Json.write(ev);
    }

    // ---- logs

    /**
     * {@code GET .../pods/<pod>/log}: like kube-apiserver, proxies to the pod's kubelet,
     * {@code https://<node InternalIP>:<kubelet port>/containerLogs/<ns>/<pod>/<container>?follow=&tailLines=...},
     * the port from the Node's {@code status.daemonEndpoints.kubeletEndpoint.Port} (10250).
     */
    private void logs(HttpServerRequest req, ApiResources.ApiPath p, Map<String, String> params) {
        ApiResources.ApiPath podPath = new ApiResources.ApiPath(p.resource(), p.namespace(), p.name(), null, false);
        ApiStore.Result podRes = api.store().call("GET", podPath.storePath(), null, null);
        if (podRes.code() == 404 || podRes.body() == null) {
            reply(req, ApiHandler.notFound(podPath));
            return;
        }
        JsonNode pod = Json.parse(podRes.body());
        List<String> containers = new ArrayList<>();
        pod.path("spec").path("containers").forEach(c -> containers.add(c.path("name").asString("")));
        List<String> inits = new ArrayList<>();
        pod.path("spec").path("initContainers").forEach(c -> inits.add(c.path("name").asString("")));
        String container = params.get("container");
        if (container == null || container.isEmpty()) {
            if (containers.size() != 1) {
                String msg = "a container name must be specified for pod " + p.name() + ", choose one of: "
                        + containers.toString().replace(",", "");
                if (!inits.isEmpty()) {
                    msg += " or one of the init containers: " + inits.toString().replace(",", "");
                }
                reply(req, ApiHandler.status(400, "BadRequest", msg, null));
                return;
            }
            container = containers.get(0);
        } else if (!containers.contains(container) && !inits.contains(container)) {
            reply(req, ApiHandler.status(400, "BadRequest", "container " + container + " is not valid for pod "
                    + p.name(), null));
            return;
        }
        String nodeName = Json.text(pod, "spec.nodeName");
        if (nodeName == null || nodeName.isEmpty()) {
            reply(req, ApiHandler.status(400, "BadRequest", "pod " + p.name() + " does not have a host assigned",
                    null));
            return;
        }
        ApiStore.Result nodeRes = api.store().call("GET", "/api/v1/nodes/" + nodeName, null, null);
        JsonNode node = nodeRes.code() == 200 && nodeRes.body() != null ? Json.parse(nodeRes.body()) : null;
        String ip = null;
        if (node != null) {
            for (JsonNode a : node.path("status").path("addresses")) {
                if ("InternalIP".equals(a.path("type").asString()) && ip == null) {
                    ip = a.path("address").asString();
                }
            }
        }
        if (ip == null) {
            reply(req, ApiHandler.status(500, "InternalError", "no preferred addresses found; known addresses: []",
                    null));
            return;
        }
        int port = node.path("status").path("daemonEndpoints").path("kubeletEndpoint").path("Port").asInt(10250);
        StringBuilder uri = new StringBuilder("/containerLogs/").append(p.namespace()).append('/').append(p.name())
                .append('/').append(container);
        List<String> q = new ArrayList<>();
        for (String k : List.of("follow", "tailLines", "timestamps", "previous", "sinceSeconds", "sinceTime",
                "limitBytes")) {
            if (params.containsKey(k)) {
                q.add(k + "=" + java.net.URLEncoder.encode(params.get(k), StandardCharsets.UTF_8));
            }
        }
        if (!q.isEmpty()) {
            uri.append('?').append(String.join("&", q));
        }
        String host = ip;
        req.pause();
        HttpServerResponse out = req.response();
        kubelets.request(new RequestOptions().setMethod(HttpMethod.GET).setHost(host).setPort(port)
                        .setURI(uri.toString()))
                .compose(kreq -> kreq.send())
                .onSuccess(kresp -> {
                    out.setStatusCode(kresp.statusCode());
                    String ct = kresp.getHeader(HttpHeaders.CONTENT_TYPE);
                    out.putHeader(HttpHeaders.CONTENT_TYPE, ct == null ? "text/plain" : ct);
                    out.setChunked(true);
                    out.closeHandler(v -> kresp.request().reset());
                    kresp.pipeTo(out);
                })
                .onFailure(e -> reply(req, ApiHandler.status(500, "InternalError", "Get \"https://" + host + ":"
                        + port + uri + "\": " + e.getMessage(), null)));
    }

    // ---- extra server

    private void forward(HttpServerRequest req, Upstream up) {
        req.pause();
        HttpServerResponse out = req.response();
        RequestOptions ro = new RequestOptions().setMethod(req.method()).setHost(up.host()).setPort(up.port())
                .setURI(req.uri());
        up.client().request(ro).onSuccess(creq -> {
            req.headers().forEach(h -> {
                String k = h.getKey().toLowerCase(Locale.ROOT);
                if (!k.equals("host") && !k.equals("authorization") && !k.equals("connection")
                        && !k.equals("content-length") && !k.equals("transfer-encoding")) {
                    creq.putHeader(h.getKey(), h.getValue());
                }
            });
            creq.send(req).onSuccess(cresp -> {
                out.setStatusCode(cresp.statusCode());
                cresp.headers().forEach(h -> {
                    String k = h.getKey().toLowerCase(Locale.ROOT);
                    if (!k.equals("content-length") && !k.equals("transfer-encoding") && !k.equals("connection")) {
                        out.putHeader(h.getKey(), h.getValue());
                    }
                });
                out.setChunked(true);
                out.closeHandler(v -> cresp.request().reset());
                cresp.pipeTo(out);
            }).onFailure(e -> reply(req, ApiHandler.status(503, "ServiceUnavailable", "the first server is "
                    + "unreachable: " + e.getMessage(), null)));
        }).onFailure(e -> reply(req, ApiHandler.status(503, "ServiceUnavailable", "the first server is unreachable: "
                + e.getMessage(), null)));
    }

    // ---- replies

    private static void reply(HttpServerRequest req, ApiHandler.Response r) {
        reply(req, r.status(), r.contentType(), r.body());
    }

    private static void reply(HttpServerRequest req, int status, String contentType, byte[] body) {
        HttpServerResponse resp = req.response();
        if (resp.ended() || resp.closed()) {
            return;
        }
        // Go's net/http sends a Date header with every response (server.go), as K3s's API does; doctor reads it
        resp.putHeader("Date", java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
                java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC)));
        resp.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, contentType)
                .putHeader("Cache-Control", "no-cache, private").end(Buffer.buffer(body));
    }
}
