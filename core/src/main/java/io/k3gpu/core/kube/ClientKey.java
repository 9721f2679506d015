package io.k3gpu.core.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.internal.CertUtils;
import io.fabric8.kubernetes.client.utils.Utils;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * The kubeconfig's client certificate and key as a KeyManager, made without fabric8's SSLUtils.keyManagers: that
 * one finds an EC key's curve by generating a key pair on it, then stores the key in a PKCS#12 key store (10,000
 * rounds of PBKDF2 to encrypt it, as many to read it back): a quarter of a {@code nodes} run's CPU with K3s's EC key
 * (docs/benchmarks.md, "Start-up"). Here the curve comes from the key itself and the KeyManager holds the one key.
 * It chooses the key as the JDK's SunX509 KeyManager does (key type, and issuer when the server names CAs). Anything
 * else (a key or trust store file, an unknown key format) is empty: fabric8 builds the KeyManager then.
 */
final class ClientKey extends X509ExtendedKeyManager {
    private static final String ALIAS = "kubeconfig";
    private final PrivateKey key;
    private final X509Certificate[] chain;

    private ClientKey(PrivateKey key, X509Certificate[] chain) {
        this.key = key;
        this.chain = chain;
    }

    /** The KeyManager for {@code config}'s client certificate, if it has one this class reads. */
    static Optional<KeyManager[]> of(Config config) {
        boolean cert = Utils.isNotNullOrEmpty(config.getClientCertData()) || Utils.isNotNullOrEmpty(config.getClientCertFile());
        boolean keyGiven = Utils.isNotNullOrEmpty(config.getClientKeyData()) || Utils.isNotNullOrEmpty(config.getClientKeyFile());
        if (!cert || !keyGiven || Utils.isNotNullOrEmpty(config.getKeyStoreFile())
                || Utils.isNotNullOrEmpty(System.getProperty("javax.net.ssl.keyStore"))) {
            return Optional.empty();
        }
        try {
            List<X509Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(
                    CertUtils.getInputStreamFromDataOrFile(config.getClientCertData(), config.getClientCertFile()))
                    .stream().map(c -> (X509Certificate) c).toList();
            byte[] pem = CertUtils.getInputStreamFromDataOrFile(config.getClientKeyData(), config.getClientKeyFile())
                    .readAllBytes();
            PrivateKey key = privateKey(new String(pem, StandardCharsets.US_ASCII));
            if (certs.isEmpty() || key == null) {
                return Optional.empty();
            }
            return Optional.of(new KeyManager[]{new ClientKey(key, certs.toArray(new X509Certificate[0]))});
        } catch (Exception e) {
            return Optional.empty(); // fabric8 reads it, and says what is wrong with it
        }
    }

    /** A PEM private key: SEC1 "EC PRIVATE KEY" (K3s's) or PKCS#8 "PRIVATE KEY"; else (PKCS#1 RSA...) null. */
    static PrivateKey privateKey(String pem) throws Exception {
        int begin = pem.indexOf("-----BEGIN ");
        int typeEnd = begin < 0 ? -1 : pem.indexOf("-----", begin + 11);
        if (typeEnd < 0) {
            return null;
        }
        String type = pem.substring(begin + 11, typeEnd);
        int end = pem.indexOf("-----END " + type + "-----", typeEnd);
        if (end < 0) {
            return null;
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(typeEnd + 5, end));
        switch (type) {
            case "EC PRIVATE KEY":
                return ecKey(der);
            case "PRIVATE KEY":
                for (String alg : new String[]{"EC", "RSA", "Ed25519"}) {
                    try {
                        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
                    } catch (java.security.spec.InvalidKeySpecException e) {
                        // another algorithm's key
                    }
                }
                return null;
            default:
                return null;
        }
    }

