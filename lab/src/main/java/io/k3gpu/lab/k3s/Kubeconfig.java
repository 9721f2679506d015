package io.k3gpu.lab.k3s;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;

/**
 * Writes {@code /etc/rancher/k3s/k3s.yaml} exactly as K3s does (client-go's layout: keys sorted, everything named
 * {@code default}), with the admin client certificate (CN system:admin, O system:masters) and key inline.
 */
final class Kubeconfig {
    private Kubeconfig() {
    }

    static String text(String server, String caPem, String clientCertPem, String clientKeyPem) {
        Base64.Encoder b64 = Base64.getEncoder();
        return "apiVersion: v1\n"
                + "clusters:\n"
                + "- cluster:\n"
                + "    certificate-authority-data: " + b64.encodeToString(caPem.getBytes(StandardCharsets.US_ASCII))
                + "\n"
                + "    server: " + server + "\n"
                + "  name: default\n"
                + "contexts:\n"
                + "- context:\n"
                + "    cluster: default\n"
                + "    user: default\n"
                + "  name: default\n"
                + "current-context: default\n"
                + "kind: Config\n"
                + "preferences: {}\n"
                + "users:\n"
                + "- name: default\n"
                + "  user:\n"
                + "    client-certificate-data: "
                + b64.encodeToString(clientCertPem.getBytes(StandardCharsets.US_ASCII)) + "\n"
                + "    client-key-data: " + b64.encodeToString(clientKeyPem.getBytes(StandardCharsets.US_ASCII))
                + "\n";
    }

    /** Writes the file with mode 0600; --write-kubeconfig-mode is applied afterwards, as K3s does. */
    static void write(Path file, String server, K3sPki pki) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        String caText = new String(pki.serverCaBytes, StandardCharsets.US_ASCII);
        Files.writeString(file, text(server, caText, pki.admin.certPem() + pki.clientCa.certPem(),
                pki.admin.keyPem()));
        Files.setPosixFilePermissions(file, permissions(0600));
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(order[i]);
            }
        }
        return s;
    }
}
