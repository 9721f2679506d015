package io.k3gpu.lab.k3s;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Server-side printing ({@code Accept: application/json;as=Table;g=meta.k8s.io;v=v1}) with the kube-apiserver's
 * columns, so {@code kubectl get} and {@code -o wide} show what they show against a real cluster: nodes, pods, jobs,
 * daemonsets, deployments, replicasets, controllerrevisions, configmaps, runtimeclasses, namespaces and events; other types get Name and Age.
 */
final class Tables {
    private record Column(String name, String type, String format, int priority, String description) {
    }

    private Tables() {
    }

    /** Whether an Accept header asks for a Table. */
    static boolean wanted(String accept) {
        return accept != null && accept.contains("as=Table");
    }

    /**
     * A Table of {@code items}.
     *
     * @param includeObject None, Metadata (default) or Object
     */
    static ObjectNode table(ApiResources.Resource r, List<JsonNode> items, String resourceVersion,
                            String includeObject, Instant now, String tableApiVersion) {
        List<Column> cols = columns(r.kind(), r.group());
        ObjectNode t = Json.object();
        t.put("kind", "Table");
        t.put("apiVersion", tableApiVersion);
        ObjectNode meta = t.putObject("metadata");
        if (resourceVersion != null) {
            meta.put("resourceVersion", resourceVersion);
        }
        ArrayNode defs = t.putArray("columnDefinitions");
        for (Column c : cols) {
            defs.addObject().put("name", c.name()).put("type", c.type()).put("format", c.format())
                    .put("description", c.description()).put("priority", c.priority());
        }
        ArrayNode rows = t.putArray("rows");
        for (JsonNode item : items) {
            ObjectNode row = rows.addObject();
            ArrayNode cells = row.putArray("cells");
            for (Object cell : cells(r.kind(), r.group(), item, now)) {
                if (cell instanceof Integer i) {
                    cells.add(i);
                } else {
                    cells.add(String.valueOf(cell));
                }
            }
            if ("Object".equalsIgnoreCase(includeObject)) {
                row.set("object", item);
            } else if (!"None".equalsIgnoreCase(includeObject)) {
                ObjectNode partial = row.putObject("object");
                partial.put("kind", "PartialObjectMetadata");
                partial.put("apiVersion", tableApiVersion);
                partial.set("metadata", item.path("metadata").deepCopy());
            }
        }
        return t;
    }

