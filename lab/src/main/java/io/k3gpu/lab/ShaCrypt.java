package io.k3gpu.lab;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/** SHA-512 crypt ({@code $6$}, Ulrich Drepper's specification), as in /etc/shadow; 5000 rounds. */
final class ShaCrypt {
    private static final String B64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final int ROUNDS = 5000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private ShaCrypt() {
    }

    static String hash(String password) {
        StringBuilder salt = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            salt.append(B64.charAt(RANDOM.nextInt(B64.length())));
        }
        return hash(password, salt.toString());
    }

    static String hash(String password, String saltString) {
        byte[] pw = password.getBytes(StandardCharsets.UTF_8);
        byte[] salt = saltString.substring(0, Math.min(16, saltString.length())).getBytes(StandardCharsets.UTF_8);
        MessageDigest md = sha512();

        md.update(pw);
        md.update(salt);
        md.update(pw);
        byte[] b = md.digest();

        md.update(pw);
        md.update(salt);
        int cnt;
        for (cnt = pw.length; cnt > 64; cnt -= 64) {
            md.update(b, 0, 64);
        }
        md.update(b, 0, cnt);
        for (cnt = pw.length; cnt > 0; cnt >>= 1) {
            if ((cnt & 1) != 0) {
                md.update(b, 0, 64);
            } else {
                md.update(pw);
            }
        }
        byte[] a = md.digest();

        for (int i = 0; i < pw.length; i++) {
            md.update(pw);
        }
        byte[] dp = md.digest();
        byte[] p = new byte[pw.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = dp[i % 64];
        }

        for (int i = 0; i < 16 + (a[0] & 0xff); i++) {
            md.update(salt);
        }
        byte[] ds = md.digest();
        byte[] s = new byte[salt.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = ds[i % 64];
        }

        byte[] c = a;
        for (int i = 0; i < ROUNDS; i++) {
            if ((i & 1) != 0) {
                md.update(p);
            } else {
                md.update(c, 0, 64);
            }
            if (i % 3 != 0) {
                md.update(s);
            }
            if (i % 7 != 0) {
                md.update(p);
            }
            if ((i & 1) != 0) {
                md.update(c, 0, 64);
            } else {
                md.update(p);
            }
            c = md.digest();
        }

        StringBuilder out = new StringBuilder("$6$").append(new String(salt, StandardCharsets.UTF_8)).append('$');
        int[][] order = {{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4}, {47, 5, 26}, {6, 27, 48},
                {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13},
                {56, 14, 35}, {15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}};
        for (int[] o : order) {
            b64(out, c[o[0]], c[o[1]], c[o[2]], 4);
        }
        b64(out, (byte) 0, (byte) 0, c[63], 2);
        return out.toString();
    }

    private static void b64(StringBuilder out, byte b2, byte b1, byte b0, int n) {
        int w = ((b2 & 0xff) << 16) | ((b1 & 0xff) << 8) | (b0 & 0xff);
        for (int i = 0; i < n; i++) {
            out.append(B64.charAt(w & 0x3f));
            w >>>= 6;
        }
    }

    private static MessageDigest sha512() {
        try {
            return MessageDigest.getInstance("SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