    /**
     * RFC 5915's ECPrivateKey: SEQUENCE { INTEGER 1, OCTET STRING privateKey, [0] OID namedCurve, [1] publicKey }.
     * The curve's parameters come from the JDK by the curve's OID (no key pair generated).
     */
    static PrivateKey ecKey(byte[] der) throws Exception {
        Der seq = new Der(der, 0).expect(0x30);
        Der version = new Der(der, seq.start).expect(0x02);
        if (version.length != 1 || der[version.start] != 1) {
            return null;
        }
        Der secret = new Der(der, version.end()).expect(0x04);
        Der params = new Der(der, secret.end()).expect(0xa0);
        Der oid = new Der(der, params.start).expect(0x06);
        AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
        p.init(new ECGenParameterSpec(oid(Arrays.copyOfRange(der, oid.start, oid.end()))));
        return KeyFactory.getInstance("EC").generatePrivate(new ECPrivateKeySpec(
                new BigInteger(1, Arrays.copyOfRange(der, secret.start, secret.end())),
                p.getParameterSpec(ECParameterSpec.class)));
    }

    /** One DER element at {@code at}: its tag, where its content starts and how long it is (definite lengths). */
    private static final class Der {
        final int tag;
        final int start;
        final int length;

        Der(byte[] b, int at) {
            tag = b[at] & 0xff;
            int len = b[at + 1] & 0xff;
            int pos = at + 2;
            if (len >= 0x80) {
                int n = len & 0x7f;
                if (n == 0 || n > 3) {
                    throw new IllegalArgumentException("unsupported DER length");
                }
                len = 0;
                for (int i = 0; i < n; i++) {
                    len = (len << 8) | (b[pos++] & 0xff);
                }
            }
            if (pos + len > b.length) {
                throw new IllegalArgumentException("truncated DER");
            }
            start = pos;
            length = len;
        }

        Der expect(int t) {
            if (tag != t) {
                throw new IllegalArgumentException("unexpected DER tag " + tag);
            }
            return this;
        }

        int end() {
            return start + length;
        }
    }

    /** An OBJECT IDENTIFIER's content as dotted text: 1.2.840.10045.3.1.7. */
    static String oid(byte[] b) {
        StringBuilder sb = new StringBuilder();
        long v = 0;
        for (int i = 0; i < b.length; i++) {
            v = (v << 7) | (b[i] & 0x7f);
            if ((b[i] & 0x80) == 0) {
                if (sb.isEmpty()) {
                    sb.append(v < 80 ? v / 40 : 2).append('.').append(v < 80 ? v % 40 : v - 80);
                } else {
                    sb.append('.').append(v);
                }
                v = 0;
            }
        }
        return sb.toString();
    }

    /** SunX509's choice: the key's algorithm is the key type ("EC", or "EC_RSA": an EC key in a cert signed with RSA). */
    private String alias(String keyType, Principal[] issuers) {
        String alg = keyType;
        String sig = null;
        int u = keyType.indexOf('_');
        if (u > 0) {
            alg = keyType.substring(0, u);
            sig = keyType.substring(u + 1);
        }
        if (!key.getAlgorithm().equals(alg)
                || sig != null && !chain[0].getSigAlgName().toUpperCase(java.util.Locale.ENGLISH).contains("WITH" + sig)) {
            return null;
        }
        if (issuers == null || issuers.length == 0) {
            return ALIAS;
        }
        for (Certificate c : chain) {
            Principal issuer = ((X509Certificate) c).getIssuerX500Principal();
            for (Principal p : issuers) {
                if (issuer.equals(p)) {
                    return ALIAS;
                }
            }
        }
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        for (String t : keyTypes == null ? new String[0] : keyTypes) {
            String a = alias(t, issuers);
            if (a != null) {
                return a;
            }
        }
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        return chooseClientAlias(keyTypes, issuers, null);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return alias(keyType, issuers) == null ? null : new String[]{ALIAS};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return ALIAS.equals(alias) ? chain.clone() : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return ALIAS.equals(alias) ? key : null;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return null;
    }
}
