package io.k3gpu.lab.k3sdist;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
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
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;

/**
 * The lab's own "internet" names over HTTPS: a CA made at lab up (ECDSA P-256, generated here with BouncyCastle as
 * the simulated K3s server's PKI is, no openssl needed), the mirror's server certificate for {@link #NAMES}, and what
 * a node needs to trust it and to find the mirror under those names. The host machine's trust store and /etc/hosts
 * are never touched: everything a node gets lands in its own overlay ({@code upper/etc}) and its own
 * {@code /usr/local}.
 *
 * <p>On a node, as Debian's {@code update-ca-certificates} leaves it after a CA was dropped into
 * {@code /usr/local/share/ca-certificates}: the CA as {@code /usr/local/share/ca-certificates/k3gpu-lab-<id>.crt};
 * {@code /etc/ssl/certs/ca-certificates.crt} = the host's bundle with the CA appended (curl, wget, git, python's
 * ssl all read this file); {@code /etc/ssl/certs/k3gpu-lab-<id>.pem} linking to the CA and the OpenSSL hash link
 * {@code /etc/ssl/certs/<subject hash>.0} to that (for programs that look certificates up by directory).
 */
public final class MirrorTls {
    /**
     * The hosts that the install script of get.k3s.io reaches with its defaults: the script itself, the channel
     * server (update.k3s.io, whose 302 goes to github.com's release page), github.com's release downloads and the
     * host github.com redirects them to (release-assets.githubusercontent.com since 2025; objects.githubusercontent.com
     * before). The script's downloads follow redirects ({@code curl -sfL}, wget by default).
     */
    public static final List<String> NAMES = List.of("get.k3s.io", "update.k3s.io", "github.com",
            "release-assets.githubusercontent.com");
    /** Where the CA and the mirror's key pair are kept, under the lab's state directory. */
    static final String DIR = "mirror-tls";
    static final String CA_CERT = "ca.crt";
    static final String SERVER_CERT = "mirror.crt";
    static final String SERVER_KEY = "mirror.key";
    /** The system bundle Debian's ca-certificates builds, which the lab's tools all read. */
    public static final String BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final java.security.Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();
    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration LEAF_LIFETIME = Duration.ofDays(365);

    private final String labId;
    private final X509Certificate ca;
    private final String caPem;
    private final String serverCertPem;
    private final String serverKeyPem;

    private MirrorTls(String labId, X509Certificate ca, String caPem, String serverCertPem, String serverKeyPem) {
        this.labId = labId;
        this.ca = ca;
        this.caPem = caPem;
        this.serverCertPem = serverCertPem;
        this.serverKeyPem = serverKeyPem;
    }

