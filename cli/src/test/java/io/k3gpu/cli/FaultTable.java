package io.k3gpu.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The fault suite's results, written as the Markdown table of docs/reliability.md to target/reliability.md. */
final class FaultTable {
    static final Path FILE = Path.of("target", "reliability.md");

    record Row(String fault, String during, String command, int exit, double seconds, String deadline,
               String nodeAfter, String rerun) {
    }

    private final List<Row> rows = new ArrayList<>();

    synchronized void add(Row row) {
        rows.add(row);
        write();
    }

    private void write() {
        StringBuilder sb = new StringBuilder();
        sb.append("| fault | during | command | exit | failed after | deadline | on the node afterwards | plain re-run |\n");
        sb.append("|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            sb.append("| ").append(r.fault()).append(" | ").append(r.during()).append(" | `").append(r.command())
                    .append("` | ").append(r.exit()).append(" | ")
                    .append(String.format(Locale.ROOT, "%.1f s", r.seconds())).append(" | ").append(r.deadline())
                    .append(" | ").append(r.nodeAfter()).append(" | ").append(r.rerun()).append(" |\n");
        }
        try {
            Files.createDirectories(FILE.toAbsolutePath().getParent());
            Files.writeString(FILE, sb.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