    private static List<Column> columns(String kind, String group) {
        Column name = new Column("Name", "string", "name", 0,
                "Name must be unique within a namespace. Is required when creating resources.");
        Column age = new Column("Age", "string", "", 0,
                "CreationTimestamp is a timestamp representing the server time when this object was created.");
        return switch (kind) {
            case "Node" -> List.of(name, col("Status", 0, "The status of the node"),
                    col("Roles", 0, "The roles of the node"), age,
                    col("Version", 0, "Kubelet Version reported by the node."),
                    col("Internal-IP", 1, "List of internal IPs."), col("External-IP", 1, "List of external IPs."),
                    col("OS-Image", 1, "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 "
                            + "(wheezy))."),
                    col("Kernel-Version", 1, "Kernel Version reported by the node from 'uname -r' (e.g. "
                            + "3.16.0-0.bpo.4-amd64)."),
                    col("Container-Runtime", 1, "ContainerRuntime Version reported by the node through runtime "
                            + "remote API (e.g. containerd://1.4.2)."));
            case "Pod" -> List.of(name, col("Ready", 0, "The aggregate readiness state of this pod for accepting "
                            + "traffic."),
                    col("Status", 0, "The aggregate status of the containers in this pod."),
                    col("Restarts", 0, "The number of times the containers in this pod have been restarted and "
                            + "when the last container in this pod has restarted."), age,
                    col("IP", 1, "IP address allocated to the pod. Routable at least within the cluster. Empty if "
                            + "not yet allocated."),
                    col("Node", 1, "NodeName is a request to schedule this pod onto a specific node."),
                    col("Nominated Node", 1, "nominatedNodeName is set only when this pod preempts other pods on "
                            + "the node."),
                    col("Readiness Gates", 1, "If specified, all readiness gates will be evaluated for pod "
                            + "readiness."));
            case "Job" -> List.of(name, col("Status", 0, "Status of the job."),
                    col("Completions", 0, "The number of pods which reached phase Succeeded."),
                    col("Duration", 0, "Time required to complete the job."), age,
                    col("Containers", 1, "Names of each container in the template."),
                    col("Images", 1, "Images referenced by each container in the template."),
                    col("Selector", 1, "A label query over pods that should match the pod count."));
            case "DaemonSet" -> List.of(name,
                    intCol("Desired", "The total number of nodes that should be running the daemon pod (including "
                            + "nodes correctly running the daemon pod). More info: "
                            + "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"),
                    intCol("Current", "The number of nodes that are running at least 1 daemon pod and are supposed to "
                            + "run the daemon pod. More info: "
                            + "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"),
                    intCol("Ready", "numberReady is the number of nodes that should be running the daemon pod and "
                            + "have one or more of the daemon pod running with a Ready Condition."),
                    intCol("Up-to-date", "The total number of nodes that are running updated daemon pod"),
                    intCol("Available", "The number of nodes that should be running the daemon pod and have one or "
                            + "more of the daemon pod running and available (ready for at least "
                            + "spec.minReadySeconds)"),
                    col("Node Selector", 0, "NodeSelector is a selector which must be true for the pod to fit on a "
                            + "node. Selector which must match a node's labels for the pod to be scheduled on that "
                            + "node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"),
                    age,
                    col("Containers", 1, "Names of each container in the template."),
                    col("Images", 1, "Images referenced by each container in the template."),
                    col("Selector", 1, "A label query over pods that are managed by the daemon set. Must match in "
                            + "order to be controlled. It must match the pod template's labels. More info: "
                            + "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/"
                            + "#label-selectors"));
            // pkg/printers/internalversion/printers.go (v1.31): deploymentColumnDefinitions, replicaSetColumnDefinitions
            case "Deployment" -> List.of(name, col("Ready", 0, "Number of the pod with ready state"),
                    col("Up-to-date", 0, "Total number of non-terminated pods targeted by this deployment that have "
                            + "the desired template spec."),
                    col("Available", 0, "Total number of available pods (ready for at least minReadySeconds) "
                            + "targeted by this deployment."), age,
                    col("Containers", 1, "Names of each container in the template."),
                    col("Images", 1, "Images referenced by each container in the template."),
                    col("Selector", 1, "Label selector for pods. Existing ReplicaSets whose pods are selected by this "
                            + "will be the ones affected by this deployment."));
            case "ReplicaSet" -> List.of(name,
                    intCol("Desired", "Replicas is the number of desired replicas. This is a pointer to distinguish "
                            + "between explicit zero and unspecified. Defaults to 1. More info: "
                            + "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/"
                            + "#what-is-a-replicationcontroller"),
                    intCol("Current", "Replicas is the most recently observed number of replicas. More info: "
                            + "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/"
                            + "#what-is-a-replicationcontroller"),
                    intCol("Ready", "The number of ready replicas for this replica set."), age,
                    col("Containers", 1, "Names of each container in the template."),
                    col("Images", 1, "Images referenced by each container in the template."),
                    col("Selector", 1, "Selector is a label query over pods that should match the replica count. "
                            + "Label keys and values that must match in order to be controlled by this replica set. "
                            + "More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/"
                            + "#label-selectors"));
            case "ControllerRevision" -> List.of(name,
                    col("Controller", 0, "Controller of the object"),
                    intCol("Revision", "Revision indicates the revision of the state represented by Data."), age);
            case "Service" -> List.of(name, col("Type", 0, "The type of service."),
                    col("Cluster-IP", 0, "The cluster IP of the service."),
                    col("External-IP", 0, "The external IP of the service."),
                    col("Port(s)", 0, "The ports of the service."), age,
                    col("Selector", 1, "Route service traffic to pods with label keys and values matching this "
                            + "selector."));
            case "ConfigMap" -> List.of(name, col("Data", 0, "Data contains the configuration data."), age);
            case "RuntimeClass" -> List.of(name, col("Handler", 0, "Handler specifies the underlying runtime and "
                    + "configuration that the CRI implementation will use to handle pods of this class."), age);
            case "Namespace" -> List.of(name, col("Status", 0, "The status of the namespace"), age);
            case "Event" -> group.isEmpty() ? List.of(col("Last Seen", 0, "Time when last this event was seen"),
                    col("Type", 0, "Type of this event (Normal, Warning), new types could be added in the future."),
                    col("Reason", 0, "This should be a short, machine understandable string that gives the reason "
                            + "for the transition into the object's current status."),
                    col("Object", 0, "The object that this event is about."),
                    col("Subobject", 1, "The subobject that this event is about."),
                    col("Source", 1, "The component reporting this event."),
                    col("Message", 0, "A human-readable description of the status of this operation."),
                    col("First Seen", 1, "The time at which the event was first recorded."),
                    col("Count", 1, "The number of times this event has occurred."),
                    new Column("Name", "string", "name", 1, "The name of this event."))
                    : List.of(name, age);
            default -> List.of(name, age);
        };
    }

