package io.k3gpu.lab;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The recorded hardware output the lab replays: the copies bundled in the jar
 * ({@code io/k3gpu/lab/fixtures/...}), or files of {@link LabConfig#fixturesDir()} where present.
 */
final class Fixtures {
    static final List<String> NVIDIA_SMI_FILES = List.of("L.txt", "version.txt", "help-query-gpu.txt", "q-header.csv",
            "q-loop.csv", "busy_noheader_nounits.csv", "query_fields.txt", "busy_apps.csv", "apps.csv", "busy_q.xml");

    private final Path overrideDir;

    Fixtures(Path overrideDir) {
        this.overrideDir = overrideDir;
    }

    byte[] bytes(String relPath) {
        try {
            if (overrideDir != null) {
                Path p = overrideDir.resolve(relPath);
                if (Files.isRegularFile(p)) {
                    return Files.readAllBytes(p);
                }
            }
            return resource("fixtures/" + relPath);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String text(String relPath) {
        return new String(bytes(relPath), java.nio.charset.StandardCharsets.UTF_8);
    }

    static byte[] resource(String relPath) {
        try (InputStream in = Fixtures.class.getResourceAsStream(relPath)) {
            if (in == null) {
                throw new K3gpuException(ExitCode.FAILED, "lab: resource " + relPath + " is missing from the jar", null);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String resourceText(String relPath) {
        return new String(resource(relPath), java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * The tegrastats lines recorded on {@code board} (e.g. "Jetson Nano 4GB"), captured as root ({@code sudo}) or
     * not. A sample's comment names the board and says "(sudo" when tegrastats ran as root; "# same capture, next
     * sample" continues the comment before.
     */
    static List<String> tegrastatsLines(String samples, String board, boolean sudo) {
        List<String> out = new ArrayList<>();
        String comment = "";
        for (String line : samples.split("\\R")) {
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("#")) {
                String c = line.substring(1).strip();
                if (!c.startsWith("same capture")) {
                    comment = c;
                }
                continue;
            }
            boolean boardMatches = comment.startsWith(board + " ") || comment.startsWith(board + ",");
            boolean isSudo = comment.contains("(sudo");
            if (boardMatches && isSudo == sudo) {
                out.add(line.strip());
            }
        }
        return out;
    }
}
