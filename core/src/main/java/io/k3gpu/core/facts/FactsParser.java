package io.k3gpu.core.facts;

import static io.k3gpu.core.facts.FactsScript.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Turns the output of {@link FactsScript} into {@link NodeFacts}. */
public final class FactsParser {
    private static final JsonMapper MAPPER = JsonMapper.builder().build();
    private static final Pattern K3S_VERSION_LINE = Pattern.compile("k3s version (v\\S+)");
    /** {@code dpkg-query -f '${Status} ${Version}'} of an installed package. */
    private static final Pattern DPKG_INSTALLED = Pattern.compile("install ok installed (\\S+)");
    private static final Pattern CLI_VERSION = Pattern.compile("\\bversion v?((\\d+)\\.\\d+(\\.\\d+)?)");
    private static final Pattern OS_RELEASE_LINE = Pattern.compile("^([A-Z0-9_]+)=(.*)$");
    /** {@code systemctl is-enabled} states of a unit file that exists; "not-found" and errors print otherwise. */
    private static final Set<String> UNIT_PRESENT = Set.of("enabled", "enabled-runtime", "linked", "linked-runtime",
            "alias", "static", "indirect", "disabled", "generated", "transient", "masked", "masked-runtime");

    private FactsParser() {
    }

    /**
     * The facts in {@code scriptOutput}.
     *
     * @throws K3gpuException ({@link ExitCode#REMOTE_COMMAND}) when the output lacks the end marker, i.e. was cut
     *         short
     */
    public static NodeFacts parse(String scriptOutput) {
        Map<String, String> sections = sections(scriptOutput == null ? "" : scriptOutput);
        if (!sections.containsKey(END)) {
            throw new K3gpuException(ExitCode.REMOTE_COMMAND,
                    "the node's facts output is incomplete (no " + MARKER + END + " line)",
                    "run again; if it persists, check that the node's /bin/sh works and its disk is not full");
        }

        Optional<L4tRelease> fromFile = L4tRelease.parseNvTegraRelease(sections.get(NV_TEGRA_RELEASE));
        Optional<L4tRelease> l4t = fromFile.or(() -> L4tRelease.parseDpkgVersion(firstLine(sections, L4T_CORE_VERSION)));
        String l4tSource = fromFile.isPresent() ? NodeFacts.L4T_FROM_NV_TEGRA_RELEASE
                : l4t.isPresent() ? NodeFacts.L4T_FROM_PACKAGE : null;
        JetsonIdentity identity = JetsonIdentity.parse(sections.get(DT_MODEL), sections.get(DT_COMPATIBLE),
                sections.get(SOC_FAMILY));
        boolean jetson = identity.isTegra() || l4t.isPresent();

        boolean dockerInstalled = firstLine(sections, DOCKER) != null;
        String dockerDefault = firstLine(sections, DOCKER_DEFAULT_RUNTIME);
        boolean dockerRunning = dockerInstalled && "0".equals(firstLine(sections, DOCKER_INFO_RC))
                && dockerDefault != null;
        String nvidiaRuntimePath = firstLine(sections, NVIDIA_CONTAINER_RUNTIME);
        boolean k3sInstalled = firstLine(sections, K3S) != null;
        String toolkitDir = firstLine(sections, NVIDIA_TOOLKIT_DIR_RUNTIME);

        return new NodeFacts(
                firstLine(sections, HOSTNAME),
                firstLine(sections, ARCH),
                prettyName(sections.get(OS_RELEASE)),
                firstLine(sections, KERNEL),
                jetson ? identity.model() : null,
                identity.socFamily(),
                l4t.map(L4tRelease::version).orElse(null),
                l4tSource,
                l4t.flatMap(L4tRelease::jetpack).orElse(null),
                CudaVersion.parse(sections.get(CUDA_VERSION_TXT), sections.get(CUDA_VERSION_JSON), sections.get(NVCC))
                        .orElse(null),
                gpus(sections.get(NVIDIA_SMI)),
                dockerInstalled,
                dockerRunning,
                dockerRunning ? dockerDefault : null,
                dockerRunning ? runtimeNames(sections.get(DOCKER_RUNTIMES)) : List.of(),
                nvidiaRuntimePath != null,
                nvidiaRuntimePath,
                firstLine(sections, CONTAINERD) != null,
                k3sInstalled,
                k3sInstalled ? k3sRole(sections) : null,
                k3sVersion(sections.get(K3S_VERSION)),
                k3sDefaultRuntime(sections.get(K3S_CONFIG_DEFAULT_RUNTIME)),
                toolkitVersion(firstLine(sections, NVIDIA_CONTAINER_TOOLKIT_DPKG),
                        firstLine(sections, NVIDIA_CONTAINER_TOOLKIT_CLI)),
                toolkitDir == null ? null : toolkitDir.split("\\s+")[0],
                toolkitDir != null && toolkitDir.endsWith(" different"));
    }

