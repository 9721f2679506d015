package io.k3gpu.core.fleet;

import io.k3gpu.core.facts.Gpu;
import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.kube.Taint;
import io.k3gpu.core.runtime.ContainerRuntime;
import io.k3gpu.core.runtime.RuntimeChange;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class PlanDiffTest {
    private static final String URL = "https://10.0.0.1:6443";
    private static final String V = "v1.31.4+k3s1";
    private static final PlanDiff.ClusterView UP = new PlanDiff.ClusterView(URL, V);
    private static final PlanDiff.ClusterView NO_CLUSTER = new PlanDiff.ClusterView(URL, null);

    private static final ClusterSpec SPEC = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
            hosts:
              - {name: cp1, address: 10.0.0.1, role: server, gpu: none}
              - {name: nano, address: 10.0.0.2, role: agent, gpu: docker}
              - {name: orin, address: 10.0.0.3, role: agent, labels: {shelf: a}, taints: ["dedicated=gpu:NoSchedule"]}
              - {name: cpu, address: 10.0.0.4, role: agent, gpu: auto}
              - {name: cp2, address: 10.0.0.5, role: server, gpu: k3s}
            """);

    /** A Jetson Nano or a CPU-only machine, with or without K3s. */
    private static NodeFacts facts(String host, boolean jetson, String dockerDefault, String k3sRole, String k3sVersion,
                                   String k3sDefault) {
        return new NodeFacts(host, jetson ? "aarch64" : "x86_64", "Ubuntu", "5.15", jetson ? "NVIDIA Jetson Nano Developer Kit" : null,
                jetson ? "tegra210" : null, jetson ? "32.7.1" : null, jetson ? "nv_tegra_release" : null, null,
                jetson ? "10.2.300" : null, List.<Gpu>of(), dockerDefault != null, dockerDefault != null, dockerDefault,
                dockerDefault == null ? List.of() : List.of("nvidia", "runc"), jetson, jetson ? "/usr/bin/nvidia-container-runtime" : null,
                true, k3sRole != null, k3sRole, k3sVersion, k3sDefault);
    }

    private static NodeStatus node(String name, boolean ready, String runtime, Map<String, String> labels) {
        return new NodeStatus(name, ready, List.of(), Instant.EPOCH, V, "10.0.0.9", null, "Ubuntu", "5.15", runtime,
                "arm64", null, labels);
    }

    private static RuntimeChange runtime(ContainerRuntime r, RuntimeChange.Outcome outcome) {
        return new RuntimeChange("h", r, outcome, r.configFile(), "", null, null,
                outcome == RuntimeChange.Outcome.WOULD_CHANGE ? "would write " + r.configFile() : "already nvidia");
    }

    private static List<String> steps(HostPlan p) {
        return p.steps().stream().map(s -> s.action().label() + ": " + s.detail()).toList();
    }

    @Test
    void aFreshFirstServerIsInstalledAndLabelled() {
        HostObservation o = new HostObservation(facts("cp1", false, null, null, null, null), null, null, null, null,
                null, null, List.of());
        HostPlan p = PlanDiff.diff(SPEC, SPEC.host("cp1"), o, NO_CLUSTER);
        assertThat(p.firstServer()).isTrue();
        assertThat(steps(p)).containsExactly("install server: K3s is not installed", "relabel: new node: 1 label");
    }

    @Test
    void aFreshJetsonInDockerModeGetsTheRuntimeThenJoinsThenIsLabelled() {
        HostObservation o = new HostObservation(facts("jetson1", true, "runc", null, null, null), null,
                runtime(ContainerRuntime.DOCKER, RuntimeChange.Outcome.WOULD_CHANGE), null, null, null, null, List.of());
        HostPlan p = PlanDiff.diff(SPEC, SPEC.host("nano"), o, NO_CLUSTER);
        assertThat(steps(p)).containsExactly(
                "set NVIDIA runtime: docker: would write /etc/docker/daemon.json",
                "join agent: K3s is not installed",
                "relabel: new node: 7 labels");
    }

    @Test
    void aConvergedAgentNeedsNothing() {
        NodeFacts f = facts("jetson1", true, "nvidia", "agent", V, null);
        Map<String, String> labels = new HashMap<>(present(GpuLabels.of(f, "docker-nvidia")));
        labels.put("kubernetes.io/hostname", "jetson1");
        HostObservation o = new HostObservation(f, URL, runtime(ContainerRuntime.DOCKER, RuntimeChange.Outcome.UNCHANGED),
                null, node("jetson1", true, "docker://20.10.21", labels), List.of(), Map.of(), List.of());
        HostPlan p = PlanDiff.diff(SPEC, SPEC.host("nano"), o, UP);
        assertThat(p.nothing()).isTrue();
        assertThat(p.steps()).isEmpty();
    }

    @Test
    void aDaemonJsonThatLostTheNvidiaDefaultIsSetAgainAndTheAgentRestartedNotReinstalled() {
        NodeFacts f = facts("jetson1", true, "nvidia", "agent", V, null);
        HostObservation o = new HostObservation(f, URL, runtime(ContainerRuntime.DOCKER, RuntimeChange.Outcome.WOULD_CHANGE),
                null, node("jetson1", true, "docker://20.10.21", present(GpuLabels.of(f, "docker-nvidia"))), List.of(),
                Map.of(), List.of());
        HostPlan p = PlanDiff.diff(SPEC, SPEC.host("nano"), o, UP);
        assertThat(steps(p)).containsExactly(
                "set NVIDIA runtime: docker: would write /etc/docker/daemon.json",
                "join agent: k3s-agent is restarted with the new runtime");
    }

    @Test
    void labelsAndTaintsOfTheFileAreComparedWithTheNodeAndOldOnesRemoved() {
        NodeFacts f = facts("orin", true, null, "agent", V, "nvidia");
        Map<String, String> labels = new HashMap<>(present(GpuLabels.of(f, "containerd-nvidia")));
        labels.put("shelf", "b");
        labels.put("room", "lab");
        HostObservation o = new HostObservation(f, URL, runtime(ContainerRuntime.K3S, RuntimeChange.Outcome.UNCHANGED), null,
                node("orin", true, "containerd://1.7.23-k3s2", labels),
                List.of(new Taint("old", null, "NoExecute"), new Taint("admin", "x", "NoSchedule")),
                Map.of(FleetLabels.LABELS_ANNOTATION, "room,shelf", FleetLabels.TAINTS_ANNOTATION, "old:NoExecute"), List.of());
        HostPlan p = PlanDiff.diff(SPEC, SPEC.host("orin"), o, UP);
        assertThat(steps(p)).containsExactly(
                "relabel: -room, shelf=a",
                "set taints: dedicated=gpu:NoSchedule, -old:NoExecute");
    }

    @Test
    void anAgentJoinedElsewhereOrOnAnotherVersionOrNotReadyJoinsAgain() {
        NodeFacts f = facts("cpu", false, "runc", "agent", V, null);
        HostSpec h = SPEC.host("cpu");
        NodeStatus ready = node("cpu", true, "containerd://1.7.23-k3s2", Map.of());
        assertThat(steps(PlanDiff.diff(SPEC, h, new HostObservation(f, "https://10.9.9.9:6443", null, null, ready, null, null, List.of()), UP)))
                .first().isEqualTo("join agent: joined to https://10.9.9.9:6443, not " + URL);
        assertThat(steps(PlanDiff.diff(SPEC, h, new HostObservation(f, URL, null, null, ready, null, null, List.of()),
                new PlanDiff.ClusterView(URL, "v1.32.0+k3s1"))))
                .first().isEqualTo("upgrade: " + V + " → v1.32.0+k3s1");
        assertThat(steps(PlanDiff.diff(SPEC, h, new HostObservation(f, URL, null, null,
                node("cpu", false, "containerd://1.7.23-k3s2", Map.of()), null, null, List.of()), UP)))
                .first().isEqualTo("join agent: Node cpu is not Ready");
        assertThat(steps(PlanDiff.diff(SPEC, h, new HostObservation(f, URL, null, null, null, null, null, List.of()), UP)))
                .first().isEqualTo("join agent: no Node cpu in the cluster");
        assertThat(steps(PlanDiff.diff(SPEC, h, new HostObservation(f, URL, null, null,
                node("cpu", true, "docker://27.5.1", Map.of()), null, null, List.of()), UP)))
                .first().isEqualTo("join agent: K3s runs docker://27.5.1, the file says gpu: auto");
    }

    @Test
    void autoOnAHostWithoutAGpuChangesNoRuntime() {
        NodeFacts f = facts("cpu", false, "runc", null, null, null);
        HostPlan p = PlanDiff.diff(SPEC, SPEC.host("cpu"), new HostObservation(f, null, null, null, null, null, null, List.of()),
                NO_CLUSTER);
        assertThat(steps(p)).containsExactly("join agent: K3s is not installed", "relabel: new node: 1 label");
    }

    @Test
    void anExplicitGpuModeOnAHostWithoutAGpuIsAFailureApplyWouldMeet() {
        NodeFacts f = facts("cpu", false, "runc", null, null, null);
        HostPlan p = PlanDiff.diff(SPEC, SPEC.host("cp2"), new HostObservation(f, null, null, null, null, null, null, List.of()),
                NO_CLUSTER);
        assertThat(p.failed()).isTrue();
        assertThat(p.error()).isEqualTo("gpu: k3s but cpu has no NVIDIA GPU (no Jetson identity and nvidia-smi lists none); "
                + "use gpu: none or auto");
    }

    @Test
    void aRuntimeThatCannotBeSetIsReportedAsTheHostsProblem() {
        NodeFacts f = facts("jetson1", true, null, null, null, null);
        HostPlan p = PlanDiff.diff(SPEC, SPEC.host("nano"), new HostObservation(f, null, null,
                "Docker is not installed on 10.0.0.2; nothing was changed", null, null, null, List.of()), NO_CLUSTER);
        assertThat(p.error()).isEqualTo("cannot set the NVIDIA runtime: Docker is not installed on 10.0.0.2; nothing was changed");
    }

    @Test
    void theFirstServerIsReinstalledForAnotherVersionOrRole() {
        ClusterSpec pinned = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
                cluster: {k3sVersion: v1.32.0+k3s1}
                hosts: [{name: cp1, address: 10.0.0.1, role: server}]
                """);
        NodeFacts old = facts("cp1", false, null, "server", V, null);
        assertThat(PlanDiff.serverInstallReason(pinned, old)).isEqualTo("K3s " + V + " is installed, the file asks for v1.32.0+k3s1");
        assertThat(PlanDiff.serverInstallReason(SPEC, old)).isNull();
        assertThat(PlanDiff.serverInstallReason(SPEC, facts("cp1", false, null, "agent", V, null)))
                .isEqualTo("K3s runs here as an agent, not a server");
    }

    @Test
    void anExtraServerJoinsAsAServer() {
        NodeFacts f = facts("cp2", true, null, null, null, null);
        HostPlan p = PlanDiff.diff(SPEC, SPEC.host("cp2"), new HostObservation(f, null,
                runtime(ContainerRuntime.K3S, RuntimeChange.Outcome.WOULD_CHANGE), null, null, null, null, List.of()), UP);
        assertThat(p.firstServer()).isFalse();
        assertThat(steps(p)).containsExactly("join server: K3s is not installed", "relabel: new node: 7 labels");
        assertThat(p.gpuRoute()).isEqualTo("k3s --default-runtime nvidia (K3s v1.31.4+k3s1)");
    }

    @Test
    void anOrinOnAReleaseWithTheFlagIsConvergedWithTheFlagAndNoTemplate() {
        NodeFacts f = facts("orin1", true, null, "agent", V, null);
        NodeStatus ready = node("orin1", true, "containerd://1.7.23-k3s2",
                present(GpuLabels.of(f.withK3sDefaultRuntime("nvidia"), "containerd-nvidia")));
        HostObservation withFlag = new HostObservation(f, URL, null, null, ready, List.of(), Map.of(),
                List.of("agent", "--default-runtime", "nvidia"));
        HostPlan p = PlanDiff.diff(SPEC, SPEC.host("orin"), withFlag, UP);
        assertThat(steps(p)).containsExactly("relabel: shelf=a", "set taints: dedicated=gpu:NoSchedule");
        assertThat(p.gpuRoute()).isEqualTo("k3s --default-runtime nvidia (K3s v1.31.4+k3s1)");
        HostObservation without = new HostObservation(f, URL, null, null, ready, List.of(), Map.of(), List.of("agent"),
                HostObservation.TemplateState.K3GPU);
        assertThat(steps(PlanDiff.diff(SPEC, SPEC.host("orin"), without, UP))).startsWith(
                "set NVIDIA runtime: k3s: remove k3gpu's /var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl "
                        + "(K3s v1.31.4+k3s1 has --default-runtime)",
                "reconfigure agent: --default-runtime nvidia added");
    }

    @Test
    void theRouteIsDecidedByTheFilesVersionElseTheClustersElseTheFirstServersOwnElseTheChannel() {
        ClusterSpec gpuServer = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
                cluster: {k3sChannel: v1.28}
                hosts:
                  - {name: cp1, address: 10.0.0.1, role: server, gpu: k3s}
                  - {name: orin, address: 10.0.0.3, role: agent}
                """);
        NodeFacts fresh = facts("cp1", true, null, null, null, null);
        assertThat(PlanDiff.route(gpuServer, gpuServer.host("cp1"), fresh, null).describe())
                .isEqualTo("containerd config.toml.tmpl (channel v1.28 gives a release without --default-runtime "
                        + "for servers)");
        assertThat(PlanDiff.route(gpuServer, gpuServer.host("orin"), fresh, null).describe())
                .isEqualTo("--default-runtime nvidia (channel v1.28)");
        NodeFacts running = facts("cp1", true, null, "server", "v1.30.8+k3s1", null);
        assertThat(PlanDiff.route(gpuServer, gpuServer.host("cp1"), running, null).describe())
                .isEqualTo("--default-runtime nvidia (K3s v1.30.8+k3s1)");
        assertThat(PlanDiff.route(gpuServer, gpuServer.host("orin"), fresh, "v1.27.8+k3s2").flag()).isFalse();
        ClusterSpec pinned = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
                cluster: {k3sVersion: v1.27.9+k3s1}
                hosts: [{name: cp1, address: 10.0.0.1, role: server, gpu: none}, {name: orin, address: 10.0.0.3, role: agent}]
                """);
        assertThat(PlanDiff.route(pinned, pinned.host("orin"), fresh, "v1.31.4+k3s1").describe())
                .isEqualTo("--default-runtime nvidia (K3s v1.27.9+k3s1)");
        assertThat(PlanDiff.route(pinned, pinned.host("cp1"), fresh, null)).as("gpu: none").isNull();
        assertThat(PlanDiff.route(pinned, pinned.host("orin"), facts("orin", false, null, null, null, null), null))
                .as("auto on a host without a GPU").isNull();
    }

    @Test
    void anOrinOnAnOldReleaseGetsTheContainerdTemplateOnceAndThenNothing() {
        String old = "v1.24.3+k3s1";
        PlanDiff.ClusterView cluster = new PlanDiff.ClusterView(URL, old);
        NodeFacts f = facts("orin1", true, null, "agent", old, null);
        NodeStatus ready = node("orin1", true, "containerd://1.6.6-k3s1",
                present(GpuLabels.of(f.withK3sDefaultRuntime("nvidia"), "containerd-nvidia")));
        HostObservation none = new HostObservation(f, URL, null, null, ready, List.of(), Map.of(), List.of("agent"));
        HostPlan p = PlanDiff.diff(SPEC, SPEC.host("orin"), none, cluster);
        assertThat(p.gpuRoute()).isEqualTo("k3s containerd config.toml.tmpl (K3s v1.24.3+k3s1 has no --default-runtime)");
        assertThat(steps(p)).startsWith("set NVIDIA runtime: k3s: write "
                + "/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl (K3s v1.24.3+k3s1 has no --default-runtime)",
                "join agent: k3s-agent is restarted with the new runtime");
        HostObservation written = new HostObservation(f, URL, null, null, ready, List.of(), Map.of(), List.of("agent"),
                HostObservation.TemplateState.K3GPU);
        assertThat(steps(PlanDiff.diff(SPEC, SPEC.host("orin"), written, cluster)))
                .containsExactly("relabel: shelf=a", "set taints: dedicated=gpu:NoSchedule");
        HostObservation others = new HostObservation(f, URL, null, null, ready, List.of(), Map.of(), List.of("agent"),
                HostObservation.TemplateState.OTHER);
        assertThat(PlanDiff.diff(SPEC, SPEC.host("orin"), others, cluster).error())
                .startsWith("cannot set the NVIDIA runtime: /var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl "
                        + "is not k3gpu's");
    }

    private static final ClusterSpec ONE = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
            cluster: {serverArgs: "--disable traefik --node-label 'room=lab 2'", agentArgs: --node-label=shelf=a}
            hosts:
              - {name: cp1, address: 10.0.0.1, role: server, gpu: none}
              - {name: cpu, address: 10.0.0.4, role: agent, gpu: none}
            """);

    /** cp1 running K3s as a server with these flags, its Node Ready and labelled. */
    private static HostObservation server(String... args) {
        NodeFacts f = facts("cp1", false, null, "server", V, null);
        return new HostObservation(f, null, null, null, node("cp1", true, "containerd://1.7.23-k3s2",
                present(GpuLabels.of(f, "containerd-runc"))), List.of(), Map.of(), List.of(args));
    }

    @Test
    void theFirstServersFlagsAreASetOrderAndSpellingDoNotMakeAChange() {
        HostPlan p = PlanDiff.diff(ONE, ONE.host("cp1"), server("server", "--node-label=room=lab 2", "--disable=traefik",
                "--tls-san", "10.0.0.1"), UP);
        assertThat(p.nothing()).as(steps(p).toString()).isTrue();
    }

    @Test
    void changedServerArgsReconfigureTheFirstServerWithWhatIsAddedAndRemoved() {
        HostPlan p = PlanDiff.diff(ONE, ONE.host("cp1"), server("server", "--tls-san", "10.0.0.1", "--disable",
                "servicelb", "--node-label", "room=lab 2"), UP);
        assertThat(steps(p)).containsExactly("reconfigure server: --disable traefik added, --disable servicelb removed");
        assertThat(p.steps().get(0).action().id()).isEqualTo("reconfigure-server");
    }

    @Test
    void aSingleServerBecomingTheFirstOfThreeIsRestartedWithClusterInit() {
        ClusterSpec ha = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
                hosts:
                  - {name: cp1, address: 10.0.0.1, role: server, gpu: none}
                  - {name: cp2, address: 10.0.0.2, role: server, gpu: none}
                  - {name: cp3, address: 10.0.0.3, role: server, gpu: none}
                """);
        assertThat(steps(PlanDiff.diff(ha, ha.host("cp1"), server("server", "--tls-san", "10.0.0.1"), UP)))
                .containsExactly("reconfigure server: --cluster-init added (SQLite to embedded etcd, data kept)");
        assertThat(PlanDiff.diff(ha, ha.host("cp1"), server("server", "--cluster-init", "--tls-san", "10.0.0.1"), UP)
                .nothing()).isTrue();
    }

    @Test
    void aSingleServerThatRunsWithClusterInitKeepsItAndOneWithoutItStaysOnSqlite() {
        ClusterSpec single = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
                hosts: [{name: cp1, address: 10.0.0.1, role: server, gpu: none}]
                """);
        assertThat(PlanDiff.diff(single, single.host("cp1"), server("server", "--cluster-init", "--tls-san", "10.0.0.1"),
                UP).nothing()).isTrue();
        assertThat(PlanDiff.diff(single, single.host("cp1"), server("server", "--tls-san", "10.0.0.1"), UP).nothing())
                .isTrue();
    }

    @Test
    void aNewVersionIsAnUpgradeOfTheServerWhoseInstallCarriesTheNewFlagsToo() {
        ClusterSpec pinned = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
                cluster: {k3sVersion: v1.32.0+k3s1, serverArgs: --disable traefik}
                hosts: [{name: cp1, address: 10.0.0.1, role: server, gpu: none}]
                """);
        assertThat(steps(PlanDiff.diff(pinned, pinned.host("cp1"), server("server", "--tls-san", "10.0.0.1"), UP)))
                .containsExactly("upgrade: " + V + " → v1.32.0+k3s1");
    }

    @Test
    void changedAgentArgsReconfigureAJoinedAgentButAJoinThatIsDueAnywayCarriesThem() {
        NodeFacts f = facts("cpu", false, "runc", "agent", V, null);
        NodeStatus ready = node("cpu", true, "containerd://1.7.23-k3s2", present(GpuLabels.of(f, "containerd-runc")));
        HostObservation joined = new HostObservation(f, URL, null, null, ready, null, null, List.of("agent"));
        assertThat(steps(PlanDiff.diff(ONE, ONE.host("cpu"), joined, UP)))
                .containsExactly("reconfigure agent: --node-label shelf=a added");
        HostObservation same = new HostObservation(f, URL, null, null, ready, null, null,
                List.of("agent", "--node-label", "shelf=a"));
        assertThat(PlanDiff.diff(ONE, ONE.host("cpu"), same, UP).nothing()).isTrue();
        HostObservation elsewhere = new HostObservation(f, "https://10.9.9.9:6443", null, null, ready, null, null,
                List.of("agent"));
        assertThat(steps(PlanDiff.diff(ONE, ONE.host("cpu"), elsewhere, UP)))
                .containsExactly("join agent: joined to https://10.9.9.9:6443, not " + URL);
    }

    @Test
    void anExtraServerWithOtherServerArgsIsReconfiguredAsAServer() {
        ClusterSpec ha = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
                cluster: {serverArgs: --disable traefik}
                hosts:
                  - {name: cp1, address: 10.0.0.1, role: server, gpu: none}
                  - {name: cp2, address: 10.0.0.2, role: server, gpu: none}
                """);
        NodeFacts f = facts("cp2", false, null, "server", V, null);
        HostObservation o = new HostObservation(f, "https://10.0.0.1:6443", null, null,
                node("cp2", true, "containerd://1.7.23-k3s2", present(GpuLabels.of(f, "containerd-runc"))), null, null,
                List.of("server", "--tls-san", "10.0.0.2"));
        assertThat(steps(PlanDiff.diff(ha, ha.host("cp2"), o, new PlanDiff.ClusterView("https://10.0.0.1:6443", V))))
                .containsExactly("reconfigure server: --disable traefik added");
    }

    private static Map<String, String> present(Map<String, String> labels) {
        Map<String, String> out = new HashMap<>();
        labels.forEach((k, v) -> {
            if (v != null) {
                out.put(k, v);
            }
        });
        return out;
    }
}
