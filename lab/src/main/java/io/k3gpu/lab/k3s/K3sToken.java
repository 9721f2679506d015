package io.k3gpu.lab.k3s;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A K3s join token, {@code K10<CA hash>::<username>:<password>}, as K3s's {@code clientaccess} package parses and
 * formats it. The CA hash is the SHA-256 of the cluster CA bundle that {@code GET /cacerts} serves: of the file's
 * bytes when it holds one certificate (always so here), else of the DER of the bundle's root.
 *
 * @param caHash   64 hex characters, or null for a bare password
 * @param username {@code server}, {@code node}, or null when the token did not say
 * @param password the secret the server checks
 */
public record K3sToken(String caHash, String username, String password) {
    static final String PREFIX = "K10";
    private static final Pattern BOOTSTRAP = Pattern.compile("[a-z0-9]{6}\\.[a-z0-9]{16}");
    private static final String NORMALIZE_ERROR =
            "failed to normalize server token; must be in format K10<CA-HASH>::<USERNAME>:<PASSWORD> or <PASSWORD>";

    /** Parses a full or bare token; kubeadm-style bootstrap tokens are refused as K3s's server refuses them. */
    public static K3sToken parse(String token) {
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("token must not be empty");
        }
        String t = token.strip();
        if (!t.startsWith(PREFIX)) {
            if (BOOTSTRAP.matcher(t).matches()) {
                throw new IllegalArgumentException(NORMALIZE_ERROR);
            }
            return new K3sToken(null, null, t);
        }
        String rest = t.substring(PREFIX.length());
        String hash = null;
        int sep = rest.indexOf("::");
        if (sep >= 0) {
            hash = rest.substring(0, sep);
            if (!hash.isEmpty() && hash.length() != 64) {
                throw new IllegalArgumentException("invalid token CA hash length");
            }
            rest = rest.substring(sep + 2);
        }
        int colon = rest.indexOf(':');
        if (colon < 0 || colon == rest.length() - 1) {
            throw new IllegalArgumentException(NORMALIZE_ERROR);
        }
        return new K3sToken(hash == null || hash.isEmpty() ? null : hash, rest.substring(0, colon),
                rest.substring(colon + 1));
    }

    /** {@code K10<hash of caBundle>::<username>:<password>}. */
    public static String format(byte[] caBundle, String username, String password) {
        return PREFIX + hashCA(caBundle) + "::" + username + ":" + password;
    }

    /** The CA hash as K3s computes it (see the class comment). */
    public static String hashCA(byte[] caBundle) {
        List<X509Certificate> certs = certificates(caBundle);
        byte[] hashed = caBundle;
        if (certs.size() > 1) {
            X509Certificate root = certs.get(certs.size() - 1);
            for (X509Certificate c : certs) {
                if (c.getSubjectX500Principal().equals(c.getIssuerX500Principal())) {
                    root = c;
                }
            }
            try {
                hashed = root.getEncoded();
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IllegalArgumentException(e);
            }
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(hashed));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<X509Certificate> certificates(byte[] pem) {
        try {
            List<X509Certificate> out = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
                out.add((X509Certificate) c);
            }
            return out;
        } catch (CertificateException e) {
            throw new IllegalArgumentException("not a PEM certificate bundle: "
                    + new String(pem, 0, Math.min(pem.length, 40), StandardCharsets.US_ASCII), e);
        }
    }
}
