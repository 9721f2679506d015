package io.k3gpu.core.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.internal.SSLUtils;
import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.Test;

import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** TLS as kubectl sets it up (the kubeconfig's CA alone), and a client whose threads end on close. */
class ClusterConnectionTest {
    // throwaway self-signed CAs made with openssl (req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
    private static final String SERVER_CA = """
            -----BEGIN CERTIFICATE-----
            MIIBiTCCAS+gAwIBAgIUVCLkT5uqmunhbkA0OvmBhiEupP8wCgYIKoZIzj0EAwIw
            GjEYMBYGA1UEAwwPazNzLXNlcnZlci1jYUAxMB4XDTI2MTIwNjAxMDQ0MFoXDTM2
            MTIwMzAxMDQ0MFowGjEYMBYGA1UEAwwPazNzLXNlcnZlci1jYUAxMFkwEwYHKoZI
            zj0CAQYIKoZIzj0DAQcDQgAEH0lGagdyES09ndbRAbPM8sCUR8ewx7Ie6w9bk++M
            h9R9fTRUWBctvEDVWwbF+UJvtGnhC59wjKtE66oIQvOzFKNTMFEwHQYDVR0OBBYE
            FBRMSt2ncHBH95jLUHMCcwJ/Vvq2MB8GA1UdIwQYMBaAFBRMSt2ncHBH95jLUHMC
            cwJ/Vvq2MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgF0TuTWFf
            vqqwsugjWB3zrhGj/UKChYNqZUgvRXaloxACIQDEaP39blv1efHLHaIU6Npf3t/D
            9juGRmkcgcCRAPDU1A==
            -----END CERTIFICATE-----
            """;
    private static final String ANOTHER_CA = """
            -----BEGIN CERTIFICATE-----
            MIIBfzCCASWgAwIBAgIUejkn2+O6zttCiz5uRBDqVAUgoGQwCgYIKoZIzj0EAwIw
            FTETMBEGA1UEAwwKYW5vdGhlci1jYTAeFw0yNjEyMDYwMTA0NDBaFw0zNjEyMDMw
            MTA0NDBaMBUxEzARBgNVBAMMCmFub3RoZXItY2EwWTATBgcqhkjOPQIBBggqhkjO
            PQMBBwNCAAQ5jrJCWJ92V2VjUu8nps2fp9M1WkfKLp/U+PtlWRu+Vmx04Zjidu9G
            7KskU9l2goV2qrr7Vb49is3XnSSq36QBo1MwUTAdBgNVHQ4EFgQUCaovCUARjz4I
            ThLRva5fRVqB6v4wHwYDVR0jBBgwFoAUCaovCUARjz4IThLRva5fRVqB6v4wDwYD
            VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA4HQJ/Cb2I58AOHYJhpL2
            4w1XcJto347VxcSGXlNAYusCICFAQ+2f1YL5naLvxUQ0rUlmTFXA8+LiuqhwCSAS
            I3hs
            -----END CERTIFICATE-----
            """;

    private static Config withCa(String pem) {
        return new ConfigBuilder().withMasterUrl("https://10.0.0.1:6443")
                .withCaCertData(Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII))).build();
    }

    private static X509Certificate cert(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void theKubeconfigsCaIsTheOnlyOneTrusted() throws Exception {
        X509TrustManager ours = (X509TrustManager) ClusterConnection.caOnly(withCa(SERVER_CA)).orElseThrow()[0];
        assertThat(ours.getAcceptedIssuers()).extracting(c -> c.getSubjectX500Principal().getName())
                .containsExactly("CN=k3s-server-ca@1");
        ours.checkServerTrusted(new X509Certificate[]{cert(SERVER_CA)}, "ECDHE_ECDSA");
        assertThatThrownBy(() -> ours.checkServerTrusted(new X509Certificate[]{cert(ANOTHER_CA)}, "ECDHE_ECDSA"))
                .isInstanceOf(CertificateException.class);
        // fabric8's adds the CA to the JDK's cacerts (what client-go does not do when the kubeconfig names a CA)
        TrustManager[] fabric8 = SSLUtils.trustManagers(withCa(SERVER_CA));
        assertThat(((X509TrustManager) fabric8[0]).getAcceptedIssuers().length).isGreaterThan(1);
    }

    @Test
    void withoutACaOrWithTrustAllOrATrustStoreFabric8sTrustStays() {
        assertThat(ClusterConnection.caOnly(new ConfigBuilder().withMasterUrl("https://10.0.0.1:6443").build()))
                .isEmpty();
        Config all = withCa(SERVER_CA);
        all.setTrustCerts(true);
        assertThat(ClusterConnection.caOnly(all)).isEmpty();
        Config store = withCa(SERVER_CA);
        store.setTrustStoreFile("/etc/ssl/certs/java/cacerts");
        assertThat(ClusterConnection.caOnly(store)).isEmpty();
    }

    @Test
    void aCaThatIsNotACertificateIsAnError() {
        assertThatThrownBy(() -> ClusterConnection.caOnly(withCa("not a certificate\n")))
                .isInstanceOf(K3gpuException.class)
                .hasMessageStartingWith("the kubeconfig's certificate authority for https://10.0.0.1:6443/ is not a "
                        + "PEM certificate (");
    }

    @Test
    void stoppingTheFactoryEndsTheJdkClientsSelectorThread() throws Exception {
        Set<Thread> before = selectorThreads();
        ClusterConnection.StoppingFactory factory = new ClusterConnection.StoppingFactory();
        HttpClient http = ClusterConnection.httpClient(withCa(SERVER_CA), factory);
        Set<Thread> ours = new HashSet<>(selectorThreads());
        ours.removeAll(before);
        assertThat(ours).isNotEmpty();
        http.close();
        factory.stop();
        assertThat(ours).noneMatch(Thread::isAlive);
    }

    private static Set<Thread> selectorThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().endsWith("-SelectorManager")).collect(Collectors.toSet());
    }
}
