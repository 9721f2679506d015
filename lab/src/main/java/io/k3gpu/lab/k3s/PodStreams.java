package io.k3gpu.lab.k3s;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntFunction;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code pods/exec}, {@code pods/attach} and {@code pods/portforward} as kube-apiserver v1.31 serves them to kubectl
 * v1.32: exec and attach over WebSocket (remotecommand {@code v5.channel.k8s.io}, also v4: one channel byte before
 * each binary message, 0 stdin, 1 stdout, 2 stderr, 3 the final metav1.Status, 4 resize, 255 close) or SPDY/3.1
 * ({@code v4.channel.k8s.io}: kubectl's fallback, KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false), port-forward
 * over WebSocket tunnelling SPDY/3.1 ({@code SPDY/3.1+portforward.k8s.io}, PortForwardWebsockets) or over a plain
 * SPDY/3.1 upgrade ({@code X-Stream-Protocol-Version: portforward.k8s.io}); each to the pod's node kubelet through
 * {@link KubeletStream}. The request's checks come first, as the registry's streamLocation
 * (pkg/registry/core/pod/strategy.go): the pod (404), the container ({@code container X is not valid for pod P}),
 * the node ({@code pod P does not have a host assigned}): 400 Status before any upgrade. Once upgraded, a kubelet's
 * refusal reaches kubectl as the stream translator writes it: an InternalError Status on channel 3
 * ({@code Internal error occurred: unable to upgrade connection: container not found ("x")}).
 */
final class PodStreams {
    static final String PORT_FORWARD_TUNNEL = "SPDY/3.1+portforward.k8s.io";
    static final String PORT_FORWARD_V1 = "portforward.k8s.io";
    /** remotecommand over SPDY: v4 (the error stream carries a metav1.Status), what client-go offers first. */
    static final String REMOTE_COMMAND_SPDY = "v4.channel.k8s.io";
    /** The WebSocket subprotocols the API server offers, newest first (remotecommand, then port-forward). */
    static final List<String> SUBPROTOCOLS = List.of("v5.channel.k8s.io", "v4.channel.k8s.io", PORT_FORWARD_TUNNEL);

    private final ApiHandler api;
    private final K3sLog log;
    private final NetClient kubelets;

    PodStreams(Vertx vertx, ApiHandler api, K3sLog log) {
        this.api = api;
        this.log = log;
        // the kubelet's certificate is self-signed: not verified, as K3s's apiserver without
        // --kubelet-certificate-authority
        this.kubelets = vertx.createNetClient(new NetClientOptions().setSsl(true).setTrustAll(true)
                .setHostnameVerificationAlgorithm("").setConnectTimeout(5000));
    }

    static boolean handles(ApiResources.ApiPath p) {
        return p != null && p.resource().plural().equals("pods") && p.name() != null && p.subresource() != null
                && List.of("exec", "attach", "portforward").contains(p.subresource());
    }

    /** Serves one exec, attach or portforward request; the reply is a Status when it cannot upgrade. */
    void serve(HttpServerRequest req, ApiResources.ApiPath p, Consumer<ApiHandler.Response> reply) {
        if (req.method() != HttpMethod.GET && req.method() != HttpMethod.POST) {
            reply.accept(ApiHandler.status(405, "MethodNotAllowed", "the server does not allow this method on the "
                    + "requested resource", null));
            return;
        }
        ApiResources.ApiPath podPath = new ApiResources.ApiPath(p.resource(), p.namespace(), p.name(), null, false);
        ApiStore.Result podRes = api.store().call("GET", podPath.storePath(), null, null);
        if (podRes.code() == 404 || podRes.body() == null) {
            reply.accept(ApiHandler.notFound(podPath));
            return;
        }
        JsonNode pod = Json.parse(podRes.body());
        Map<String, List<String>> query = query(req.query());
        String uri;
        if (p.subresource().equals("portforward")) {
            uri = "/portForward/" + p.namespace() + "/" + p.name();
        } else {
            String container = first(query, "container");
            List<String> containers = names(pod.path("spec").path("containers"));
            List<String> inits = names(pod.path("spec").path("initContainers"));
            List<String> ephemeral = names(pod.path("spec").path("ephemeralContainers"));
            if (container == null || container.isEmpty()) {
                if (containers.size() != 1) {
                    String msg = "a container name must be specified for pod " + p.name();
                    if (!containers.isEmpty()) {
                        msg += ", choose one of: " + containers.toString().replace(",", "");
                        if (!inits.isEmpty()) {
                            msg += " or one of the init containers: " + inits.toString().replace(",", "");
                        }
                    }
                    reply.accept(ApiHandler.status(400, "BadRequest", msg, null));
                    return;
                }
                container = containers.get(0);
            } else if (!containers.contains(container) && !inits.contains(container)
                    && !ephemeral.contains(container)) {
                reply.accept(ApiHandler.status(400, "BadRequest", "container " + container + " is not valid for pod "
                        + p.name(), null));
                return;
            }
            if (p.subresource().equals("exec") && query.getOrDefault("command", List.of()).isEmpty()) {
                reply.accept(ApiHandler.status(400, "BadRequest", "you must specify at least 1 command", null));
                return;
            }
            uri = "/" + p.subresource() + "/" + p.namespace() + "/" + p.name() + "/" + container
                    + (req.query() == null ? "" : "?" + req.query());
        }
        String nodeName = Json.text(pod, "spec.nodeName");
        if (nodeName == null || nodeName.isEmpty()) {
            reply.accept(ApiHandler.status(400, "BadRequest", "pod " + p.name() + " does not have a host assigned",
                    null));
            return;
        }
        String[] kubelet = kubeletAddress(nodeName);
        if (kubelet == null) {
            reply.accept(ApiHandler.status(500, "InternalError", "no preferred addresses found; known addresses: []",
                    null));
            return;
        }
        String host = kubelet[0];
        int port = Integer.parseInt(kubelet[1]);
        String upgrade = String.valueOf(req.getHeader(HttpHeaders.UPGRADE)).toLowerCase(Locale.ROOT);
        boolean portForward = p.subresource().equals("portforward");
        if (upgrade.equals("websocket")) {
            req.toWebSocket().onSuccess(ws -> {
                if (portForward) {
                    if (!PORT_FORWARD_TUNNEL.equals(ws.subProtocol())) {
                        ws.close((short) 1002, "port-forward needs the " + PORT_FORWARD_TUNNEL + " subprotocol");
                        return;
                    }
                    tunnel(ws, host, port, uri);
                } else {
                    remoteCommand(ws, host, port, uri);
                }
            }).onFailure(e -> log.warn("websocket upgrade of " + req.uri() + " failed: " + e.getMessage()));
            return;
        }
        if (upgrade.startsWith("spdy/3.1")) {
            // httpstream.Handshake: the first of the client's X-Stream-Protocol-Version the server speaks
            List<String> offered = new ArrayList<>();
            req.headers().getAll("X-Stream-Protocol-Version").forEach(v -> {
                for (String one : v.split(",")) {
                    offered.add(one.strip());
                }
            });
            List<String> supported = portForward ? List.of(PORT_FORWARD_V1) : List.of(REMOTE_COMMAND_SPDY);
            String chosen = offered.stream().filter(supported::contains).findFirst().orElse(null);
            if (chosen == null && !(portForward && offered.isEmpty())) {
                reply.accept(ApiHandler.status(403, "Forbidden", "unable to upgrade: unable to negotiate protocol: "
                        + "client supports " + offered.toString().replace(",", "") + ", server supports "
                        + supported.toString().replace(",", ""), null));
                return;
            }
            if (!(req.connection() instanceof io.vertx.core.http.impl.http1.Http1ServerConnection http1)) {
                reply.accept(ApiHandler.status(400, "BadRequest", "Upgrade request required", null));
                return;
            }
            String head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                    + (chosen == null ? "" : "X-Stream-Protocol-Version: " + chosen + "\r\n")
                    + "Date: " + java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
                            java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC)) + "\r\n\r\n";
            Map<String, List<String>> q = query;
            // Vert.x upgrades only GET requests to a socket (toNetSocket); SPDY's upgrade is a POST, so the
            // connection is taken over once the (empty) request has ended and the 101 written by hand
            req.end().compose(v -> http1.netSocket()).onSuccess(socket -> {
                socket.write(head);
                java.util.function.Consumer<byte[]> in;
                Runnable closed;
                if (portForward) {
                    PortForwardSession s = new PortForwardSession(b -> socket.write(Buffer.buffer(b)),
                            socket::close, remotePort -> KubeletStream.open(kubelets, host, port, uri + "?port="
                                    + remotePort));
                    in = s::onBytes;
                    closed = s::closed;
                } else {
                    RemoteCommandSession s = new RemoteCommandSession(q, b -> socket.write(Buffer.buffer(b)),
                            socket::close, () -> KubeletStream.open(kubelets, host, port, uri));
                    in = s::onBytes;
                    closed = s::closed;
                }
                socket.handler(b -> in.accept(b.getBytes()));
                socket.closeHandler(v -> closed.run());
            }).onFailure(e -> log.warn("SPDY upgrade of " + req.uri() + " failed: " + e.getMessage()));
            return;
        }
        // kube-apiserver's answer to a request that does not upgrade (remotecommand/httpstream and portforward)
        reply.accept(ApiHandler.status(400, "BadRequest", "Upgrade request required", null));
    }

    /** exec / attach over WebSocket: channel messages to and from the kubelet's stream. */
    private void remoteCommand(ServerWebSocket ws, String host, int port, String uri) {
        boolean v5 = "v5.channel.k8s.io".equals(ws.subProtocol());
        ws.pause();
        KubeletStream.open(kubelets, host, port, uri).onSuccess(k -> {
            if (ws.isClosed()) {
                k.close();
                return;
            }
            k.handler((channel, data) -> {
                if (!ws.isClosed()) {
                    ws.writeBinaryMessage(Buffer.buffer(channelMessage(channel, data)));
                }
            });
            k.endHandler(() -> {
                if (!ws.isClosed()) {
                    ws.close();
                }
            });
            ws.binaryMessageHandler(m -> {
                if (m.length() == 0) {
                    return;
                }
                int channel = m.getUnsignedByte(0);
                byte[] data = m.getBytes(1, m.length());
                if (channel == KubeletStream.CLOSE) {
                    // v5's close signal: [255, channel]; v4 has none (stdin ends with the connection)
                    if (v5 && data.length == 1) {
                        k.closeChannel(data[0] & 0xff);
                    }
                } else if (channel == KubeletStream.STDIN || channel == KubeletStream.RESIZE) {
                    k.send(channel, data);
                }
            });
            ws.closeHandler(v -> k.close());
            ws.resume();
        }).onFailure(e -> {
            if (!ws.isClosed()) {
                ws.writeBinaryMessage(Buffer.buffer(channelMessage(KubeletStream.STATUS,
                        Json.write(internalError(upgradeError(e))).getBytes(StandardCharsets.UTF_8))));
                ws.close();
            }
        });
    }

    /** port-forward over WebSocket: the binary messages carry the SPDY connection's bytes (tunneling_connection). */
    private void tunnel(ServerWebSocket ws, String host, int port, String uri) {
        PortForwardSession s = new PortForwardSession(b -> {
            if (!ws.isClosed()) {
                ws.writeBinaryMessage(Buffer.buffer(b));
            }
        }, () -> {
            if (!ws.isClosed()) {
                ws.close();
            }
        }, remotePort -> KubeletStream.open(kubelets, host, port, uri + "?port=" + remotePort));
        ws.binaryMessageHandler(m -> s.onBytes(m.getBytes()));
        ws.closeHandler(v -> s.closed());
    }

    static byte[] channelMessage(int channel, byte[] data) {
        byte[] m = new byte[data.length + 1];
        m[0] = (byte) channel;
        System.arraycopy(data, 0, m, 1, data.length);
        return m;
    }

    /** What the SPDY executor to the kubelet reports when its upgrade is refused (spdy/roundtripper.go). */
    static String upgradeError(Throwable e) {
        if (e instanceof KubeletStream.Refused r) {
            return "unable to upgrade connection: " + r.getMessage();
        }
        return "error dialing backend: " + e.getMessage();
    }

    /** apierrors.NewInternalError(err).Status() as JSON (no kind/apiVersion: the Status of a StatusError). */
    static ObjectNode internalError(String message) {
        ObjectNode s = Json.object();
        s.putObject("metadata");
        s.put("status", "Failure");
        s.put("message", "Internal error occurred: " + message);
        s.put("reason", "InternalError");
        s.putObject("details").putArray("causes").addObject().put("message", message);
        s.put("code", 500);
        return s;
    }

    private String[] kubeletAddress(String nodeName) {
        ApiStore.Result nodeRes = api.store().call("GET", "/api/v1/nodes/" + nodeName, null, null);
        JsonNode node = nodeRes.code() == 200 && nodeRes.body() != null ? Json.parse(nodeRes.body()) : null;
        if (node == null) {
            return null;
        }
        for (JsonNode a : node.path("status").path("addresses")) {
            if ("InternalIP".equals(a.path("type").asString())) {
                int port = node.path("status").path("daemonEndpoints").path("kubeletEndpoint").path("Port")
                        .asInt(10250);
                return new String[] {a.path("address").asString(), String.valueOf(port)};
            }
        }
        return null;
    }

    private static List<String> names(JsonNode containers) {
        List<String> out = new ArrayList<>();
        containers.forEach(c -> out.add(c.path("name").asString("")));
        return out;
    }

    private static String first(Map<String, List<String>> q, String key) {
        List<String> v = q.get(key);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    static Map<String, List<String>> query(String query) {
        Map<String, List<String>> out = new HashMap<>();
        if (query == null) {
            return out;
        }
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = java.net.URLDecoder.decode(eq >= 0 ? pair.substring(0, eq) : pair, StandardCharsets.UTF_8);
            String v = eq >= 0 ? java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8) : "";
            out.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
        return out;
    }

    /**
     * exec / attach over SPDY/3.1 (remotecommand v4, kubectl's fallback and older clients): the client opens an
     * {@code error} stream and, as the request asks, {@code stdin}, {@code stdout}, {@code stderr} and (with a
     * terminal) {@code resize} streams; once all are there the kubelet's stream starts. stdin's data and FIN and the
     * resize stream's JSON lines go to it; its stdout and stderr come back on their streams; a failure Status on
     * the error stream (v4 writes nothing for success); then every stream ends (FIN) and the connection closes.
     */
    static final class RemoteCommandSession {
        private final Consumer<byte[]> out;
        private final Runnable closeConnection;
        private final java.util.function.Supplier<Future<KubeletStream>> dial;
        private final Spdy.Encoder encoder = new Spdy.Encoder();
        private final Spdy.Decoder decoder = new Spdy.Decoder();
        private final Map<String, Integer> streams = new HashMap<>();
        private final List<String> expected = new ArrayList<>();
        private final ArrayDeque<byte[]> early = new ArrayDeque<>();
        private KubeletStream kubelet;
        private boolean started;
        private boolean stdinDone;
        private boolean closed;
        private String resizeText = "";

        RemoteCommandSession(Map<String, List<String>> query, Consumer<byte[]> out, Runnable closeConnection,
                             java.util.function.Supplier<Future<KubeletStream>> dial) {
            this.out = out;
            this.closeConnection = closeConnection;
            this.dial = dial;
            expected.add("error");
            for (String t : List.of("stdin", "stdout", "stderr")) {
                if (truthy(query, t)) {
                    expected.add(t);
                }
            }
            if (truthy(query, "tty")) {
                expected.add("resize");
            }
        }

        private static boolean truthy(Map<String, List<String>> q, String k) {
            List<String> v = q.get(k);
            return v != null && !v.isEmpty() && List.of("true", "1").contains(v.get(v.size() - 1));
        }

        void onBytes(byte[] bytes) {
            if (closed) {
                return;
            }
            List<Spdy.Frame> frames;
            try {
                frames = decoder.feed(bytes);
            } catch (Spdy.ProtocolException e) {
                out.accept(encoder.goAway(0, 1));
                closed();
                closeConnection.run();
                return;
            }
            for (Spdy.Frame f : frames) {
                if (f instanceof Spdy.SynStream syn) {
                    out.accept(encoder.synReply(syn.streamId(), 0, Map.of()));
                    String type = syn.header("streamtype");
                    if (type != null) {
                        streams.put(type, syn.streamId());
                    }
                    if (!started && streams.keySet().containsAll(expected)) {
                        start();
                    }
                } else if (f instanceof Spdy.Data d) {
                    data(d);
                } else if (f instanceof Spdy.Ping ping) {
                    out.accept(encoder.ping(ping.id()));
                } else if (f instanceof Spdy.GoAway || f instanceof Spdy.RstStream) {
                    closed();
                    closeConnection.run();
                }
            }
        }

        private void data(Spdy.Data d) {
            Integer stdin = streams.get("stdin");
            Integer resize = streams.get("resize");
            if (stdin != null && d.streamId() == stdin) {
                if (d.data().length > 0) {
                    toKubelet(KubeletStream.STDIN, d.data());
                }
                if (d.fin()) {
                    stdinDone = true;
                    if (kubelet != null) {
                        kubelet.closeChannel(KubeletStream.STDIN);
                    }
                }
            } else if (resize != null && d.streamId() == resize) {
                // one JSON object a line (client-go's json.Encoder)
                resizeText += new String(d.data(), StandardCharsets.UTF_8);
                int nl;
                while ((nl = resizeText.indexOf('\n')) >= 0) {
                    String line = resizeText.substring(0, nl).strip();
                    resizeText = resizeText.substring(nl + 1);
                    if (!line.isEmpty()) {
                        toKubelet(KubeletStream.RESIZE, line.getBytes(StandardCharsets.UTF_8));
                    }
                }
            }
        }

        private void toKubelet(int channel, byte[] data) {
            if (kubelet != null) {
                kubelet.send(channel, data);
            } else {
                early.add(KubeletStream.frame(channel, data));
            }
        }

        private void start() {
            started = true;
            dial.get().onSuccess(k -> {
                if (closed) {
                    k.close();
                    return;
                }
                kubelet = k;
                k.handler((channel, data) -> {
                    if (closed) {
                        return;
                    }
                    Integer stream = switch (channel) {
                        case KubeletStream.STDOUT -> streams.get("stdout");
                        case KubeletStream.STDERR -> streams.get("stderr");
                        default -> null;
                    };
                    if (stream != null) {
                        out.accept(encoder.data(stream, false, data));
                    } else if (channel == KubeletStream.STATUS && !new String(data, StandardCharsets.UTF_8)
                            .contains("\"status\":\"Success\"")) {
                        out.accept(encoder.data(streams.get("error"), false, data));
                    }
                });
                k.endHandler(this::finish);
                while (!early.isEmpty()) {
                    byte[] f = early.poll();
                    k.send(f[0] & 0xff, java.util.Arrays.copyOfRange(f, 5, f.length));
                }
                if (stdinDone) {
                    k.closeChannel(KubeletStream.STDIN);
                }
            }).onFailure(e -> {
                if (!closed) {
                    out.accept(encoder.data(streams.get("error"), false, Json.write(internalError(upgradeError(e)))
                            .getBytes(StandardCharsets.UTF_8)));
                    finish();
                }
            });
        }

        private void finish() {
            if (closed) {
                return;
            }
            for (int id : new java.util.TreeSet<>(streams.values())) {
                out.accept(encoder.data(id, true, new byte[0]));
            }
            closed();
            closeConnection.run();
        }

        void closed() {
            closed = true;
            if (kubelet != null) {
                kubelet.close();
            }
        }
    }

    /**
     * The server side of one port-forward SPDY connection, as kubelet's portforward/httpstream.go: the client opens
     * an error stream and a data stream per connection ({@code streamType}, {@code port}, {@code requestID}
     * headers), each answered with SYN_REPLY; once both of a request are there, the pod's port is dialled through
     * the kubelet; its bytes go back on the data stream, its error text on the error stream, and both streams end
     * (FIN) when the pod's side closes. PINGs are answered; RST_STREAM and GOAWAY end the request(s).
     */
    static final class PortForwardSession {
        private final Consumer<byte[]> out;
        private final Runnable closeConnection;
        private final IntFunction<Future<KubeletStream>> dial;
        private final Spdy.Encoder encoder = new Spdy.Encoder();
        private final Spdy.Decoder decoder = new Spdy.Decoder();
        private final Map<String, Request> requests = new HashMap<>();
        private final Map<Integer, Request> byStream = new HashMap<>();
        private boolean closed;

        PortForwardSession(Consumer<byte[]> out, Runnable closeConnection, IntFunction<Future<KubeletStream>> dial) {
            this.out = out;
            this.closeConnection = closeConnection;
            this.dial = dial;
        }

        private final class Request {
            final String id;
            int dataStream;
            int errorStream;
            int port;
            KubeletStream kubelet;
            final ArrayDeque<byte[]> toPod = new ArrayDeque<>();
            boolean clientDone;
            boolean ended;

            Request(String id) {
                this.id = id;
            }

            void send(int channel, byte[] data) {
                if (kubelet != null) {
                    kubelet.send(channel, data);
                } else {
                    toPod.add(data);
                }
            }

            void end() {
                if (!ended) {
                    ended = true;
                    if (!closed) {
                        out.accept(encoder.data(dataStream, true, new byte[0]));
                        out.accept(encoder.data(errorStream, true, new byte[0]));
                    }
                    forget(this);
                }
            }
        }

        void onBytes(byte[] bytes) {
            if (closed) {
                return;
            }
            List<Spdy.Frame> frames;
            try {
                frames = decoder.feed(bytes);
            } catch (Spdy.ProtocolException e) {
                out.accept(encoder.goAway(0, 1));
                closed();
                closeConnection.run();
                return;
            }
            for (Spdy.Frame f : frames) {
                frame(f);
            }
        }

        private void frame(Spdy.Frame f) {
            if (f instanceof Spdy.SynStream s) {
                synStream(s);
            } else if (f instanceof Spdy.Data d) {
                Request r = byStream.get(d.streamId());
                if (r != null && d.streamId() == r.dataStream) {
                    if (d.data().length > 0) {
                        r.send(KubeletStream.STDIN, d.data());
                    }
                    if (d.fin()) {
                        r.clientDone = true;
                        if (r.kubelet != null) {
                            r.kubelet.closeChannel(KubeletStream.STDIN);
                        }
                    }
                }
            } else if (f instanceof Spdy.RstStream rst) {
                Request r = byStream.get(rst.streamId());
                if (r != null) {
                    r.ended = true;
                    forget(r);
                }
            } else if (f instanceof Spdy.Ping ping) {
                out.accept(encoder.ping(ping.id()));
            } else if (f instanceof Spdy.GoAway) {
                closed();
                closeConnection.run();
            }
            // SETTINGS, WINDOW_UPDATE, HEADERS, SYN_REPLY: nothing to do for a server without flow control
        }

        private void synStream(Spdy.SynStream s) {
            out.accept(encoder.synReply(s.streamId(), 0, Map.of()));
            String type = s.header("streamtype");
            String id = s.header("requestid");
            if (id == null) {
                // kubectl older than 1.5 sent no requestID: kubelet then pairs by port
                id = "port:" + s.header("port");
            }
            Request r = requests.computeIfAbsent(id, Request::new);
            byStream.put(s.streamId(), r);
            if ("data".equals(type)) {
                r.dataStream = s.streamId();
            } else if ("error".equals(type)) {
                r.errorStream = s.streamId();
            } else {
                out.accept(encoder.rstStream(s.streamId(), Spdy.PROTOCOL_ERROR));
                return;
            }
            if (r.dataStream == 0 || r.errorStream == 0) {
                return;
            }
            String portText = s.header("port");
            int port;
            try {
                port = Integer.parseInt(portText == null ? "" : portText);
                if (port < 1 || port > 65535) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                out.accept(encoder.data(r.errorStream, false, ("invalid port: \"" + portText + "\"")
                        .getBytes(StandardCharsets.UTF_8)));
                r.end();
                return;
            }
            r.port = port;
            dial.apply(port).onSuccess(k -> {
                if (r.ended || closed) {
                    k.close();
                    return;
                }
                r.kubelet = k;
                k.handler((channel, data) -> {
                    if (closed || r.ended) {
                        return;
                    }
                    if (channel == KubeletStream.STDOUT) {
                        out.accept(encoder.data(r.dataStream, false, data));
                    } else if (channel == KubeletStream.STATUS) {
                        out.accept(encoder.data(r.errorStream, false, data));
                    }
                });
                k.endHandler(r::end);
                while (!r.toPod.isEmpty()) {
                    k.send(KubeletStream.STDIN, r.toPod.poll());
                }
                if (r.clientDone) {
                    k.closeChannel(KubeletStream.STDIN);
                }
            }).onFailure(e -> {
                if (!closed && !r.ended) {
                    out.accept(encoder.data(r.errorStream, false, ("error forwarding port " + port + " to pod: "
                            + upgradeError(e)).getBytes(StandardCharsets.UTF_8)));
                    r.end();
                }
            });
        }

        private void forget(Request r) {
            requests.remove(r.id);
            byStream.remove(r.dataStream);
            byStream.remove(r.errorStream);
            if (r.kubelet != null) {
                r.kubelet.close();
            }
        }

        /** The connection is gone: every request's kubelet stream ends. */
        void closed() {
            closed = true;
            for (Request r : List.copyOf(requests.values())) {
                r.ended = true;
                forget(r);
            }
        }
    }
}