    private static Column col(String name, int priority, String description) {
        return new Column(name, "string", "", priority, description);
    }

    private static Column intCol(String name, String description) {
        return new Column(name, "integer", "", 0, description);
    }

    private static List<Object> cells(String kind, String group, JsonNode o, Instant now) {
        String name = Json.text(o, "metadata.name");
        String age = since(Json.text(o, "metadata.creationTimestamp"), now);
        return switch (kind) {
            case "Node" -> nodeCells(o, name, age);
            case "Pod" -> podCells(o, name, age, now);
            case "Job" -> jobCells(o, name, age, now);
            case "DaemonSet" -> daemonSetCells(o, name, age);
            case "ControllerRevision" -> controllerRevisionCells(o, name, age);
            case "Deployment" -> deploymentCells(o, name, age);
            case "ReplicaSet" -> replicaSetCells(o, name, age);
            case "Service" -> serviceCells(o, name, age);
            case "ConfigMap" -> List.of(name, o.path("data").size() + o.path("binaryData").size(), age);
            case "RuntimeClass" -> List.of(name, orDefault(Json.text(o, "handler"), ""), age);
            case "Namespace" -> List.of(name, orDefault(Json.text(o, "status.phase"), "Active"), age);
            case "Event" -> group.isEmpty() ? eventCells(o, name, now) : List.of(name, age);
            default -> List.of(name, age);
        };
    }

