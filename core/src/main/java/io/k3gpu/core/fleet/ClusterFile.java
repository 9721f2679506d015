package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.plugin.DevicePluginSettings;
import io.k3gpu.core.k3s.K3sArgs;
import io.k3gpu.core.kube.Taint;
import io.k3gpu.core.ssh.HostKeyChecking;
import io.k3gpu.core.util.Durations;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads cluster.yaml into a {@link ClusterSpec}, checking everything before any host is contacted: unknown keys,
 * wrong types, bad enum values and durations, duplicate keys, addresses and names, a missing server. Every problem
 * is reported, each with its file, line and column ({@link FileProblem}), through one {@link ClusterFileException}.
 * Built on SnakeYAML's node graph, which keeps positions. Relative paths in the file are relative to its directory;
 * {@code ~/} is the user's home. The JSON Schema {@code io/k3gpu/fleet/cluster.schema.json} describes the same format.
 * Secrets are never in the file, only where they come from ({@link SecretRef}); that they may be read
 * ({@link SecretPolicy}) and can be had (the variable set, the file readable and not empty) is checked here too, so a
 * refused or missing one is a problem at its position.
 */
public final class ClusterFile {
    static final List<String> TOP_KEYS = List.of("cluster", "ssh", "hosts");
    static final List<String> CLUSTER_KEYS = List.of("k3sVersion", "k3sChannel", "token", "serverArgs", "agentArgs",
            "tlsSan", "installUrl", "airgapBundle", "serverUrl", "readyTimeout", "kubeconfig", "devicePlugin", "upgrade");
    static final List<String> TOKEN_KEYS = List.of("fromServer", "file", "env");
    static final List<String> KUBECONFIG_KEYS = List.of("path", "context", "merge");
    static final List<String> DEVICE_PLUGIN_KEYS = List.of("enabled", "version", "timeSlicing");
    static final List<String> UPGRADE_KEYS = List.of("workerDisruptionPercent", "drainTimeout");
    static final List<String> SSH_KEYS = List.of("user", "key", "port", "knownHosts", "strictHostKeyChecking",
            "proxyJump", "connectTimeout", "sshConfig", "sudoPassword");
    static final List<String> SECRET_KEYS = List.of("env", "file");
    static final List<String> HOST_KEYS = List.of("name", "address", "role", "gpu", "labels", "taints", "ssh");
    static final String DEFAULT_KUBECONFIG = "kubeconfig";
    static final String DEFAULT_CONTEXT = "default";

    private static final Map<String, List<String>> SECTIONS = new LinkedHashMap<>();
    private static final List<String> RESERVED_LABELS = List.of(GpuLabels.PRESENT, GpuLabels.PRODUCT,
            GpuLabels.MEMORY, GpuLabels.COUNT, GpuLabels.CUDA, GpuLabels.L4T, GpuLabels.JETSON_MODEL, GpuLabels.RUNTIME,
            GpuLabels.TOOLKIT);
    private static final Pattern LABEL_NAME = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern K3S_VERSION = Pattern.compile("v\\d+\\.\\d+\\.\\d+(?:[-+][0-9A-Za-z.+-]+)?");
    private static final Pattern NO_SPACE = Pattern.compile("\\S+");

    static {
        SECTIONS.put("the top level", TOP_KEYS);
        SECTIONS.put("cluster", CLUSTER_KEYS);
        SECTIONS.put("ssh", SSH_KEYS);
        SECTIONS.put("a host", HOST_KEYS);
        SECTIONS.put("cluster.token", TOKEN_KEYS);
        SECTIONS.put("cluster.kubeconfig", KUBECONFIG_KEYS);
        SECTIONS.put("cluster.devicePlugin", DEVICE_PLUGIN_KEYS);
        SECTIONS.put("cluster.upgrade", UPGRADE_KEYS);
        SECTIONS.put("ssh.sudoPassword", SECRET_KEYS);
    }

    private ClusterFile() {
    }

    /** Reads and validates {@code file} in this process's environment. */
    public static ClusterSpec load(Path file) {
        return load(file, System::getenv);
    }

