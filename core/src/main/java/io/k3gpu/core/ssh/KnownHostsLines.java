package io.k3gpu.core.ssh;

import org.apache.sshd.client.config.hosts.KnownHostEntry;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Finds the known_hosts line that holds an entry, so a refusal can name "file:line" as OpenSSH does. */
final class KnownHostsLines {
    private KnownHostsLines() {
    }

    static int lineOf(Path file, KnownHostEntry entry) {
        if (entry == null || file == null || !Files.isRegularFile(file)) {
            return -1;
        }
        String wanted = entry.getConfigLine();
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).strip().equals(wanted == null ? "" : wanted.strip())) {
                    return i + 1;
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }
}
