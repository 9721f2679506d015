package io.k3gpu.lab.k3s;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The server's certificates, in K3s's layout under {@code <data-dir>/server/tls}: the cluster CA
 * ({@code server-ca.crt}, whose bytes {@code /cacerts} serves and the join token hashes), the client CA
 * ({@code client-ca.crt}), the admin client certificate of the kubeconfig ({@code client-admin.crt}, CN
 * {@code system:admin}, O {@code system:masters}) and the API's serving certificate
 * ({@code serving-kube-apiserver.crt}). ECDSA P-256 like K3s. CAs live ten years and are kept across restarts;
 * the serving certificate is issued anew at every start so that its SANs follow the host's addresses.
 */
final class K3sPki {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final java.security.Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();
    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration LEAF_LIFETIME = Duration.ofDays(365);

    record Issued(X509Certificate cert, PrivateKey key, String certPem, String keyPem) {
    }

    final Issued serverCa;
    final Issued clientCa;
    final Issued admin;
    final Issued serving;
    /** The bytes of server-ca.crt exactly as on disk: what /cacerts serves and the token hashes. */
    final byte[] serverCaBytes;

    private K3sPki(Issued serverCa, Issued clientCa, Issued admin, Issued serving, byte[] serverCaBytes) {
        this.serverCa = serverCa;
        this.clientCa = clientCa;
        this.admin = admin;
        this.serving = serving;
        this.serverCaBytes = serverCaBytes;
    }

