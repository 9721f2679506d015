package io.k3gpu.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The fault suite's results, written as the Markdown table of docs/reliability.md to target/reliability.md. The suite
 * is two classes that may run at once in two forks (FaultIT: single nodes, FaultFleetIT: a fleet), so each writes its
 * rows to a part of its own (target/reliability-parts/PART.md, PART orders them) and the table is rebuilt from every
 * part under a file lock; a part not run this time keeps its rows from its last run.
 */
final class FaultTable {
    static final Path FILE = Path.of("target", "reliability.md");
    private static final Path PARTS = Path.of("target", "reliability-parts");

    record Row(String fault, String during, String command, int exit, double seconds, String deadline,
               String nodeAfter, String rerun) {
    }

    private final Path part;
    private final List<Row> rows = new ArrayList<>();

    FaultTable(String part) {
        this.part = PARTS.resolve(part + ".md");
    }

    synchronized void add(Row row) {
        rows.add(row);
        write();
    }

    private void write() {
        StringBuilder mine = new StringBuilder();
        for (Row r : rows) {
            mine.append("| ").append(r.fault()).append(" | ").append(r.during()).append(" | `").append(r.command())
                    .append("` | ").append(r.exit()).append(" | ")
                    .append(String.format(Locale.ROOT, "%.1f s", r.seconds())).append(" | ").append(r.deadline())
                    .append(" | ").append(r.nodeAfter()).append(" | ").append(r.rerun()).append(" |\n");
        }
        try {
            Files.createDirectories(PARTS.toAbsolutePath());
            try (FileChannel lock = FileChannel.open(PARTS.resolve(".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock held = lock.lock()) {
                Files.writeString(part, mine.toString(), StandardCharsets.UTF_8);
                StringBuilder sb = new StringBuilder();
                sb.append("| fault | during | command | exit | failed after | deadline | on the node afterwards | plain re-run |\n");
                sb.append("|---|---|---|---|---|---|---|---|\n");
                try (var s = Files.list(PARTS)) {
                    for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".md")).sorted().toList()) {
                        sb.append(Files.readString(p, StandardCharsets.UTF_8));
                    }
                }
                Files.writeString(FILE, sb.toString(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