    /**
     * Reads and validates {@code file}; relative paths inside are taken relative to its directory.
     *
     * @param environment the k3gpu process's environment, where {@code {env: NAME}} secrets are looked up
     */
    public static ClusterSpec load(Path file, Function<String, String> environment) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.USAGE, "cannot read the cluster file " + file + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()),
                    "pass -f with the path of your cluster.yaml (an example: examples/cluster.yaml)");
        }
        Path dir = file.toAbsolutePath().getParent();
        return parse(file.toString(), dir, text, environment);
    }

    /**
     * Validates {@code text}.
     *
     * @param name    how messages name the file
     * @param baseDir what relative paths in the file are relative to
     */
    public static ClusterSpec parse(String name, Path baseDir, String text) {
        return parse(name, baseDir, text, System::getenv);
    }

    /** Validates {@code text}, looking {@code {env: NAME}} secrets up in {@code environment}. */
    public static ClusterSpec parse(String name, Path baseDir, String text, Function<String, String> environment) {
        return new Reader(name, baseDir, environment).read(text);
    }

    /** The key that {@code unknown} was probably meant to be, among {@code known}; null when none is close. */
    static String suggest(String unknown, List<String> known) {
        String n = normalize(unknown);
        for (String k : known) {
            if (normalize(k).equals(n)) {
                return k;
            }
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(unknown.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return bestDistance <= Math.max(1, Math.min(2, unknown.length() / 3)) ? best : null;
    }

    private static String normalize(String key) {
        return key.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** One reading of one file: collects problems instead of stopping at the first. */
    private static final class Reader {
        private final String name;
        private final Path baseDir;
        private final Function<String, String> environment;
        private final SecretPolicy secrets;
        private final List<FileProblem> problems = new ArrayList<>();

        Reader(String name, Path baseDir, Function<String, String> environment) {
            this.name = name;
            this.baseDir = baseDir;
            this.environment = environment;
            this.secrets = new SecretPolicy(baseDir, Path.of(System.getProperty("user.home")), environment);
        }

        ClusterSpec read(String text) {
            Node root;
            try {
                LoaderOptions options = new LoaderOptions();
                options.setMaxAliasesForCollections(20);
                root = new Yaml(new SafeConstructor(options)).compose(new StringReader(text));
            } catch (MarkedYAMLException e) {
                Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
                String what = e.getProblem() != null ? e.getProblem() : e.getMessage();
                problems.add(new FileProblem(name, m == null ? 1 : m.getLine() + 1, m == null ? 1 : m.getColumn() + 1,
                        "YAML syntax error: " + what.strip()));
                throw failure();
            } catch (YAMLException e) {
                problems.add(new FileProblem(name, 1, 1, "YAML error: " + e.getMessage()));
                throw failure();
            }
            if (root == null) {
                problems.add(new FileProblem(name, 1, 1, "the file is empty: it needs at least hosts: with one server"));
                throw failure();
            }
            Map<String, NodeTuple> top = mapping(root, "the top level", TOP_KEYS);
            if (top == null) {
                throw failure();
            }
            ClusterSettings cluster = cluster(top.get("cluster"));
            SshSettings ssh = top.containsKey("ssh") ? ssh(top.get("ssh").getValueNode(), "ssh") : SshSettings.NONE;
            if (ssh == null) {
                ssh = SshSettings.NONE;
            }
            List<HostSpec> hosts = hosts(top.get("hosts"), root, ssh);
            if (!problems.isEmpty()) {
                throw failure();
            }
            return new ClusterSpec(Path.of(name), cluster, ssh, hosts);
        }

        private ClusterFileException failure() {
            problems.sort(Comparator.comparingInt(FileProblem::line).thenComparingInt(FileProblem::column));
            return new ClusterFileException(name, problems);
        }

        private void problem(Node at, String message) {
            Mark m = at.getStartMark();
            problems.add(new FileProblem(name, m.getLine() + 1, m.getColumn() + 1, message));
        }

        // ---- sections

        private ClusterSettings cluster(NodeTuple tuple) {
            Map<String, NodeTuple> c = tuple == null ? Map.of() : mapping(tuple.getValueNode(), "cluster", CLUSTER_KEYS);
            if (c == null) {
                c = Map.of();
            }
            String version = string(c, "k3sVersion");
            if (version != null && !K3S_VERSION.matcher(version).matches()) {
                problem(value(c, "k3sVersion"), "bad k3sVersion '" + version + "': write a K3s release like v1.31.4+k3s1");
            }
            String channel = string(c, "k3sChannel");
            if (version != null && channel != null) {
                problem(value(c, "k3sChannel"), "k3sVersion and k3sChannel exclude each other: give one");
            }
            String installUrl = string(c, "installUrl");
            if (installUrl != null && !installUrl.matches("https?://\\S+")) {
                problem(value(c, "installUrl"), "bad installUrl '" + installUrl + "': it must be an http:// or https:// URL");
            }
            Path airgap = path(c, "airgapBundle");
            if (installUrl != null && airgap != null) {
                problem(value(c, "airgapBundle"), "installUrl and airgapBundle exclude each other: give one");
            }
            String serverUrl = string(c, "serverUrl");
            if (serverUrl != null && !serverUrl.matches("https://\\S+")) {
                problem(value(c, "serverUrl"), "bad serverUrl '" + serverUrl + "': it must be an https:// URL, e.g. https://10.0.0.10:6443");
            }
            Duration ready = duration(c, "readyTimeout");
            return new ClusterSettings(version, channel, token(c.get("token")), flags(c, "serverArgs"),
                    flags(c, "agentArgs"), stringList(c, "tlsSan"), installUrl, airgap, serverUrl,
                    ready == null ? ClusterSettings.DEFAULT_READY_TIMEOUT : ready, kubeconfig(c.get("kubeconfig")),
                    devicePlugin(c.get("devicePlugin")), upgrade(c.get("upgrade")));
        }

        /** {@code cluster.upgrade}: the defaults when absent. */
        private UpgradeSettings upgrade(NodeTuple tuple) {
            Map<String, NodeTuple> u = tuple == null ? null : mapping(tuple.getValueNode(), "cluster.upgrade", UPGRADE_KEYS);
            if (u == null) {
                return UpgradeSettings.DEFAULTS;
            }
            int percent = UpgradeSettings.DEFAULT_PERCENT;
            if (u.containsKey("workerDisruptionPercent")) {
                Node v = value(u, "workerDisruptionPercent");
                String text = v instanceof ScalarNode sc ? sc.getValue() : "";
                if (v instanceof ScalarNode sc && sc.getTag() == Tag.INT && text.matches("\\d{1,3}")
                        && Integer.parseInt(text) >= 1 && Integer.parseInt(text) <= 100) {
                    percent = Integer.parseInt(text);
                } else {
                    problem(v, "bad workerDisruptionPercent " + shown(v) + ": it is the share of the agents upgraded "
                            + "at once, a number from 1 to 100 (default 10; at least one agent at a time)");
                }
            }
            Duration drain = duration(u, "drainTimeout");
            return new UpgradeSettings(percent, drain == null ? UpgradeSettings.DEFAULT_DRAIN_TIMEOUT : drain);
        }

        /** {@code cluster.devicePlugin}: null when absent or {@code enabled: false}. */
        private DevicePluginSettings devicePlugin(NodeTuple tuple) {
            if (tuple == null) {
                return null;
            }
            Map<String, NodeTuple> d = mapping(tuple.getValueNode(), "cluster.devicePlugin", DEVICE_PLUGIN_KEYS);
            if (d == null) {
                return null;
            }
            Boolean enabled = bool(d, "enabled");
            String version = string(d, "version");
            String image = null;
            if (version != null) {
                try {
                    image = DevicePluginSettings.imageOf(version);
                } catch (K3gpuException e) {
                    problem(value(d, "version"), "bad devicePlugin version '" + version + "': write a release of "
                            + "NVIDIA's k8s-device-plugin like " + DevicePluginSettings.DEFAULT_VERSION);
                }
            }
            int replicas = 0;
            if (d.containsKey("timeSlicing")) {
                Node v = value(d, "timeSlicing");
                String text = v instanceof ScalarNode sc ? sc.getValue() : "";
                if (v instanceof ScalarNode sc && sc.getTag() == Tag.INT && text.matches("\\d{1,4}")
                        && Integer.parseInt(text) >= 2) {
                    replicas = Integer.parseInt(text);
                } else {
                    problem(v, "bad timeSlicing " + shown(v) + ": it is how many pods share each GPU, a number from "
                            + "2 up (leave it out for a whole GPU per pod)");
                }
            }
            return enabled != null && !enabled ? null : new DevicePluginSettings(image, replicas);
        }

        private TokenSource token(NodeTuple tuple) {
            if (tuple == null) {
                return TokenSource.FROM_SERVER;
            }
            Node v = tuple.getValueNode();
            if (v instanceof ScalarNode s && s.getTag() != Tag.NULL) {
                problem(v, "cluster.token must not hold the token itself: use token: {file: PATH} or token: {env: NAME}"
                        + " (or leave it out: the token is read from the first server)");
                return TokenSource.FROM_SERVER;
            }
            Map<String, NodeTuple> t = mapping(v, "cluster.token", TOKEN_KEYS);
            if (t == null || t.isEmpty()) {
                return TokenSource.FROM_SERVER;
            }
            if (t.size() > 1) {
                problem(v, "cluster.token takes one of fromServer, file or env, not " + String.join(" and ", t.keySet()));
            }
            Boolean fromServer = bool(t, "fromServer");
            if (fromServer != null && !fromServer) {
                problem(value(t, "fromServer"), "fromServer: false needs file: PATH or env: NAME instead");
            }
            Path file = path(t, "file");
            String env = string(t, "env");
            if (env != null && !env.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                problem(value(t, "env"), "bad environment variable name '" + env + "'");
            } else if (env != null && secrets.envProblem(env) != null) {
                problem(value(t, "env"), "cluster.token: " + secrets.envProblem(env));
            }
            if (file != null && secrets.fileProblem(file) != null) {
                problem(value(t, "file"), "cluster.token: " + secrets.fileProblem(file));
            }
            return new TokenSource(file, env);
        }

        /** K3s flags as INSTALL_K3S_EXEC takes them: quotes must pair up. */
        private String flags(Map<String, NodeTuple> c, String key) {
            String text = string(c, key);
            if (text != null) {
                try {
                    K3sArgs.splitExec(text);
                } catch (IllegalArgumentException e) {
                    problem(value(c, key), "unbalanced quote in " + key + ": K3s's install script would refuse it");
                }
            }
            return text;
        }

        /**
         * {@code {env: NAME}} or {@code {file: PATH}}, never the secret itself (a plain value is refused without
         * being repeated); the variable must be set and the file readable, not empty.
         */
        private SecretRef secret(Node v, String key) {
            if (v instanceof ScalarNode s && s.getTag() != Tag.NULL) {
                problem(v, key + " must not hold the password itself: use " + key + ": {env: NAME} or "
                        + key + ": {file: PATH}");
                return null;
            }
            Map<String, NodeTuple> m = mapping(v, "ssh.sudoPassword", SECRET_KEYS);
            if (m == null) {
                return null;
            }
            if (m.size() != 1) {
                problem(v, key + " takes one of env or file" + (m.isEmpty() ? "" : ", not " + String.join(" and ", m.keySet())));
                return null;
            }
            SecretRef ref;
            if (m.containsKey("env")) {
                String env = string(m, "env");
                if (env == null || !env.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    problem(value(m, "env"), "bad environment variable name " + shown(value(m, "env")));
                    return null;
                }
                String refused = secrets.envProblem(env);
                if (refused != null) {
                    problem(value(m, "env"), key + ": " + refused);
                    return null;
                }
                ref = new SecretRef(env, null);
            } else {
                Path file = path(m, "file");
                if (file == null) {
                    if (value(m, "file") instanceof ScalarNode sc && sc.getTag() == Tag.NULL) {
                        problem(value(m, "file"), "empty path for 'file'");
                    }
                    return null;
                }
                String refused = secrets.fileProblem(file);
                if (refused != null) {
                    problem(value(m, "file"), key + ": " + refused);
                    return null;
                }
                ref = new SecretRef(null, file);
            }
            String why = ref.problem(environment);
            if (why != null) {
                problem(m.values().iterator().next().getValueNode(), key + ": " + why);
            }
            return ref;
        }

        private ClusterSettings.KubeconfigSettings kubeconfig(NodeTuple tuple) {
            Map<String, NodeTuple> k = tuple == null ? Map.of() : mapping(tuple.getValueNode(), "cluster.kubeconfig",
                    KUBECONFIG_KEYS);
            if (k == null) {
                k = Map.of();
            }
            Path path = path(k, "path");
            String context = string(k, "context");
            if (context != null && !NO_SPACE.matcher(context).matches()) {
                problem(value(k, "context"), "bad context name '" + context + "': no spaces");
            }
            Boolean merge = bool(k, "merge");
            return new ClusterSettings.KubeconfigSettings(path != null ? path : resolve(DEFAULT_KUBECONFIG),
                    context != null ? context : DEFAULT_CONTEXT, merge != null && merge);
        }

        private SshSettings ssh(Node node, String where) {
            Map<String, NodeTuple> s = mapping(node, where, SSH_KEYS);
            if (s == null) {
                return null;
            }
            String user = string(s, "user");
            Integer port = null;
            if (s.containsKey("port")) {
                Node v = value(s, "port");
                String text = v instanceof ScalarNode sc ? sc.getValue() : "";
                if (v instanceof ScalarNode sc && sc.getTag() == Tag.INT && text.matches("\\d{1,5}")
                        && Integer.parseInt(text) >= 1 && Integer.parseInt(text) <= 65535) {
                    port = Integer.parseInt(text);
                } else {
                    problem(v, "bad port " + shown(v) + ": it must be a number from 1 to 65535");
                }
            }
            HostKeyChecking strict = null;
            if (s.containsKey("strictHostKeyChecking")) {
                Node v = value(s, "strictHostKeyChecking");
                String text = v instanceof ScalarNode sc ? sc.getValue().toLowerCase(Locale.ROOT) : "";
                // YAML 1.1 reads a bare yes / no as true / false: both spellings mean the same here
                strict = switch (text) {
                    case "yes", "true" -> HostKeyChecking.YES;
                    case "no", "false", "off" -> HostKeyChecking.NO;
                    case "accept-new" -> HostKeyChecking.ACCEPT_NEW;
                    default -> {
                        problem(v, "bad strictHostKeyChecking " + shown(v) + ": use yes, accept-new or no");
                        yield null;
                    }
                };
            }
            String proxyJump = string(s, "proxyJump");
            if (proxyJump != null && !NO_SPACE.matcher(proxyJump).matches()) {
                problem(value(s, "proxyJump"), "bad proxyJump '" + proxyJump + "': write [user@]host[:port], comma-separated for several hops");
            }
            SecretRef sudoPassword = s.containsKey("sudoPassword") ? secret(value(s, "sudoPassword"), "sudoPassword") : null;
            return new SshSettings(user, path(s, "key"), port, path(s, "knownHosts"), strict, proxyJump,
                    duration(s, "connectTimeout"), path(s, "sshConfig"), sudoPassword);
        }

        private List<HostSpec> hosts(NodeTuple tuple, Node root, SshSettings defaults) {
            if (tuple == null) {
                problem(root, "missing key 'hosts': list the hosts, at least one with role: server");
                return List.of();
            }
            Node v = tuple.getValueNode();
            if (!(v instanceof SequenceNode seq)) {
                problem(v, "expected a list of hosts for 'hosts', got " + kind(v));
                return List.of();
            }
            if (seq.getValue().isEmpty()) {
                problem(v, "hosts is empty: list the hosts, at least one with role: server");
                return List.of();
            }
            List<HostSpec> hosts = new ArrayList<>();
            Map<String, Node> addresses = new HashMap<>();
            Map<String, Node> names = new HashMap<>();
            boolean invalidRole = false;
            boolean server = false;
            for (Node item : seq.getValue()) {
                Map<String, NodeTuple> h = mapping(item, "a host", HOST_KEYS);
                if (h == null) {
                    continue;
                }
                String address = string(h, "address");
                if (!h.containsKey("address")) {
                    problem(item, "missing key 'address' (the host's IP address or DNS name)");
                } else if (address == null || !NO_SPACE.matcher(address).matches()) {
                    problem(value(h, "address"), "bad address " + shown(value(h, "address")) + ": give an IP address or a DNS name");
                    address = null;
                }
                HostRole role = null;
                if (!h.containsKey("role")) {
                    problem(item, "missing key 'role' (server or agent)");
                    invalidRole = true;
                } else {
                    role = choice(h, "role", HostRole.values(), HostRole::label);
                    invalidRole |= role == null;
                    server |= role == HostRole.SERVER;
                }
                GpuMode gpu = h.containsKey("gpu") ? choice(h, "gpu", GpuMode.values(), GpuMode::label) : GpuMode.AUTO;
                String hostName = string(h, "name");
                if (hostName != null && !NO_SPACE.matcher(hostName).matches()) {
                    problem(value(h, "name"), "bad name '" + hostName + "': no spaces");
                    hostName = null;
                }
                SshSettings own = h.containsKey("ssh") ? ssh(value(h, "ssh"), "ssh") : SshSettings.NONE;
                SshSettings effective = (own == null ? SshSettings.NONE : own).over(defaults);
                boolean duplicateAddress = false;
                if (address != null) {
                    String where = address + ":" + (effective.port() == null ? 22 : effective.port());
                    Node first = addresses.putIfAbsent(where, value(h, "address"));
                    if (first != null) {
                        duplicateAddress = true;
                        problem(value(h, "address"), "duplicate address '" + address + "' (also the host at line "
                                + (first.getStartMark().getLine() + 1) + ")");
                    }
                }
                String effectiveName = hostName != null ? hostName : address;
                if (effectiveName != null) {
                    Node at = hostName != null ? value(h, "name") : value(h, "address");
                    Node first = names.putIfAbsent(effectiveName, at);
                    if (first != null && !(hostName == null && duplicateAddress)) {
                        problem(at, "duplicate name '" + effectiveName + "' (also the host at line "
                                + (first.getStartMark().getLine() + 1) + ")"
                                + (hostName == null ? ": give each host a name" : ""));
                    }
                }
                Map<String, String> labels = labels(h);
                List<Taint> taints = taints(h);
                if (address != null && role != null && gpu != null) {
                    hosts.add(new HostSpec(effectiveName, address, role, gpu, labels, taints, effective,
                            item.getStartMark().getLine() + 1));
                }
            }
            if (!invalidRole && !server) {
                problem(tuple.getKeyNode(), "no server: at least one host needs role: server (the first one starts the cluster)");
            }
            return hosts;
        }

        private Map<String, String> labels(Map<String, NodeTuple> h) {
            if (!h.containsKey("labels")) {
                return Map.of();
            }
            Map<String, NodeTuple> l = mapping(value(h, "labels"), "labels", null);
            Map<String, String> out = new LinkedHashMap<>();
            if (l == null) {
                return out;
            }
            l.forEach((k, t) -> {
                if (!labelKey(k)) {
                    problem(t.getKeyNode(), "bad label key '" + k + "': [prefix/]name, the name at most 63 of "
                            + "letters, digits, '-', '_', '.', starting and ending alphanumeric");
                } else if (RESERVED_LABELS.contains(k) || k.startsWith("k3gpu.dev/")) {
                    problem(t.getKeyNode(), "label '" + k + "' is k3gpu's own: it is set from the node's facts");
                }
                Node v = t.getValueNode();
                if (!(v instanceof ScalarNode s)) {
                    problem(v, "expected a string for label '" + k + "', got " + kind(v));
                    return;
                }
                String text = s.getTag() == Tag.NULL ? "" : s.getValue();
                if (!text.isEmpty() && !LABEL_NAME.matcher(text).matches()) {
                    problem(v, "bad label value '" + text + "' for '" + k + "': at most 63 of letters, digits, "
                            + "'-', '_', '.', starting and ending alphanumeric");
                }
                out.put(k, text);
            });
            return out;
        }

        private List<Taint> taints(Map<String, NodeTuple> h) {
            if (!h.containsKey("taints")) {
                return List.of();
            }
            Node v = value(h, "taints");
            if (!(v instanceof SequenceNode seq)) {
                problem(v, "expected a list for 'taints' (e.g. [\"dedicated=gpu:NoSchedule\"]), got " + kind(v));
                return List.of();
            }
            List<Taint> out = new ArrayList<>();
            Map<String, Node> seen = new HashMap<>();
            for (Node item : seq.getValue()) {
                String text = item instanceof ScalarNode s ? s.getValue() : null;
                var taint = Taint.parse(text);
                if (taint.isEmpty() || !labelKey(taint.get().key())
                        || (taint.get().value() != null && !LABEL_NAME.matcher(taint.get().value()).matches())) {
                    problem(item, "bad taint " + shown(item) + ": write key=value:Effect or key:Effect, the effect one of "
                            + String.join(", ", Taint.EFFECTS));
                    continue;
                }
                Node first = seen.putIfAbsent(taint.get().id(), item);
                if (first != null) {
                    problem(item, "duplicate taint '" + taint.get().id() + "' (a node has one taint per key and effect)");
                    continue;
                }
                out.add(taint.get());
            }
            return out;
        }

        // ---- values

        /**
         * The mapping's entries by key (first occurrence), reporting non-mappings, non-scalar keys, duplicate keys
         * and keys outside {@code allowed} (null: any key); null when {@code node} is not a mapping.
         */
        private Map<String, NodeTuple> mapping(Node node, String what, List<String> allowed) {
            if (node instanceof ScalarNode s && s.getTag() == Tag.NULL) {
                return new LinkedHashMap<>();
            }
            if (!(node instanceof MappingNode m)) {
                problem(node, "expected a mapping for " + what + ", got " + kind(node));
                return null;
            }
            Map<String, NodeTuple> out = new LinkedHashMap<>();
            for (NodeTuple t : m.getValue()) {
                Node k = t.getKeyNode();
                if (!(k instanceof ScalarNode ks)) {
                    problem(k, "expected a plain key in " + what + ", got " + kind(k));
                    continue;
                }
                String key = ks.getValue();
                if (out.containsKey(key)) {
                    problem(k, "duplicate key '" + key + "' (first at line "
                            + (out.get(key).getKeyNode().getStartMark().getLine() + 1) + ")");
                    continue;
                }
                if (allowed != null && !allowed.contains(key)) {
                    problem(k, unknownKey(key, what, allowed));
                    continue;
                }
                out.put(key, t);
            }
            return out;
        }

        private static String unknownKey(String key, String what, List<String> allowed) {
            String s = suggest(key, allowed);
            if (s != null) {
                return "unknown key '" + key + "' (did you mean '" + s + "'?)";
            }
            for (Map.Entry<String, List<String>> e : SECTIONS.entrySet()) {
                if (!e.getValue().equals(allowed) && e.getValue().contains(key)) {
                    return "unknown key '" + key + "' in " + what + " ('" + key + "' belongs in " + e.getKey() + ")";
                }
            }
            return "unknown key '" + key + "' in " + what + " (known: " + String.join(", ", allowed) + ")";
        }

        private static Node value(Map<String, NodeTuple> m, String key) {
            return m.get(key).getValueNode();
        }

        /** A scalar as a string; null when absent or null (reporting what is not a scalar). */
        private String string(Map<String, NodeTuple> m, String key) {
            NodeTuple t = m.get(key);
            if (t == null) {
                return null;
            }
            Node v = t.getValueNode();
            if (!(v instanceof ScalarNode s)) {
                problem(v, "expected a string for '" + key + "', got " + kind(v));
                return null;
            }
            return s.getTag() == Tag.NULL ? null : s.getValue();
        }

        private Boolean bool(Map<String, NodeTuple> m, String key) {
            NodeTuple t = m.get(key);
            if (t == null) {
                return null;
            }
            Node v = t.getValueNode();
            if (v instanceof ScalarNode s && s.getTag() == Tag.BOOL) {
                return switch (s.getValue().toLowerCase(Locale.ROOT)) {
                    case "true", "yes", "on", "y" -> true;
                    default -> false;
                };
            }
            problem(v, "expected true or false for '" + key + "', got " + shown(v));
            return null;
        }

        private Duration duration(Map<String, NodeTuple> m, String key) {
            String text = string(m, key);
            if (text == null) {
                return null;
            }
            try {
                Duration d = Durations.parse(key, text);
                if (d.isZero()) {
                    problem(value(m, key), "bad duration '" + text + "' for " + key + ": it must be more than 0");
                    return null;
                }
                return d;
            } catch (K3gpuException e) {
                problem(value(m, key), "bad duration '" + text + "' for " + key + ": write it like 500ms, 10s, 2m or 1h30m");
                return null;
            }
        }

        private Path path(Map<String, NodeTuple> m, String key) {
            String text = string(m, key);
            if (text == null) {
                return null;
            }
            if (text.isBlank()) {
                problem(value(m, key), "empty path for '" + key + "'");
                return null;
            }
            return resolve(text);
        }

        private Path resolve(String text) {
            if (text.equals("~") || text.startsWith("~/")) {
                return Path.of(System.getProperty("user.home") + text.substring(1));
            }
            Path p = Path.of(text);
            return p.isAbsolute() || baseDir == null ? p : baseDir.resolve(p).normalize();
        }

        /** A string or a list of strings. */
        private List<String> stringList(Map<String, NodeTuple> m, String key) {
            NodeTuple t = m.get(key);
            if (t == null) {
                return List.of();
            }
            Node v = t.getValueNode();
            if (v instanceof ScalarNode s) {
                return s.getTag() == Tag.NULL ? List.of() : List.of(s.getValue());
            }
            if (!(v instanceof SequenceNode seq)) {
                problem(v, "expected a list of strings for '" + key + "', got " + kind(v));
                return List.of();
            }
            List<String> out = new ArrayList<>();
            for (Node item : seq.getValue()) {
                if (item instanceof ScalarNode s && s.getTag() != Tag.NULL) {
                    out.add(s.getValue());
                } else {
                    problem(item, "expected a string in '" + key + "', got " + kind(item));
                }
            }
            return out;
        }

        private <E extends Enum<E>> E choice(Map<String, NodeTuple> m, String key, E[] values,
                                             java.util.function.Function<E, String> label) {
            Node v = value(m, key);
            String text = v instanceof ScalarNode s ? s.getValue() : null;
            for (E e : values) {
                if (label.apply(e).equals(text)) {
                    return e;
                }
            }
            List<String> names = new ArrayList<>();
            for (E e : values) {
                names.add(label.apply(e));
            }
            String options = names.size() == 2 ? names.get(0) + " or " + names.get(1)
                    : String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
            problem(v, "bad " + key + " " + shown(v) + ": use " + options);
            return null;
        }

        private static String shown(Node v) {
            if (v instanceof ScalarNode s) {
                return "'" + s.getValue() + "'";
            }
            return "(" + kind(v) + ")";
        }

        private static String kind(Node v) {
            if (v instanceof MappingNode) {
                return "a mapping";
            }
            if (v instanceof SequenceNode) {
                return "a list";
            }
            ScalarNode s = (ScalarNode) v;
            if (s.getTag() == Tag.NULL) {
                return "nothing";
            }
            if (s.getTag() == Tag.INT || s.getTag() == Tag.FLOAT) {
                return "the number " + s.getValue();
            }
            if (s.getTag() == Tag.BOOL) {
                return s.getValue();
            }
            return "'" + s.getValue() + "'";
        }

        private static boolean labelKey(String key) {
            int slash = key.indexOf('/');
            String prefix = slash < 0 ? null : key.substring(0, slash);
            String n = slash < 0 ? key : key.substring(slash + 1);
            return LABEL_NAME.matcher(n).matches()
                    && (prefix == null || prefix.length() <= 253 && DNS_SUBDOMAIN.matcher(prefix).matches());
        }
    }
}
