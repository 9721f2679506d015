package io.k3gpu.lab.k3s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * {@code k3s server}'s command line as K3s reads it: every real server flag is known (those the simulation does not
 * act on are accepted and ignored), an unknown one is refused with Go's {@code flag provided but not defined: -foo};
 * {@code /etc/rancher/k3s/config.yaml} and {@code config.yaml.d/*.yaml} are turned into flags placed before the
 * command line's, as K3s's configfilearg does, so a command-line value wins for single-valued flags and list flags
 * collect both; {@code K3S_*} environment variables fill flags that neither set.
 */
public final class K3sFlags {
    enum Type { BOOL, STRING, SLICE }

    record Flag(String name, Type type, String env, List<String> aliases) {
    }

    /** Raised for a command line K3s would refuse; its message is K3s's. */
    public static final class UsageException extends RuntimeException {
        public UsageException(String message) {
            super(message);
        }
    }

    private static final Map<String, Flag> FLAGS = new LinkedHashMap<>();

    private static void flag(String name, Type type, String env, String... aliases) {
        Flag f = new Flag(name, type, env, List.of(aliases));
        FLAGS.put(name, f);
        for (String a : aliases) {
            FLAGS.put(a, f);
        }
    }

    static {
        // acted on
        flag("config", Type.STRING, "K3S_CONFIG_FILE", "c");
        flag("debug", Type.BOOL, "K3S_DEBUG");
        flag("log", Type.STRING, null, "l");
        flag("alsologtostderr", Type.BOOL, null);
        flag("bind-address", Type.STRING, null);
        flag("https-listen-port", Type.STRING, null);
        flag("advertise-address", Type.STRING, null);
        flag("tls-san", Type.SLICE, null);
        flag("data-dir", Type.STRING, "K3S_DATA_DIR", "d");
        flag("write-kubeconfig", Type.STRING, "K3S_KUBECONFIG_OUTPUT", "o");
        flag("write-kubeconfig-mode", Type.STRING, "K3S_KUBECONFIG_MODE");
        flag("token", Type.STRING, "K3S_TOKEN", "t");
        flag("token-file", Type.STRING, "K3S_TOKEN_FILE");
        flag("agent-token", Type.STRING, "K3S_AGENT_TOKEN");
        flag("agent-token-file", Type.STRING, "K3S_AGENT_TOKEN_FILE");
        flag("server", Type.STRING, "K3S_URL", "s");
        flag("cluster-init", Type.BOOL, "K3S_CLUSTER_INIT");
        flag("disable", Type.SLICE, null);
        flag("disable-agent", Type.BOOL, null);
        flag("node-name", Type.STRING, "K3S_NODE_NAME");
        flag("node-label", Type.SLICE, null);
        flag("node-taint", Type.SLICE, null);
        flag("docker", Type.BOOL, null);
        flag("default-runtime", Type.STRING, null);
        flag("node-ip", Type.SLICE, null, "i");
        flag("node-external-ip", Type.SLICE, null);
        flag("etc-root", Type.STRING, null); // lab only: prefix for /etc/rancher and /var/lib/rancher
        flag("k3s-version", Type.STRING, "K3GPU_LAB_K3S_VERSION"); // lab only: what INSTALL_K3S_VERSION picked
        flag("k3s-commit", Type.STRING, "K3GPU_LAB_K3S_COMMIT"); // lab only: the commit of that release
        // accepted, not simulated
        flag("v", Type.STRING, null);
        flag("vmodule", Type.STRING, null);
        for (String s : List.of("advertise-port", "service-node-port-range", "cluster-domain", "flannel-backend",
                "egress-selector-mode", "servicelb-namespace", "write-kubeconfig-group", "helm-job-image",
                "cluster-reset-restore-path", "datastore-endpoint", "datastore-cafile", "datastore-certfile",
                "datastore-keyfile", "etcd-snapshot-name", "etcd-snapshot-schedule-cron", "etcd-snapshot-retention",
                "etcd-snapshot-dir", "etcd-s3-endpoint", "etcd-s3-endpoint-ca", "etcd-s3-access-key",
                "etcd-s3-secret-key", "etcd-s3-bucket", "etcd-s3-region", "etcd-s3-folder", "etcd-s3-proxy",
                "etcd-s3-config-secret", "etcd-s3-timeout", "default-local-storage-path", "container-runtime-endpoint",
                "image-service-endpoint", "pause-image", "snapshotter", "private-registry", "system-default-registry",
                "resolv-conf", "flannel-iface", "flannel-conf", "flannel-cni-conf-file", "vpn-auth", "vpn-auth-file",
                "image-credential-provider-bin-dir", "image-credential-provider-config", "lb-server-port",
                "airgap-extra-registry", "node-internal-dns", "node-external-dns", "kine-tls")) {
            flag(s, Type.STRING, null);
        }
        for (String s : List.of("cluster-cidr", "service-cidr", "cluster-dns", "kube-apiserver-arg", "etcd-arg",
                "kube-controller-manager-arg", "kube-scheduler-arg", "kube-cloud-controller-manager-arg",
                "kubelet-arg", "kube-proxy-arg")) {
            flag(s, Type.SLICE, null);
        }
        for (String s : List.of("tls-san-security", "flannel-ipv6-masq", "flannel-external-ip", "cluster-reset",
                "etcd-expose-metrics", "etcd-disable-snapshots", "etcd-snapshot-compress", "etcd-s3",
                "etcd-s3-insecure", "etcd-s3-skip-ssl-verify", "disable-scheduler", "disable-cloud-controller",
                "disable-kube-proxy", "disable-network-policy", "disable-helm-controller", "disable-apiserver",
                "disable-controller-manager", "disable-etcd", "embedded-registry", "supervisor-metrics",
                "with-node-id", "disable-default-registry-endpoint", "nonroot-devices", "protect-kernel-defaults",
                "secrets-encryption", "enable-pprof", "rootless", "prefer-bundled-bin", "selinux")) {
            flag(s, Type.BOOL, null);
        }
    }

    /** The parsed values, by canonical flag name; list flags hold every value, others their last. */
    public record Parsed(Map<String, List<String>> values, List<String> commandLine) {
        String string(String name) {
            List<String> v = values.get(name);
            return v == null || v.isEmpty() ? null : v.get(v.size() - 1);
        }

        List<String> list(String name) {
            return values.getOrDefault(name, List.of());
        }

        boolean bool(String name) {
            String v = string(name);
            return v != null && Boolean.parseBoolean(v);
        }

        boolean has(String name) {
            return values.containsKey(name);
        }
    }

    private K3sFlags() {
    }

    /**
     * Parses {@code k3s server}'s arguments (without the word {@code server}).
     *
     * @param env   the environment ({@code K3S_*})
     * @param files reads a file's text, or null when it does not exist
     */
    public static Parsed parse(List<String> args, Map<String, String> env, Function<Path, String> files) {
        Map<String, List<String>> cli = scan(args, true);
        String etcRoot = last(cli.get("etc-root"));
        Path root = etcRoot == null ? Path.of("/") : Path.of(etcRoot);
        String configPath = last(cli.get("config"));
        if (configPath == null) {
            configPath = env.get("K3S_CONFIG_FILE");
        }
        Path config = configPath != null ? Path.of(configPath) : root.resolve("etc/rancher/k3s/config.yaml");
        List<String> fromConfig = configArgs(config, configPath != null, files);
        List<String> all = new ArrayList<>(fromConfig);
        all.addAll(args);
        Map<String, List<String>> values = scan(all, false);
        for (Flag f : FLAGS.values()) {
            if (f.env() != null && !values.containsKey(f.name())) {
                String v = env.get(f.env());
                if (v != null && !v.isEmpty()) {
                    values.put(f.name(), new ArrayList<>(List.of(v)));
                }
            }
        }
        return new Parsed(values, List.copyOf(args));
    }

    /** Options from parsed flags (token files are read when the server starts). */
    public static K3sServerOptions toOptions(Parsed p) {
        K3sServerOptions o = K3sServerOptions.defaults();
        if (p.string("etc-root") != null) {
            o.etcRoot(Path.of(p.string("etc-root")));
        }
        if (p.string("data-dir") != null) {
            o.dataDir(Path.of(p.string("data-dir")));
        }
        if (p.string("write-kubeconfig") != null) {
            o.writeKubeconfig(Path.of(p.string("write-kubeconfig")));
        }
        o.writeKubeconfigMode(p.string("write-kubeconfig-mode"));
        if (p.string("bind-address") != null) {
            o.bindAddress(p.string("bind-address"));
        }
        if (p.string("https-listen-port") != null) {
            try {
                o.httpsListenPort(Integer.parseInt(p.string("https-listen-port")));
            } catch (NumberFormatException e) {
                throw new UsageException("invalid value \"" + p.string("https-listen-port")
                        + "\" for flag -https-listen-port: parse error");
            }
        }
        o.advertiseAddress(p.string("advertise-address"));
        o.token(p.string("token"));
        if (p.string("token-file") != null) {
            o.tokenFile(Path.of(p.string("token-file")));
        }
        o.agentToken(p.string("agent-token"));
        if (p.string("agent-token-file") != null) {
            o.agentTokenFile(Path.of(p.string("agent-token-file")));
        }
        split(p.list("tls-san")).forEach(o::tlsSan);
        o.nodeName(p.string("node-name"));
        split(p.list("node-ip")).forEach(o::nodeIp);
        split(p.list("node-external-ip")).forEach(o::nodeExternalIp);
        p.list("node-label").forEach(o::nodeLabel);
        p.list("node-taint").forEach(o::nodeTaint);
        o.docker(p.bool("docker"));
        o.defaultRuntime(p.string("default-runtime"));
        o.clusterInit(p.bool("cluster-init"));
        o.server(p.string("server"));
        o.disableAgent(p.bool("disable-agent"));
        o.disableHelmController(p.bool("disable-helm-controller"));
        split(p.list("disable")).forEach(o::disable);
        o.debug(p.bool("debug"));
        if (p.string("k3s-version") != null) {
            o.version(p.string("k3s-version"));
        }
        if (p.string("k3s-commit") != null) {
            o.commit(p.string("k3s-commit"));
        }
        o.nodeArgs(redacted(p.commandLine()));
        o.agentFlags(EmbeddedAgent.agentFlags(p));
        return o;
    }

    /** The command line as K3s records it in the k3s.io/node-args annotation: secrets replaced by ********. */
    static List<String> redacted(List<String> args) {
        List<String> out = new ArrayList<>();
        out.add("server");
        boolean hideNext = false;
        for (String a : args) {
            if (hideNext) {
                out.add("********");
                hideNext = false;
                continue;
            }
            String name = a.replaceFirst("^--?", "");
            int eq = name.indexOf('=');
            String bare = eq >= 0 ? name.substring(0, eq) : name;
            boolean secret = bare.equals("token") || bare.equals("t") || bare.equals("agent-token");
            if (secret && eq >= 0) {
                out.add(a.substring(0, a.indexOf('=') + 1) + "********");
            } else {
                out.add(a);
                hideNext = secret && a.startsWith("-");
            }
        }
        return out;
    }

    private static List<String> split(Collection<String> values) {
        return values.stream().flatMap(v -> Stream.of(v.split(","))).map(String::strip).filter(s -> !s.isEmpty())
                .toList();
    }

    private static String last(List<String> v) {
        return v == null || v.isEmpty() ? null : v.get(v.size() - 1);
    }

    private static Map<String, List<String>> scan(List<String> args, boolean lenient) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--")) {
                break;
            }
            if (!a.startsWith("-") || a.equals("-")) {
                if (lenient) {
                    continue;
                }
                throw new UsageException("unexpected argument \"" + a + "\"");
            }
            String body = a.startsWith("--") ? a.substring(2) : a.substring(1);
            String value = null;
            int eq = body.indexOf('=');
            if (eq >= 0) {
                value = body.substring(eq + 1);
                body = body.substring(0, eq);
            }
            Flag f = FLAGS.get(body);
            if (f == null) {
                if (lenient) {
                    continue;
                }
                throw new UsageException("flag provided but not defined: -" + body);
            }
            if (f.type() == Type.BOOL) {
                if (value == null) {
                    value = "true";
                } else if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")
                        && !value.equals("1") && !value.equals("0")) {
                    throw new UsageException("invalid boolean value \"" + value + "\" for -" + body
                            + ": parse error");
                }
                value = String.valueOf(value.equalsIgnoreCase("true") || value.equals("1"));
            } else if (value == null) {
                if (i + 1 >= args.size()) {
                    if (lenient) {
                        continue;
                    }
                    throw new UsageException("flag needs an argument: -" + body);
                }
                value = args.get(++i);
            }
            List<String> list = values.computeIfAbsent(f.name(), k -> new ArrayList<>());
            if (f.type() != Type.SLICE) {
                list.clear();
            }
            list.add(value);
        }
        return values;
    }

    /** config.yaml then config.yaml.d/*.yaml (sorted), as flags; {@code key+:} appends in drop-ins. */
    static List<String> configArgs(Path config, boolean explicit, Function<Path, String> files) {
        Map<String, Object> merged = new LinkedHashMap<>();
        String main = files.apply(config);
        if (main == null && explicit) {
            throw new UsageException("open " + config + ": no such file or directory");
        }
        if (main != null) {
            mergeYaml(merged, main, config);
        }
        Path dropins = Path.of(config + ".d");
        if (Files.isDirectory(dropins)) {
            try (Stream<Path> s = Files.list(dropins)) {
                for (Path p : s.filter(x -> x.toString().endsWith(".yaml") || x.toString().endsWith(".yml"))
                        .sorted().toList()) {
                    String text = files.apply(p);
                    if (text != null) {
                        mergeYaml(merged, text, p);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : merged.entrySet()) {
            Flag f = FLAGS.get(e.getKey());
            if (f == null) {
                continue; // K3s shares one config file between server and agent and skips keys it does not know
            }
            if (e.getValue() instanceof List<?> list) {
                for (Object v : list) {
                    out.add("--" + f.name() + "=" + scalar(v));
                }
            } else if (e.getValue() != null) {
                out.add("--" + f.name() + "=" + scalar(e.getValue()));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void mergeYaml(Map<String, Object> merged, String text, Path source) {
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (RuntimeException e) {
            throw new UsageException("failed to parse " + source + ": " + e.getMessage().lines().findFirst()
                    .orElse("invalid YAML"));
        }
        if (doc == null) {
            return;
        }
        if (!(doc instanceof Map<?, ?> map)) {
            throw new UsageException("failed to parse " + source + ": not a YAML mapping");
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            Object value = e.getValue();
            if (key.endsWith("+")) {
                key = key.substring(0, key.length() - 1);
                List<Object> list = new ArrayList<>();
                Object prior = merged.get(key);
                if (prior instanceof List<?> l) {
                    list.addAll((List<Object>) l);
                } else if (prior != null) {
                    list.add(prior);
                }
                if (value instanceof List<?> l) {
                    list.addAll(l);
                } else {
                    list.add(value);
                }
                merged.put(key, list);
            } else {
                merged.put(key, value);
            }
        }
    }

    private static String scalar(Object v) {
        return v instanceof Boolean b ? b.toString().toLowerCase(Locale.ROOT) : String.valueOf(v);
    }
}
