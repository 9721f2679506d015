package io.k3gpu.core.facts;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The CUDA toolkit version of a machine, from the files CUDA installs: {@code version.txt} (CUDA 10.2 and older),
 * {@code version.json} (CUDA 11 and newer), or the output of {@code nvcc --version}.
 */
public final class CudaVersion {
    private static final JsonMapper MAPPER = JsonMapper.builder().build();
    private static final Pattern VERSION_TXT = Pattern.compile("CUDA Version\\s+(\\d+(?:\\.\\d+)+)");
    /** The {@code "cuda"} member's version, also found in a truncated file. */
    private static final Pattern VERSION_JSON =
            Pattern.compile("\"cuda\"\\s*:\\s*\\{[^{}]*?\"version\"\\s*:\\s*\"([0-9][0-9.]*)\"");
    private static final Pattern NVCC_FULL = Pattern.compile("release\\s+\\d+(?:\\.\\d+)*,\\s*V(\\d+(?:\\.\\d+)+)");
    private static final Pattern NVCC_RELEASE = Pattern.compile("release\\s+(\\d+(?:\\.\\d+)+)");

    private CudaVersion() {
    }

    /**
     * The version from the first source that names one, in this order; each argument may be null.
     *
     * @param versionTxt {@code /usr/local/cuda/version.txt}: {@code CUDA Version 10.2.300} gives 10.2.300
     * @param versionJson {@code /usr/local/cuda/version.json}: {@code cuda.version}, e.g. 12.6.68
     * @param nvccOutput {@code nvcc --version}: {@code release 12.6, V12.6.68} gives 12.6.68
     */
    public static Optional<String> parse(String versionTxt, String versionJson, String nvccOutput) {
        return fromVersionTxt(versionTxt).or(() -> fromVersionJson(versionJson)).or(() -> fromNvcc(nvccOutput));
    }

    private static Optional<String> fromVersionTxt(String text) {
        return first(VERSION_TXT, text);
    }

    private static Optional<String> fromVersionJson(String text) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        try {
            JsonNode version = MAPPER.readTree(text).path("cuda").path("version");
            if (version.isString() && !version.stringValue().isBlank()) {
                return Optional.of(version.stringValue().strip());
            }
        } catch (JacksonException e) {
            // A truncated or odd file: the pattern below still finds the member.
        }
        return first(VERSION_JSON, text);
    }

    private static Optional<String> fromNvcc(String text) {
        return first(NVCC_FULL, text).or(() -> first(NVCC_RELEASE, text));
    }

    private static Optional<String> first(Pattern pattern, String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher m = pattern.matcher(text);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }
}
