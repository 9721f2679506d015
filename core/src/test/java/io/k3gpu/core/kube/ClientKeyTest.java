package io.k3gpu.core.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.internal.SSLUtils;
import org.junit.jupiter.api.Test;

import javax.net.ssl.KeyManager;
import javax.net.ssl.X509KeyManager;
import javax.security.auth.x500.X500Principal;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.Principal;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** The client certificate's KeyManager made without fabric8's key store: the same key and chain, chosen as SunX509 chooses. */
class ClientKeyTest {
    // throwaway keys made with openssl (ecparam -genkey; pkcs8 -topk8 -nocrypt of the same key; req -x509)
    private static final String P256_SEC1 = """
            -----BEGIN EC PRIVATE KEY-----
            MHcCAQEEIOaq3rrU5+8Fux5oPnl8L0MfkmLrizpmZ14lFFW6EsLcoAoGCCqGSM49
            AwEHoUQDQgAE9FYrwpqU+5PNvmv87YBNyLFyDNRE/fniye1gD/D1lw0vN0nggmFJ
            nVbaIYaxHfcYl7SSg1ZOj3qQ1oiGibjZdQ==
            -----END EC PRIVATE KEY-----
            """;
    private static final String P256_PKCS8 = """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg5qreutTn7wW7Hmg+
            eXwvQx+SYuuLOmZnXiUUVboSwtyhRANCAAT0VivCmpT7k82+a/ztgE3IsXIM1ET9
            +eLJ7WAP8PWXDS83SeCCYUmdVtohhrEd9xiXtJKDVk6PepDWiIaJuNl1
            -----END PRIVATE KEY-----
            """;
    private static final String P384_SEC1 = """
            -----BEGIN EC PRIVATE KEY-----
            MIGkAgEBBDBrxbcIqKmqnrM9K43sND4fNCEvcGhTakElR/GZOjDHT6ArnLpofI7o
            ayk9OSM7KMCgBwYFK4EEACKhZANiAAQBS6bZbJhHiqIOlJFjSZIzTl8EYzc3xj0f
            8Eb7wXBfqy8tQRsEfoasBGnRpfDqXq1pa2Di8R48w6JJ10L0qRfMogjt4RGBqqPb
            laase5EnezOkWkSkRA1f2sPjUaEUX0E=
            -----END EC PRIVATE KEY-----
            """;
    private static final String P384_PKCS8 = """
            -----BEGIN PRIVATE KEY-----
            MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBrxbcIqKmqnrM9K43s
            ND4fNCEvcGhTakElR/GZOjDHT6ArnLpofI7oayk9OSM7KMChZANiAAQBS6bZbJhH
            iqIOlJFjSZIzTl8EYzc3xj0f8Eb7wXBfqy8tQRsEfoasBGnRpfDqXq1pa2Di8R48
            w6JJ10L0qRfMogjt4RGBqqPblaase5EnezOkWkSkRA1f2sPjUaEUX0E=
            -----END PRIVATE KEY-----
            """;
    private static final String P256_CERT = """
            -----BEGIN CERTIFICATE-----
            MIIBtDCCAVugAwIBAgIURrEqQgdzoHaZjdnaC9WGqucU0vgwCgYIKoZIzj0EAwIw
            MDEVMBMGA1UEAwwMc3lzdGVtOmFkbWluMRcwFQYDVQQKDA5zeXN0ZW06bWFzdGVy
            czAeFw0yNjEyMDUyMjU1MDBaFw0zNjEyMDIyMjU1MDBaMDAxFTATBgNVBAMMDHN5
            c3RlbTphZG1pbjEXMBUGA1UECgwOc3lzdGVtOm1hc3RlcnMwWTATBgcqhkjOPQIB
            BggqhkjOPQMBBwNCAAT0VivCmpT7k82+a/ztgE3IsXIM1ET9+eLJ7WAP8PWXDS83
            SeCCYUmdVtohhrEd9xiXtJKDVk6PepDWiIaJuNl1o1MwUTAdBgNVHQ4EFgQUfJPX
            Hk70EfFKnMYoc8MDvL35MaAwHwYDVR0jBBgwFoAUfJPXHk70EfFKnMYoc8MDvL35
            MaAwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAfbv+mbEPwDPg2
            Y5PTbxJluQQq+Oq3ObA6yhkQlsJKHwIgIt4Rkq13Hh+53YNTTwTyKs8lRqzfQc9u
            8H9NgfghBjU=
            -----END CERTIFICATE-----
            """;