    /** Loads the CAs from {@code tlsDir} or creates them, then issues the serving certificate for these SANs. */
    static K3sPki loadOrCreate(Path tlsDir, Set<String> dnsNames, Set<InetAddress> addresses, Clock clock) {
        try {
            Files.createDirectories(tlsDir);
            setMode(tlsDir, "rwx------");
            long now = clock.millis() / 1000;
            Issued serverCa = loadOrCreateCa(tlsDir, "server-ca", "k3s-server-ca@" + now, clock);
            Issued clientCa = loadOrCreateCa(tlsDir, "client-ca", "k3s-client-ca@" + now, clock);
            Issued admin = load(tlsDir, "client-admin");
            if (admin == null) {
                admin = issue(clientCa, "CN=system:admin,O=system:masters", KeyPurposeId.id_kp_clientAuth,
                        List.of(), clock);
                store(tlsDir, "client-admin", admin, admin.certPem + clientCa.certPem);
            }
            List<GeneralName> sans = new ArrayList<>();
            for (String dns : dnsNames) {
                sans.add(new GeneralName(GeneralName.dNSName, dns));
            }
            for (InetAddress a : addresses) {
                sans.add(new GeneralName(GeneralName.iPAddress, a.getHostAddress().replaceFirst("%.*$", "")));
            }
            Issued serving = issue(serverCa, "CN=kube-apiserver", KeyPurposeId.id_kp_serverAuth, sans, clock);
            store(tlsDir, "serving-kube-apiserver", serving, serving.certPem + serverCa.certPem);
            byte[] caBytes = Files.readAllBytes(tlsDir.resolve("server-ca.crt"));
            return new K3sPki(serverCa, clientCa, admin, serving, caBytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write certificates under " + tlsDir, e);
        }
    }

    /** The SANs of the serving certificate: K3s's fixed names, the host's names and addresses, and --tls-san. */
    static Set<String> dnsNames(String hostname, List<String> tlsSans) {
        Set<String> names = new LinkedHashSet<>(List.of("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local", "localhost"));
        if (hostname != null && !hostname.isBlank()) {
            names.add(hostname);
        }
        for (String san : tlsSans) {
            if (!isIpLiteral(san)) {
                names.add(san);
            }
        }
        return names;
    }

    static boolean isIpLiteral(String s) {
        return s.matches("[0-9.]+") || s.contains(":");
    }

    KeyManagerFactory servingKeyManager() {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] pw = "k3s".toCharArray();
            ks.setKeyEntry("serving", serving.key, pw, new Certificate[] {serving.cert, serverCa.cert});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            return kmf;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build the serving key store", e);
        }
    }

    /** Trusts the client CA: what the API accepts as client certificates. */
    TrustManagerFactory clientTrust() {
        return trust(clientCa.cert);
    }

    static TrustManagerFactory trust(X509Certificate... cas) {
        try {
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            for (int i = 0; i < cas.length; i++) {
                ts.setCertificateEntry("ca" + i, cas[i]);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            return tmf;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a trust store", e);
        }
    }

    private static Issued loadOrCreateCa(Path dir, String name, String cn, Clock clock) throws IOException {
        Issued existing = load(dir, name);
        if (existing != null) {
            return existing;
        }
        KeyPair kp = newKeyPair();
        Instant from = clock.instant().minus(Duration.ofMinutes(1));
        X500Name subject = new X500Name("CN=" + cn);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(from),
                    Date.from(from.plus(CA_LIFETIME)), subject, kp.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true,
                            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyCertSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            ext.createSubjectKeyIdentifier(kp.getPublic()));
            X509Certificate cert = sign(b, kp.getPrivate());
            Issued ca = new Issued(cert, kp.getPrivate(), pem(cert), pem(kp.getPrivate()));
            store(dir, name, ca, ca.certPem);
            return ca;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Issued issue(Issued ca, String subject, KeyPurposeId purpose, List<GeneralName> sans, Clock clock) {
        KeyPair kp = newKeyPair();
        Instant from = clock.instant().minus(Duration.ofMinutes(1));
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(ca.cert.getSubjectX500Principal().getEncoded()), serial(), Date.from(from),
                    Date.from(from.plus(LEAF_LIFETIME)), new X500Name(subject), kp.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true,
                            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            ext.createAuthorityKeyIdentifier(ca.cert));
            if (!sans.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(sans.toArray(new GeneralName[0])));
            }
            X509Certificate cert = sign(b, ca.key);
            return new Issued(cert, kp.getPrivate(), pem(cert), pem(kp.getPrivate()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static KeyPair newKeyPair() {
        try {
            // BouncyCastle's EC keys encode as full SEC1 (curve OID and public key), which Go's parser requires
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BC);
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(63, RANDOM);
    }

    private static Issued load(Path dir, String name) throws IOException {
        try {
            return loadChecked(dir, name);
        } catch (java.security.cert.CertificateException e) {
            throw new IOException("cannot read " + dir.resolve(name + ".crt") + ": " + e.getMessage(), e);
        }
    }

    private static Issued loadChecked(Path dir, String name) throws IOException,
            java.security.cert.CertificateException {
        Path crt = dir.resolve(name + ".crt");
        Path key = dir.resolve(name + ".key");
        if (!Files.isRegularFile(crt) || !Files.isRegularFile(key)) {
            return null;
        }
        String certText = Files.readString(crt);
        String keyText = Files.readString(key);
        X509Certificate cert = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(certText.getBytes(StandardCharsets.US_ASCII)));
        return new Issued(cert, parseKey(keyText), pem(cert), keyText);
    }

    static PrivateKey parseKey(String pem) throws IOException {
        try (PEMParser p = new PEMParser(new StringReader(pem))) {
            Object o = p.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair kp) {
                return conv.getKeyPair(kp).getPrivate();
            }
            if (o instanceof PrivateKeyInfo info) {
                return conv.getPrivateKey(info);
            }
            throw new IOException("not a private key");
        }
    }

    private static void store(Path dir, String name, Issued issued, String certFileText) throws IOException {
        Path crt = dir.resolve(name + ".crt");
        Path key = dir.resolve(name + ".key");
        Files.writeString(crt, certFileText);
        setMode(crt, "rw-r--r--");
        Files.writeString(key, issued.keyPem);
        setMode(key, "rw-------");
    }

    static String pem(Object o) {
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            w.writeObject(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sw.toString();
    }

    static void setMode(Path p, String perms) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
    }
}