    /**
     * printService (pkg/printers/internalversion/printers.go): the cluster IPs, the external IP by type
     * (LoadBalancer: the ingress IPs or hostnames, then spec.externalIPs, else {@code <pending>}; ExternalName: the
     * name; else spec.externalIPs or {@code <none>}; not shortened: the API server prints wide), the ports as
     * {@code port[:nodePort]/protocol}, the selector.
     */
    private static List<Object> serviceCells(JsonNode o, String name, String age) {
        JsonNode spec = o.path("spec");
        String type = spec.path("type").asString("ClusterIP");
        List<String> clusterIps = new ArrayList<>();
        spec.path("clusterIPs").forEach(ip -> clusterIps.add(ip.asString("")));
        String internal = clusterIps.isEmpty() ? spec.path("clusterIP").asString("") : String.join(",", clusterIps);
        List<String> external = new ArrayList<>();
        spec.path("externalIPs").forEach(ip -> external.add(ip.asString("")));
        String externalIp;
        if (type.equals("LoadBalancer")) {
            List<String> lb = new ArrayList<>();
            for (JsonNode in : o.path("status").path("loadBalancer").path("ingress")) {
                lb.add(in.hasNonNull("ip") ? in.path("ip").asString("") : in.path("hostname").asString(""));
            }
            lb.addAll(external);
            externalIp = lb.isEmpty() ? "<pending>" : String.join(",", lb);
        } else if (type.equals("ExternalName")) {
            externalIp = spec.path("externalName").asString("");
        } else {
            externalIp = external.isEmpty() ? "<none>" : String.join(",", external);
        }
        List<String> ports = new ArrayList<>();
        for (JsonNode p : spec.path("ports")) {
            String proto = p.path("protocol").asString("TCP");
            int nodePort = p.path("nodePort").asInt(0);
            ports.add(nodePort > 0 ? p.path("port").asInt() + ":" + nodePort + "/" + proto
                    : p.path("port").asInt() + "/" + proto);
        }
        List<String> selector = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : spec.path("selector").properties()) {
            selector.add(e.getKey() + "=" + e.getValue().asString(""));
        }
        selector.sort(null); // labels.FormatLabels sorts by key
        return List.of(name, type, internal, externalIp, ports.isEmpty() ? "<none>" : String.join(",", ports), age,
                selector.isEmpty() ? "<none>" : String.join(",", selector));
    }

    private static List<Object> nodeCells(JsonNode o, String name, String age) {
        String status = "NotReady";
        for (JsonNode c : o.path("status").path("conditions")) {
            if ("Ready".equals(c.path("type").asString())) {
                status = "True".equals(c.path("status").asString()) ? "Ready" : "NotReady";
            }
        }
        if (o.path("spec").path("unschedulable").asBoolean(false)) {
            status += ",SchedulingDisabled";
        }
        TreeSet<String> roles = new TreeSet<>();
        for (Map.Entry<String, JsonNode> l : o.path("metadata").path("labels").properties()) {
            if (l.getKey().startsWith("node-role.kubernetes.io/")) {
                String role = l.getKey().substring("node-role.kubernetes.io/".length());
                if (!role.isEmpty()) {
                    roles.add(role);
                }
            } else if (l.getKey().equals("kubernetes.io/role") && !l.getValue().asString().isEmpty()) {
                roles.add(l.getValue().asString());
            }
        }
        String internal = address(o, "InternalIP");
        String external = address(o, "ExternalIP");
        JsonNode info = o.path("status").path("nodeInfo");
        return List.of(name, status, roles.isEmpty() ? "<none>" : String.join(",", roles), age,
                orDefault(info.path("kubeletVersion").asString(""), ""), internal, external,
                orDefault(info.path("osImage").asString(""), "<unknown>"),
                orDefault(info.path("kernelVersion").asString(""), "<unknown>"),
                orDefault(info.path("containerRuntimeVersion").asString(""), "<unknown>"));
    }

    private static String address(JsonNode node, String type) {
        List<String> found = new ArrayList<>();
        for (JsonNode a : node.path("status").path("addresses")) {
            if (type.equals(a.path("type").asString())) {
                found.add(a.path("address").asString());
            }
        }
        return found.isEmpty() ? "<none>" : found.get(0);
    }

    /**
     * kubectl's printPod (v1.31): phase or status.reason, SchedulingGated, init containers (Init:i/n,
     * Init:&lt;reason&gt;, Init:ExitCode:n, Init:Signal:n; restartable init containers count as containers), then the
     * containers from last to first (waiting reason, terminated reason, ExitCode:n, Signal:n), Completed with a
     * container still running as Running (NotReady without the Ready condition), Terminating for a deleted pod that
     * has not finished, Unknown for one lost with its node; restarts as {@code n (5m ago)}.
     */
    private static List<Object> podCells(JsonNode o, String name, String age, Instant now) {
        JsonNode spec = o.path("spec");
        JsonNode status = o.path("status");
        int total = spec.path("containers").size();
        int ready = 0;
        int restarts = 0;
        int sidecarRestarts = 0;
        Instant lastRestart = null;
        Instant lastSidecarRestart = null;
        String phase = status.path("phase").asString("");
        String reason = orDefault(phase, "Pending");
        if (!status.path("reason").asString("").isEmpty()) {
            reason = status.path("reason").asString();
        }
        for (JsonNode c : status.path("conditions")) {
            if ("PodScheduled".equals(c.path("type").asString()) && "SchedulingGated".equals(c.path("reason")
                    .asString())) {
                reason = "SchedulingGated";
            }
        }
        Map<String, Boolean> sidecars = new java.util.HashMap<>();
        for (JsonNode c : spec.path("initContainers")) {
            boolean sidecar = "Always".equals(c.path("restartPolicy").asString(""));
            sidecars.put(c.path("name").asString(""), sidecar);
            if (sidecar) {
                total++;
            }
        }
        boolean initializing = false;
        JsonNode inits = status.path("initContainerStatuses");
        int initCount = spec.path("initContainers").size();
        for (int i = 0; i < inits.size(); i++) {
            JsonNode c = inits.get(i);
            restarts += c.path("restartCount").asInt(0);
            Instant finished = instant(c.path("lastState").path("terminated").path("finishedAt").asString(null));
            if (finished != null && (lastRestart == null || finished.isAfter(lastRestart))) {
                lastRestart = finished;
            }
            boolean sidecar = sidecars.getOrDefault(c.path("name").asString(""), false);
            if (sidecar) {
                sidecarRestarts += c.path("restartCount").asInt(0);
                if (finished != null && (lastSidecarRestart == null || finished.isAfter(lastSidecarRestart))) {
                    lastSidecarRestart = finished;
                }
            }
            JsonNode term = c.path("state").path("terminated");
            JsonNode wait = c.path("state").path("waiting");
            if (!term.isMissingNode() && term.path("exitCode").asInt(0) == 0) {
                continue;
            }
            if (sidecar && c.path("started").asBoolean(false)) {
                if (c.path("ready").asBoolean(false)) {
                    ready++;
                }
                continue;
            }
            if (!term.isMissingNode()) {
                String r = term.path("reason").asString("");
                if (!r.isEmpty()) {
                    reason = "Init:" + r;
                } else if (term.path("signal").asInt(0) != 0) {
                    reason = "Init:Signal:" + term.path("signal").asInt();
                } else {
                    reason = "Init:ExitCode:" + term.path("exitCode").asInt();
                }
            } else if (!wait.isMissingNode() && !wait.path("reason").asString("").isEmpty()
                    && !"PodInitializing".equals(wait.path("reason").asString())) {
                reason = "Init:" + wait.path("reason").asString();
            } else {
                reason = "Init:" + i + "/" + initCount;
            }
            initializing = true;
            break;
        }
        boolean initialized = false;
        for (JsonNode c : status.path("conditions")) {
            if ("Initialized".equals(c.path("type").asString()) && "True".equals(c.path("status").asString())) {
                initialized = true;
            }
        }
        if (!initializing || initialized) {
            restarts = sidecarRestarts;
            lastRestart = lastSidecarRestart;
            boolean hasRunning = false;
            JsonNode cs = status.path("containerStatuses");
            for (int i = cs.size() - 1; i >= 0; i--) {
                JsonNode c = cs.get(i);
                restarts += c.path("restartCount").asInt(0);
                Instant finished = instant(c.path("lastState").path("terminated").path("finishedAt").asString(null));
                if (finished != null && (lastRestart == null || finished.isAfter(lastRestart))) {
                    lastRestart = finished;
                }
                JsonNode wait = c.path("state").path("waiting");
                JsonNode term = c.path("state").path("terminated");
                if (!wait.isMissingNode() && !wait.path("reason").asString("").isEmpty()) {
                    reason = wait.path("reason").asString();
                } else if (!term.isMissingNode() && !term.path("reason").asString("").isEmpty()) {
                    reason = term.path("reason").asString();
                } else if (!term.isMissingNode()) {
                    reason = term.path("signal").asInt(0) != 0 ? "Signal:" + term.path("signal").asInt()
                            : "ExitCode:" + term.path("exitCode").asInt();
                } else if (c.path("ready").asBoolean(false) && !c.path("state").path("running").isMissingNode()) {
                    hasRunning = true;
                    ready++;
                }
            }
            if ("Completed".equals(reason) && hasRunning) {
                boolean podReady = false;
                for (JsonNode c : status.path("conditions")) {
                    podReady |= "Ready".equals(c.path("type").asString()) && "True".equals(c.path("status").asString());
                }
                reason = podReady ? "Running" : "NotReady";
            }
        }
        boolean deleted = !o.path("metadata").path("deletionTimestamp").isMissingNode()
                && !o.path("metadata").path("deletionTimestamp").isNull();
        if (deleted && "NodeLost".equals(status.path("reason").asString(""))) {
            reason = "Unknown";
        } else if (deleted && !phase.equals("Succeeded") && !phase.equals("Failed")) {
            reason = "Terminating";
        }
        String restartText = String.valueOf(restarts);
        if (restarts != 0 && lastRestart != null) {
            restartText = restarts + " (" + human(Duration.between(lastRestart, now)) + " ago)";
        }
        String ip = status.path("podIPs").path(0).path("ip").asString("");
        if (ip.isEmpty()) {
            ip = status.path("podIP").asString("");
        }
        String node = orDefault(spec.path("nodeName").asString(""), "<none>");
        String nominated = orDefault(status.path("nominatedNodeName").asString(""), "<none>");
        String gates = "<none>";
        if (spec.path("readinessGates").size() > 0) {
            int trueGates = 0;
            for (JsonNode g : spec.path("readinessGates")) {
                for (JsonNode c : status.path("conditions")) {
                    if (c.path("type").asString("").equals(g.path("conditionType").asString(""))
                            && "True".equals(c.path("status").asString())) {
                        trueGates++;
                    }
                }
            }
            gates = trueGates + "/" + spec.path("readinessGates").size();
        }
        return List.of(name, ready + "/" + total, reason, restartText, age, orDefault(ip, "<none>"), node, nominated,
                gates);
    }

    private static List<Object> jobCells(JsonNode o, String name, String age, Instant now) {
        JsonNode spec = o.path("spec");
        JsonNode status = o.path("status");
        int succeeded = status.path("succeeded").asInt(0);
        String completions;
        if (spec.has("completions") && !spec.path("completions").isNull()) {
            completions = succeeded + "/" + spec.path("completions").asInt();
        } else {
            int parallelism = spec.path("parallelism").asInt(1);
            completions = parallelism > 1 ? succeeded + "/1 of " + parallelism : succeeded + "/1";
        }
        String state = "Running"; // kubectl's printJob: Complete, Failed, Terminating, Suspended, FailureTarget,
        // SuccessCriteriaMet, Running
        java.util.Set<String> trueConditions = new java.util.HashSet<>();
        for (JsonNode c : status.path("conditions")) {
            if ("True".equals(c.path("status").asString())) {
                trueConditions.add(c.path("type").asString(""));
            }
        }
        boolean terminating = !o.path("metadata").path("deletionTimestamp").isMissingNode()
                && !o.path("metadata").path("deletionTimestamp").isNull();
        if (trueConditions.contains("Complete")) {
            state = "Complete";
        } else if (trueConditions.contains("Failed")) {
            state = "Failed";
        } else if (terminating) {
            state = "Terminating";
        } else if (trueConditions.contains("Suspended")) {
            state = "Suspended";
        } else if (trueConditions.contains("FailureTarget")) {
            state = "FailureTarget";
        } else if (trueConditions.contains("SuccessCriteriaMet")) {
            state = "SuccessCriteriaMet";
        }
        String duration = "";
        Instant start = instant(status.path("startTime").asString(null));
        if (start != null) {
            Instant end = instant(status.path("completionTime").asString(null));
            duration = human(Duration.between(start, end == null ? now : end));
        }
        List<String> names = new ArrayList<>();
        List<String> images = new ArrayList<>();
        for (JsonNode c : spec.path("template").path("spec").path("containers")) {
            names.add(c.path("name").asString(""));
            images.add(c.path("image").asString(""));
        }
        List<String> selector = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : spec.path("selector").path("matchLabels").properties()) {
            selector.add(e.getKey() + "=" + e.getValue().asString());
        }
        return List.of(name, state, completions, duration, age, String.join(",", names), String.join(",", images),
                selector.isEmpty() ? "<none>" : String.join(",", selector));
    }

    /** printDaemonSet: the status counters, labels.FormatLabels of the template's nodeSelector, wide columns. */
    private static List<Object> daemonSetCells(JsonNode o, String name, String age) {
        JsonNode status = o.path("status");
        JsonNode podSpec = o.path("spec").path("template").path("spec");
        List<String> names = new ArrayList<>();
        List<String> images = new ArrayList<>();
        for (JsonNode c : podSpec.path("containers")) {
            names.add(c.path("name").asString(""));
            images.add(c.path("image").asString(""));
        }
        return List.of(name, status.path("desiredNumberScheduled").asInt(0),
                status.path("currentNumberScheduled").asInt(0), status.path("numberReady").asInt(0),
                status.path("updatedNumberScheduled").asInt(0), status.path("numberAvailable").asInt(0),
                labels(podSpec.path("nodeSelector")), age, String.join(",", names), String.join(",", images),
                selector(o.path("spec").path("selector")));
    }

    /** printDeployment: ready/desired, up-to-date, available; wide: containers, images, selector. */
    private static List<Object> deploymentCells(JsonNode o, String name, String age) {
        JsonNode status = o.path("status");
        String[] containers = containerCells(o);
        return List.of(name, status.path("readyReplicas").asInt(0) + "/" + o.path("spec").path("replicas").asInt(1),
                status.path("updatedReplicas").asInt(0), status.path("availableReplicas").asInt(0), age,
                containers[0], containers[1], selector(o.path("spec").path("selector")));
    }

    /** printReplicaSet: desired, current, ready; wide: containers, images, selector. */
    private static List<Object> replicaSetCells(JsonNode o, String name, String age) {
        JsonNode status = o.path("status");
        String[] containers = containerCells(o);
        return List.of(name, o.path("spec").path("replicas").asInt(1), status.path("replicas").asInt(0),
                status.path("readyReplicas").asInt(0), age, containers[0], containers[1],
                selector(o.path("spec").path("selector")));
    }

    /** layoutContainerCells: the template's container names and images, comma-separated. */
    private static String[] containerCells(JsonNode o) {
        List<String> names = new ArrayList<>();
        List<String> images = new ArrayList<>();
        for (JsonNode c : o.path("spec").path("template").path("spec").path("containers")) {
            names.add(c.path("name").asString(""));
            images.add(c.path("image").asString(""));
        }
        return new String[] {String.join(",", names), String.join(",", images)};
    }

    /** printControllerRevision: the controller as {@code <kind, lower case>.<group>/<name>}, the revision. */
    private static List<Object> controllerRevisionCells(JsonNode o, String name, String age) {
        String controller = "<none>";
        for (JsonNode ref : o.path("metadata").path("ownerReferences")) {
            if (ref.path("controller").asBoolean(false)) {
                String apiVersion = ref.path("apiVersion").asString("");
                String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
                controller = ref.path("kind").asString("").toLowerCase(java.util.Locale.ROOT)
                        + (group.isEmpty() ? "" : "." + group) + "/" + ref.path("name").asString("");
            }
        }
        return List.of(name, controller, o.path("revision").asInt(0), age);
    }

    /** labels.FormatLabels: {@code k=v} sorted by key, comma-separated; {@code <none>} when empty. */
    static String labels(JsonNode map) {
        java.util.TreeMap<String, String> sorted = new java.util.TreeMap<>();
        map.properties().forEach(e -> sorted.put(e.getKey(), e.getValue().asString("")));
        List<String> parts = new ArrayList<>();
        sorted.forEach((k, v) -> parts.add(k + "=" + v));
        return parts.isEmpty() ? "<none>" : String.join(",", parts);
    }

    /** metav1.FormatLabelSelector: matchLabels and matchExpressions, sorted by key. */
    static String selector(JsonNode selector) {
        java.util.TreeMap<String, String> parts = new java.util.TreeMap<>();
        selector.path("matchLabels").properties().forEach(e -> parts.put(e.getKey() + "\0",
                e.getKey() + "=" + e.getValue().asString("")));
        for (JsonNode e : selector.path("matchExpressions")) {
            String key = e.path("key").asString("");
            List<String> values = new ArrayList<>();
            e.path("values").forEach(v -> values.add(v.asString("")));
            java.util.Collections.sort(values);
            String text = switch (e.path("operator").asString("")) {
                case "In" -> key + " in (" + String.join(",", values) + ")";
                case "NotIn" -> key + " notin (" + String.join(",", values) + ")";
                case "Exists" -> key;
                case "DoesNotExist" -> "!" + key;
                default -> key;
            };
            parts.put(key + "\1" + text, text);
        }
        return parts.isEmpty() ? "<none>" : String.join(",", parts.values());
    }

    private static List<Object> eventCells(JsonNode o, String name, Instant now) {
        String last = Json.text(o, "lastTimestamp");
        if (last == null) {
            last = Json.text(o, "eventTime");
        }
        if (last == null) {
            last = Json.text(o, "metadata.creationTimestamp");
        }
        String first = Json.text(o, "firstTimestamp");
        JsonNode inv = o.path("involvedObject");
        String object = inv.path("kind").asString("").toLowerCase(java.util.Locale.ROOT) + "/"
                + inv.path("name").asString("");
        String source = orDefault(o.path("source").path("component").asString(""),
                o.path("reportingComponent").asString(""));
        if (!o.path("source").path("host").asString("").isEmpty()) {
            source += ", " + o.path("source").path("host").asString();
        }
        return List.of(since(last, now), orDefault(Json.text(o, "type"), ""), orDefault(Json.text(o, "reason"), ""),
                object, orDefault(inv.path("fieldPath").asString(""), ""), source,
                orDefault(Json.text(o, "message"), "").strip(), first == null ? "<unknown>" : since(first, now),
                String.valueOf(o.path("count").asInt(1)), name);
    }

    private static String orDefault(String s, String fallback) {
        return s == null || s.isEmpty() ? fallback : s;
    }

    private static Instant instant(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** kubectl's age of a timestamp ({@code <unknown>} when absent). */
    static String since(String timestamp, Instant now) {
        Instant t = instant(timestamp);
        return t == null ? "<unknown>" : human(Duration.between(t, now));
    }

    /** Kubernetes's HumanDuration: 45s, 3m20s, 15m, 5h3m, 20h, 3d4h, 30d, 2y10d. */
    static String human(Duration d) {
        long seconds = d.getSeconds();
        if (seconds < -1) {
            return "<invalid>";
        } else if (seconds < 0) {
            return "0s";
        } else if (seconds < 60 * 2) {
            return seconds + "s";
        }
        long minutes = seconds / 60;
        if (minutes < 10) {
            long s = seconds % 60;
            return s == 0 ? minutes + "m" : minutes + "m" + s + "s";
        } else if (minutes < 60 * 3) {
            return minutes + "m";
        }
        long hours = seconds / 3600;
        if (hours < 8) {
            long m = minutes % 60;
            return m == 0 ? hours + "h" : hours + "h" + m + "m";
        } else if (hours < 48) {
            return hours + "h";
        } else if (hours < 24 * 8) {
            long h = hours % 24;
            return h == 0 ? hours / 24 + "d" : hours / 24 + "d" + h + "h";
        } else if (hours < 24 * 365 * 2) {
            return hours / 24 + "d";
        } else if (hours < 24 * 365 * 8) {
            long dy = (hours / 24) % 365;
            return dy == 0 ? hours / 24 / 365 + "y" : hours / 24 / 365 + "y" + dy + "d";
        }
        return hours / 24 / 365 + "y";
    }
}
