package io.k3gpu.core.telemetry.live;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.GpuSampleJson;
import io.k3gpu.core.telemetry.TelemetryParseException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads {@code .jsonl} recordings (and the output of {@code k3gpu stats parse -o json}) back into samples. */
public final class Recordings {
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private Recordings() {
    }

    /**
     * What was read: the samples in file order, and how many lines were skipped (error objects of
     * {@code stats parse}, lines that are not a sample).
     */
    public record Read(List<RecordedSample> samples, int skipped) {
    }

    /** Reads a recording; lines that are not samples are counted, not fatal. */
    public static Read read(Path file) {
        List<RecordedSample> out = new ArrayList<>();
        int skipped = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                RecordedSample s = parse(line);
                if (s == null) {
                    skipped++;
                } else {
                    out.add(s);
                }
            }
        } catch (NoSuchFileException e) {
            throw new K3gpuException(ExitCode.USAGE, "no such file: " + file, "record one with k3gpu stats --record");
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.USAGE, "cannot read " + file + ": " + e.getMessage(), null, e);
        }
        return new Read(out, skipped);
    }

    /** One line of a recording; null when it is not a sample. */
    public static RecordedSample parse(String line) {
        try {
            JsonNode o = MAPPER.readTree(line);
            if (o == null || !o.isObject() || o.has("error")) {
                return null;
            }
            GpuSample sample = GpuSampleJson.fromNode(o);
            JsonNode node = o.get("node");
            JsonNode received = o.get("received");
            return new RecordedSample(node == null || node.isNull() ? null : node.asString(),
                    received == null || received.isNull() ? null : GpuSampleJson.parseTime(received.asString()),
                    sample);
        } catch (JacksonException | TelemetryParseException e) {
            return null;
        }
    }
}
