package io.k3gpu.core.kube;

import io.fabric8.kubernetes.api.model.AuthInfo;
import io.fabric8.kubernetes.api.model.Cluster;
import io.fabric8.kubernetes.api.model.Config;
import io.fabric8.kubernetes.api.model.Context;
import io.fabric8.kubernetes.api.model.NamedAuthInfo;
import io.fabric8.kubernetes.api.model.NamedCluster;
import io.fabric8.kubernetes.api.model.NamedContext;
import io.fabric8.kubernetes.api.model.Preferences;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * fabric8's model of a kubeconfig, read from the YAML parser's maps for the common kubeconfig (a server with its CA,
 * a client certificate and key or a token or a password, contexts with a namespace) without Jackson: a Jackson mapper
 * and its deserializers for the model were a third of a {@code nodes} run's CPU (docs/benchmarks.md, "Start-up"),
 * and {@code nodes} needs Jackson for nothing else. Whatever else a kubeconfig holds (exec or auth-provider
 * credentials, impersonation, extensions, a null, a value of another type, a key of its own) is not read here: then
 * {@link #read} is empty and fabric8 reads it. The YAML parser is snakeyaml-engine with default settings, as in
 * fabric8's {@code KubernetesSerialization}; Fabric8ConfigTest compares both reads.
 */
final class KubeconfigModel {
    private KubeconfigModel() {
    }

    /** Something this reader leaves to fabric8. */
    private static final class Unmapped extends RuntimeException {
        Unmapped() {
            super(null, null, false, false);
        }
    }

    static Optional<Config> read(String yaml) {
        try {
            return Optional.of(config(new Load(LoadSettings.builder().build()).loadFromString(yaml)));
        } catch (RuntimeException e) {
            return Optional.empty(); // not mapped here, or not valid YAML: fabric8 reads it (and reports what is wrong)
        }
    }

    private static Config config(Object root) {
        Config c = new Config();
        fields(root, Map.of(
                "apiVersion", v -> c.setApiVersion(string(v)),
                "kind", v -> c.setKind(string(v)),
                "current-context", v -> c.setCurrentContext(string(v)),
                "preferences", v -> c.setPreferences(preferences(v)),
                "clusters", v -> c.setClusters(list(v, KubeconfigModel::cluster)),
                "contexts", v -> c.setContexts(list(v, KubeconfigModel::context)),
                "users", v -> c.setUsers(list(v, KubeconfigModel::user))));
        return c;
    }

    private static Preferences preferences(Object v) {
        Preferences p = new Preferences();
        fields(v, Map.of("colors", x -> p.setColors(bool(x))));
        return p;
    }

    private static NamedCluster cluster(Object v) {
        NamedCluster n = new NamedCluster();
        fields(v, Map.of("name", x -> n.setName(string(x)), "cluster", x -> {
            Cluster c = new Cluster();
            fields(x, Map.of(
                    "server", y -> c.setServer(string(y)),
                    "certificate-authority", y -> c.setCertificateAuthority(string(y)),
                    "certificate-authority-data", y -> c.setCertificateAuthorityData(string(y)),
                    "insecure-skip-tls-verify", y -> c.setInsecureSkipTlsVerify(bool(y)),
                    "tls-server-name", y -> c.setTlsServerName(string(y)),
                    "proxy-url", y -> c.setProxyUrl(string(y)),
                    "disable-compression", y -> c.setDisableCompression(bool(y))));
            n.setCluster(c);
        }));
        return n;
    }

    private static NamedContext context(Object v) {
        NamedContext n = new NamedContext();
        fields(v, Map.of("name", x -> n.setName(string(x)), "context", x -> {
            Context c = new Context();
            fields(x, Map.of(
                    "cluster", y -> c.setCluster(string(y)),
                    "user", y -> c.setUser(string(y)),
                    "namespace", y -> c.setNamespace(string(y))));
            n.setContext(c);
        }));
        return n;
    }

    private static NamedAuthInfo user(Object v) {
        NamedAuthInfo n = new NamedAuthInfo();
        fields(v, Map.of("name", x -> n.setName(string(x)), "user", x -> {
            AuthInfo a = new AuthInfo();
            fields(x, Map.of(
                    "client-certificate", y -> a.setClientCertificate(string(y)),
                    "client-certificate-data", y -> a.setClientCertificateData(string(y)),
                    "client-key", y -> a.setClientKey(string(y)),
                    "client-key-data", y -> a.setClientKeyData(string(y)),
                    "token", y -> a.setToken(string(y)),
                    "tokenFile", y -> a.setTokenFile(string(y)),
                    "username", y -> a.setUsername(string(y)),
                    "password", y -> a.setPassword(string(y))));
            n.setUser(a);
        }));
        return n;
    }

    /** A mapping whose every key is one of {@code known}, each value handed to its setter; anything else: Unmapped. */
    private static void fields(Object v, Map<String, Consumer<Object>> known) {
        if (!(v instanceof Map<?, ?> m)) {
            throw new Unmapped();
        }
        Set<String> keys = known.keySet();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String k) || !keys.contains(k) || e.getValue() == null) {
                throw new Unmapped();
            }
        }
        m.forEach((k, x) -> known.get((String) k).accept(x));
    }

    private static <T> List<T> list(Object v, Function<Object, T> item) {
        if (!(v instanceof List<?> l)) {
            throw new Unmapped();
        }
        List<T> out = new ArrayList<>();
        for (Object x : l) {
            out.add(item.apply(x));
        }
        return out;
    }

    private static String string(Object v) {
        if (v instanceof String s) {
            return s;
        }
        throw new Unmapped();
    }

    private static Boolean bool(Object v) {
        if (v instanceof Boolean b) {
            return b;
        }
        throw new Unmapped();
    }
}
