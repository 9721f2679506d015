package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class K3sTokenTest {
    private static final String HASH = "e2ab47de4fe4fa7cc1baf85c7cb90f8394636ea5320a4be07fbb997d2bee09ac";

    @Test
    void fullTokenSplitsIntoCaHashUserAndPassword() {
        K3sToken t = K3sToken.parse("K10" + HASH + "::server:ce09c9fc98903959ef9d0a3abf955d62\n");
        assertThat(t).isEqualTo(new K3sToken(HASH, "server", "ce09c9fc98903959ef9d0a3abf955d62"));
    }

    @Test
    void barePasswordHasNoHashAndNoUser() {
        assertThat(K3sToken.parse("my-cluster-secret")).isEqualTo(new K3sToken(null, null, "my-cluster-secret"));
    }

    @Test
    void tokenWithoutHashKeepsUser() {
        assertThat(K3sToken.parse("K10::node:pw")).isEqualTo(new K3sToken(null, "node", "pw"));
    }

    @Test
    void bootstrapTokensAndMalformedFullTokensAreRefusedWithK3sMessage() {
        assertThatThrownBy(() -> K3sToken.parse("aaaaaa.bbbbbbbbbbbbbbbb"))
                .hasMessage("failed to normalize server token; must be in format "
                        + "K10<CA-HASH>::<USERNAME>:<PASSWORD> or <PASSWORD>");
        assertThatThrownBy(() -> K3sToken.parse("K10" + HASH + "::fx954u.gilr93estsa067vz"))
                .hasMessageStartingWith("failed to normalize server token");
        assertThatThrownBy(() -> K3sToken.parse("K10abc::server:pw")).hasMessage("invalid token CA hash length");
    }

    @Test
    void caHashIsSha256OfTheCaFileBytesAsK3sHashesASingleCertificate(@TempDir Path dir) throws Exception {
        K3sPki pki = K3sPki.loadOrCreate(dir, Set.of("localhost"), Set.of(), Clock.systemUTC());
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(pki.serverCaBytes));
        assertThat(K3sToken.hashCA(pki.serverCaBytes)).isEqualTo(expected);
        assertThat(K3sToken.format(pki.serverCaBytes, "server", "pw")).isEqualTo("K10" + expected + "::server:pw");
        assertThat(new String(pki.serverCaBytes, StandardCharsets.US_ASCII)).startsWith("-----BEGIN CERTIFICATE-----");
    }

    @Test
    void aBundleIsHashedByItsRootDer(@TempDir Path dir) throws Exception {
        K3sPki pki = K3sPki.loadOrCreate(dir, Set.of("localhost"), Set.of(), Clock.systemUTC());
        byte[] bundle = (pki.serving.certPem() + pki.serverCa.certPem()).getBytes(StandardCharsets.US_ASCII);
        String rootDer = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(pki.serverCa.cert().getEncoded()));
        assertThat(K3sToken.hashCA(bundle)).isEqualTo(rootDer);
        assertThat(List.of(K3sToken.hashCA(pki.serverCaBytes))).doesNotContain(rootDer);
    }
}
