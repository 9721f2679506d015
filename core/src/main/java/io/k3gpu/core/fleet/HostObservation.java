package io.k3gpu.core.fleet;

import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.Taint;
import io.k3gpu.core.runtime.RuntimeChange;

import java.util.List;
import java.util.Map;

/**
 * What one host is now, as plan sees it, without changing anything.
 *
 * @param facts          the node's facts
 * @param joinedUrl      K3S_URL of the host's K3s unit for its role in the file; null when there is none
 * @param runtime        EnableNvidiaRuntime's dry run for the runtime the file asks for; null when it asks for none
 * @param runtimeProblem why that dry run failed (no toolkit, no Docker); null when it did not
 * @param node           the host's Node in the cluster; null when there is none (or no cluster to ask)
 * @param taints         the Node's taints
 * @param annotations    the Node's annotations (k3gpu keeps what it manages there)
 * @param installedArgs  the K3s command line of the host's unit for its role in the file (ExecStart=, without the
 *                       program), e.g. [server, --cluster-init]; empty when there is none
 * @param containerdTemplate what K3s's containerd template is on the host (the template route of the NVIDIA
 *                       default, {@link io.k3gpu.core.k3s.ContainerdTemplate})
 */
public record HostObservation(NodeFacts facts, String joinedUrl, RuntimeChange runtime, String runtimeProblem,
                              NodeStatus node, List<Taint> taints, Map<String, String> annotations,
                              List<String> installedArgs, TemplateState containerdTemplate) {
    /** K3s's config.toml.tmpl: none, k3gpu's as it writes it now, k3gpu's but another text, or someone else's. */
    public enum TemplateState { NONE, K3GPU, K3GPU_STALE, OTHER }

    public HostObservation {
        taints = taints == null ? List.of() : List.copyOf(taints);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        installedArgs = installedArgs == null ? List.of() : List.copyOf(installedArgs);
        containerdTemplate = containerdTemplate == null ? TemplateState.NONE : containerdTemplate;
    }

    /** A host without a containerd template. */
    public HostObservation(NodeFacts facts, String joinedUrl, RuntimeChange runtime, String runtimeProblem,
                           NodeStatus node, List<Taint> taints, Map<String, String> annotations,
                           List<String> installedArgs) {
        this(facts, joinedUrl, runtime, runtimeProblem, node, taints, annotations, installedArgs, TemplateState.NONE);
    }
}
