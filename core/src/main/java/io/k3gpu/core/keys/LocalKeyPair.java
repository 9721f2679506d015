package io.k3gpu.core.keys;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.util.security.SecurityUtils;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.Iterator;

/**
 * The user's key pair on this machine, as {@code ssh-keygen -t TYPE [-b BITS] -f PATH -P ""} makes it: an
 * unencrypted OpenSSH private key (0600) and PATH.pub (0644), in a 0700 directory.
 *
 * @param created true when this run generated the pair
 */
public record LocalKeyPair(Path privateKey, String publicKeyLine, boolean created) {

    /** Loads the pair at {@code path}, or creates it when the private key is missing. */
    public static LocalKeyPair ensure(Path path, KeyType type, int rsaBits, String comment) {
        try {
            if (Files.exists(path)) {
                return new LocalKeyPair(path, publicLine(load(path), comment, path, false), false);
            }
            KeyPair kp = type == KeyType.ED25519
                    ? KeyUtils.generateKeyPair(ED25519_KEY_TYPE, 256)
                    : KeyUtils.generateKeyPair("ssh-rsa", rsaBits);
            Path dir = path.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            try (OutputStream out = Files.newOutputStream(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
                OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(kp, comment, null, out);
            }
            String line = publicLine(kp, comment, path, true);
            Path pub = Path.of(path + ".pub");
            Files.writeString(pub, line + "\n", StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(pub, PosixFilePermissions.fromString("rw-r--r--"));
            return new LocalKeyPair(path, line, true);
        } catch (IOException | GeneralSecurityException e) {
            throw new K3gpuException(ExitCode.FAILED, "cannot create or read the key pair " + path + ": " + e.getMessage(),
                    "check the path given with --key and its directory's permissions", e);
        }
    }

    private static final String ED25519_KEY_TYPE = "ssh-ed25519";

    private static KeyPair load(Path path) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(path)) {
            Iterable<KeyPair> pairs = SecurityUtils.loadKeyPairIdentities(null, path::toString, in, FilePasswordProvider.EMPTY);
            Iterator<KeyPair> it = pairs == null ? null : pairs.iterator();
            if (it == null || !it.hasNext()) {
                throw new IOException("no key found in the file");
            }
            return it.next();
        }
    }

    /**
     * The public key line, always derived from the private key: a generated pair gets a fresh line (a stale .pub left
     * at that path is overwritten); an existing pair keeps its .pub's line (and the user's comment) only when that
     * .pub holds the same key, since ssh-keys installs this line as the login key.
     */
    private static String publicLine(KeyPair kp, String comment, Path privateKey, boolean generated) throws IOException {
        String derived = PublicKeyEntry.toString(kp.getPublic());
        Path pub = Path.of(privateKey + ".pub");
        if (!generated && Files.exists(pub)) {
            String line = Files.readString(pub, StandardCharsets.UTF_8).strip();
            String[] fields = line.split("\\s+");
            if (fields.length < 2 || !(fields[0] + " " + fields[1]).equals(derived)) {
                throw new K3gpuException(ExitCode.FAILED, pub + " does not hold the public key of " + privateKey,
                        "rewrite it from the private key: ssh-keygen -y -f " + privateKey + " > " + pub);
            }
            return line;
        }
        return derived + (comment == null || comment.isEmpty() ? "" : " " + comment);
    }
}
