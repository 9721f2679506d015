package io.k3gpu.lab.k3s;

import java.math.BigDecimal;
import java.net.URI;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What K3s's packaged metrics-server (kubernetes-sigs/metrics-server v0.7, pkg/scraper and pkg/storage) does for
 * {@code kubectl top}: every {@code --metric-resolution} (15 s) it scrapes each Ready node's kubelet at
 * {@code https://<InternalIP>:<status.daemonEndpoints.kubeletEndpoint.Port>/metrics/resource} (the kubelet's
 * Prometheus text: {@code node_cpu_usage_seconds_total}, {@code node_memory_working_set_bytes},
 * {@code container_cpu_usage_seconds_total{container,namespace,pod}},
 * {@code container_memory_working_set_bytes{...}}, each with a timestamp in ms), keeps the last two scrapes, and
 * serves {@code metrics.k8s.io/v1beta1} NodeMetrics and PodMetrics: CPU as the rate between the two cumulative
 * samples (nanocores), memory as the last working set, {@code window} the time between them. A node or pod with one
 * scrape only has no metrics yet. Served by the server itself, as the aggregator would proxy to the metrics-server
 * pod: only while the APIService {@code v1beta1.metrics.k8s.io} is Available ({@link K3sAggregator}: the Service
 * {@code kube-system/metrics-server} has a ready endpoint, i.e. the pod of K3s's manifest runs), none with
 * {@code --disable metrics-server}; the kubelet's certificate is not verified, as K3s runs it with
 * {@code --kubelet-insecure-tls}.
 */
final class MetricsServer implements AutoCloseable {
    static final String GROUP = "metrics.k8s.io";
    static final String VERSION = "v1beta1";
    /** K3s's manifests/metrics-server/metrics-apiservice.yaml registers the group with the aggregator. */
    static final String API_SERVICE = VERSION + "." + GROUP;
    private static final Pattern LINE = Pattern.compile(
            "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})?\\s+(\\S+)(?:\\s+(-?\\d+))?$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** One cumulative CPU sample and one working set, at a time. */
    record Point(double cpuSeconds, double memoryBytes, Instant at) {
    }

    /** One scrape of one kubelet: the node's point and each container's, by {@code ns/pod/container}. */
    record Scrape(Point node, Map<String, Point> containers) {
    }

    private final ApiStore store;
    private final Clock clock;
    private final Duration resolution;
    private final SSLContext tls = trustAll();
    private final ScheduledExecutorService timer;
    private final Map<String, Scrape[]> byNode = new ConcurrentHashMap<>();

    MetricsServer(ApiStore store, Clock clock, Duration resolution) {
        this.store = store;
        this.clock = clock;
        this.resolution = resolution;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "k3s-metrics-server");
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        long every = Math.max(100, resolution.toMillis());
        timer.scheduleWithFixedDelay(this::scrapeAll, 0, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }

    // ---- scraping

    private void scrapeAll() {
        if (K3sAggregator.state(store, API_SERVICE) != 200) { // no metrics-server pod: nobody scrapes
            byNode.clear();
            return;
        }
        ApiStore.Result nodes = store.call("GET", "/api/v1/nodes", null, null);
        if (!nodes.ok() || nodes.body() == null) {
            return;
        }
        List<String> seen = new ArrayList<>();
        for (JsonNode node : Json.parse(nodes.body()).path("items")) {
            String name = Json.text(node, "metadata.name");
            seen.add(name);
            String address = address(node);
            if (address == null || !ready(node)) {
                continue;
            }
            int port = node.path("status").path("daemonEndpoints").path("kubeletEndpoint").path("Port").asInt(10250);
            try {
                HttpsURLConnection c = (HttpsURLConnection) URI.create("https://"
                        + (address.contains(":") ? "[" + address + "]" : address) + ":" + port + "/metrics/resource")
                        .toURL().openConnection();
                c.setSSLSocketFactory(tls.getSocketFactory());
                c.setHostnameVerifier((host, session) -> true); // --kubelet-insecure-tls
                c.setConnectTimeout(10_000); // --kubelet-request-timeout
                c.setReadTimeout(10_000);
                if (c.getResponseCode() == 200) {
                    String body;
                    try (var in = c.getInputStream()) {
                        body = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                    }
                    Scrape s = parse(body);
                    byNode.compute(name, (k, v) -> v == null ? new Scrape[] {null, s} : new Scrape[] {v[1], s});
                }
                c.disconnect();
            } catch (java.io.IOException | IllegalArgumentException e) {
                // metrics-server logs "Failed to scrape node" and keeps the last points
            }
        }
        byNode.keySet().retainAll(seen);
    }

    /** --kubelet-preferred-address-types InternalIP,ExternalIP,Hostname (K3s's manifest). */
    private static String address(JsonNode node) {
        for (String type : List.of("InternalIP", "ExternalIP", "Hostname")) {
            for (JsonNode a : node.path("status").path("addresses")) {
                if (type.equals(a.path("type").asString(""))) {
                    return a.path("address").asString("");
                }
            }
        }
        return null;
    }

    private static boolean ready(JsonNode node) {
        for (JsonNode c : node.path("status").path("conditions")) {
            if ("Ready".equals(c.path("type").asString(""))) {
                return "True".equals(c.path("status").asString(""));
            }
        }
        return false;
    }

    /** The kubelet's /metrics/resource text: the node's and the containers' CPU and memory samples. */
    static Scrape parse(String text) {
        Map<String, double[]> containers = new LinkedHashMap<>(); // cpu, memory, time ms
        double[] node = {Double.NaN, Double.NaN, 0};
        for (String line : text.split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String metric = m.group(1);
            double value;
            try {
                value = Double.parseDouble(m.group(4));
            } catch (NumberFormatException e) {
                continue;
            }
            long ms = m.group(5) == null ? 0 : Long.parseLong(m.group(5));
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            double[] target;
            switch (metric) {
                case "node_cpu_usage_seconds_total", "node_memory_working_set_bytes" -> target = node;
                case "container_cpu_usage_seconds_total", "container_memory_working_set_bytes" -> target =
                        containers.computeIfAbsent(labels.get("namespace") + "/" + labels.get("pod") + "/"
                                + labels.get("container"), k -> new double[] {Double.NaN, Double.NaN, 0});
                default -> {
                    continue;
                }
            }
            target[metric.endsWith("_cpu_usage_seconds_total") ? 0 : 1] = value;
            target[2] = Math.max(target[2], ms);
        }
        Map<String, Point> points = new LinkedHashMap<>();
        containers.forEach((k, v) -> {
            if (!Double.isNaN(v[0]) && !Double.isNaN(v[1])) {
                points.put(k, new Point(v[0], v[1], Instant.ofEpochMilli((long) v[2])));
            }
        });
        Point n = Double.isNaN(node[0]) || Double.isNaN(node[1]) ? null
                : new Point(node[0], node[1], Instant.ofEpochMilli((long) node[2]));
        return new Scrape(n, points);
    }

    /** {cpu nanocores, memory bytes, window ns} from two points; null without a later, non-decreasing second one. */
    static long[] usage(Point prev, Point last) {
        if (prev == null || last == null || !last.at().isAfter(prev.at()) || last.cpuSeconds() < prev.cpuSeconds()) {
            return null;
        }
        long windowNs = Duration.between(prev.at(), last.at()).toNanos();
        long nanocores = (long) ((last.cpuSeconds() - prev.cpuSeconds()) * 1e9 / (windowNs / 1e9));
        return new long[] {nanocores, (long) last.memoryBytes(), windowNs};
    }

    // ---- the API

    static ObjectNode apiGroup() {
        ObjectNode g = Json.object();
        g.put("kind", "APIGroup");
        g.put("apiVersion", "v1");
        g.put("name", GROUP);
        g.putArray("versions").addObject().put("groupVersion", GROUP + "/" + VERSION).put("version", VERSION);
        g.putObject("preferredVersion").put("groupVersion", GROUP + "/" + VERSION).put("version", VERSION);
        return g;
    }

    static ObjectNode resourceList() {
        ObjectNode o = Json.object();
        o.put("kind", "APIResourceList");
        o.put("apiVersion", "v1");
        o.put("groupVersion", GROUP + "/" + VERSION);
        ArrayNode list = o.putArray("resources");
        for (String[] r : List.of(new String[] {"nodes", "NodeMetrics", "false"},
                new String[] {"pods", "PodMetrics", "true"})) {
            ObjectNode e = list.addObject();
            e.put("name", r[0]);
            e.put("singularName", "");
            e.put("namespaced", Boolean.parseBoolean(r[2]));
            e.put("kind", r[1]);
            e.putArray("verbs").add("get").add("list");
        }
        return o;
    }

    /**
     * GET of {@code /apis/metrics.k8s.io/v1beta1/...}: the group's documents, NodeMetrics(List), PodMetrics(List)
     * (labelSelector filters by the node's or pod's labels); 404 as metrics-server words it for one without metrics.
     */
    ApiHandler.Response handle(String path, Map<String, String> params) {
        String p = path.replaceAll("/+$", "");
        String base = "/apis/" + GROUP;
        if (p.equals(base)) {
            return ApiHandler.Response.json(200, apiGroup());
        }
        if (p.equals(base + "/" + VERSION)) {
            return ApiHandler.Response.json(200, resourceList());
        }
        String rest = p.startsWith(base + "/" + VERSION + "/") ? p.substring((base + "/" + VERSION + "/").length())
                : "";
        String[] parts = rest.split("/");
        java.util.function.Predicate<JsonNode> labels = Selectors.labels(params.get("labelSelector"));
        Instant now = clock.instant();
        if (parts[0].equals("nodes") && parts.length <= 2) {
            List<ObjectNode> items = new ArrayList<>();
            ApiStore.Result nodes = store.call("GET", "/api/v1/nodes", null, null);
            for (JsonNode node : nodes.body() == null ? List.<JsonNode>of() : list(Json.parse(nodes.body()))) {
                String name = Json.text(node, "metadata.name");
                if ((parts.length == 2 && !parts[1].equals(name)) || !labels.test(node)) {
                    continue;
                }
                Scrape[] s = byNode.get(name);
                long[] u = s == null || s[0] == null ? null : usage(s[0].node(), s[1].node());
                if (u != null) {
                    items.add(metrics("NodeMetrics", node, s[1].node().at(), u[2], now)
                            .set("usage", usageOf(u[0], u[1])));
                }
            }
            return answer(parts.length == 2 ? parts[1] : null, "nodes", "NodeMetricsList", items);
        }
        int i = 0;
        String namespace = null;
        if (parts.length >= 3 && parts[0].equals("namespaces")) {
            namespace = parts[1];
            i = 2;
        }
        if (parts.length > i && parts[i].equals("pods") && parts.length <= i + 2) {
            String one = parts.length == i + 2 ? parts[i + 1] : null;
            List<ObjectNode> items = new ArrayList<>();
            ApiStore.Result pods = store.call("GET", namespace == null ? "/api/v1/pods"
                    : "/api/v1/namespaces/" + namespace + "/pods", null, null);
            for (JsonNode pod : pods.body() == null ? List.<JsonNode>of() : list(Json.parse(pods.body()))) {
                if ((one != null && !one.equals(Json.text(pod, "metadata.name"))) || !labels.test(pod)) {
                    continue;
                }
                ObjectNode m = podMetrics(pod, now);
                if (m != null) {
                    items.add(m);
                }
            }
            return answer(one, "pods", "PodMetricsList", items);
        }
        return ApiHandler.notFoundPath();
    }

    private static List<JsonNode> list(JsonNode l) {
        List<JsonNode> out = new ArrayList<>();
        l.path("items").forEach(out::add);
        return out;
    }

    private ObjectNode podMetrics(JsonNode pod, Instant now) {
        Scrape[] s = byNode.get(Json.text(pod, "spec.nodeName") == null ? "" : Json.text(pod, "spec.nodeName"));
        if (s == null || s[0] == null) {
            return null;
        }
        String key = Json.text(pod, "metadata.namespace") + "/" + Json.text(pod, "metadata.name") + "/";
        ArrayNode containers = Json.array();
        Instant at = null;
        long window = 0;
        for (JsonNode c : pod.path("spec").path("containers")) {
            String name = c.path("name").asString("");
            Point last = s[1].containers().get(key + name);
            long[] u = usage(s[0].containers().get(key + name), last);
            if (u == null) {
                return null; // metrics-server leaves out a pod with a container it has no rate for
            }
            containers.addObject().put("name", name).set("usage", usageOf(u[0], u[1]));
            at = at == null || last.at().isAfter(at) ? last.at() : at;
            window = Math.max(window, u[2]);
        }
        if (containers.isEmpty()) {
            return null;
        }
        ObjectNode m = metrics("PodMetrics", pod, at, window, now);
        m.set("containers", containers);
        return m;
    }

    private static ObjectNode metrics(String kind, JsonNode object, Instant at, long windowNs, Instant now) {
        ObjectNode m = Json.object();
        m.put("kind", kind);
        m.put("apiVersion", GROUP + "/" + VERSION);
        ObjectNode meta = m.putObject("metadata");
        meta.put("name", Json.text(object, "metadata.name"));
        if (Json.text(object, "metadata.namespace") != null) {
            meta.put("namespace", Json.text(object, "metadata.namespace"));
        }
        meta.put("creationTimestamp", now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        if (object.path("metadata").path("labels").isObject()) {
            meta.set("labels", object.path("metadata").path("labels").deepCopy());
        }
        m.put("timestamp", at.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        m.put("window", goDuration(windowNs));
        return m;
    }

    private static ApiHandler.Response answer(String one, String plural, String listKind, List<ObjectNode> items) {
        if (one != null) {
            if (items.isEmpty()) {
                return ApiHandler.status(404, "NotFound", plural + "." + GROUP + " \"" + one + "\" not found",
                        Json.object().put("name", one).put("group", GROUP).put("kind", plural));
            }
            return ApiHandler.Response.json(200, items.get(0));
        }
        ObjectNode l = Json.object();
        l.put("kind", listKind);
        l.put("apiVersion", GROUP + "/" + VERSION);
        l.putObject("metadata");
        ArrayNode a = l.putArray("items");
        items.forEach(a::add);
        return ApiHandler.Response.json(200, l);
    }

    static ObjectNode usageOf(long nanocores, long bytes) {
        return Json.object().put("cpu", decimalSI(nanocores)).put("memory", binarySI(bytes));
    }

    /** resource.NewScaledQuantity(n, Nano) as Quantity.String() writes it: the largest exact of n, u, m, whole. */
    static String decimalSI(long nanos) {
        String[] suffixes = {"n", "u", "m", ""};
        long v = nanos;
        int i = 0;
        while (i < 3 && v != 0 && v % 1000 == 0) {
            v /= 1000;
            i++;
        }
        return v == 0 ? "0" : v + suffixes[i];
    }

    /** resource.NewQuantity(b, BinarySI).String(): Ki/Mi/Gi/Ti while exact; below 1024 plain. */
    static String binarySI(long bytes) {
        String[] suffixes = {"", "Ki", "Mi", "Gi", "Ti", "Pi"};
        if (Math.abs(bytes) < 1024) {
            return String.valueOf(bytes);
        }
        long v = bytes;
        int i = 0;
        while (i < 5 && v % 1024 == 0) {
            v /= 1024;
            i++;
        }
        return v + suffixes[i];
    }

    /** Go's time.Duration.String() for the windows metrics-server shows: {@code 15.003s}, {@code 1m0.5s}. */
    static String goDuration(long nanos) {
        long minutes = nanos / 60_000_000_000L;
        long rest = nanos % 60_000_000_000L;
        String seconds = new BigDecimal(rest).movePointLeft(9).stripTrailingZeros().toPlainString() + "s";
        if (nanos < 1_000_000_000L) {
            if (nanos < 1000) {
                return nanos + "ns";
            }
            if (nanos < 1_000_000) {
                return new BigDecimal(nanos).movePointLeft(3).stripTrailingZeros().toPlainString() + "µs";
            }
            return new BigDecimal(nanos).movePointLeft(6).stripTrailingZeros().toPlainString() + "ms";
        }
        return minutes > 0 ? minutes + "m" + seconds : seconds;
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
            }}, new SecureRandom());
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
