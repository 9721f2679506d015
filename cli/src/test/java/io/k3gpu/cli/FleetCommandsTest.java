package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.fleet.Action;
import io.k3gpu.core.fleet.ClusterFile;
import io.k3gpu.core.fleet.ClusterSpec;
import io.k3gpu.core.fleet.FleetPlan;
import io.k3gpu.core.fleet.FleetResult;
import io.k3gpu.core.fleet.HostPlan;
import io.k3gpu.core.fleet.HostResult;
import io.k3gpu.core.fleet.HostSpec;
import io.k3gpu.core.kube.NodeStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** plan / apply / reset -f without hosts: file errors, the plan's text, the progress view's three renderings. */
class FleetCommandsTest {
    private static final ClusterSpec SPEC = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
            hosts:
              - {name: cp1, address: 192.0.2.1, role: server}
              - {name: jetson1, address: 192.0.2.2, role: agent}
              - {name: ghost, address: 192.0.2.3, role: agent}
            """);

    @Test
    void aBadFileIsAUsageErrorWithEveryProblemOnItsOwnLineAndNoHostContacted(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("cluster.yaml");
        Files.writeString(f, """
                hosts:
                  - address: 192.0.2.1
                    role: server
                    gpuu: docker
                  - address: 192.0.2.1
                    role: agent
                ssh: {connectTimeout: 10x}
                """);
        for (String verb : List.of("plan", "apply", "reset")) {
            Cli.Result r = Cli.run(verb, "-f", f.toString());
            assertThat(r.exit()).as(verb).isEqualTo(ExitCode.USAGE.code());
            assertThat(r.out()).isEmpty();
            assertThat(r.err()).isEqualTo(f + ":4:5: unknown key 'gpuu' (did you mean 'gpu'?)\n"
                    + f + ":5:14: duplicate address '192.0.2.1' (also the host at line 2)\n"
                    + f + ":7:23: bad duration '10x' for connectTimeout: write it like 500ms, 10s, 2m or 1h30m\n"
                    + "error: " + f + ": 3 problems; nothing was contacted; fix the file (its JSON Schema: "
                    + "io/k3gpu/fleet/cluster.schema.json in the k3gpu jar)\n");
        }
    }

    @Test
    void aMissingFileAndABadParallelAreUsageErrors(@TempDir Path dir) throws Exception {
        Cli.Result missing = Cli.run("plan", "-f", dir.resolve("nope.yaml").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).startsWith("error: cannot read the cluster file " + dir.resolve("nope.yaml"));
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, "hosts: [{address: 192.0.2.1, role: server}]\n");
        assertThat(Cli.run("apply", "-f", f.toString(), "--parallel", "-1").exit()).isEqualTo(2);
        assertThat(Cli.run("apply").err()).contains("Missing required option: '--file=FILE'");
        Cli.Result both = Cli.run("reset", "-f", f.toString(), "--ssh-key", "/tmp/key");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).isEqualTo("error: --ssh-key cannot be combined with -f; with -f the SSH settings come "
                + "from the file's ssh: sections and the cluster from its first server\n");
        Cli.Result unknown = Cli.run("reset", "-f", f.toString(), "--host", "nope");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).startsWith("error: " + f + " has no host 'nope'; its hosts: 192.0.2.1");
    }

    @Test
    void thePlanSaysPerHostWhatApplyWouldDoNothingOrWhyItCannotTell() {
        FleetPlan.Result r = new FleetPlan.Result(List.of(
                new HostPlan(SPEC.host("cp1"), true, List.of(), null),
                new HostPlan(SPEC.host("jetson1"), false, List.of(
                        new HostPlan.Step(Action.SET_NVIDIA_RUNTIME, "docker: would write /etc/docker/daemon.json and restart docker"),
                        new HostPlan.Step(Action.JOIN_AGENT, "k3s-agent is restarted with the new runtime")), null),
                new HostPlan(SPEC.host("ghost"), false, List.of(), "cannot reach 192.0.2.3:22: no answer within 3s")),
                "v1.31.4+k3s1", null, List.of(new NodeStatus("spare", true, List.of(), Instant.EPOCH, "v1.31.4+k3s1",
                        "192.0.2.9", null, "Ubuntu", "5.15", "containerd://1.7", "arm64", null, Map.of())),
                Duration.ofMillis(1234));
        assertThat(PlanCommand.text(SPEC, r)).isEqualTo("""
                cluster https://192.0.2.1:6443: K3s v1.31.4+k3s1
                cp1 (192.0.2.1), server: nothing to do
                jetson1 (192.0.2.2), agent:
                  + set NVIDIA runtime: docker: would write /etc/docker/daemon.json and restart docker
                  + join agent: k3s-agent is restarted with the new runtime
                ghost (192.0.2.3), agent:
                  ! cannot reach 192.0.2.3:22: no answer within 3s
                not in the file: node spare (192.0.2.9), left as it is; k3gpu reset --ip 192.0.2.9 takes it out of the cluster
                plan: 1 to change, 1 unchanged, 1 failed (3 hosts, 1.2s)
                """);
        assertThat(Json.pretty(PlanCommand.json(SPEC, r))).contains("\"action\" : \"set-nvidia-runtime\"")
                .contains("\"status\" : \"nothing\"").contains("\"error\" : \"cannot reach 192.0.2.3:22: no answer within 3s\"")
                .contains("\"notInFile\" : [ {\n      \"name\" : \"spare\",\n      \"address\" : \"192.0.2.9\"\n    } ]");
    }

    private static HostResult result(String host, HostResult.Status s, List<String> changes, String error, long ms) {
        return new HostResult(SPEC.host(host), s, changes, error, error == null ? null : ExitCode.SSH, Duration.ofMillis(ms));
    }

    @Test
    void theLiveViewHasALinePerHostWithStepElapsedAndResultAndABar() {
        AtomicLong now = new AtomicLong();
        StringWriter sink = new StringWriter();
        FleetProgress p = new FleetProgress(new PrintWriter(sink), FleetProgress.Mode.PLAIN, SPEC, "applied", 100, now::get);
        HostSpec cp1 = SPEC.host("cp1");
        HostSpec jetson = SPEC.host("jetson1");
        p.started(cp1);
        now.set(2_000_000_000L);
        p.finished(result("cp1", HostResult.Status.UNCHANGED, List.of(), null, 2000));
        p.started(jetson);
        p.step(jetson, "installing the K3s agent v1.31.4+k3s1 (agent)");
        now.set(3_500_000_000L);
        assertThat(p.frame()).containsExactly(
                "cp1      server  unchanged    2.0s  nothing to change",
                "jetson1  agent   running      1.5s  installing the K3s agent v1.31.4+k3s1 (agent)",
                "ghost    agent   queued",
                "[##########....................] 1/3 hosts applied  3.5s");
    }

    @Test
    void aLiveViewTallerThanTheTerminalShowsTheBusyAndFailedHostsAndCountsTheRest() {
        AtomicLong now = new AtomicLong();
        FleetProgress p = new FleetProgress(new PrintWriter(new StringWriter()), FleetProgress.Mode.PLAIN, SPEC,
                "applied", 100, 3, now::get);
        p.finished(result("cp1", HostResult.Status.CHANGED, List.of("installed"), null, 10));
        p.started(SPEC.host("jetson1"));
        assertThat(p.frame()).containsExactly(
                "jetson1  agent   running      0.0s",
                "... 2 more hosts not shown (1 queued)",
                "[##########....................] 1/3 hosts applied  0.0s");
    }

    @Test
    void plainLinesAndJsonLinesCarryEveryEvent() {
        AtomicLong now = new AtomicLong();
        StringWriter plain = new StringWriter();
        FleetProgress p = new FleetProgress(new PrintWriter(plain), FleetProgress.Mode.PLAIN, SPEC, "applied", 100, now::get);
        StringWriter json = new StringWriter();
        FleetProgress j = new FleetProgress(new PrintWriter(json), FleetProgress.Mode.JSON, SPEC, "applied", 100, now::get);
        for (FleetProgress x : List.of(p, j)) {
            x.started(SPEC.host("ghost"));
            now.set(3_000_000_000L);
            x.step(SPEC.host("ghost"), "connecting to 192.0.2.3");
            x.finished(result("ghost", HostResult.Status.FAILED, List.of(), "cannot reach 192.0.2.3:22", 3000));
            now.set(0);
        }
        assertThat(plain.toString()).isEqualTo("""
                [  0.0s] ghost: started (agent)
                [  3.0s] ghost: connecting to 192.0.2.3
                [  3.0s] ghost: failed: cannot reach 192.0.2.3:22
                """);
        assertThat(json.toString()).isEqualTo("""
                {"event":"started","host":"ghost","address":"192.0.2.3","t":0.0,"role":"agent"}
                {"event":"step","host":"ghost","address":"192.0.2.3","t":3.0,"step":"connecting to 192.0.2.3"}
                {"event":"finished","host":"ghost","address":"192.0.2.3","t":3.0,"status":"failed","changes":[],"error":"cannot reach 192.0.2.3:22","exitCode":3,"elapsedMs":3000}
                """);
    }

    @Test
    void theSummarySaysForEveryHostWhatHappenedAndListsTheFailuresWithTheirCause() {
        FleetResult r = new FleetResult(List.of(
                result("cp1", HostResult.Status.UNCHANGED, List.of(), null, 10),
                result("jetson1", HostResult.Status.CHANGED, List.of("set the NVIDIA default runtime (k3s)", "installed K3s"), null, 10),
                result("ghost", HostResult.Status.FAILED, List.of(), "cannot reach 192.0.2.3:22: no answer within 3s", 10)),
                Duration.ofMillis(4200));
        StringWriter out = new StringWriter();
        FleetCommands.summary(new PrintWriter(out), "apply", r, 2);
        assertThat(out.toString()).isEqualTo("""

                  cp1: unchanged
                  jetson1: changed: set the NVIDIA default runtime (k3s); installed K3s
                  ghost: failed: cannot reach 192.0.2.3:22: no answer within 3s
                apply: 3 hosts in 4.2s: 1 changed, 1 unchanged, 1 failed; 2 SSH connections
                failures:
                  ghost (192.0.2.3): cannot reach 192.0.2.3:22: no answer within 3s
                """);
        FleetResult converged = new FleetResult(List.of(result("cp1", HostResult.Status.UNCHANGED, List.of(), null, 1)),
                Duration.ofMillis(900));
        StringWriter out2 = new StringWriter();
        FleetCommands.summary(new PrintWriter(out2), "apply", converged, 1);
        assertThat(out2.toString()).endsWith("apply: 1 host in 0.9s: nothing changed (0 changed, 1 unchanged, 0 failed); 1 SSH connection\n");
    }
}