    /**
     * The toolkit's version from dpkg ({@code install ok installed 1.7.0-1}: the upstream version, without the Debian
     * revision), else from the first line of {@code nvidia-ctk --version} ("NVIDIA Container Toolkit CLI version
     * 1.14.3"), {@code nvidia-container-toolkit --version} ("NVIDIA Container Runtime Hook version 1.7.0") or
     * {@code nvidia-container-runtime --version}. The last one's 3.x versions are the runtime package that came
     * before the toolkit held the runtime (toolkit 1.6): they say nothing about the toolkit.
     */
    static String toolkitVersion(String dpkg, String cli) {
        if (dpkg != null) {
            Matcher m = DPKG_INSTALLED.matcher(dpkg);
            if (m.matches()) {
                String version = m.group(1);
                version = version.replaceFirst("^\\d+:", "");
                int revision = version.lastIndexOf('-');
                return revision > 0 ? version.substring(0, revision) : version;
            }
        }
        if (cli != null) {
            Matcher m = CLI_VERSION.matcher(cli);
            if (m.find() && !(cli.startsWith("NVIDIA Container Runtime version")
                    && Integer.parseInt(m.group(2)) >= 3)) {
                return m.group(1);
            }
        }
        return null;
    }

    /** Section name to content; each content without the trailing blank lines the markers add. */
    public static Map<String, String> sections(String output) {
        Map<String, String> sections = new HashMap<>();
        String name = null;
        StringBuilder content = new StringBuilder();
        for (String line : output.split("\n", -1)) {
            String text = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            if (text.startsWith(MARKER)) {
                if (name != null) {
                    sections.put(name, stripTrailingBlankLines(content));
                }
                name = text.substring(MARKER.length()).strip();
                content.setLength(0);
            } else if (name != null) {
                content.append(text).append('\n');
            }
        }
        if (name != null) {
            sections.put(name, stripTrailingBlankLines(content));
        }
        return sections;
    }

    private static String stripTrailingBlankLines(StringBuilder content) {
        String text = content.toString();
        int end = text.length();
        while (end > 0 && (text.charAt(end - 1) == '\n' || text.charAt(end - 1) == ' '
                || text.charAt(end - 1) == '\t')) {
            end--;
        }
        return text.substring(0, end);
    }

    /** The first non-blank line of a section, stripped; null when there is none. */
    private static String firstLine(Map<String, String> sections, String name) {
        String text = sections.get(name);
        if (text == null) {
            return null;
        }
        for (String line : text.split("\n")) {
            String stripped = line.replace("\0", "").strip();
            if (!stripped.isEmpty()) {
                return stripped;
            }
        }
        return null;
    }

    /** PRETTY_NAME, else NAME, of an os-release file; shell quoting removed. */
    static String prettyName(String osRelease) {
        if (osRelease == null) {
            return null;
        }
        Map<String, String> values = new HashMap<>();
        for (String line : osRelease.split("\n")) {
            Matcher m = OS_RELEASE_LINE.matcher(line.strip());
            if (m.matches()) {
                values.put(m.group(1), unquote(m.group(2)));
            }
        }
        String name = values.getOrDefault("PRETTY_NAME", values.get("NAME"));
        return name == null || name.isBlank() ? null : name;
    }

