package io.k3gpu.core.telemetry;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Test fixtures copied from ../shared/fixtures into src/test/resources/telemetry. */
final class Fixtures {
    private Fixtures() {
    }

    static String text(String resource) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/telemetry/" + resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource telemetry/" + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> lines(String resource) {
        return text(resource).lines().toList();
    }

    /** The 27 sample lines of tegrastats/samples.txt, comments and blank lines left out, in file order. */
    static List<String> tegrastatsSamples() {
        return lines("tegrastats/samples.txt").stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#"))
                .toList();
    }

    static String tegrastats(int index) {
        return tegrastatsSamples().get(index);
    }
}
