package io.k3gpu.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The dashboard's HTTP side on the JDK's own server (jdk.httpserver): three pages, their script and styles, uPlot from
 * its WebJar, the cluster's data as JSON and the live telemetry as server-sent events. GET only (read-only); every
 * answer goes through {@link DashboardAccess}.
 */
final class DashboardServer implements AutoCloseable {
    static final String PAGES = "/io/k3gpu/cli/dashboard/";
    static final String UPLOT_POM = "/META-INF/maven/org.webjars.npm/uplot/pom.properties";
    static final int MAX_STREAMS = 200;
    private static final JsonMapper MAPPER = JsonMapper.builder().build();
    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "png", "image/png");

    private final HttpServer server;
    private final ExecutorService threads;
    private final DashboardAccess access;
    private final DashboardTelemetry telemetry;
    private final DashboardCluster cluster;
    private final String uplot;
    private final AtomicInteger streams = new AtomicInteger();

    DashboardServer(DashboardAccess access, DashboardTelemetry telemetry, DashboardCluster cluster) {
        this.access = access;
        this.telemetry = telemetry;
        this.cluster = cluster;
        this.uplot = "/META-INF/resources/webjars/uplot/" + uplotVersion() + "/dist/";
        ExporterCommand.Listen where = access.listen();
        try {
            InetSocketAddress address = where.host().isEmpty() ? new InetSocketAddress(where.port())
                    : new InetSocketAddress(where.host(), where.port());
            server = HttpServer.create(address, 64);
        } catch (BindException e) {
            throw new K3gpuException(ExitCode.FAILED, "cannot listen on " + where + ": " + e.getMessage(),
                    "is another dashboard running there? pick another port with --listen");
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.FAILED, "cannot listen on " + where + ": " + e.getMessage(),
                    "check --listen");
        }
        // an event stream holds its thread while the page is open: threads come and go with the pages
        AtomicInteger n = new AtomicInteger();
        threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "k3gpu-dashboard-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private static String uplotVersion() {
        Properties p = new Properties();
        try (InputStream in = DashboardServer.class.getResourceAsStream(UPLOT_POM)) {
            if (in == null) {
                throw new IllegalStateException("uPlot's WebJar is not on the class path");
            }
            p.load(in);
        } catch (IOException e) {
            throw new IllegalStateException("reading uPlot's WebJar: " + e.getMessage(), e);
        }
        return p.getProperty("version");
    }

    private void handle(HttpExchange x) throws IOException {
        try {
            DashboardAccess.headers().forEach((k, v) -> x.getResponseHeaders().set(k, v));
            String path = x.getRequestURI().getPath();
            String method = x.getRequestMethod();
            if (path.equals("/login")) {
                login(x, method);
                return;
            }
            DashboardAccess.Refusal refused = access.check(x.getRequestHeaders().getFirst("Host"),
                    x.getRequestHeaders().getFirst("Authorization"),
                    x.getRequestHeaders().getOrDefault("Cookie", List.of()));
            if (refused != null) {
                if (refused.status() == 401 && !path.startsWith("/api/") && method.equals("GET")) {
                    x.getResponseHeaders().set("Location", "/login");
                    send(x, 303, "text/plain; charset=utf-8", "log in at /login\n");
                } else {
                    send(x, refused.status(), "text/plain; charset=utf-8", refused.message() + "\n");
                }
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                x.getResponseHeaders().set("Allow", "GET, HEAD");
                send(x, 405, "text/plain; charset=utf-8", "the dashboard is read-only\n");
                return;
            }
            route(x, path, query(x.getRequestURI().getRawQuery()));
        } catch (K3gpuException e) {
            // the cluster did not answer: the page says so and asks again later
            json(x, 502, Map.of("error", e.getMessage()));
        } catch (IOException e) {
            // the browser went away
        } finally {
            x.close();
        }
    }

    private void route(HttpExchange x, String path, Map<String, String> q) throws IOException {
        switch (path) {
            case "/", "/index.html" -> resource(x, PAGES + "cluster.html");
            case "/node" -> resource(x, PAGES + "node.html");
            case "/jobs" -> resource(x, PAGES + "jobs.html");
            // browsers ask for it on every page: no icon, and no 404 in the console
            case "/favicon.ico" -> send(x, 204, "image/x-icon", new byte[0]);
            case "/api/nodes" -> nodes(x);
            case "/api/jobs" -> json(x, 200, cluster.jobs());
            case "/api/verify" -> json(x, 200, cluster.verifyResults());
            case "/api/job" -> {
                var job = cluster.job(q.getOrDefault("name", ""));
                if (job.isPresent()) {
                    json(x, 200, job.get());
                } else {
                    json(x, 404, Map.of("error", "no training job " + q.get("name")));
                }
            }
            case "/api/history", "/api/recording" -> history(x, q.get("node"), path.equals("/api/recording"));
            case "/api/stream" -> stream(x, q.get("node"));
            default -> {
                if (path.startsWith("/static/uplot/") && path.matches("/static/uplot/[A-Za-z.]+")) {
                    resource(x, uplot + path.substring("/static/uplot/".length()));
                } else if (path.matches("/static/[a-z]+\\.(js|css)")) {
                    resource(x, PAGES + path.substring("/static/".length()));
                } else {
                    send(x, 404, "text/plain; charset=utf-8", "not found\n");
                }
            }
        }
    }

    private void login(HttpExchange x, String method) throws IOException {
        if (!access.needsToken()) {
            x.getResponseHeaders().set("Location", "/");
            send(x, 303, "text/plain; charset=utf-8", "no token needed\n");
        } else if (method.equals("POST")) {
            String body = new String(x.getRequestBody().readNBytes(4096), StandardCharsets.UTF_8);
            if (access.matches(query(body).get("token"))) {
                x.getResponseHeaders().set("Set-Cookie", access.loginCookie());
                x.getResponseHeaders().set("Location", "/");
                send(x, 303, "text/plain; charset=utf-8", "logged in\n");
            } else {
                send(x, 401, "text/plain; charset=utf-8", "wrong token\n");
            }
        } else {
            resource(x, PAGES + "login.html");
        }
    }

    private void nodes(HttpExchange x) throws IOException {
        List<Map<String, Object>> rows = cluster.nodes();
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        for (Map<String, Object> r : rows) {
            Map<String, Object> m = new LinkedHashMap<>(r);
            String name = (String) r.get("name");
            m.put("telemetry", telemetry.overview(name));
            out.add(m);
        }
        json(x, 200, Map.of("nodes", out, "followed", telemetry.names()));
    }

    private void history(HttpExchange x, String node, boolean download) throws IOException {
        List<String> lines = node == null ? null : telemetry.history(node);
        if (lines == null) {
            json(x, 404, Map.of("error", "no telemetry of node " + node));
            return;
        }
        if (download) {
            x.getResponseHeaders().set("Content-Disposition",
                    "attachment; filename=\"" + node.replaceAll("[^A-Za-z0-9._-]", "_") + ".jsonl\"");
        }
        StringBuilder sb = new StringBuilder();
        lines.forEach(l -> sb.append(l).append('\n'));
        send(x, 200, "application/x-ndjson; charset=utf-8", sb.toString());
    }

    /** Server-sent events: a node's samples, or (no node) every node's GPU load and state. */
    private void stream(HttpExchange x, String node) throws IOException {
        if (node != null && !telemetry.follows(node)) {
            json(x, 404, Map.of("error", "no telemetry of node " + node));
            return;
        }
        if (streams.incrementAndGet() > MAX_STREAMS) {
            streams.decrementAndGet();
            send(x, 503, "text/plain; charset=utf-8", "too many open pages\n");
            return;
        }
        try (DashboardTelemetry.Subscriber s = telemetry.subscribe(node)) {
            x.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            x.sendResponseHeaders(200, 0);
            OutputStream out = x.getResponseBody();
            out.write("retry: 2000\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            while (!s.overflowed) {
                DashboardTelemetry.Event e = s.queue.poll(15, TimeUnit.SECONDS);
                // a comment line every 15 s finds a closed page and keeps proxies from timing out
                String text = e == null ? ": keep-alive\n\n" : "event: " + e.name() + "\ndata: " + e.data() + "\n\n";
                out.write(text.getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            streams.decrementAndGet();
        }
    }

    private void resource(HttpExchange x, String name) throws IOException {
        try (InputStream in = DashboardServer.class.getResourceAsStream(name)) {
            if (in == null) {
                send(x, 404, "text/plain; charset=utf-8", "not found\n");
                return;
            }
            String ext = name.substring(name.lastIndexOf('.') + 1);
            if (!name.startsWith(PAGES)) {
                // the library does not change while the dashboard runs
                x.getResponseHeaders().set("Cache-Control", "max-age=3600");
            }
            send(x, 200, TYPES.getOrDefault(ext, "application/octet-stream"), in.readAllBytes());
        }
    }

    private static void json(HttpExchange x, int status, Object value) throws IOException {
        send(x, status, "application/json; charset=utf-8", MAPPER.writeValueAsString(value));
    }

    private static void send(HttpExchange x, int status, String type, String body) throws IOException {
        send(x, status, type, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange x, int status, String type, byte[] body) throws IOException {
        x.getResponseHeaders().set("Content-Type", type);
        boolean head = x.getRequestMethod().equals("HEAD");
        x.sendResponseHeaders(status, head ? -1 : body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            x.getResponseBody().write(body);
        }
    }

    /** {@code a=1&b=2}, URL-decoded; the first value of a name wins. */
    static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.putIfAbsent(k, v);
        }
        return out;
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
