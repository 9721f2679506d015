package io.k3gpu.core.telemetry.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.NvidiaSmiCsvParser;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.TegrastatsParser;
import io.k3gpu.core.telemetry.live.NodeState;
import io.k3gpu.core.telemetry.live.NodeStatus;
import io.k3gpu.core.telemetry.live.TelemetryCommands;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * dashboards/grafana/k3gpu.json queries only what k3gpu exporter really serves: the exporter's metrics are rendered
 * from the real captures (every tegrastats line of the fixtures as its own Jetson, the H200's nvidia-smi lines in the
 * exporter's own query format), and every metric and label of every panel, legend and template variable must be
 * among them.
 */
class GrafanaDashboardTest {
    static final Path DASHBOARD = Path.of("..", "dashboards", "grafana", "k3gpu.json");
    /**
     * PromQL words that are not metric names: functions are told by their parenthesis, but an aggregation may be
     * followed by its {@code by (...)} first.
     */
    static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right", "bool",
            "and", "or", "unless", "offset", "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk",
            "bottomk", "quantile", "count_values");
    static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*(?:([A-Za-z_:][\\w:]*)\\s*(\\{[^}]*})?"
            + "\\s*,\\s*)?([A-Za-z_]\\w*)\\s*\\)");
    static final Pattern LEGEND_LABEL = Pattern.compile("\\{\\{\\s*([A-Za-z_]\\w*)\\s*}}");

    /** What the exporter serves: metric name &rarr; the label names of its samples. */
    static Map<String, Set<String>> exporterOutput() throws Exception {
        List<String> tegrastats = resource("tegrastats/samples.txt").lines()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < tegrastats.size(); i++) {
            nodes.add("jetson" + i);
        }
        nodes.add("gpu1");
        TelemetryMetrics m = new TelemetryMetrics(nodes, ZoneOffset.UTC);
        LocalDateTime t = LocalDateTime.of(2026, 11, 28, 18, 0);
        for (int i = 0; i < tegrastats.size(); i++) {
            m.status(new NodeStatus("jetson" + i, NodeState.UP, Source.TEGRASTATS, null, null, 1));
            m.sample("jetson" + i, t, TegrastatsParser.parse(tegrastats.get(i)));
        }
        NvidiaSmiCsvParser smi = NvidiaSmiCsvParser.forFields(TelemetryCommands.NVIDIA_SMI_FIELDS);
        m.status(new NodeStatus("gpu1", NodeState.UP, Source.NVIDIA_SMI, null, null, 1));
        for (String line : resource("nvidia-smi/k3gpu-query-h200.csv").lines().toList()) {
            GpuSample s = smi.parseLine(line).orElse(null);
            if (s != null) {
                m.sample("gpu1", t, s);
            }
        }
        Map<String, Set<String>> out = new TreeMap<>();
        for (String line : TelemetryMetricsTest.scrape(m).split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String name = brace < 0 ? line.substring(0, space) : line.substring(0, brace);
            Set<String> labels = out.computeIfAbsent(name, k -> new LinkedHashSet<>());
            if (brace >= 0) {
                Matcher l = Pattern.compile("([A-Za-z_]\\w*)=\"").matcher(line.substring(brace, line.lastIndexOf('}')));
                while (l.find()) {
                    labels.add(l.group(1));
                }
            }
        }
        return out;
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = GrafanaDashboardTest.class.getResourceAsStream("/telemetry/" + name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The metric names and label names one PromQL expression uses. */
    record Used(Set<String> metrics, Set<String> labels) {
    }

    static Used parse(String expr) {
        Set<String> metrics = new LinkedHashSet<>();
        Set<String> labels = new LinkedHashSet<>();
        Matcher lv = LABEL_VALUES.matcher(expr);
        if (lv.matches()) {
            if (lv.group(1) != null) {
                metrics.add(lv.group(1));
            }
            labels.add(lv.group(3));
            if (lv.group(2) != null) {
                labels.addAll(parse(lv.group(1) + lv.group(2)).labels());
            }
            return new Used(metrics, labels);
        }
        int i = 0;
        boolean labelList = false;
        while (i < expr.length()) {
            char c = expr.charAt(i);
            if (c == '"') {
                i = closingQuote(expr, i) + 1;
            } else if (c == '{') {
                int end = i;
                while (end < expr.length() && expr.charAt(end) != '}') {
                    end = expr.charAt(end) == '"' ? closingQuote(expr, end) + 1 : end + 1;
                }
                Matcher l = Pattern.compile("([A-Za-z_]\\w*)\\s*(=~|!~|!=|=)").matcher(expr.substring(i, end)
                        .replaceAll("\"[^\"]*\"", "\"\""));
                while (l.find()) {
                    labels.add(l.group(1));
                }
                i = end + 1;
            } else if (c == '[') {
                i = expr.indexOf(']', i) + 1;
            } else if (Character.isLetter(c) || c == '_') {
                int start = i;
                while (i < expr.length() && (Character.isLetterOrDigit(expr.charAt(i)) || expr.charAt(i) == '_'
                        || expr.charAt(i) == ':')) {
                    i++;
                }
                String word = expr.substring(start, i);
                int next = i;
                while (next < expr.length() && expr.charAt(next) == ' ') {
                    next++;
                }
                if (labelList) {
                    labels.add(word);
                } else if (KEYWORDS.contains(word)) {
                    labelList = Set.of("by", "without", "on", "ignoring", "group_left", "group_right").contains(word);
                } else if (next >= expr.length() || expr.charAt(next) != '(') {
                    metrics.add(word);
                }
            } else {
                if (c == ')') {
                    labelList = false;
                }
                i++;
            }
        }
        return new Used(metrics, labels);
    }

    /** The index of the quote that ends the string starting at {@code open} (the end of the text if none). */
    private static int closingQuote(String expr, int open) {
        for (int i = open + 1; i < expr.length(); i++) {
            if (expr.charAt(i) == '\\') {
                i++;
            } else if (expr.charAt(i) == '"') {
                return i;
            }
        }
        return expr.length();
    }

    @Test
    void theParserFindsMetricsAndLabelsWhereverPromQlPutsThem() {
        Used u = parse("sum by (node, gpu) (rate(DCGM_FI_DEV_GPU_UTIL{node=~\"$node\",gpu!=\"x{y}\"}[5m])) "
                + "/ on (node) jetson_memory_total_bytes");
        assertThat(u.metrics()).containsExactly("DCGM_FI_DEV_GPU_UTIL", "jetson_memory_total_bytes");
        assertThat(u.labels()).containsExactlyInAnyOrder("node", "gpu");
        Used v = parse("label_values(DCGM_FI_DEV_GPU_UTIL{node=~\"$node\"}, gpu)");
        assertThat(v.metrics()).containsExactly("DCGM_FI_DEV_GPU_UTIL");
        assertThat(v.labels()).containsExactlyInAnyOrder("gpu", "node");
    }

    @Test
    void everyMetricAndLabelTheDashboardQueriesIsInTheExportersRealOutput() throws Exception {
        Map<String, Set<String>> served = exporterOutput();
        // the captures cover both kinds of node: the test would prove nothing against an empty scrape
        assertThat(served).containsKeys("jetson_gpu_utilization_ratio", "jetson_power_watts",
                "DCGM_FI_DEV_GPU_UTIL", "k3gpu_node_up");
        JsonNode d = JsonMapper.builder().build().readTree(Files.readString(DASHBOARD));
        assertThat(d.path("uid").asString()).isEqualTo("k3gpu-nodes");

        List<String> problems = new ArrayList<>();
        int targets = 0;
        Set<String> jetsonOrDgpu = new LinkedHashSet<>();
        for (JsonNode panel : panels(d.path("panels"))) {
            for (JsonNode target : panel.path("targets")) {
                targets++;
                String where = "panel '" + panel.path("title").asString() + "' " + target.path("refId").asString();
                Used u = parse(target.path("expr").asString());
                Set<String> labels = new LinkedHashSet<>(u.labels());
                Matcher legend = LEGEND_LABEL.matcher(target.path("legendFormat").asString(""));
                while (legend.find()) {
                    labels.add(legend.group(1));
                }
                check(where, u.metrics(), labels, served, problems);
                u.metrics().forEach(n -> jetsonOrDgpu.add(n.startsWith("jetson_") ? "jetson" : n.startsWith("DCGM")
                        ? "dgpu" : "node"));
            }
        }
        List<String> variables = new ArrayList<>();
        for (JsonNode v : d.path("templating").path("list")) {
            variables.add(v.path("name").asString());
            if (v.path("type").asString().equals("query")) {
                JsonNode q = v.path("query");
                Used u = parse(q.isObject() ? q.path("query").asString() : q.asString());
                check("variable " + v.path("name").asString(), u.metrics(), u.labels(), served, problems);
            }
        }
        assertThat(problems).isEmpty();
        assertThat(targets).isGreaterThanOrEqualTo(15);
        assertThat(jetsonOrDgpu).contains("jetson", "dgpu", "node");
        assertThat(variables).contains("datasource", "node", "gpu");
    }

    @Test
    void aMisspelledMetricOrLabelIsCaught() throws Exception {
        Map<String, Set<String>> served = exporterOutput();
        List<String> problems = new ArrayList<>();
        check("x", parse("jetson_gpu_util{node=~\"$node\"}").metrics(), Set.of("node"), served, problems);
        check("y", parse("DCGM_FI_DEV_GPU_UTIL").metrics(), Set.of("rail"), served, problems);
        assertThat(problems).containsExactly("x: no metric jetson_gpu_util in the exporter's output",
                "y: DCGM_FI_DEV_GPU_UTIL has no label rail (it has [UUID, gpu, modelName, node])");
    }

    private static void check(String where, Set<String> metrics, Set<String> labels, Map<String, Set<String>> served,
                              List<String> problems) {
        if (metrics.isEmpty()) {
            problems.add(where + ": queries no metric");
        }
        for (String m : metrics) {
            Set<String> has = served.get(m);
            if (has == null) {
                problems.add(where + ": no metric " + m + " in the exporter's output");
                continue;
            }
            for (String l : labels) {
                if (!has.contains(l)) {
                    problems.add(where + ": " + m + " has no label " + l + " (it has " + has + ")");
                }
            }
        }
    }

    /** Every panel, those inside rows too. */
    private static List<JsonNode> panels(JsonNode list) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : list) {
            out.add(p);
            out.addAll(panels(p.path("panels")));
        }
        return out;
    }
}
