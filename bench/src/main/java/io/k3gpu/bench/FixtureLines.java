package io.k3gpu.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import io.k3gpu.core.telemetry.live.TelemetryCommands;

import java.util.ArrayList;
import java.util.List;

/** The real tegrastats and nvidia-smi lines of the test fixtures (shared/fixtures), from the classpath. */
final class FixtureLines {
    private FixtureLines() {
    }

    static List<String> lines(String resource) {
        try (InputStream in = FixtureLines.class.getResourceAsStream("/telemetry/" + resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource telemetry/" + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The 27 tegrastats sample lines, every JetPack format. */
    static List<String> tegrastats() {
        return lines("tegrastats/samples.txt");
    }

    /** The H200 rows captured under load, and their query fields. */
    static List<String> nvidiaSmiRows() {
        return lines("nvidia-smi/busy_noheader_nounits.csv");
    }

    static String nvidiaSmiQuery() {
        return lines("nvidia-smi/query_fields.txt").get(0);
    }

    /** The H200 rows rearranged into the columns k3gpu queries ({@link TelemetryCommands#NVIDIA_SMI_FIELDS}). */
    static List<String> nvidiaSmiRowsAsK3gpuQueries() {
        List<String> captured = List.of(nvidiaSmiQuery().split(","));
        List<String> out = new ArrayList<>();
        for (String row : nvidiaSmiRows()) {
            String[] cells = row.split(",", -1);
            List<String> cols = new ArrayList<>();
            for (String f : TelemetryCommands.NVIDIA_SMI_FIELDS) {
                int i = captured.indexOf(f);
                cols.add(i < 0 ? "[N/A]" : cells[i].strip());
            }
            out.add(String.join(", ", cols));
        }
        return out;
    }
}