    private static byte[] der(String pem) {
        return Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
    }

    @Test
    void sec1AndPkcs8KeysReadAsTheJdkReadsTheirPkcs8Form() throws Exception {
        for (String[] k : new String[][]{{P256_SEC1, P256_PKCS8}, {P384_SEC1, P384_PKCS8}}) {
            var expected = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der(k[1])));
            // (the PKCS#8 form also carries the public key: the secret and the curve are compared)
            for (String pem : k) {
                ECPrivateKey key = (ECPrivateKey) ClientKey.privateKey(pem);
                assertThat(key.getS()).isEqualTo(((ECPrivateKey) expected).getS());
                assertThat(key.getParams().toString()).isEqualTo(((ECPrivateKey) expected).getParams().toString());
            }
        }
        assertThat(ClientKey.privateKey("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")).isNull();
        assertThat(ClientKey.privateKey("no key here")).isNull();
        assertThat(ClientKey.oid(new byte[]{0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x03, 0x01, 0x07}))
                .isEqualTo("1.2.840.10045.3.1.7");
    }

    private static Config config(String cert, String key) {
        Base64.Encoder b64 = Base64.getEncoder();
        return new ConfigBuilder().withMasterUrl("https://10.0.0.1:6443")
                .withClientCertData(b64.encodeToString(cert.getBytes(StandardCharsets.US_ASCII)))
                .withClientKeyData(b64.encodeToString(key.getBytes(StandardCharsets.US_ASCII)))
                .withClientKeyAlgo("EC").build();
    }

    @Test
    void theKeyManagerHoldsWhatFabric8sHolds() throws Exception {
        Config config = config(P256_CERT, P256_SEC1);
        X509KeyManager ours = (X509KeyManager) ClientKey.of(config).orElseThrow()[0];
        KeyManager[] theirs = SSLUtils.keyManagers(config);
        X509KeyManager fabric8 = (X509KeyManager) theirs[0];
        String[] types = {"RSA", "EC"};
        String alias = fabric8.chooseClientAlias(types, null, null);
        assertThat(ours.getPrivateKey(ours.chooseClientAlias(types, null, null))).isEqualTo(fabric8.getPrivateKey(alias));
        assertThat(ours.getCertificateChain(ours.chooseClientAlias(types, null, null)))
                .isEqualTo(fabric8.getCertificateChain(alias));

        Principal self = ours.getCertificateChain("kubeconfig")[0].getIssuerX500Principal();
        Principal other = new X500Principal("CN=k3s-client-ca");
        for (Principal[] issuers : new Principal[][]{null, {}, {self}, {other}, {other, self}}) {
            for (String[] t : new String[][]{{"RSA"}, {"EC"}, {"EC_EC"}, {"EC_RSA"}, {"RSA", "EC"}}) {
                assertThat(ours.chooseClientAlias(t, issuers, null) != null)
                        .as("key types %s, issuers %s", String.join(",", t), issuers)
                        .isEqualTo(fabric8.chooseClientAlias(t, issuers, null) != null);
            }
        }
    }

    @Test
    void whatItDoesNotReadIsLeftToFabric8() {
        assertThat(ClientKey.of(new ConfigBuilder().withMasterUrl("https://10.0.0.1:6443").withOauthToken("t").build())).isEmpty();
        assertThat(ClientKey.of(config(P256_CERT, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"))).isEmpty();
        Config withStore = config(P256_CERT, P256_SEC1);
        withStore.setKeyStoreFile("/etc/k/keystore.p12");
        assertThat(ClientKey.of(withStore)).isEmpty();
    }
}