    private static String unquote(String value) {
        String v = value.strip();
        if (v.length() >= 2 && v.startsWith("'") && v.endsWith("'")) {
            return v.substring(1, v.length() - 1);
        }
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            StringBuilder out = new StringBuilder();
            for (int i = 1; i < v.length() - 1; i++) {
                char c = v.charAt(i);
                if (c == '\\' && i + 1 < v.length() - 1 && "\"\\$`".indexOf(v.charAt(i + 1)) >= 0) {
                    c = v.charAt(++i);
                }
                out.append(c);
            }
            return out.toString();
        }
        return v;
    }

    /**
     * GPUs from {@code nvidia-smi --query-gpu=index,name,uuid,memory.total,driver_version
     * --format=csv,noheader,nounits}; lines that are not GPU rows (nvidia-smi prints its failures on stdout) are
     * skipped.
     */
    static List<Gpu> gpus(String csv) {
        List<Gpu> gpus = new ArrayList<>();
        if (csv == null) {
            return gpus;
        }
        for (String line : csv.split("\n")) {
            String[] fields = line.split(",");
            if (fields.length < 5) {
                continue;
            }
            Integer index = integer(fields[0]);
            if (index == null) {
                continue;
            }
            int last = fields.length - 1;
            // A name with a comma spreads over several fields; the uuid, memory and driver are the last three.
            String name = String.join(",", List.of(fields).subList(1, last - 2)).strip();
            Long memory = longValue(fields[last - 1]);
            gpus.add(new Gpu(index, name, fields[last - 2].strip(), memory, blankToNull(fields[last])));
        }
        return gpus;
    }

    private static Integer integer(String field) {
        Long value = longValue(field);
        return value == null || value > Integer.MAX_VALUE ? null : value.intValue();
    }

    private static Long longValue(String field) {
        String text = field.strip();
        if (!text.matches("\\d{1,18}")) {
            return null;
        }
        return Long.parseLong(text);
    }

    private static String blankToNull(String text) {
        String stripped = text.strip();
        return stripped.isEmpty() ? null : stripped;
    }

    /** The names of {@code docker info --format '{{json .Runtimes}}'}, sorted. */
    static List<String> runtimeNames(String json) {
        if (json == null || json.isBlank()) {
            return List.of();
        }
        try {
            JsonNode runtimes = MAPPER.readTree(json);
            if (!runtimes.isObject()) {
                return List.of();
            }
            return runtimes.propertyNames().stream().sorted().toList();
        } catch (JacksonException e) {
            return List.of();
        }
    }

    /**
     * The role from the service K3s's installer creates ({@code k3s} for a server, {@code k3s-agent} for an agent),
     * else from the data directories: only servers have {@code /var/lib/rancher/k3s/server}.
     */
    private static String k3sRole(Map<String, String> sections) {
        boolean server = false;
        boolean agent = false;
        for (String unit : lines(sections.get(K3S_UNITS))) {
            String name = unit.substring(unit.lastIndexOf('/') + 1);
            server |= name.equals("k3s.service") || name.equals("k3s");
            agent |= name.equals("k3s-agent.service") || name.equals("k3s-agent");
        }
        for (String line : lines(sections.get(K3S_ENABLED))) {
            String[] words = line.split("\\s+");
            if (words.length >= 2 && UNIT_PRESENT.contains(words[1])) {
                server |= words[0].equals("k3s");
                agent |= words[0].equals("k3s-agent");
            }
        }
        if (server) {
            return "server";
        }
        if (agent) {
            return "agent";
        }
        List<String> dirs = lines(sections.get(K3S_DIRS));
        if (dirs.contains("/var/lib/rancher/k3s/server")) {
            return "server";
        }
        if (dirs.contains("/var/lib/rancher/k3s/agent") || dirs.contains("/etc/rancher/k3s")) {
            return "agent";
        }
        return null;
    }

    private static String k3sVersion(String output) {
        if (output == null) {
            return null;
        }
        Matcher m = K3S_VERSION_LINE.matcher(output);
        return m.find() ? m.group(1) : null;
    }

    /** The value of the last {@code default-runtime:} line, read as YAML so quotes and comments are handled. */
    private static String k3sDefaultRuntime(String lines) {
        String value = null;
        for (String line : lines(lines)) {
            try {
                Object document = new Yaml(new SafeConstructor(new LoaderOptions())).load(line);
                if (document instanceof Map<?, ?> map && map.get("default-runtime") != null) {
                    value = String.valueOf(map.get("default-runtime"));
                }
            } catch (YAMLException e) {
                // Not a plain key line; K3s would refuse the file anyway.
            }
        }
        return value;
    }

    /** The non-blank lines of a section, stripped; none for a missing one. */
    public static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                out.add(line.strip());
            }
        }
        return out;
    }
}
