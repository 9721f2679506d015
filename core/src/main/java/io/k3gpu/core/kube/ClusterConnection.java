package io.k3gpu.core.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.internal.CertUtils;
import io.fabric8.kubernetes.client.internal.KubeConfigUtils;
import io.fabric8.kubernetes.client.internal.SSLUtils;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.client.utils.Utils;
import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import tools.jackson.databind.json.JsonMapper;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * How a client reaches one cluster: the fabric8 {@link Config} read from a kubeconfig, and fabric8's HTTP client for
 * it, made cheaper for a command that runs for a second (docs/benchmarks.md, "Start-up") and stopped whole on close.
 */
final class ClusterConnection {
    private ClusterConnection() {
    }

    /**
     * What {@code Config.fromKubeconfig(context, yaml, null)} makes, without its one cost a short command notices:
     * fabric8 parses the kubeconfig with its shared serializer, whose model of the kubeconfig has a field that only
     * its polymorphic KubernetesDeserializer reads, and building that deserializer instantiates every model class it
     * finds through ServiceLoader (~700: 0.25-0.35 CPU-s of a `nodes` run with the JDK 25 AOT cache). Here the
     * kubeconfig is read by a serializer that does not scan (a kubeconfig holds no Kubernetes resources; the common
     * kubeconfig is read without Jackson at all: KubeconfigModel), then fabric8's own steps follow: its merge of the
     * context into an empty Config and its system property/environment overrides unless auto-configuration is off.
     * Fabric8ConfigTest compares both ways.
     */
    static Config config(String kubeconfigYaml, String context) {
        if (kubeconfigYaml == null || kubeconfigYaml.isEmpty()) {
            throw new KubernetesClientException("Could not create Config from kubeconfig");
        }
        io.fabric8.kubernetes.api.model.Config parsed = KubeconfigModel.read(kubeconfigYaml).orElseGet(() ->
                new KubernetesSerialization(JsonMapper.builder().build(), false)
                        .unmarshal(kubeconfigYaml, io.fabric8.kubernetes.api.model.Config.class));
        Config config = Config.empty();
        KubeConfigUtils.merge(config, context, parsed);
        if (!Utils.getSystemPropertyOrEnvVar(Config.KUBERNETES_DISABLE_AUTO_CONFIG_SYSTEM_PROPERTY, false)) {
            Config.configFromSysPropsOrEnvVars(config);
        }
        return config;
    }

    /**
     * fabric8's HTTP client for {@code config} (its timeouts, proxy, interceptors: authentication, retries), with
     * TLS as kubectl sets it up:
     * <ul>
     * <li>the client certificate's KeyManager made by {@link ClientKey} where it reads the key (fabric8's own costs a
     * quarter of a {@code nodes} run);</li>
     * <li>when the kubeconfig names a certificate authority, only that CA is trusted, as client-go does
     * ({@code rootCertPool}: a pool of the given certificates alone), where fabric8 merges it into the JDK's
     * {@code cacerts} (loading ~150 certificates for each run); without one, the JDK's own trust, as kubectl uses the
     * system's roots.</li>
     * </ul>
     * fabric8 configures its client in one step that also builds the KeyManager and TrustManagers, so that step runs
     * with the certificate left out of the Config and with trust-all TLS (both cheap), then the SSL context is set
     * again. The Config is restored before the client is built; its interceptors hold the real one. Anything this
     * does not read (key or trust store files, {@code insecure-skip-tls-verify}) stays fabric8's.
     */
    static HttpClient httpClient(Config config, StoppingFactory factory) {
        Optional<KeyManager[]> key = ClientKey.of(config);
        Optional<TrustManager[]> trust = caOnly(config);
        if (key.isEmpty() && trust.isEmpty()) {
            return factory.newBuilder(config).build();
        }
        String certData = config.getClientCertData();
        String certFile = config.getClientCertFile();
        String keyData = config.getClientKeyData();
        String keyFile = config.getClientKeyFile();
        boolean trustCerts = config.isTrustCerts();
        HttpClient.Builder builder;
        try {
            if (key.isPresent()) {
                config.setClientCertData(null);
                config.setClientCertFile(null);
                config.setClientKeyData(null);
                config.setClientKeyFile(null);
            }
            config.setTrustCerts(true);
            builder = factory.newBuilder(config);
        } finally {
            config.setClientCertData(certData);
            config.setClientCertFile(certFile);
            config.setClientKeyData(keyData);
            config.setClientKeyFile(keyFile);
            config.setTrustCerts(trustCerts);
        }
        try {
            builder.sslContext(key.isPresent() ? key.get() : SSLUtils.keyManagers(config),
                    trust.isPresent() ? trust.get() : SSLUtils.trustManagers(config));
        } catch (Exception e) {
            throw KubernetesClientException.launderThrowable(e);
        }
        return builder.build();
    }

