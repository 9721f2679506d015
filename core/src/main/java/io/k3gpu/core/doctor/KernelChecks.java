package io.k3gpu.core.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The kernel options K3s's {@code contrib/util/check-config.sh} verifies. "Generally Necessary" ones fail there and
 * fail here; flannel's default VXLAN backend needs {@code VXLAN} and containerd's default overlayfs snapshotter needs
 * {@code OVERLAY_FS} (check-config lists both under drivers), so they fail here too; the "Optional Features" (IPVS,
 * more cgroup controllers) only warn, as there.
 */
final class KernelChecks {
    static final List<String> REQUIRED = List.of(
            "NAMESPACES", "NET_NS", "PID_NS", "IPC_NS", "UTS_NS",
            "CGROUPS", "CGROUP_PIDS", "CGROUP_CPUACCT", "CGROUP_DEVICE", "CGROUP_FREEZER", "CGROUP_SCHED", "CPUSETS",
            "MEMCG", "SECCOMP", "KEYS",
            "VETH", "BRIDGE", "BRIDGE_NETFILTER",
            "IP_NF_FILTER", "IP_NF_TARGET_MASQUERADE", "IP_NF_TARGET_REJECT",
            "NETFILTER_XT_MATCH_ADDRTYPE", "NETFILTER_XT_MATCH_CONNTRACK",
            "NETFILTER_XT_MATCH_COMMENT", "NETFILTER_XT_MATCH_MULTIPORT", "NETFILTER_XT_MATCH_STATISTIC",
            "IP_NF_NAT", "NF_NAT", "POSIX_MQUEUE");
    /** Flannel's VXLAN backend (K3s's default) and the overlayfs snapshotter. */
    static final List<String> DRIVERS = List.of("VXLAN", "OVERLAY_FS");
    /**
     * check-config's optional features, plus {@code NETFILTER_XT_MATCH_IPVS}, which it lists as necessary (from
     * moby's script, for Docker swarm's load balancer) but which only kube-proxy's IPVS mode uses, not K3s's default
     * iptables mode.
     */
    static final List<String> OPTIONAL = List.of("NETFILTER_XT_MATCH_IPVS", "USER_NS", "BLK_CGROUP", "BLK_DEV_THROTTLING", "CGROUP_PERF",
            "CGROUP_HUGETLB", "NET_CLS_CGROUP", "CGROUP_NET_PRIO", "CFS_BANDWIDTH", "FAIR_GROUP_SCHED", "RT_GROUP_SCHED",
            "IP_NF_TARGET_REDIRECT", "IP_SET", "IP_VS", "IP_VS_NFCT", "IP_VS_PROTO_TCP", "IP_VS_PROTO_UDP", "IP_VS_RR");

    private KernelChecks() {
    }

    static List<String> all() {
        List<String> all = new ArrayList<>(REQUIRED);
        all.addAll(DRIVERS);
        all.addAll(OPTIONAL);
        return List.copyOf(all);
    }

    static List<String> missing(List<String> options, Map<String, String> config) {
        List<String> out = new ArrayList<>();
        for (String o : options) {
            if (!config.containsKey(o)) {
                out.add("CONFIG_" + o);
            }
        }
        return out;
    }
}