    /** A fresh CA for lab {@code labId} and the mirror's certificate for {@link #NAMES}, signed by it. */
    public static MirrorTls create(String labId, Clock clock) {
        try {
            Instant from = clock.instant().minus(Duration.ofMinutes(1));
            KeyPair caKeys = newKeyPair();
            X500Name caName = new X500Name("CN=" + caCommonName(labId));
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509Certificate ca = sign(new JcaX509v3CertificateBuilder(caName, serial(), Date.from(from),
                    Date.from(from.plus(CA_LIFETIME)), caName, caKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true,
                            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            ext.createSubjectKeyIdentifier(caKeys.getPublic())), caKeys);
            KeyPair serverKeys = newKeyPair();
            List<GeneralName> sans = new ArrayList<>();
            for (String name : NAMES) {
                sans.add(new GeneralName(GeneralName.dNSName, name));
            }
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caName, serial(), Date.from(from),
                    Date.from(from.plus(LEAF_LIFETIME)), new X500Name("CN=" + NAMES.get(0)), serverKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca))
                    .addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(sans.toArray(new GeneralName[0])));
            X509Certificate server = sign(b, caKeys);
            return new MirrorTls(labId, ca, pem(ca), pem(server), pem(serverKeys.getPrivate()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot make the lab's CA: " + e.getMessage(), e);
        }
    }

    static String caCommonName(String labId) {
        return "k3gpu lab " + labId + " CA";
    }

    public X509Certificate ca() {
        return ca;
    }

    public String caPem() {
        return caPem;
    }

    /** The server certificate followed by the CA: the chain the mirror presents. */
    String serverChainPem() {
        return serverCertPem + caPem;
    }

    String serverKeyPem() {
        return serverKeyPem;
    }

    /** The CA's file name in {@code /usr/local/share/ca-certificates} on nodes. */
    public static String caFileName(String labId) {
        return "k3gpu-lab-" + labId + ".crt";
    }

    /** {@code <stateDir>/mirror-tls/}: the CA ({@code ca.crt}), the mirror's chain and key (0600). */
    void writeTo(Path stateDir) throws IOException {
        Path dir = stateDir.resolve(DIR);
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        MirrorContent.write(dir.resolve(CA_CERT), caPem.getBytes(StandardCharsets.US_ASCII), "rw-r--r--");
        MirrorContent.write(dir.resolve(SERVER_CERT), serverChainPem().getBytes(StandardCharsets.US_ASCII),
                "rw-r--r--");
        MirrorContent.write(dir.resolve(SERVER_KEY), serverKeyPem.getBytes(StandardCharsets.US_ASCII), "rw-------");
    }

    /**
     * What a node's {@code /etc/hosts} gets after its own lines: every name of {@link #NAMES} at the lab bridge's
     * address, where the mirror listens.
     */
    public static String hostsLines(String bridgeIp) {
        return "\n# k3gpu lab: the K3s install mirror answers for these names (HTTPS, the lab's CA)\n" + bridgeIp
                + "\t" + String.join(" ", NAMES) + "\n";
    }

    /**
     * The node's CA bundle: the host's {@code ca-certificates.crt} with the lab's CA appended, as
     * {@code update-ca-certificates} appends the certificates of /usr/local/share/ca-certificates after those of
     * /etc/ca-certificates.conf.
     */
    static String bundle(String hostBundle, String caPem) {
        if (hostBundle.isEmpty() || hostBundle.endsWith("\n")) {
            return hostBundle + caPem;
        }
        return hostBundle + "\n" + caPem;
    }

    /**
     * Writes the node's trust and name resolution into its directory on the host ({@code nodeDir}, before it boots):
     * the CA under {@code usr-local/share/ca-certificates}, the bundle and links under {@code upper/etc/ssl/certs},
     * and {@link #hostsLines} appended to {@code upper/etc/hosts} (which the lab wrote before; its lines stay).
     */
    public void writeNode(Path nodeDir, String bridgeIp, String hostBundle) {
        try {
            Path local = nodeDir.resolve("usr-local/share/ca-certificates");
            mkdirs(nodeDir.resolve("usr-local"), local);
            String crt = caFileName(labId);
            MirrorContent.write(local.resolve(crt), caPem.getBytes(StandardCharsets.US_ASCII), "rw-r--r--");
            Path certs = nodeDir.resolve("upper/etc/ssl/certs");
            mkdirs(nodeDir.resolve("upper/etc"), certs);
            MirrorContent.write(certs.resolve("ca-certificates.crt"),
                    bundle(hostBundle, caPem).getBytes(StandardCharsets.US_ASCII), "rw-r--r--");
            String pem = crt.substring(0, crt.length() - 4) + ".pem";
            link(certs.resolve(pem), "/usr/local/share/ca-certificates/" + crt);
            link(certs.resolve(subjectHash(ca) + ".0"), pem);
            Path hosts = nodeDir.resolve("upper/etc/hosts");
            String own = Files.exists(hosts) ? Files.readString(hosts) : "";
            MirrorContent.write(hosts, (own + hostsLines(bridgeIp)).getBytes(StandardCharsets.UTF_8), "rw-r--r--");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the lab's CA for " + nodeDir, e);
        }
    }

    /** Directories from {@code base} down to {@code dir}, 0755 like /etc/ssl and /usr/local/share. */
    private static void mkdirs(Path base, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (Path p = dir; p.startsWith(base) && !p.equals(base); p = p.getParent()) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    private static void link(Path link, String target) throws IOException {
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, Path.of(target));
    }

    /**
     * OpenSSL's subject hash ({@code openssl x509 -hash}, the name of the {@code <hash>.0} links that
     * {@code openssl rehash} makes): the first four bytes, little-endian, of the SHA-1 of the subject's canonical
     * encoding (crypto/x509/x_name.c, x509_name_canon: each RDN's SET with string values as UTF8String, lowercased,
     * trimmed and inner whitespace collapsed; the RDNs concatenated without the outer SEQUENCE).
     */
    static String subjectHash(X509Certificate cert) {
        X500Name name = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
        try {
            java.io.ByteArrayOutputStream canon = new java.io.ByteArrayOutputStream();
            for (RDN rdn : name.getRDNs()) {
                ASN1EncodableVector set = new ASN1EncodableVector();
                for (AttributeTypeAndValue atv : rdn.getTypesAndValues()) {
                    ASN1Encodable value = atv.getValue();
                    if (value instanceof ASN1String s) {
                        value = new DERUTF8String(canonical(s.getString()));
                    }
                    set.add(new DERSequence(new ASN1Encodable[] {atv.getType(), value}));
                }
                canon.write(new DERSet(set).getEncoded(ASN1Encoding.DER));
            }
            byte[] md = MessageDigest.getInstance("SHA-1").digest(canon.toByteArray());
            long h = (md[0] & 0xffL) | (md[1] & 0xffL) << 8 | (md[2] & 0xffL) << 16 | (md[3] & 0xffL) << 24;
            return String.format("%08x", h);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** asn1_string_canon: trimmed, inner whitespace runs as one space, ASCII lowercased. */
    private static String canonical(String s) {
        return s.strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair issuer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BC);
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(63, RANDOM);
    }

    private static String pem(Object o) throws IOException {
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            w.writeObject(o);
        }
        return sw.toString();
    }
}
