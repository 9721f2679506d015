package io.k3gpu.lab.k3sdist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The lab's CA, the mirror's certificate, and a node's trust and /etc/hosts as Debian's tools would leave them. */
class MirrorTlsTest {
    @TempDir
    Path dir;

    static List<X509Certificate> certs(String pem) throws Exception {
        Collection<? extends java.security.cert.Certificate> all = CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        List<X509Certificate> out = new ArrayList<>();
        all.forEach(c -> out.add((X509Certificate) c));
        return out;
    }

    @Test
    void theMirrorsCertificateNamesTheScriptsHostsAndIsSignedByTheLabsCa() throws Exception {
        MirrorTls tls = MirrorTls.create("itmirror", Clock.systemUTC());
        List<X509Certificate> chain = certs(tls.serverChainPem());
        assertThat(chain).hasSize(2);
        X509Certificate server = chain.get(0);
        X509Certificate ca = chain.get(1);
        assertThat(ca).isEqualTo(tls.ca());
        assertThat(ca.getSubjectX500Principal().getName()).isEqualTo("CN=k3gpu lab itmirror CA");
        assertThat(ca.getBasicConstraints()).as("a CA").isGreaterThanOrEqualTo(0);
        assertThat(server.getBasicConstraints()).as("not a CA").isEqualTo(-1);
        server.verify(ca.getPublicKey());
        ca.verify(ca.getPublicKey());
        List<String> sans = new ArrayList<>();
        for (List<?> san : server.getSubjectAlternativeNames()) {
            assertThat(san.get(0)).as("DNS names only").isEqualTo(2);
            sans.add((String) san.get(1));
        }
        assertThat(sans).containsExactly("get.k3s.io", "update.k3s.io", "github.com",
                "release-assets.githubusercontent.com");
        assertThat(server.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        assertThat(tls.serverKeyPem()).startsWith("-----BEGIN EC PRIVATE KEY-----");
        assertThat(MirrorTls.create("itmirror", Clock.systemUTC()).caPem()).as("a new CA per lab")
                .isNotEqualTo(tls.caPem());
    }

    @Test
    void subjectHashIsOpenSslsForTheNameOfTheHashLink() throws Exception {
        // golden values from `openssl x509 -noout -hash` (OpenSSL 3) for certificates with these subjects
        assertThat(MirrorTls.subjectHash(MirrorTls.create("itmirror", Clock.systemUTC()).ca())).isEqualTo("0d881c36");
        assertThat(MirrorTls.subjectHash(MirrorTls.create("k3gpu", Clock.systemUTC()).ca())).isEqualTo("25390368");
    }

    @Test
    void hostsLinesPutEveryNameOnTheBridgeAddress() {
        assertThat(MirrorTls.hostsLines("10.213.254.1")).isEqualTo("""

                # k3gpu lab: the K3s install mirror answers for these names (HTTPS, the lab's CA)
                10.213.254.1\tget.k3s.io update.k3s.io github.com release-assets.githubusercontent.com
                """);
    }

    @Test
    void bundleIsTheHostsWithTheLabsCaAppended() {
        assertThat(MirrorTls.bundle("A\n", "B\n")).isEqualTo("A\nB\n");
        assertThat(MirrorTls.bundle("A", "B\n")).isEqualTo("A\nB\n");
        assertThat(MirrorTls.bundle("", "B\n")).isEqualTo("B\n");
    }

    @Test
    void aNodeGetsTheCaTheBundleTheLinksAndTheNamesInItsOwnDirectories() throws Exception {
        MirrorTls tls = MirrorTls.create("itmirror", Clock.systemUTC());
        Path node = dir.resolve("nodes/node1");
        Files.createDirectories(node.resolve("upper/etc"));
        Files.writeString(node.resolve("upper/etc/hosts"), "127.0.0.1\tlocalhost\n10.213.254.2\tnode1\n");
        String hostBundle = "-----BEGIN CERTIFICATE-----\nhost\n-----END CERTIFICATE-----\n";

        tls.writeNode(node, "10.213.254.1", hostBundle);

        assertThat(Files.readString(node.resolve("usr-local/share/ca-certificates/k3gpu-lab-itmirror.crt")))
                .isEqualTo(tls.caPem());
        Path certs = node.resolve("upper/etc/ssl/certs");
        assertThat(Files.readString(certs.resolve("ca-certificates.crt"))).isEqualTo(hostBundle + tls.caPem());
        assertThat(Files.readSymbolicLink(certs.resolve("k3gpu-lab-itmirror.pem")))
                .isEqualTo(Path.of("/usr/local/share/ca-certificates/k3gpu-lab-itmirror.crt"));
        assertThat(Files.readSymbolicLink(certs.resolve("0d881c36.0"))).isEqualTo(Path.of("k3gpu-lab-itmirror.pem"));
        assertThat(Files.readString(node.resolve("upper/etc/hosts"))).isEqualTo("127.0.0.1\tlocalhost\n"
                + "10.213.254.2\tnode1\n" + MirrorTls.hostsLines("10.213.254.1"));
        for (Path d : List.of(node.resolve("upper/etc/ssl"), certs, node.resolve("usr-local/share"),
                node.resolve("usr-local/share/ca-certificates"))) {
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(d)))
                    .as(d.toString()).isEqualTo("rwxr-xr-x");
        }
    }

    @Test
    void theStateDirectoryKeepsTheKeyPrivate() throws Exception {
        MirrorTls tls = MirrorTls.create("itmirror", Clock.systemUTC());
        tls.writeTo(dir);
        Path tlsDir = dir.resolve("mirror-tls");
        assertThat(Files.readString(tlsDir.resolve("ca.crt"))).isEqualTo(tls.caPem());
        assertThat(Files.readString(tlsDir.resolve("mirror.crt"))).isEqualTo(tls.serverChainPem());
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(tlsDir.resolve("mirror.key")))).isEqualTo("rw-------");
    }
}
