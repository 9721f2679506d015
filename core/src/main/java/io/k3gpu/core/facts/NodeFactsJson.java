package io.k3gpu.core.facts;

import io.k3gpu.core.text.JsonText;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@link NodeFacts} as JSON for {@code k3gpu facts -o json}: the keys are the record's field names in its order,
 * absent values are {@code null}. Built by hand so the shape is exactly this and stays stable.
 */
public final class NodeFactsJson {
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private NodeFactsJson() {
    }

    /** Indented by two spaces, without a trailing newline. */
    public static String toJson(NodeFacts facts) {
        return JsonText.indented(tree(facts), 2);
    }

    /** On one line. */
    public static String toCompactJson(NodeFacts facts) {
        return MAPPER.writeValueAsString(tree(facts));
    }

    static ObjectNode tree(NodeFacts f) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("hostname", f.hostname());
        root.put("arch", f.arch());
        root.put("os", f.os());
        root.put("kernel", f.kernel());
        root.put("jetsonModel", f.jetsonModel());
        root.put("socFamily", f.socFamily());
        root.put("l4tVersion", f.l4tVersion());
        root.put("l4tSource", f.l4tSource());
        root.put("jetpackVersion", f.jetpackVersion());
        root.put("cudaVersion", f.cudaVersion());
        ArrayNode gpus = root.putArray("gpus");
        for (Gpu gpu : f.gpus()) {
            ObjectNode g = gpus.addObject();
            g.put("index", gpu.index());
            g.put("name", gpu.name());
            g.put("uuid", gpu.uuid());
            g.put("memoryTotalMiB", gpu.memoryTotalMiB());
            g.put("driverVersion", gpu.driverVersion());
        }
        root.put("dockerInstalled", f.dockerInstalled());
        root.put("dockerRunning", f.dockerRunning());
        root.put("dockerDefaultRuntime", f.dockerDefaultRuntime());
        ArrayNode runtimes = root.putArray("dockerRuntimes");
        f.dockerRuntimes().forEach(runtimes::add);
        root.put("nvidiaContainerRuntime", f.nvidiaContainerRuntime());
        root.put("nvidiaContainerRuntimePath", f.nvidiaContainerRuntimePath());
        root.put("containerdInstalled", f.containerdInstalled());
        root.put("k3sInstalled", f.k3sInstalled());
        root.put("k3sRole", f.k3sRole());
        root.put("k3sVersion", f.k3sVersion());
        root.put("k3sDefaultRuntime", f.k3sDefaultRuntime());
        root.put("nvidiaContainerToolkitVersion", f.nvidiaContainerToolkitVersion());
        root.put("toolkitDirRuntime", f.toolkitDirRuntime());
        root.put("toolkitDirRuntimeDiffers", f.toolkitDirRuntimeDiffers());
        ArrayNode warnings = root.putArray("warnings");
        f.toolkitDirWarning().ifPresent(warnings::add);
        return root;
    }
}
