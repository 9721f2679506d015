package io.k3gpu.lab;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.EdECPublicKey;
import java.util.Base64;

/**
 * Ed25519 host keys for the nodes' sshd in OpenSSH's own formats (what {@code ssh-keygen -t ed25519 -N ''}
 * writes: an unencrypted "openssh-key-v1" private key and a one-line public key), made in-process with the JDK: one
 * key per node without one ssh-keygen process per node.
 */
final class HostKeys {
    private static final SecureRandom RANDOM = new SecureRandom();

    private HostKeys() {
    }

    /** Writes {@code file} (private, 0600) and {@code file.pub}; returns the public line "ssh-ed25519 AAAA... comment". */
    static String write(Path file, String comment) throws IOException {
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this Java has no Ed25519", e);
        }
        byte[] seed = ((EdECPrivateKey) pair.getPrivate()).getBytes().orElseThrow();
        byte[] pk = publicBytes((EdECPublicKey) pair.getPublic());
        String[] both = format(seed, pk, comment, RANDOM.nextInt());
        NodeFiles.write(file, both[0], 0600);
        NodeFiles.write(file.resolveSibling(file.getFileName() + ".pub"), both[1] + "\n", 0644);
        return both[1];
    }

    /** RFC 8032 encoding of the public point: y little-endian, the top bit of the last byte is x's parity. */
    static byte[] publicBytes(EdECPublicKey key) {
        BigInteger y = key.getPoint().getY();
        byte[] be = y.toByteArray();
        byte[] le = new byte[32];
        for (int i = 0; i < 32 && i < be.length; i++) {
            le[i] = be[be.length - 1 - i];
        }
        if (key.getPoint().isXOdd()) {
            le[31] |= (byte) 0x80;
        }
        return le;
    }

    /** {private key file text, public key line} for the 32-byte seed and public key. */
    static String[] format(byte[] seed, byte[] pk, String comment, int check) {
        ByteArrayOutputStream pub = new ByteArrayOutputStream();
        string(pub, "ssh-ed25519".getBytes(StandardCharsets.US_ASCII));
        string(pub, pk);
        byte[] pubBlob = pub.toByteArray();

        ByteArrayOutputStream priv = new ByteArrayOutputStream();
        uint32(priv, check);
        uint32(priv, check);
        string(priv, "ssh-ed25519".getBytes(StandardCharsets.US_ASCII));
        string(priv, pk);
        byte[] sk = new byte[64];
        System.arraycopy(seed, 0, sk, 0, 32);
        System.arraycopy(pk, 0, sk, 32, 32);
        string(priv, sk);
        string(priv, comment.getBytes(StandardCharsets.UTF_8));
        for (int pad = 1; priv.size() % 8 != 0; pad++) {
            priv.write(pad);
        }

        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes("openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII));
        string(all, "none".getBytes(StandardCharsets.US_ASCII));
        string(all, "none".getBytes(StandardCharsets.US_ASCII));
        string(all, new byte[0]);
        uint32(all, 1);
        string(all, pubBlob);
        string(all, priv.toByteArray());

        String b64 = Base64.getEncoder().encodeToString(all.toByteArray());
        StringBuilder pem = new StringBuilder("-----BEGIN OPENSSH PRIVATE KEY-----\n");
        for (int i = 0; i < b64.length(); i += 70) {
            pem.append(b64, i, Math.min(b64.length(), i + 70)).append('\n');
        }
        pem.append("-----END OPENSSH PRIVATE KEY-----\n");
        String line = "ssh-ed25519 " + Base64.getEncoder().encodeToString(pubBlob) + (comment.isEmpty() ? "" : " " + comment);
        return new String[] {pem.toString(), line};
    }

    private static void uint32(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    private static void string(ByteArrayOutputStream out, byte[] b) {
        uint32(out, b.length);
        out.writeBytes(b);
    }
}
