package io.k3gpu.core.kube;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** fabric8's model of Nodes, Pods and Jobs read into k3gpu's records: pure functions, no client. */
final class Fabric8Models {
    private Fabric8Models() {
    }

    static PodOutcome outcome(Pod p, boolean timedOut) {
        PodStatus st = p.getStatus();
        String phase = st == null || st.getPhase() == null ? "Pending" : st.getPhase();
        Integer exit = null;
        String reason = null;
        String message = null;
        if (st != null && st.getContainerStatuses() != null) {
            for (ContainerStatus cs : st.getContainerStatuses()) {
                if (cs.getState() != null && cs.getState().getTerminated() != null && exit == null) {
                    exit = cs.getState().getTerminated().getExitCode();
                }
                if (cs.getState() != null && cs.getState().getWaiting() != null && reason == null) {
                    reason = cs.getState().getWaiting().getReason();
                    message = cs.getState().getWaiting().getMessage();
                }
            }
        }
        if (st != null && st.getInitContainerStatuses() != null && reason == null) {
            for (ContainerStatus cs : st.getInitContainerStatuses()) {
                if (cs.getState() != null && cs.getState().getWaiting() != null
                        && !"PodInitializing".equals(cs.getState().getWaiting().getReason())) {
                    reason = cs.getState().getWaiting().getReason();
                    message = cs.getState().getWaiting().getMessage();
                }
            }
        }
        String unschedulable = null;
        if (st != null && st.getConditions() != null) {
            for (PodCondition c : st.getConditions()) {
                if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())
                        && "Unschedulable".equals(c.getReason())) {
                    unschedulable = c.getMessage();
                }
            }
        }
        return new PodOutcome(phase, exit, reason, message, unschedulable, timedOut);
    }

    /** A label selector (matchLabels and matchExpressions) against a pod's labels, as the API server matches it. */
    static boolean selects(io.fabric8.kubernetes.api.model.LabelSelector sel, Map<String, String> labels) {
        if (sel.getMatchLabels() != null) {
            for (var e : sel.getMatchLabels().entrySet()) {
                if (!e.getValue().equals(labels.get(e.getKey()))) {
                    return false;
                }
            }
        }
        if (sel.getMatchExpressions() != null) {
            for (var r : sel.getMatchExpressions()) {
                String v = labels.get(r.getKey());
                List<String> values = r.getValues() == null ? List.of() : r.getValues();
                boolean ok = switch (r.getOperator()) {
                    case "In" -> v != null && values.contains(v);
                    case "NotIn" -> v == null || !values.contains(v);
                    case "Exists" -> v != null;
                    case "DoesNotExist" -> v == null;
                    default -> false;
                };
                if (!ok) {
                    return false;
                }
            }
        }
        return true;
    }

    static JobStatus jobStatus(Job j) {
        var st = j.getStatus();
        String state = "Running";
        if (st != null && st.getConditions() != null) {
            for (JobCondition c : st.getConditions()) {
                if ("True".equals(c.getStatus()) && ("Complete".equals(c.getType()) || "Failed".equals(c.getType()))) {
                    state = c.getType();
                }
            }
        }
        if ("Running".equals(state) && st != null) {
            if (st.getSucceeded() != null && st.getSucceeded() > 0) {
                state = "Complete";
            } else if (st.getFailed() != null && st.getFailed() > 0) {
                state = "Failed";
            }
        }
        Instant started = st == null || st.getStartTime() == null ? null : Instant.parse(st.getStartTime());
        Instant finished = st == null || st.getCompletionTime() == null ? null : Instant.parse(st.getCompletionTime());
        Map<String, String> labels = j.getMetadata().getLabels() == null ? Map.of() : j.getMetadata().getLabels();
        Integer completions = j.getSpec() == null ? null : j.getSpec().getCompletions();
        Integer parallelism = j.getSpec() == null ? null : j.getSpec().getParallelism();
        return new JobStatus(j.getMetadata().getName(), j.getMetadata().getNamespace(), state, started, finished, labels,
                completions, parallelism);
    }

    static boolean isReady(Node n) {
        if (n.getStatus() == null || n.getStatus().getConditions() == null) {
            return false;
        }
        for (NodeCondition c : n.getStatus().getConditions()) {
            if ("Ready".equals(c.getType())) {
                return "True".equals(c.getStatus());
            }
        }
        return false;
    }

    static NodeStatus status(Node n) {
        Map<String, String> labels = n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
        List<String> roles = new ArrayList<>();
        labels.forEach((k, v) -> {
            if (k.startsWith("node-role.kubernetes.io/")) {
                roles.add(k.substring("node-role.kubernetes.io/".length()));
            }
        });
        roles.sort(String::compareTo);
        String internal = null;
        String external = null;
        var st = n.getStatus();
        if (st != null && st.getAddresses() != null) {
            for (NodeAddress a : st.getAddresses()) {
                if ("InternalIP".equals(a.getType()) && internal == null) {
                    internal = a.getAddress();
                } else if ("ExternalIP".equals(a.getType()) && external == null) {
                    external = a.getAddress();
                }
            }
        }
        var info = st == null ? null : st.getNodeInfo();
        Quantity gpu = st == null || st.getCapacity() == null ? null : st.getCapacity().get("nvidia.com/gpu");
        Quantity gpuAllocatable = st == null || st.getAllocatable() == null ? null
                : st.getAllocatable().get("nvidia.com/gpu");
        String created = n.getMetadata().getCreationTimestamp();
        return new NodeStatus(n.getMetadata().getName(), isReady(n), roles,
                created == null ? null : Instant.parse(created),
                info == null ? null : info.getKubeletVersion(), internal, external,
                info == null ? null : info.getOsImage(), info == null ? null : info.getKernelVersion(),
                info == null ? null : info.getContainerRuntimeVersion(),
                info == null ? labels.get("kubernetes.io/arch") : info.getArchitecture(),
                gpu == null ? null : gpu.toString(), labels,
                gpuAllocatable == null ? null : gpuAllocatable.toString());
    }

    static PodSummary summary(Pod p) {
        var spec = p.getSpec();
        List<Long> containers = new ArrayList<>();
        List<Long> inits = new ArrayList<>();
        if (spec != null) {
            if (spec.getContainers() != null) {
                spec.getContainers().forEach(c -> containers.add(gpus(c.getResources())));
            }
            if (spec.getInitContainers() != null) {
                spec.getInitContainers().forEach(c -> inits.add(gpus(c.getResources())));
            }
        }
        List<PodSummary.Container> states = new ArrayList<>();
        Map<String, ContainerStatus> byName = new LinkedHashMap<>();
        if (p.getStatus() != null && p.getStatus().getContainerStatuses() != null) {
            p.getStatus().getContainerStatuses().forEach(cs -> byName.put(cs.getName(), cs));
        }
        if (spec != null && spec.getContainers() != null) {
            for (var c : spec.getContainers()) {
                ContainerStatus cs = byName.get(c.getName());
                var st = cs == null ? null : cs.getState();
                String state = null;
                String reason = null;
                String message = null;
                if (st != null && st.getRunning() != null) {
                    state = "Running";
                } else if (st != null && st.getWaiting() != null) {
                    state = "Waiting";
                    reason = st.getWaiting().getReason();
                    message = st.getWaiting().getMessage();
                } else if (st != null && st.getTerminated() != null) {
                    state = "Terminated";
                    reason = st.getTerminated().getReason();
                    message = st.getTerminated().getMessage();
                }
                states.add(new PodSummary.Container(c.getName(), c.getImage(), state, reason, message,
                        cs == null || cs.getRestartCount() == null ? 0 : cs.getRestartCount()));
            }
        }
        String phase = p.getStatus() == null || p.getStatus().getPhase() == null ? "Pending" : p.getStatus().getPhase();
        return new PodSummary(p.getMetadata().getNamespace(), p.getMetadata().getName(),
                spec == null ? null : spec.getNodeName(), phase, PodSummary.effectiveGpus(containers, inits), states);
    }

    /** A container's nvidia.com/gpu: its request, else its limit (the API defaults one to the other). */
    static long gpus(io.fabric8.kubernetes.api.model.ResourceRequirements r) {
        if (r == null) {
            return 0;
        }
        Quantity q = r.getRequests() == null ? null : r.getRequests().get(GpuPodSpec.RESOURCE);
        if (q == null && r.getLimits() != null) {
            q = r.getLimits().get(GpuPodSpec.RESOURCE);
        }
        return q == null ? 0 : GpuAccess.count(q.toString());
    }

    static PodState podState(Pod p) {
        PodStatus st = p.getStatus();
        String phase = st == null || st.getPhase() == null ? "Pending" : st.getPhase();
        boolean ready = false;
        String reason = null;
        int restarts = 0;
        if (st != null && st.getConditions() != null) {
            for (PodCondition c : st.getConditions()) {
                if ("Ready".equals(c.getType())) {
                    ready = "True".equals(c.getStatus());
                } else if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())) {
                    reason = (c.getReason() == null ? "Unschedulable" : c.getReason())
                            + (c.getMessage() == null ? "" : ": " + c.getMessage());
                }
            }
        }
        if (st != null && st.getContainerStatuses() != null) {
            for (ContainerStatus cs : st.getContainerStatuses()) {
                restarts += cs.getRestartCount() == null ? 0 : cs.getRestartCount();
                if (cs.getState() != null && cs.getState().getWaiting() != null && reason == null) {
                    reason = cs.getState().getWaiting().getReason();
                } else if (cs.getState() != null && cs.getState().getTerminated() != null && reason == null) {
                    reason = cs.getState().getTerminated().getReason();
                }
            }
        }
        Map<String, String> annotations = p.getMetadata().getAnnotations();
        return new PodState(p.getMetadata().getName(), p.getSpec() == null ? null : p.getSpec().getNodeName(), phase,
                ready, reason, restarts, annotations == null ? Map.of() : annotations);
    }

    static KubeObject kubeObject(String kind, HasMetadata o) {
        Map<String, String> a = o.getMetadata().getAnnotations();
        return new KubeObject(kind, o.getMetadata().getName(), a == null ? Map.of() : a);
    }
}
