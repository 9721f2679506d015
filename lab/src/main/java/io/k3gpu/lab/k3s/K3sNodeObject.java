package io.k3gpu.lab.k3s;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Node object a K3s kubelet registers, built from {@link HostFacts} — the one contract the server's own node and
 * the simulated agent (Python, lab/.../k3s-agent) share. The golden file
 * {@code lab/src/test/resources/io/k3gpu/lab/k3s/node-golden.json} shows every field for fixed inputs:
 * <ul>
 *   <li>labels: {@code kubernetes.io/hostname}, {@code kubernetes.io/os=linux}, {@code kubernetes.io/arch},
 *   {@code beta.kubernetes.io/arch}, {@code beta.kubernetes.io/os=linux},
 *   {@code node.kubernetes.io/instance-type=k3s}, {@code beta.kubernetes.io/instance-type=k3s}; on servers
 *   {@code node-role.kubernetes.io/control-plane=true} and {@code node-role.kubernetes.io/master=true} (plus
 *   {@code node-role.kubernetes.io/etcd=true} with embedded etcd); then --node-label values, which win;</li>
 *   <li>annotations: {@code k3s.io/hostname}, {@code k3s.io/internal-ip}, {@code k3s.io/node-args} (JSON array,
 *   token values as ********), {@code node.alpha.kubernetes.io/ttl=0},
 *   {@code volumes.kubernetes.io/controller-managed-attach-detach=true};</li>
 *   <li>spec: {@code providerID k3s://<name>}, {@code taints} from --node-taint ({@code key=value:Effect});
 *   {@code podCIDR}/{@code podCIDRs} when given;</li>
 *   <li>status: {@code addresses} InternalIP (then ExternalIP) and Hostname; {@code capacity} cpu, memory (Ki),
 *   pods 110, ephemeral-storage (Ki), hugepages-1Gi/2Mi 0, {@code nvidia.com/gpu} when the node has GPUs and an
 *   NVIDIA-enabled default runtime; {@code allocatable} the same less K3s's eviction reserve (memory − 100Mi,
 *   ephemeral-storage 95 %, in bytes); {@code conditions} MemoryPressure, DiskPressure, PIDPressure False and
 *   Ready True with kubelet's reasons and messages; {@code daemonEndpoints.kubeletEndpoint.Port 10250};
 *   {@code nodeInfo} architecture, bootID, containerRuntimeVersion ({@code containerd://1.7.23-k3s2} or
 *   {@code docker://<server version>}), kernelVersion, kubeProxyVersion and kubeletVersion (the K3s version),
 *   machineID, operatingSystem linux, osImage, systemUUID; {@code images} empty.</li>
 * </ul>
 * Heartbeats rewrite {@code status.conditions} (lastHeartbeatTime) every 10 s through
 * {@code PATCH /api/v1/nodes/<name>/status} with a merge patch.
 */
public final class K3sNodeObject {
    public static final String CONTAINERD_VERSION = "containerd://1.7.23-k3s2";
    static final long EVICTION_MEMORY_KIB = 100 * 1024;

    /**
     * What shapes one Node beyond the host's facts.
     *
     * @param server          a K3s server (control-plane, master roles)
     * @param etcd            embedded etcd (cluster-init or joined server): etcd role
     * @param docker          --docker: runtime from Docker
     * @param defaultRuntime  --default-runtime, may be null
     * @param extraLabels     --node-label values (key=value)
     * @param taints          --node-taint values (key=value:Effect)
     * @param nodeIps         --node-ip values; the host's first IPv4 when empty
     * @param externalIps     --node-external-ip values
     * @param nodeArgs        the k3s command line, secrets redacted
     * @param podCidr         the node's pod range, may be null
     */
    public record Spec(String name, String version, boolean server, boolean etcd, boolean docker,
                       String defaultRuntime, List<String> extraLabels, List<String> taints, List<String> nodeIps,
                       List<String> externalIps, List<String> nodeArgs, String podCidr) {
    }

    private K3sNodeObject() {
    }

    public static ObjectNode build(Spec spec, HostFacts host, Instant now) {
        ObjectNode node = Json.object();
        node.put("apiVersion", "v1");
        node.put("kind", "Node");
        ObjectNode meta = node.putObject("metadata");
        meta.put("name", spec.name());
        ObjectNode labels = meta.putObject("labels");
        for (Map.Entry<String, String> e : labels(spec, host).entrySet()) {
            labels.put(e.getKey(), e.getValue());
        }
        ObjectNode ann = meta.putObject("annotations");
        String internalIp = internalIp(spec, host);
        ann.put("k3s.io/hostname", host.hostname());
        if (internalIp != null) {
            ann.put("k3s.io/internal-ip", internalIp);
        }
        ArrayNode args = Json.array();
        spec.nodeArgs().forEach(args::add);
        ann.put("k3s.io/node-args", Json.write(args));
        ann.put("node.alpha.kubernetes.io/ttl", "0");
        ann.put("volumes.kubernetes.io/controller-managed-attach-detach", "true");

        ObjectNode s = node.putObject("spec");
        if (spec.podCidr() != null) {
            s.put("podCIDR", spec.podCidr());
            s.putArray("podCIDRs").add(spec.podCidr());
        }
        s.put("providerID", "k3s://" + spec.name());
        if (!spec.taints().isEmpty()) {
            ArrayNode taints = s.putArray("taints");
            for (String t : spec.taints()) {
                taints.add(taint(t));
            }
        }

        ObjectNode st = node.putObject("status");
        ArrayNode addresses = st.putArray("addresses");
        if (internalIp != null) {
            addresses.addObject().put("address", internalIp).put("type", "InternalIP");
        }
        for (String ext : spec.externalIps()) {
            addresses.addObject().put("address", ext).put("type", "ExternalIP");
        }
        addresses.addObject().put("address", host.hostname()).put("type", "Hostname");
        int gpus = nvidiaEnabled(spec, host) ? host.gpuCount() : 0;
        ObjectNode alloc = st.putObject("allocatable");
        alloc.put("cpu", String.valueOf(host.cpus()));
        alloc.put("ephemeral-storage", String.valueOf(host.ephemeralStorageKiB() * 1024 / 100 * 95));
        alloc.put("hugepages-1Gi", "0");
        alloc.put("hugepages-2Mi", "0");
        alloc.put("memory", Math.max(0, host.memoryKiB() - EVICTION_MEMORY_KIB) + "Ki");
        if (gpus > 0) {
            alloc.put("nvidia.com/gpu", String.valueOf(gpus));
        }
        alloc.put("pods", "110");
        ObjectNode cap = st.putObject("capacity");
        cap.put("cpu", String.valueOf(host.cpus()));
        cap.put("ephemeral-storage", host.ephemeralStorageKiB() + "Ki");
        cap.put("hugepages-1Gi", "0");
        cap.put("hugepages-2Mi", "0");
        cap.put("memory", host.memoryKiB() + "Ki");
        if (gpus > 0) {
            cap.put("nvidia.com/gpu", String.valueOf(gpus));
        }
        cap.put("pods", "110");
        st.set("conditions", conditions(now, now));
        st.putObject("daemonEndpoints").putObject("kubeletEndpoint").put("Port", 10250);
        st.putArray("images");
        ObjectNode info = st.putObject("nodeInfo");
        info.put("architecture", host.architecture());
        info.put("bootID", host.bootId());
        info.put("containerRuntimeVersion", containerRuntimeVersion(spec, host));
        info.put("kernelVersion", host.kernelVersion());
        info.put("kubeProxyVersion", spec.version());
        info.put("kubeletVersion", spec.version());
        info.put("machineID", host.machineId());
        info.put("operatingSystem", "linux");
        info.put("osImage", host.osImage());
        info.put("systemUUID", host.machineId());
        return node;
    }

    /** The four kubelet conditions; heartbeats send this with a fresh {@code heartbeat}. */
    public static ArrayNode conditions(Instant heartbeat, Instant transition) {
        ArrayNode c = Json.array();
        condition(c, "MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available",
                heartbeat, transition);
        condition(c, "DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", heartbeat,
                transition);
        condition(c, "PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available",
                heartbeat, transition);
        condition(c, "Ready", "True", "KubeletReady", "kubelet is posting ready status", heartbeat, transition);
        return c;
    }

    private static void condition(ArrayNode list, String type, String status, String reason, String message,
                                  Instant heartbeat, Instant transition) {
        list.addObject().put("lastHeartbeatTime", time(heartbeat)).put("lastTransitionTime", time(transition))
                .put("message", message).put("reason", reason).put("status", status).put("type", type);
    }

    static String time(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    static Map<String, String> labels(Spec spec, HostFacts host) {
        Map<String, String> l = new TreeMap<>();
        l.put("beta.kubernetes.io/arch", host.architecture());
        l.put("beta.kubernetes.io/instance-type", "k3s");
        l.put("beta.kubernetes.io/os", "linux");
        l.put("kubernetes.io/arch", host.architecture());
        l.put("kubernetes.io/hostname", host.hostname());
        l.put("kubernetes.io/os", "linux");
        l.put("node.kubernetes.io/instance-type", "k3s");
        if (spec.server()) {
            l.put("node-role.kubernetes.io/control-plane", "true");
            l.put("node-role.kubernetes.io/master", "true");
            if (spec.etcd()) {
                l.put("node-role.kubernetes.io/etcd", "true");
            }
        }
        for (String kv : spec.extraLabels()) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                l.put(kv.substring(0, eq), kv.substring(eq + 1));
            } else if (!kv.isBlank()) {
                l.put(kv, "");
            }
        }
        return l;
    }

    /** {@code key=value:Effect} or {@code key:Effect} as a taint object. */
    static ObjectNode taint(String text) {
        ObjectNode t = Json.object();
        String effect = "NoSchedule";
        String kv = text;
        int colon = text.lastIndexOf(':');
        if (colon >= 0) {
            effect = text.substring(colon + 1);
            kv = text.substring(0, colon);
        }
        int eq = kv.indexOf('=');
        t.put("effect", effect);
        t.put("key", eq >= 0 ? kv.substring(0, eq) : kv);
        if (eq >= 0) {
            t.put("value", kv.substring(eq + 1));
        }
        return t;
    }

    static String internalIp(Spec spec, HostFacts host) {
        return spec.nodeIps().isEmpty() ? host.internalIp() : spec.nodeIps().get(0);
    }

    /**
     * Pods get the GPU only through an NVIDIA-enabled default runtime: Docker's default runtime is nvidia
     * (--docker), or K3s's containerd was started with --default-runtime nvidia (or another nvidia* runtime).
     */
    static boolean nvidiaEnabled(Spec spec, HostFacts host) {
        if (spec.docker()) {
            return host.dockerDefaultRuntime() != null && host.dockerDefaultRuntime().startsWith("nvidia");
        }
        return spec.defaultRuntime() != null && spec.defaultRuntime().startsWith("nvidia");
    }

    static String containerRuntimeVersion(Spec spec, HostFacts host) {
        if (spec.docker()) {
            return "docker://" + (host.dockerVersion() == null ? "" : host.dockerVersion());
        }
        return CONTAINERD_VERSION;
    }
}