    /**
     * TrustManagers that trust the kubeconfig's certificate authority alone, when it names one (data or file) and no
     * trust store or trust-all is configured. A CA that is not a certificate is an error, as kubectl's "unable to
     * load root certificates" (fabric8 would skip it and then fail the handshake).
     */
    static Optional<TrustManager[]> caOnly(Config config) {
        boolean ca = Utils.isNotNullOrEmpty(config.getCaCertData()) || Utils.isNotNullOrEmpty(config.getCaCertFile());
        if (!ca || config.isTrustCerts() || Utils.isNotNullOrEmpty(config.getTrustStoreFile())
                || Utils.isNotNullOrEmpty(System.getProperty("javax.net.ssl.trustStore"))) {
            return Optional.empty();
        }
        try {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(
                    CertUtils.getInputStreamFromDataOrFile(config.getCaCertData(), config.getCaCertFile()));
            if (certs.isEmpty()) {
                throw new java.security.cert.CertificateException("no certificate in it");
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate c : certs) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            return Optional.of(tmf.getTrustManagers());
        } catch (Exception e) {
            throw new K3gpuException(ExitCode.KUBERNETES, "the kubeconfig's certificate authority for "
                    + config.getMasterUrl() + " is not a PEM certificate (" + e.getMessage() + ")",
                    "copy the kubeconfig again from the server's /etc/rancher/k3s/k3s.yaml (k3gpu install "
                            + "--local-path FILE does)", e);
        }
    }

    /**
     * fabric8's JDK HTTP client factory that keeps the JDK clients it builds, so that {@link #stop} can end their
     * selector threads once everything of a connection is closed. fabric8's close only stops the client's executor
     * and leaves the selector blocked in epoll_wait, a native call: HotSpot's exit then waits 300 ms for it
     * (VM_Exit::wait_for_threads_in_native_to_block, 30 x 10 ms), a third of a {@code nodes} run. JDK 21+ stop it
     * with {@code shutdownNow}; JDK 17-20 have no such call, and there the selector thread of that client (named
     * "HttpClient-ID-SelectorManager" after the id its toString ends with) is interrupted, which wakes its select and
     * ends its loop. A thread not found or not ending in time only costs the exit its wait.
     */
    static final class StoppingFactory extends JdkHttpClientFactory {
        private static final MethodHandle SHUTDOWN_NOW = handle("shutdownNow", MethodType.methodType(void.class));
        private static final MethodHandle AWAIT = handle("awaitTermination",
                MethodType.methodType(boolean.class, Duration.class));
        /** Bounds the wait for a selector thread to end after shutdownNow (it ends within milliseconds). */
        private static final Duration STOP_WAIT = Duration.ofMillis(200);
        private final List<java.net.http.HttpClient> built = new ArrayList<>();

        private static MethodHandle handle(String name, MethodType type) {
            try {
                return MethodHandles.publicLookup().findVirtual(java.net.http.HttpClient.class, name, type);
            } catch (ReflectiveOperationException e) {
                return null; // JDK 17-20
            }
        }

        @Override
        protected java.net.http.HttpClient.Builder createNewHttpClientBuilder() {
            return new Recording(super.createNewHttpClientBuilder());
        }

        /** Ends every JDK client built here: call it after fabric8's clients on them are closed. */
        void stop() {
            List<java.net.http.HttpClient> clients;
            synchronized (built) {
                clients = List.copyOf(built);
                built.clear();
            }
            for (java.net.http.HttpClient c : clients) {
                try {
                    if (SHUTDOWN_NOW != null) {
                        SHUTDOWN_NOW.invoke(c);
                        AWAIT.invoke(c, STOP_WAIT);
                    } else {
                        interruptSelector(c);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (Throwable e) {
                    return; // stopping is an optimisation: fabric8 has closed the client either way
                }
            }
        }

        private static void interruptSelector(java.net.http.HttpClient c) throws InterruptedException {
            java.util.regex.Matcher id = java.util.regex.Pattern.compile("\\((\\d+)\\)$").matcher(c.toString());
            if (!id.find()) {
                return;
            }
            String name = "HttpClient-" + id.group(1) + "-SelectorManager";
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().equals(name)) {
                    t.interrupt();
                    t.join(STOP_WAIT.toMillis());
                }
            }
        }

        /** Hands every JDK client it builds to the factory, so that close can stop it. */
        private final class Recording implements java.net.http.HttpClient.Builder {
            private final java.net.http.HttpClient.Builder b;

            Recording(java.net.http.HttpClient.Builder b) {
                this.b = b;
            }

            @Override
            public java.net.http.HttpClient.Builder cookieHandler(CookieHandler h) {
                b.cookieHandler(h);
                return this;
            }

            @Override
            public java.net.http.HttpClient.Builder connectTimeout(Duration d) {
                b.connectTimeout(d);
                return this;
            }

            @Override
            public java.net.http.HttpClient.Builder sslContext(SSLContext c) {
                b.sslContext(c);
                return this;
            }

            @Override
            public java.net.http.HttpClient.Builder sslParameters(SSLParameters p) {
                b.sslParameters(p);
                return this;
            }

            @Override
            public java.net.http.HttpClient.Builder executor(Executor e) {
                b.executor(e);
                return this;
            }

            @Override
            public java.net.http.HttpClient.Builder followRedirects(java.net.http.HttpClient.Redirect r) {
                b.followRedirects(r);
                return this;
            }

            @Override
            public java.net.http.HttpClient.Builder version(java.net.http.HttpClient.Version v) {
                b.version(v);
                return this;
            }

            @Override
            public java.net.http.HttpClient.Builder priority(int p) {
                b.priority(p);
                return this;
            }

            @Override
            public java.net.http.HttpClient.Builder proxy(ProxySelector p) {
                b.proxy(p);
                return this;
            }

            @Override
            public java.net.http.HttpClient.Builder authenticator(Authenticator a) {
                b.authenticator(a);
                return this;
            }

            @Override
            public java.net.http.HttpClient build() {
                java.net.http.HttpClient c = b.build();
                synchronized (built) {
                    built.add(c);
                }
                return c;
            }
        }
    }
}
